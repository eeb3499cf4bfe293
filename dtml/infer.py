"""Sliding-window inference, post-processing and NIfTI export (the evaluation protocol of Sec. 3).

The window layout is the official test's: 112x112x80 windows, stride 18 in x/y and 4 in z, the
volume zero-padded symmetrically up to the patch where it is smaller, window starts
``0, s, 2s, ...`` with the last one moved back to end at the border, sigmoid probabilities
averaged by a count map, threshold 0.5, then the largest 26-connected component.

Differences from the official script, all of which leave the probabilities unchanged:
windows go through the network in batches, each network runs once per window (the official
script runs M_s twice), and the largest-component step accepts an empty prediction.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from os import PathLike

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor, nn

from dtml.sdf import OFFICIAL_K, sdf_to_mask

OFFICIAL_PATCH: tuple[int, int, int] = (112, 112, 80)
OFFICIAL_STRIDE: tuple[int, int, int] = (18, 18, 4)
MODES: tuple[str, ...] = ("seg", "sdf", "ensemble")

Predictor = Callable[[Tensor], Tensor]


def _triple(values: Sequence[int], name: str) -> tuple[int, int, int]:
    out = tuple(int(v) for v in values)
    if len(out) != 3 or any(v < 1 for v in out):
        raise ValueError(f"infer: `{name}` must be 3 positive integers, got {values!r}")
    return out  # type: ignore[return-value]


def symmetric_padding(
    shape: Sequence[int], patch: Sequence[int]
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(before, after) zero padding per axis that grows ``shape`` to at least ``patch``.

    The smaller half goes first, as in the official test (``before = pad // 2``).
    """
    pads = [max(p - n, 0) for n, p in zip(shape, patch, strict=True)]
    return tuple((d // 2, d - d // 2) for d in pads)  # type: ignore[return-value]


def window_starts(size: int, patch: int, stride: int) -> list[int]:
    """Window starts along one axis of a (padded) length ``size >= patch``.

    ``ceil((size - patch) / stride) + 1`` windows at ``min(i * stride, size - patch)``: a regular
    grid whose last window is aligned to the end, so every voxel is covered.
    """
    if size < patch:
        raise ValueError(f"infer: axis of length {size} is shorter than the patch {patch}")
    count = math.ceil((size - patch) / stride) + 1
    return [min(i * stride, size - patch) for i in range(count)]


def window_grid(
    shape: Sequence[int], patch: Sequence[int], stride: Sequence[int]
) -> list[tuple[int, int, int]]:
    """All window corners of a volume of ``shape`` after padding, in the official x, y, z order."""
    patch = _triple(patch, "patch")
    stride = _triple(stride, "stride")
    padded = [n + a + b for n, (a, b) in zip(shape, symmetric_padding(shape, patch), strict=True)]
    sx, sy, sz = (window_starts(n, p, s) for n, p, s in zip(padded, patch, stride, strict=True))
    return [(x, y, z) for x in sx for y in sy for z in sz]


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"infer: `image` must be a 3D (x, y, z) array, got shape {image.shape}")
    if not np.issubdtype(image.dtype, np.number) or np.issubdtype(image.dtype, np.complexfloating):
        raise ValueError(f"infer: `image` must be real-valued, got dtype {image.dtype}")
    return image.astype(np.float32, copy=False)


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _batches(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def sliding_window_probability(
    image: np.ndarray,
    predict: Predictor,
    patch: Sequence[int] = OFFICIAL_PATCH,
    stride: Sequence[int] = OFFICIAL_STRIDE,
    batch_size: int = 4,
    device: torch.device | str | None = None,
    autocast_dtype: torch.dtype | None = None,
) -> np.ndarray:
    """Foreground probability of every voxel of ``image`` (x, y, z), averaged over windows.

    ``predict`` maps a (B, 1, *patch) float batch to probabilities of the same shape. Windows are
    those of :func:`window_grid`, fed ``batch_size`` at a time; the sums and counts are kept in
    float64 and added window by window in grid order, so the result does not depend on the batch
    size beyond what ``predict`` itself does. Returns float32 of ``image.shape`` (padding cropped).
    """
    image = _check_image(image)
    patch = _triple(patch, "patch")
    stride = _triple(stride, "stride")
    if int(batch_size) < 1:
        raise ValueError(f"infer: `batch_size` must be >= 1, got {batch_size}")
    device = torch.device(device) if device is not None else torch.device("cpu")
    pads = symmetric_padding(image.shape, patch)
    volume = torch.from_numpy(np.pad(image, pads, mode="constant")).to(device)
    score = torch.zeros(volume.shape, dtype=torch.float64, device=device)
    count = torch.zeros(volume.shape, dtype=torch.float64, device=device)
    grid = window_grid(image.shape, patch, stride)

    def box(corner: tuple[int, int, int]) -> tuple[slice, slice, slice]:
        return tuple(slice(c, c + p) for c, p in zip(corner, patch, strict=True))  # type: ignore[return-value]

    with torch.inference_mode(), _autocast(device, autocast_dtype):
        for corners in _batches(grid, int(batch_size)):
            batch = torch.stack([volume[box(c)] for c in corners])[:, None]
            prob = predict(batch)
            if tuple(prob.shape) != tuple(batch.shape):
                raise ValueError(
                    f"infer: `predict` returned shape {tuple(prob.shape)} for a batch of "
                    f"shape {tuple(batch.shape)}"
                )
            prob = prob.to(torch.float64)
            for i, c in enumerate(corners):
                score[box(c)] += prob[i, 0]
                count[box(c)] += 1.0
    crop = tuple(slice(a, a + n) for (a, _), n in zip(pads, image.shape, strict=True))
    return (score / count)[crop].to(torch.float32).cpu().numpy()


def _head(output: object, index: int, net_name: str) -> Tensor:
    if not isinstance(output, (tuple, list)) or len(output) < 2:
        raise ValueError(f"infer: `{net_name}` must return a (seg_logits, sdf) tuple")
    return output[index]


@contextlib.contextmanager
def _eval_mode(*nets: nn.Module | None) -> Iterator[None]:
    # Dropout and batch statistics are for training only; restore the caller's mode afterwards.
    modes = [(net, net.training) for net in nets if net is not None]
    for net, _ in modes:
        net.eval()
    try:
        yield
    finally:
        for net, was_training in modes:
            net.train(was_training)


def _net_device(net: nn.Module) -> torch.device:
    param = next(iter(net.parameters()), None)
    return param.device if param is not None else torch.device("cpu")


def predict_case(
    image: np.ndarray,
    seg_net: nn.Module | None = None,
    sdf_net: nn.Module | None = None,
    mode: str = "seg",
    k: float = OFFICIAL_K,
    patch: Sequence[int] = OFFICIAL_PATCH,
    stride: Sequence[int] = OFFICIAL_STRIDE,
    batch_size: int = 4,
    device: torch.device | str | None = None,
    autocast_dtype: torch.dtype | None = None,
) -> np.ndarray:
    """Foreground probability map of one volume from DTML's networks.

    ``mode``: ``"seg"`` uses M_s (``sigmoid(seg_logits)``, what the official numbers report),
    ``"sdf"`` uses M_d (``sigmoid(-k * sdf)``, Eq. 2 with the code's sign), ``"ensemble"`` the
    mean of the two maps. Each network runs once per window batch; the official test never
    evaluates M_d or an ensemble, and runs M_s twice per window. The networks are put in eval mode
    for the call and returned to their previous mode. ``device`` defaults to the first needed
    network's device.
    """
    if mode not in MODES:
        raise ValueError(f"infer: unknown `mode` {mode!r}; choose one of {MODES}")
    if mode in ("seg", "ensemble") and seg_net is None:
        raise ValueError(f"infer: mode {mode!r} needs `seg_net` (M_s)")
    if mode in ("sdf", "ensemble") and sdf_net is None:
        raise ValueError(f"infer: mode {mode!r} needs `sdf_net` (M_d)")

    def seg_prob(x: Tensor) -> Tensor:
        return torch.sigmoid(_head(seg_net(x), 0, "seg_net").float())

    def sdf_prob(x: Tensor) -> Tensor:
        return sdf_to_mask(_head(sdf_net(x), 1, "sdf_net").float(), k)

    if mode == "seg":
        predict: Predictor = seg_prob
    elif mode == "sdf":
        predict = sdf_prob
    else:

        def predict(x: Tensor) -> Tensor:
            return 0.5 * (seg_prob(x) + sdf_prob(x))

    used = seg_net if mode != "sdf" else sdf_net
    device = torch.device(device) if device is not None else _net_device(used)
    with _eval_mode(seg_net if mode != "sdf" else None, sdf_net if mode != "seg" else None):
        return sliding_window_probability(
            image, predict, patch, stride, batch_size, device, autocast_dtype
        )


def largest_component(mask: np.ndarray) -> np.ndarray:
    """Keep the largest 26-connected component of a binary 3D mask (bool result).

    An empty mask gives an empty mask (the official post-processing fails there). Of equally
    large components, the first in raster order is kept.
    """
    mask = np.asarray(mask)
    if mask.ndim != 3:
        raise ValueError(f"infer: `mask` must be 3D, got shape {mask.shape}")
    if mask.dtype != np.bool_:
        if not np.isin(mask, (0, 1)).all():
            raise ValueError("infer: `mask` must be binary (bool or 0/1)")
        mask = mask.astype(bool)
    labels, n = ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))
    if n == 0:
        return np.zeros(mask.shape, dtype=bool)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def postprocess(prob: np.ndarray, threshold: float = 0.5, lcc: bool = True) -> np.ndarray:
    """Binary prediction (uint8) from probabilities: ``prob > threshold``, then the LCC if asked."""
    prob = np.asarray(prob)
    if prob.ndim != 3:
        raise ValueError(f"infer: `prob` must be 3D, got shape {prob.shape}")
    mask = prob > threshold
    if lcc:
        mask = largest_component(mask)
    return mask.astype(np.uint8)


