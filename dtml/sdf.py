"""Signed distance maps (paper Eq. 1) and their smooth inverse transform (paper Eq. 2).

Conventions used everywhere in ``dtml``:

* **Boundary** ``dG`` is the *inner* boundary: foreground voxels with at least one face-connected
  (4-connected in 2D, 6-connected in 3D) background neighbour inside the array. The array border is
  not a boundary (a crop that cuts the object has no boundary along the cut). This is the set the
  authors' code zeroes (an "inner" boundary with connectivity 1).
* **Sign**: negative inside, zero on ``dG``, positive outside (Eq. 1).
* **No boundary** (an empty or a full mask): distances are undefined (they would be infinite), so
  every map here is all zeros there. Zeros are finite, are what the authors' code returns for a crop
  with no foreground, and map to 0.5 under Eq. (2), i.e. "undecided".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import edt
import numpy as np
import torch
from scipy import ndimage
from scipy.special import expit

ArrayOrTensor = TypeVar("ArrayOrTensor", np.ndarray, torch.Tensor)

OFFICIAL_K = 1500.0
"""The transform factor k of Eq. (2) in the authors' code."""


def _as_binary(mask: np.ndarray, name: str, ndims: tuple[int, ...]) -> np.ndarray:
    """``mask`` as a bool array; ValueError unless it is binary with one of ``ndims`` dimensions."""
    mask = np.asarray(mask)
    if mask.ndim not in ndims:
        raise ValueError(
            f"dtml.sdf: `{name}` must have {' or '.join(map(str, ndims))} dimensions, "
            f"got shape {mask.shape}"
        )
    if mask.dtype == bool:
        return mask
    if not (np.issubdtype(mask.dtype, np.number)) or mask.dtype.kind == "c":
        raise ValueError(f"dtml.sdf: `{name}` must be a bool or real array, got dtype {mask.dtype}")
    binary = mask == 1
    if not np.all(binary | (mask == 0)):
        bad = np.unique(mask[~(binary | (mask == 0))])[:5]
        raise ValueError(
            f"dtml.sdf: `{name}` must be binary (0/1 or bool), found values such as {bad.tolist()}"
        )
    return binary


def _check_spacing(spacing: Sequence[float] | None, ndim: int) -> tuple[float, ...] | None:
    if spacing is None:
        return None
    values = tuple(float(s) for s in np.atleast_1d(np.asarray(spacing, dtype=float)))
    if len(values) != ndim:
        raise ValueError(
            f"dtml.sdf: `spacing` needs one value per axis ({ndim}), got {len(values)}: {values}"
        )
    if not all(np.isfinite(s) and s > 0 for s in values):
        raise ValueError(f"dtml.sdf: `spacing` values must be finite and > 0, got {values}")
    return values


def _check_k(k: float) -> float:
    k = float(k)
    if not (np.isfinite(k) and k > 0):
        raise ValueError(f"dtml.sdf: `k` must be a finite number > 0, got {k}")
    return k


def _squared_distance(
    labels: np.ndarray, sampling: Sequence[float] | None = None, threads: int = 1
) -> np.ndarray:
    """Squared Euclidean distance (float32) of every voxel to the nearest voxel of another label.

    One pass of the ``edt`` package (a maintained EDT, ~2x scipy's per pass): label 0 (``False``)
    is background, at distance 0; with several non-zero labels every voxel gets the distance to the
    nearest voxel of a different label (both sides of a binary mask in one pass). The array border
    is not background, as in ``scipy.ndimage.distance_transform_edt``. On a unit grid the squares
    are integers, exact in float32 below 2**24, so their float64 square roots are bit-identical to
    scipy's distances; with ``sampling`` they are float32 sums (scipy's within relative 1e-6).
    ``threads``: edt's row-parallel threads (same result for any number).
    """
    labels = np.ascontiguousarray(labels)
    if labels.dtype == bool:  # same result; edt's bool path measured 1.3-2x slower than uint8's
        labels = labels.view(np.uint8)
    return edt.edtsq(labels, anisotropy=sampling, black_border=False, parallel=threads)


def inner_boundary(mask: np.ndarray) -> np.ndarray:
    """Foreground voxels with a face-connected background neighbour (the ``dG`` of Eq. 1).

    Voxels outside the array are treated as foreground, so the array border is not a boundary.
    """
    mask = _as_binary(mask, "mask", (2, 3))
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    return mask & ~ndimage.binary_erosion(mask, structure=structure, border_value=1)


