"""Reader and writer for the preprocessed LA layout: ``<root>/<case>/mri_norm2.h5`` + list files.

Every check raises an error that names the file and the problem; nothing is guessed or dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import h5py
import numpy as np

from dtml.data.case import Case

H5_NAME = "mri_norm2.h5"
LA_SPACING = (0.625, 0.625, 0.625)


def case_path(root: str | Path, case_id: str) -> Path:
    return Path(root) / case_id / H5_NAME


def read_list(root: str | Path, name: str = "train.list") -> list[str]:
    """Case ids of a list file, in file order (the order defines "the first 16 are labeled")."""
    path = Path(root) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: list file not found")
    ids = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate case ids in list")
    return ids


def write_list(root: str | Path, name: str, ids: Iterable[str]) -> Path:
    path = Path(root) / name
    path.write_text("".join(f"{i}\n" for i in ids))
    return path


def validate_case(
    path: Path, image: np.ndarray, label: np.ndarray | None, require_foreground: bool = True
) -> None:
    """Raise ValueError naming ``path`` if the arrays are not a usable case."""
    if image.ndim != 3:
        raise ValueError(f"{path}: image must be 3D (x, y, z), got shape {image.shape}")
    if not np.isfinite(image).all():
        raise ValueError(f"{path}: image contains NaN or Inf values")
    if label is None:
        return
    if label.shape != image.shape:
        raise ValueError(f"{path}: image shape {image.shape} != label shape {label.shape}")
    values = np.unique(label)
    if not set(values.tolist()) <= {0, 1}:
        raise ValueError(f"{path}: label values must be in {{0, 1}}, found {values[:10].tolist()}")
    if require_foreground and 1 not in values:
        raise ValueError(f"{path}: label is empty (no foreground voxel) in a labeled case")


def read_case(root: str | Path, case_id: str, with_label: bool = True) -> Case:
    """Read and validate one case. ``with_label=False`` never reads the label from disk."""
    path = case_path(root, case_id)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path.parent}: case folder not found (case '{case_id}')")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        with h5py.File(path, "r") as f:
            for key in ("image",) + (("label",) if with_label else ()):
                if key not in f:
                    raise ValueError(f"{path}: missing dataset '{key}' (found {sorted(f.keys())})")
            image = np.asarray(f["image"][...], dtype=np.float32)
            label = np.asarray(f["label"][...]) if with_label else None
            spacing = tuple(float(s) for s in f.attrs.get("spacing", LA_SPACING))
    except OSError as error:  # h5py's message names no file: a truncated or non-HDF5 file
        raise OSError(
            f"{path}: unreadable or corrupt HDF5 file (case '{case_id}'): {error}"
        ) from error
    if label is not None:
        validate_case(path, image, label)
        label = label.astype(np.uint8)
    else:
        validate_case(path, image, None)
    if len(spacing) != 3 or min(spacing) <= 0:
        raise ValueError(f"{path}: invalid spacing attribute {spacing}")
    return Case(case_id, image, label, spacing)


def write_case(
    root: str | Path,
    case_id: str,
    image: np.ndarray,
    label: np.ndarray,
    spacing: tuple[float, float, float] = LA_SPACING,
) -> Path:
    """Write one case in the LA layout (gzip-compressed, spacing stored as an attribute)."""
    path = case_path(root, case_id)
    validate_case(path, np.asarray(image), np.asarray(label))
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.create_dataset("image", data=np.asarray(image, np.float32), compression="gzip")
        f.create_dataset("label", data=np.asarray(label, np.uint8), compression="gzip")
        f.attrs["spacing"] = np.asarray(spacing, np.float64)
    return path
