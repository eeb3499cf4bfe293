"""Training-time augmentation as in the official code: rot90 in x-y, a flip, a random crop.

Every random choice comes from the ``rng`` passed in, so an augmentation is reproducible from its
seed whatever process or worker computes it.

Two small differences from the official ``RandomCrop`` (documented; results in ``results/`` used
this version): the crop start is drawn from [0, size - patch] inclusive (theirs excludes the last
start), and only axes no longer than the patch are padded (theirs pads every axis by
max((patch - size)//2 + 3, 0) as soon as one axis is short, adding 1-2 voxels to axes that are
up to 5 voxels longer than the patch).
"""

from __future__ import annotations

import numpy as np


def pad_to(volume: np.ndarray, patch: tuple[int, int, int], extra: int = 3) -> np.ndarray:
    """Zero-pad every axis shorter than the patch by (patch - size)//2 + ``extra`` on each side.

    The official RandomCrop pads this way (the +3 margin included) before cropping.
    """
    pads = []
    for size, p in zip(volume.shape, patch, strict=True):
        w = (p - size) // 2 + extra if size <= p else 0
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
    arrays: list[np.ndarray], patch: tuple[int, int, int], rng: np.random.Generator
) -> list[np.ndarray]:
    """The same random ``patch``-sized crop of every array (padded first when too small)."""
    arrays = [pad_to(a, patch) for a in arrays]
    starts = [int(rng.integers(0, s - p + 1)) for s, p in zip(arrays[0].shape, patch, strict=True)]
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
) -> tuple[np.ndarray, np.ndarray | None]:
    """Official training transform: rot90+flip, then random crop. ``label=None`` for unlabeled."""
    arrays = [image] if label is None else [image, label]
    out = random_crop(rot_flip(arrays, rng), patch, rng)
    return out[0], (out[1] if label is not None else None)