def save_nifti(
    path: str | PathLike,
    array: np.ndarray,
    spacing: Sequence[float],
    origin: Sequence[float] = (0.0, 0.0, 0.0),
) -> None:
    """Write a 3D (x, y, z) array as NIfTI with affine ``diag(spacing)`` shifted by ``origin`` (mm).

    Boolean masks are stored as uint8 (NIfTI has no boolean type); other dtypes are kept.
    """
    array = np.asarray(array)
    if array.ndim != 3:
        raise ValueError(f"save_nifti: `array` must be 3D, got shape {array.shape}")
    spacing_v = np.asarray(spacing, dtype=np.float64).reshape(-1)
    origin_v = np.asarray(origin, dtype=np.float64).reshape(-1)
    if spacing_v.size != 3 or not np.all(np.isfinite(spacing_v)) or np.any(spacing_v <= 0):
        raise ValueError(f"save_nifti: `spacing` must be 3 positive numbers, got {spacing!r}")
    if origin_v.size != 3 or not np.all(np.isfinite(origin_v)):
        raise ValueError(f"save_nifti: `origin` must be 3 finite numbers, got {origin!r}")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    import nibabel as nib  # only here: inference itself needs no NIfTI support

    affine = np.diag([*spacing_v, 1.0])
    affine[:3, 3] = origin_v
    img = nib.Nifti1Image(array, affine)
    img.header.set_xyzt_units(xyz="mm")
    nib.save(img, str(path))