def signed_distance(mask: np.ndarray, spacing: Sequence[float] | None = None) -> np.ndarray:
    """Eq. (1): Euclidean signed distance to the inner boundary ``dG`` of a 2D or 3D binary mask.

    Every voxel gets the distance to the nearest voxel of ``dG`` (in voxels, or in mm along each
    axis when ``spacing`` is given), negative inside, 0 on ``dG``, positive outside. Outside, this
    equals the distance to the nearest foreground voxel (the nearest one is always on ``dG``).
    An empty or full mask has no boundary and gives all zeros (see the module docstring).
    Returns float32.
    """
    mask = _as_binary(mask, "mask", (2, 3))
    sampling = _check_spacing(spacing, mask.ndim)
    boundary = inner_boundary(mask)
    if not boundary.any():
        return np.zeros(mask.shape, dtype=np.float32)
    distance = np.sqrt(_squared_distance(~boundary, sampling), dtype=np.float64)
    sdf = np.where(mask, -distance, distance).astype(np.float32)
    sdf[boundary] = 0.0  # +0.0, not the -0.0 the negation leaves there
    return sdf


def _normalized_one(mask: np.ndarray, out: np.ndarray, threads: int = 1) -> None:
    """Write the authors' SDF target for one crop into the zeroed float32 ``out`` (see
    :func:`normalized_signed_distance`); no copy of the map, which matters under cache pressure."""
    if not mask.any() or mask.all():
        return
    # Labels 1 (background) and 2 (foreground): one EDT gives, inside, the squared distance to the
    # nearest background voxel and, outside, to the nearest foreground voxel (integers here).
    squared = _squared_distance(mask.view(np.uint8) + np.uint8(1), threads=threads)
    distance2 = squared.astype(np.int32)  # exact: integers below 2**24 on a unit grid
    n_out = int(distance2.max(where=~mask, initial=0))
    n_in = int(distance2.max(where=mask, initial=0))
    # Both sides' minima are 0 (attained on the other side), so min-max scaling is division by each
    # side's max. A value depends only on (side, squared distance): each distinct value is computed
    # once, in float64 as the authors do (d / -max inside is exactly their 0 - d / max), then
    # looked up by the key 2 d^2 + side; the map equals the per-voxel float64 computation bit for
    # bit, and one int32 key array costs less to build than an intp index plus a side offset.
    roots = np.sqrt(np.arange(max(n_in, n_out) + 1, dtype=np.float64))
    table = np.empty(2 * roots.size, dtype=np.float32)
    table[0::2] = roots / roots[n_out]  # outside (side 0); keys above 2 n_out are never read
    table[1::2] = roots / -roots[n_in]  # inside (side 1)
    # A foreground voxel at distance exactly 1 from the background has a face-connected background
    # neighbour: that is the inner boundary (key 2 * 1 + 1), zeroed (+0.0) without another pass.
    table[3] = 0.0
    distance2 <<= 1
    distance2 |= mask.view(np.uint8)
    # Keys are in range by construction (at most 2 max(n_in, n_out) + 1, the table's last entry);
    # mode="clip" skips the bounds check and the buffering that np.take does for out= under
    # mode="raise", and out= saves a copy of the map.
    np.take(table, distance2, out=out, mode="clip")


def normalized_signed_distance(mask: ArrayOrTensor, threads: int | None = None) -> ArrayOrTensor:
    """The SDF regression target of the authors' code, per item of a batch ``(B, *spatial)``.

    ``spatial`` is 2D or 3D. For each item, the outside distance (to the nearest foreground voxel)
    and the inside distance (to the nearest background voxel) are each min-max scaled to [0, 1]
    separately; the map is ``outside - inside`` (so in [-1, 1], negative inside) with the inner
    boundary set to 0. This is NOT a true distance any more: the two sides have different scales,
    and inside it is measured to the background, not to ``dG`` as in Eq. (1).
    A crop with no foreground is all zeros, as in the authors' code; a crop with no background is
    also all zeros here (the authors' code divides 0 by 0 there and returns NaN).

    numpy in, numpy (float32) out; a torch tensor in gives a tensor on the input's device, with the
    input's dtype if floating, else float32. The torch path runs on CPU numpy and is not
    differentiable: this is a target, not a loss. ``threads``: EDT threads per item (``None``:
    torch's CPU thread count, which training sets from ``TrainConfig.threads``); the result does
    not depend on it.
    """
    if threads is None:
        threads = torch.get_num_threads()
    if isinstance(mask, torch.Tensor):
        array = normalized_signed_distance(mask.detach().cpu().numpy(), threads)
        dtype = mask.dtype if mask.dtype.is_floating_point else torch.float32
        return torch.from_numpy(array).to(device=mask.device, dtype=dtype)
    batch = _as_binary(mask, "mask (batch, *spatial)", (3, 4))
    out = np.zeros(batch.shape, dtype=np.float32)
    for i, item in enumerate(batch):
        _normalized_one(item, out[i], threads)
    return out


