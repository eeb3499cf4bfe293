"""An embedded, seeded phantom of the LA task: synthetic LGE-MRI-like volumes with a left atrium.

The real LA data (2018 Atrial Segmentation Challenge) cannot ship with the project, so every
notebook falls back on this generator. It is built to keep what makes the real task hard: the
target is an irregular atrial body with pulmonary-vein tubes and an appendage; neighbours of the
same blood-pool brightness (a ventricle, aortic tubes, a right atrium) touch it, the dark wall that
separates them is missing in places, veins continue beyond the point where the annotation cuts
them, and a smooth bias field, Rician noise and partial-volume blur sit on top. A global intensity
threshold therefore cannot segment it; shape knowledge (which needs data) can.

Geometry is written in "units" u: voxels of the default 96x96x64 grid (about 1.25 mm, half the
real 0.625 mm resolution), so a non-default ``shape`` rescales the same anatomy onto its grid.
Axis order is (x, y, z), z the shortest, as in the real release; the image is z-scored over the
whole volume and the label is uint8 in {0, 1}.

The generator lives in three modules: ``phantom_anatomy`` (the target shape and its neighbours'
geometry), ``phantom_render`` (the image) and this one (cases and data sets on disk).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dtml.data.la import write_case, write_list
from dtml.data.phantom_anatomy import (
    DEFAULT_SHAPE,
    UNIT_MM,
    atrium_distances,
    atrium_mask,
    check_difficulty,
    check_shape,
    draw_anatomy,
    frame,
    label_from,
    streams,
)
from dtml.data.phantom_render import Appearance, render

__all__ = [
    "DEFAULT_SHAPE",
    "GENERATOR_VERSION",
    "UNIT_MM",
    "atrium_mask",
    "case_id",
    "case_seed",
    "dataset_is_current",
    "generate_case",
    "write_phantom_dataset",
]

# Bump whenever generate_case's output changes: cached data sets with another version are stale.
GENERATOR_VERSION = 1


def generate_case(
    seed: int, shape: tuple[int, int, int] = DEFAULT_SHAPE, difficulty: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """One phantom case: (image float32, z-scored over the volume; label uint8 {0, 1}), (x, y, z).

    ``difficulty`` 0: darker neighbours, walls missing over 20 % of the atrium, weak bias and
    noise (a threshold nearly works). 1 (default): neighbours as bright as the atrium and pressed
    against it, walls missing over 60 %, strong bias and noise, more irregular shapes; above 1
    bias, noise and wall gaps grow further. The label equals ``atrium_mask(shape, seed,
    difficulty)``.
    """
    shape = check_shape(shape)
    difficulty = check_difficulty(difficulty)
    anatomy_rng, rng = streams(seed)
    anatomy = draw_anatomy(anatomy_rng, difficulty)
    q = frame(anatomy, shape)
    label_dist, atrium = atrium_distances(q, anatomy)
    label = label_from(label_dist)
    # Label voxels are atrium in the image too (a rare cut-off fragment stays image-only).
    atrium = np.where(label, np.minimum(atrium, np.float32(-0.5)), atrium)
    image = render(rng, anatomy, q, atrium, Appearance.at(difficulty))
    return image, label.astype(np.uint8)


def case_seed(seed: int, index: int) -> int:
    """The per-case seed of case ``index`` in a dataset built with ``seed`` (stable, documented)."""
    return int(np.random.SeedSequence((int(seed), int(index))).generate_state(1)[0])


def case_id(index: int) -> str:
    return f"phantom_{index:03d}"


def _dataset_params(n_train, n_test, seed, shape, difficulty) -> dict:
    return {
        "version": GENERATOR_VERSION,
        "seed": int(seed),
        "n_train": int(n_train),
        "n_test": int(n_test),
        "shape": [int(s) for s in shape],
        "difficulty": float(difficulty),
    }


def dataset_is_current(
    root: str | Path,
    n_train: int = 80,
    n_test: int = 20,
    seed: int = 0,
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
    difficulty: float = 1.0,
) -> bool:
    """Whether ``root`` holds a complete phantom data set of this generator version and these
    parameters (so a cached set built by an older generator is rebuilt, not silently reused)."""
    root = Path(root)
    meta_file = root / "phantom.json"
    if not (meta_file.is_file() and (root / "train.list").is_file()):
        return False
    if n_test and not (root / "test.list").is_file():
        return False
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, ValueError):
        return False
    expected = _dataset_params(n_train, n_test, seed, shape, difficulty)
    return all(meta.get(k) == v for k, v in expected.items())


def write_phantom_dataset(
    root: str | Path,
    n_train: int = 80,
    n_test: int = 20,
    seed: int = 0,
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
    difficulty: float = 1.0,
) -> Path:
    """Write a phantom dataset in the real release's layout and return its root.

    ``<root>/phantom_XXX/mri_norm2.h5`` (``image``, ``label``), ``train.list`` (the first
    ``n_train`` ids; its first 16 lines are "the labeled cases" as in the LA split), ``test.list``
    and ``phantom.json`` with the generator parameters and every case's seed.
    """
    if n_train < 1 or n_test < 0:
        raise ValueError(f"n_train must be >= 1 and n_test >= 0, got {n_train}, {n_test}")
    shape = check_shape(shape)
    difficulty = check_difficulty(difficulty)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    spacing = tuple(UNIT_MM * u / n for u, n in zip(DEFAULT_SHAPE, shape, strict=True))
    ids = [case_id(i) for i in range(n_train + n_test)]
    seeds = [case_seed(seed, i) for i in range(n_train + n_test)]
    for cid, s in zip(ids, seeds, strict=True):
        image, label = generate_case(s, shape, difficulty)
        write_case(root, cid, image, label, spacing=spacing)
    meta = {
        "generator": "dtml.data.phantom.generate_case",
        **_dataset_params(n_train, n_test, seed, shape, difficulty),
        "spacing_mm": list(spacing),
        "case_seeds": dict(zip(ids, seeds, strict=True)),
    }
    (root / "phantom.json").write_text(json.dumps(meta, indent=2) + "\n")
    # The lists go last: their presence marks a complete data set (see paths.ensure_phantom).
    write_list(root, "train.list", ids[:n_train])
    if n_test:
        write_list(root, "test.list", ids[n_train:])
    return root
