"""Bring your own data: raw LA challenge volumes or MSD NIfTI folders -> the project's h5 layout.

The preprocessing is the one behind the public LA release (docs/authors_code.md, "Data and
preprocessing"): the image is z-scored over the WHOLE volume, then x and y are cropped to the
label's bounding box plus a random margin of 10-20 voxels on each side; z is never cropped. The
original draws the margins unseeded; here they come from a generator seeded by (``seed``, case
id), so a conversion is reproducible and one case's crop does not depend on which other cases
are converted. A margin ``m`` keeps exactly ``m`` voxels beyond the bounding box (less only at the
volume border).

Output: ``<dst>/<case>/mri_norm2.h5`` (``image`` float32, ``label`` uint8 {0,1}, attribute
``spacing`` in mm), ``train.list`` (and ``test.list`` when test ids are given) and
``convert.json`` recording every case's source files, source shape, crop box and spacing.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dtml.data.la import LA_SPACING, write_case, write_list

RAW_IMAGE = "lgemri.nrrd"
RAW_LABEL = "laendo.nrrd"
Box = tuple[tuple[int, int], tuple[int, int]]


class MissingFileError(FileNotFoundError, ValueError):
    """A case's image or label file is missing (both a FileNotFoundError and a ValueError)."""


def case_rng(seed: int, case_id: str) -> np.random.Generator:
    """The margin generator of one case: seeded by the run seed and a stable hash of its id."""
    return np.random.default_rng((int(seed), zlib.crc32(case_id.encode())))


def _check_margin(margin: tuple[int, int]) -> tuple[int, int]:
    lo, hi = (int(m) for m in margin)
    if not 0 <= lo <= hi:
        raise ValueError(f"margin must be (low, high) with 0 <= low <= high, got {margin}")
    return lo, hi


def crop_box(
    label: np.ndarray, rng: np.random.Generator, margin: tuple[int, int] = (10, 20)
) -> Box:
    """Half-open x and y ranges: the label's bounding box plus a margin in [low, high] per side."""
    lo, hi = _check_margin(margin)
    box = []
    for axis, others in ((0, (1, 2)), (1, (0, 2))):
        idx = np.flatnonzero(label.any(axis=others))
        before, after = (int(m) for m in rng.integers(lo, hi, size=2, endpoint=True))
        start = max(int(idx[0]) - before, 0)
        stop = min(int(idx[-1]) + 1 + after, label.shape[axis])
        box.append((start, stop))
    return box[0], box[1]


def preprocess(
    image: np.ndarray,
    label: np.ndarray,
    rng: np.random.Generator,
    margin: tuple[int, int] = (10, 20),
) -> tuple[np.ndarray, np.ndarray, Box]:
    """Z-score over the whole volume, then crop x/y around the label; z is kept whole.

    ``label`` must already be binary; returns (image float32, label uint8, crop box).
    """
    image = image.astype(np.float64)
    image = ((image - image.mean()) / image.std()).astype(np.float32)
    (x0, x1), (y0, y1) = box = crop_box(label, rng, margin)
    return image[x0:x1, y0:y1], label[x0:x1, y0:y1].astype(np.uint8), box


def _check_volume(
    image_path: Path, label_path: Path, image: np.ndarray, label: np.ndarray, fg: int
) -> np.ndarray:
    """Validate a source pair and return the binary label; errors name the offending file."""
    if image.ndim != 3:
        raise ValueError(f"{image_path}: image must be 3D, got shape {image.shape}")
    if label.shape != image.shape:
        raise ValueError(
            f"{label_path}: label shape {label.shape} != image shape {image.shape} ({image_path})"
        )
    if not np.isfinite(image).all():
        raise ValueError(f"{image_path}: image contains NaN or Inf values")
    if image.std() == 0:
        raise ValueError(f"{image_path}: image is constant, it cannot be z-scored")
    values = np.unique(label)
    if not set(values.tolist()) <= {0, fg}:
        raise ValueError(
            f"{label_path}: label values must be in {{0, {fg}}}, found {values[:10].tolist()}"
        )
    if fg not in values:
        raise ValueError(f"{label_path}: label is empty (no voxel == {fg})")
    return label == fg


def _nrrd_spacing(header: dict) -> tuple[tuple[float, float, float], bool]:
    """Voxel size from a NRRD header ('space directions' or 'spacings'); (spacing, found)."""
    directions = header.get("space directions")
    if directions is not None:
        rows = [np.asarray(r, dtype=float) for r in directions]
        norms = [float(np.linalg.norm(r)) for r in rows if np.all(np.isfinite(r))]
        if len(norms) == 3:
            return (norms[0], norms[1], norms[2]), True
    spacings = header.get("spacings")
    if spacings is not None and len(spacings) == 3 and np.all(np.isfinite(spacings)):
        return tuple(float(s) for s in spacings), True  # type: ignore[return-value]
    return LA_SPACING, False


def _read_raw(case_dir: Path) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float], bool]:
    import nrrd

    image_path, label_path = case_dir / RAW_IMAGE, case_dir / RAW_LABEL
    for path in (image_path, label_path):
        if not path.is_file():
            raise MissingFileError(f"{path}: file not found (case folder {case_dir})")
    image, header = nrrd.read(str(image_path))
    label, _ = nrrd.read(str(label_path))
    binary = _check_volume(image_path, label_path, image, label, fg=255)
    spacing, found = _nrrd_spacing(header)
    return image, binary, spacing, found


