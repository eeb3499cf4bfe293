"""Training-time augmentation as in the official code: rot90 in x-y, a flip, a random crop.

Every random choice comes from the ``rng`` passed in, so an augmentation is reproducible from its
seed whatever process or worker computes it.

The crop follows the config's ``pipeline``:

- pipeline 2 (the authors' ``RandomCrop``): as soon as one axis is no longer than the patch, every
  axis is padded by max((patch - size)//2 + 3, 0) per side (axes up to 5 voxels longer than the
  patch gain 1-2 voxels), and the start is drawn from [0, size - patch) (the last start excluded).
- pipeline 1 (sessions 1-2, kept so their runs stay repeatable): only axes no longer than the
  patch are padded, and the start is drawn from [0, size - patch] inclusive.
"""

from __future__ import annotations

import numpy as np


def pad_to(
    volume: np.ndarray, patch: tuple[int, int, int], extra: int = 3, pipeline: int = 2
) -> np.ndarray:
    """Zero-pad before cropping, by (patch - size)//2 + ``extra`` per side (the official margin).

    Pipeline 2 pads every axis (by at least 0) once any axis is no longer than the patch, as the
    official RandomCrop; pipeline 1 pads only the axes no longer than the patch.
    """
    short = [size <= p for size, p in zip(volume.shape, patch, strict=True)]
    pads = []
    for size, p, is_short in zip(volume.shape, patch, short, strict=True):
        if pipeline == 1:
            w = (p - size) // 2 + extra if is_short else 0
        else:
            w = max((p - size) // 2 + extra, 0) if any(short) else 0
        pads.append((w, w))
    if not any(w for w, _ in pads):
        return volume
    return np.pad(volume, pads, mode="constant", constant_values=0)


def rot_flip(arrays: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """rot90 by k in {0,1,2,3} in the x-y plane, then a flip along axis 0 or 1 (never z)."""
    k = int(rng.integers(0, 4))
    axis = int(rng.integers(0, 2))
    return [np.flip(np.rot90(a, k, axes=(0, 1)), axis=axis) for a in arrays]


def random_crop(
    arrays: list[np.ndarray],
    patch: tuple[int, int, int],
    rng: np.random.Generator,
    pipeline: int = 2,
) -> list[np.ndarray]:
    """The same random ``patch``-sized crop of every array (padded first when too small)."""
    arrays = [pad_to(a, patch, pipeline=pipeline) for a in arrays]
    # official: np.random.randint(0, size - patch), which never starts at size - patch; padding
    # makes size > patch on every axis, the max() only guards hand-made inputs of exact size
    shape = arrays[0].shape
    ends = [
        s - p + 1 if pipeline == 1 else max(s - p, 1) for s, p in zip(shape, patch, strict=True)
    ]
    starts = [int(rng.integers(0, e)) for e in ends]
    sl = tuple(slice(s, s + p) for s, p in zip(starts, patch, strict=True))
    return [np.ascontiguousarray(a[sl]) for a in arrays]


def center_crop(arrays: list[np.ndarray], patch: tuple[int, int, int]) -> list[np.ndarray]:
    """The central ``patch``-sized crop (for validation), padded first when too small."""
    arrays = [pad_to(a, patch) for a in arrays]
    starts = [(s - p) // 2 for s, p in zip(arrays[0].shape, patch, strict=True)]
    sl = tuple(slice(s, s + p) for s, p in zip(starts, patch, strict=True))
    return [np.ascontiguousarray(a[sl]) for a in arrays]


def augment(
    image: np.ndarray,
    label: np.ndarray | None,
    patch: tuple[int, int, int],
    rng: np.random.Generator,
    pipeline: int = 2,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Official training transform: rot90+flip, then random crop. ``label=None`` for unlabeled."""
    arrays = [image] if label is None else [image, label]
    out = random_crop(rot_flip(arrays, rng), patch, rng, pipeline)
    return out[0], (out[1] if label is not None else None)
