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
from dtml.data.exported import is_export, load_exported_case
from dtml.data.la import case_path, read_case

RESAMPLER_VERSION = 2  # bump when resampling changes: cached volumes are then rebuilt


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
    # ndimage.zoom maps corner voxel centres onto corner voxel centres, so the new spacing is
    # s * (n - 1) / (m - 1), not s / factor
    spacing = tuple(
        float(s * (n - 1) / max(m - 1, 1))
        for s, n, m in zip(case.spacing, shape, new_shape, strict=True)
    )
    return Case(case.case_id, image, label, spacing)


def _cache_file(
    root: str | Path, case_id: str, grid: float, cache_dir: Path, with_label: bool
) -> Path:
    src = case_path(root, case_id).resolve()
    stat = src.stat()
    key = f"{RESAMPLER_VERSION}|{src}|{stat.st_size}|{stat.st_mtime_ns}|{grid}|{with_label}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    return cache_dir / f"grid{grid:g}" / f"{case_id}_{'' if with_label else 'image_'}{digest}.npz"


def load_case(
    root: str | Path,
    case_id: str,
    grid: float = 1.0,
    cache_dir: str | Path | None = None,
    with_label: bool = True,
) -> Case:
    """Read a case at the given grid, from the cache when possible (keyed by file, size, mtime).

    ``with_label=False`` never reads the annotation, from the data or from the cache (unlabeled
    stream: its labels cannot leak into training, and the file need not even contain one).
    ``root`` may be an export (``dtml.data.export``): its arrays are read as stored, bit-identical
    to this function's on the release (no cache; full grid: the label only, ``image`` is None).
    """
    if is_export(root):
        return load_exported_case(root, case_id, grid, with_label)
    path = case_path(root, case_id)
    if not path.is_file():
        read_case(root, case_id, with_label)  # raises the precise missing-folder / file error
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cfile = _cache_file(root, case_id, grid, cache_dir, with_label)
    if cfile.is_file():
        with np.load(cfile) as z:
            label = z["label"] if with_label else None
            return Case(case_id, z["image"], label, tuple(z["spacing"].tolist()))
    case = resample(read_case(root, case_id, with_label=with_label), grid)
    arrays = {"image": case.image, "spacing": np.asarray(case.spacing)}
    if with_label:
        arrays["label"] = case.label
    cfile.parent.mkdir(parents=True, exist_ok=True)
    tmp = cfile.with_name(f"{cfile.stem}.{os.getpid()}.tmp.npz")  # concurrent workers: no clash
    np.savez(tmp, **arrays)
    os.replace(tmp, cfile)
    return case


def load_cases(
    root: str | Path,
    case_ids: list[str] | tuple[str, ...],
    grid: float = 1.0,
    cache_dir: str | Path | None = None,
    with_label: bool = True,
) -> list[Case]:
    return [load_case(root, c, grid, cache_dir, with_label) for c in case_ids]
