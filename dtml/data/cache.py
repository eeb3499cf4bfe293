"""Optional resampling to a coarser grid, with a small on-disk cache.

Training the paper's network at full resolution is impractical on 2 CPU cores; every result names
the grid it used. ``grid=0.5`` halves each axis (LA: 0.625 mm -> 1.25 mm voxels). The image is
resampled by trilinear interpolation; the label by interpolating it as a float and thresholding at
0.5, which cannot create label values other than {0, 1}.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from scipy import ndimage

from dtml.data.case import Case
from dtml.data.la import case_path, read_case


def default_cache_dir() -> Path:
    """``$DTML_CACHE`` or ``~/.cache/dtml`` (never inside the read-only data folder)."""
    return Path(os.environ.get("DTML_CACHE", Path.home() / ".cache" / "dtml"))


def resample(case: Case, grid: float) -> Case:
    """Resample a case by the factor ``grid`` along every axis (1.0 returns it unchanged)."""
    if grid <= 0 or grid > 1:
        raise ValueError(f"grid must be in (0, 1], got {grid}")
    if grid == 1.0:
        return case
    shape = np.asarray(case.image.shape)
    new_shape = np.maximum(1, np.round(shape * grid)).astype(int)
    factors = new_shape / shape
    image = ndimage.zoom(case.image, factors, order=1).astype(np.float32)
    label = None
    if case.label is not None:
        label = (ndimage.zoom(case.label.astype(np.float32), factors, order=1) >= 0.5).astype(
            np.uint8
        )
    spacing = tuple(float(s / f) for s, f in zip(case.spacing, factors, strict=True))
    return Case(case.case_id, image, label, spacing)


def _cache_file(root: str | Path, case_id: str, grid: float, cache_dir: Path) -> Path:
    src = case_path(root, case_id).resolve()
    stat = src.stat()
    key = hashlib.sha1(f"{src}|{stat.st_size}|{stat.st_mtime_ns}|{grid}".encode()).hexdigest()
    return cache_dir / f"grid{grid:g}" / f"{case_id}_{key[:12]}.npz"


def load_case(
    root: str | Path,
    case_id: str,
    grid: float = 1.0,
    cache_dir: str | Path | None = None,
    with_label: bool = True,
) -> Case:
    """Read a case at the given grid, from the cache when possible (keyed by file, size, mtime).

    ``with_label=False`` returns the case without its annotation (unlabeled stream).
    """
    path = case_path(root, case_id)
    if not path.is_file():
        read_case(root, case_id)  # raises the precise missing-folder / missing-file error
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cfile = _cache_file(root, case_id, grid, cache_dir)
    if cfile.is_file():
        with np.load(cfile) as z:
            case = Case(case_id, z["image"], z["label"], tuple(z["spacing"].tolist()))
    else:
        case = resample(read_case(root, case_id), grid)
        cfile.parent.mkdir(parents=True, exist_ok=True)
        tmp = cfile.with_suffix(".tmp.npz")
        np.savez(tmp, image=case.image, label=case.label, spacing=np.asarray(case.spacing))
        os.replace(tmp, cfile)
    return case if with_label else case.without_label()


def load_cases(
    root: str | Path,
    case_ids: list[str] | tuple[str, ...],
    grid: float = 1.0,
    cache_dir: str | Path | None = None,
    with_label: bool = True,
) -> list[Case]:
    return [load_case(root, c, grid, cache_dir, with_label) for c in case_ids]