def sdf_to_mask(z: ArrayOrTensor, k: float = OFFICIAL_K) -> ArrayOrTensor:
    """Eq. (2) with the sign that maps the inside to 1: ``sigmoid(-k z)``.

    The paper prints ``1 / (1 + exp(-k z))``, i.e. ``sigmoid(+k z)``. Under the paper's own Eq. (1)
    (negative inside) that maps the inside to 0 and the outside to 1, the complement of the mask;
    the authors' code uses ``sigmoid(-k z)`` (k = 1500), and so does this function.
    numpy: numerically stable (``scipy.special.expit``). torch: differentiable (``torch.sigmoid``),
    with ``d/dz = -k s (1 - s)`` (see :func:`sdf_to_mask_derivative`).
    """
    k = _check_k(k)
    if isinstance(z, torch.Tensor):
        return torch.sigmoid(-k * z)
    return expit(-k * np.asarray(z))


def sdf_to_mask_derivative(z: np.ndarray, k: float = OFFICIAL_K) -> np.ndarray:
    """Analytic ``d/dz sigmoid(-k z) = -k s (1 - s)``, largest in size (k/4) at ``z = 0``."""
    s = sdf_to_mask(np.asarray(z, dtype=np.float64), k)
    return -float(k) * s * (1.0 - s)


_SWEEP_KEYS = ("mean_abs_error", "soft_dice", "mean_abs_grad", "band_fraction")


def k_sweep(
    mask: np.ndarray,
    ks: Sequence[float],
    normalized: bool = False,
    spacing: Sequence[float] | None = None,
    band_rel: float = 0.01,
) -> dict[str, np.ndarray]:
    """How well ``sigmoid(-k z)`` of the exact SDF of ``mask`` reproduces ``mask``, per k (Eq. 2).

    ``z`` is :func:`signed_distance` (voxels, or mm with ``spacing``) or, with ``normalized``, the
    [-1, 1] target of :func:`normalized_signed_distance` (what a tanh head regresses; no spacing).
    Returns arrays over ``ks``: ``k``; ``mean_abs_error`` (mean |sigmoid(-k z) - mask|);
    ``soft_dice`` (the Dice of the authors' L_mask, 2 sum(p g) / (sum p^2 + sum g^2));
    ``mean_abs_grad`` (mean |d/dz|); ``band_fraction`` (fraction of voxels where |d/dz| is at least
    ``band_rel`` of its peak k/4, i.e. where a loss on the mask still sends gradient to z);
    and the scalar ``error_floor``: boundary voxels have z = 0 and map to 0.5 for every k.
    """
    g = _as_binary(mask, "mask", (2, 3))
    if normalized and spacing is not None:
        raise ValueError(
            "dtml.sdf: `spacing` applies to raw SDFs only; the normalised one is unitless"
        )
    if not 0 < band_rel < 1:
        raise ValueError(f"dtml.sdf: `band_rel` must be in (0, 1), got {band_rel}")
    ks_array = np.asarray([_check_k(k) for k in ks], dtype=np.float64)
    if normalized:
        z = normalized_signed_distance(g[None])[0].astype(np.float64)
    else:
        z = signed_distance(g, spacing).astype(np.float64)
    g = g.astype(np.float64)
    out = {name: np.zeros_like(ks_array) for name in _SWEEP_KEYS}
    for i, k in enumerate(ks_array):
        p = sdf_to_mask(z, k)
        grad = np.abs(sdf_to_mask_derivative(z, k))
        out["mean_abs_error"][i] = np.mean(np.abs(p - g))
        out["soft_dice"][i] = 2.0 * np.sum(p * g) / max(np.sum(p * p) + np.sum(g * g), 1e-12)
        out["mean_abs_grad"][i] = grad.mean()
        out["band_fraction"][i] = np.mean(grad >= band_rel * k / 4.0)
    return {"k": ks_array, **out, "error_floor": np.asarray(0.5 * np.mean(z == 0))}