def _read_nifti(image_path: Path, label_path: Path) -> tuple[np.ndarray, np.ndarray, tuple]:
    """A NIfTI pair reoriented to the closest RAS axes, so that the axis order is (x, y, z)."""
    import nibabel as nib

    for path in (image_path, label_path):
        if not path.is_file():
            raise MissingFileError(f"{path}: file not found")
    image_nii = nib.as_closest_canonical(nib.load(str(image_path)))
    label_nii = nib.as_closest_canonical(nib.load(str(label_path)))
    image = np.asarray(image_nii.dataobj, dtype=np.float32)
    label = np.asarray(label_nii.dataobj)
    binary = _check_volume(image_path, label_path, image, label, fg=1)
    spacing = tuple(float(z) for z in image_nii.header.get_zooms()[:3])
    return image, binary, spacing


def _ordered(found: Sequence[str], train_ids, test_ids, where: Path) -> tuple[list, list]:
    test = list(test_ids)
    train = list(train_ids) if train_ids is not None else [i for i in found if i not in test]
    missing = sorted(set(train + test) - set(found))
    if missing:
        raise ValueError(f"{where}: listed case ids not found in the source: {missing[:5]}")
    overlap = sorted(set(train) & set(test))
    if overlap:
        raise ValueError(f"{where}: case ids in both train and test lists: {overlap[:5]}")
    return train, test


def _finish(dst: Path, train: list[str], test: list[str], meta: dict) -> list[str]:
    (dst / "convert.json").write_text(json.dumps(meta, indent=2) + "\n")
    write_list(dst, "train.list", train)
    if test:
        write_list(dst, "test.list", test)
    return train + test


def convert_raw_challenge(
    src: str | Path,
    dst: str | Path,
    seed: int = 0,
    margin: tuple[int, int] = (10, 20),
    train_ids: Sequence[str] | None = None,
    test_ids: Sequence[str] = (),
) -> list[str]:
    """Convert ``<src>/<case>/{lgemri,laendo}.nrrd`` (mask foreground 255) to the h5 layout.

    Every sub-folder holding either file is a case. ``train.list`` is ``train_ids`` in the given
    order (the first 16 lines are "the labeled cases"), by default all other cases sorted;
    ``test.list`` is written only when ``test_ids`` are given. Returns the listed case ids.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: source folder not found")
    margin = _check_margin(margin)
    cases = sorted(
        p.name
        for p in src.iterdir()
        if p.is_dir() and ((p / RAW_IMAGE).exists() or (p / RAW_LABEL).exists())
    )
    if not cases:
        raise ValueError(f"{src}: no case folder with {RAW_IMAGE} / {RAW_LABEL} found")
    train, test = _ordered(cases, train_ids, test_ids, src)
    meta: dict = {"source": str(src), "format": "la-challenge-nrrd", "seed": int(seed)}
    meta |= {"margin": list(margin), "cases": {}}
    for cid in train + test:
        image, label, spacing, found = _read_raw(src / cid)
        cropped, lab, box = preprocess(image, label, case_rng(seed, cid), margin)
        write_case(dst, cid, cropped, lab, spacing=spacing)
        meta["cases"][cid] = {
            "image": str(src / cid / RAW_IMAGE),
            "label": str(src / cid / RAW_LABEL),
            "source_shape": list(image.shape),
            "crop_xy": [list(box[0]), list(box[1])],
            "spacing_mm": list(spacing),
            "spacing_from_header": found,
        }
    return _finish(dst, train, test, meta)


def _nifti_id(path: Path) -> str:
    name = path.name
    return name[: -len(".nii.gz")] if name.endswith(".nii.gz") else path.stem


def convert_msd(
    src: str | Path,
    dst: str | Path,
    seed: int = 0,
    margin: tuple[int, int] = (10, 20),
    train_ids: Sequence[str] | None = None,
    test_ids: Sequence[str] = (),
) -> list[str]:
    """Convert a Medical Segmentation Decathlon task (``imagesTr``/``labelsTr`` NIfTI) to h5.

    Task02_Heart is the left atrium (labels {0, 1}). Volumes are reoriented to the closest RAS
    axes (x, y, z), then preprocessed like the LA release; spacing comes from the NIfTI header.
    macOS "._" resource files shipped in the MSD archives are ignored.
    """
    src, dst = Path(src), Path(dst)
    images_dir, labels_dir = src / "imagesTr", src / "labelsTr"
    for folder in (images_dir, labels_dir):
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: MSD folder not found")
    margin = _check_margin(margin)
    files = {
        _nifti_id(p): p
        for p in images_dir.iterdir()
        if p.name.endswith((".nii.gz", ".nii")) and not p.name.startswith("._")
    }
    if not files:
        raise ValueError(f"{images_dir}: no NIfTI image (*.nii.gz) found")
    train, test = _ordered(sorted(files), train_ids, test_ids, src)
    meta: dict = {"source": str(src), "format": "msd-nifti", "seed": int(seed)}
    meta |= {"margin": list(margin), "cases": {}}
    for cid in train + test:
        image_path = files[cid]
        label_path = labels_dir / image_path.name
        image, label, spacing = _read_nifti(image_path, label_path)
        cropped, lab, box = preprocess(image, label, case_rng(seed, cid), margin)
        write_case(dst, cid, cropped, lab, spacing=spacing)
        meta["cases"][cid] = {
            "image": str(image_path),
            "label": str(label_path),
            "source_shape": list(image.shape),
            "crop_xy": [list(box[0]), list(box[1])],
            "spacing_mm": list(spacing),
            "spacing_from_header": True,
        }
    return _finish(dst, train, test, meta)
