"""Where the data lives: an explicit path, ``$DTML_DATA``, or the embedded phantom."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from dtml.data.cache import default_cache_dir


def resolve_data_root(path: str | Path | None = None) -> Path | None:
    """The explicit ``path``, else ``$DTML_DATA``, else ``None`` (caller falls back to the phantom)."""
    chosen = path if path not in (None, "") else os.environ.get("DTML_DATA") or None
    if chosen is None:
        return None
    root = Path(chosen).expanduser()
    if not (root / "train.list").is_file():
        raise FileNotFoundError(f"{root}: not an LA-style data root or export (no train.list)")
    return root


def ensure_phantom(root: str | Path | None = None, **kwargs) -> Path:
    """Build the default phantom data set once (seeded) and return its root.

    A set written by another generator version or with other parameters is rebuilt. It is built
    in a temporary folder and renamed, so a concurrent reader never sees a half-written set.
    """
    from dtml.data.phantom import GENERATOR_VERSION, dataset_is_current, write_phantom_dataset

    root = Path(root) if root is not None else default_cache_dir() / f"phantom-v{GENERATOR_VERSION}"
    if dataset_is_current(root, **kwargs):
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
    write_phantom_dataset(tmp, **kwargs)
    if root.exists():
        shutil.rmtree(root, ignore_errors=True)
    try:
        os.replace(tmp, root)
    except OSError:  # another process renamed its copy first: use that one
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def data_root_or_phantom(path: str | Path | None = None) -> tuple[Path, bool]:
    """(root, is_real): the real data when given or in ``$DTML_DATA``, else the phantom."""
    root = resolve_data_root(path)
    return (root, True) if root is not None else (ensure_phantom(), False)
