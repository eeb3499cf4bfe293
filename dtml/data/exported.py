"""Reading a portable export (written by ``dtml.data.export``): training data without the release.

An export folder holds ``manifest.json``, the list files and ``shard-NNN.bin`` files. Every array is
one zlib stream at a recorded offset of a shard, so a case is read without reading its neighbours,
and a label is never decompressed when it is not asked for. Images are little-endian float32,
byte-shuffled before zlib (the four byte planes stored one after another: lossless, 7 % smaller on
LA at grid 0.5); labels are bit-packed (``np.packbits``). zlib's checksum makes a corrupt stream
fail loudly.

The manifest records, per case and grid (``"0.5"``, ``"1"``), the shape, the spacing and the
entries of the image and/or label; and the source's content fingerprint plus each case file's
digest, so ``dtml.data.fingerprint`` gives an export the identity of the data it came from.

An export split into parts (``dtml.data.export.split_export``, for transfers of bounded size) gives
folders that each hold the whole manifest and the lists but only some shards: each part is itself a
partial export, whose readable cases :func:`available_cases` names; reading any other case names
the missing shard. ``join_export`` puts the parts together again.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from dtml.data.case import Case

FORMAT = "dtml-export"
VERSION = 1
MANIFEST = "manifest.json"
IMAGE_CODEC = "zlib-shuffle4"  # float32, little-endian, byte planes one after another
LABEL_CODEC = "zlib-packbits"  # uint8 in {0, 1}, eight voxels per byte


def is_export(root: str | Path) -> bool:
    """Whether ``root`` is an export (it has a manifest) rather than an LA h5 release."""
    return (Path(root) / MANIFEST).is_file()


def grid_key(grid: float) -> str:
    """The manifest's name of a grid: ``0.5 -> "0.5"``, ``1.0 -> "1"``."""
    return f"{float(grid):g}"


# Parsed manifests of this process (100 kB of JSON for LA, parsed once rather than once per case),
# keyed by the resolved file, its size and modification time: a rewritten manifest is read again.
_MANIFESTS: dict[tuple[str, int, int], dict[str, Any]] = {}


def read_manifest(root: str | Path) -> dict[str, Any]:
    """The checked manifest of an export (cached per process, see ``_MANIFESTS``)."""
    path = Path(root) / MANIFEST
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        manifest = _MANIFESTS.get(key) or json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: unreadable export manifest ({error})") from error
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValueError(
            f"{path}: not a {FORMAT} manifest of version {VERSION} "
            f"(format {manifest.get('format')!r}, version {manifest.get('version')!r})"
        )
    _MANIFESTS[key] = manifest
    return manifest


def encode(array: np.ndarray, kind: str) -> tuple[bytes, dict[str, Any]]:
    """One array as a zlib stream and its manifest entry (without shard and offset)."""
    if kind == "image":
        planes = np.ascontiguousarray(array, "<f4").reshape(-1, 1).view(np.uint8)  # (n, 4) bytes
        raw, codec, dtype = planes.T.tobytes(), IMAGE_CODEC, "float32"
    elif kind == "label":
        raw, codec, dtype = np.packbits(array.reshape(-1)).tobytes(), LABEL_CODEC, "uint8"
    else:
        raise ValueError(f"dtml.data.exported: unknown array kind '{kind}'")
    blob = zlib.compress(raw, 6)
    return blob, {"codec": codec, "dtype": dtype, "shape": list(array.shape), "size": len(blob)}


def decode(blob: bytes, entry: dict[str, Any]) -> np.ndarray:
    """The array of one zlib stream (inverse of :func:`encode`); a fresh, writable array."""
    raw = zlib.decompress(blob)
    shape = tuple(entry["shape"])
    if entry["codec"] == IMAGE_CODEC:
        planes = np.frombuffer(raw, np.uint8).reshape(4, -1)
        return planes.T.copy().view("<f4").astype(np.float32, copy=False).reshape(shape)
    if entry["codec"] == LABEL_CODEC:
        raw = np.frombuffer(raw, np.uint8)
        return np.unpackbits(raw, count=int(np.prod(shape))).reshape(shape)
    raise ValueError(f"unknown codec {entry['codec']!r}")


def read_array(root: str | Path, entry: dict[str, Any]) -> np.ndarray:
    """Read and decode one array entry of the manifest; a damaged or missing shard names its
    file."""
    path = Path(root) / entry["shard"]
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: export shard missing (a part of a split export? join the parts: "
            "dtml.data.export.join_export)"
        )
    try:
        with path.open("rb") as f:
            f.seek(entry["offset"])
            blob = f.read(entry["size"])
        if len(blob) != entry["size"]:
            raise ValueError(f"truncated: {len(blob)} of {entry['size']} bytes")
        return decode(blob, entry)
    except (OSError, ValueError, zlib.error) as error:
        raise ValueError(
            f"{path}: damaged export shard at offset {entry['offset']}: {error}"
        ) from error


def _case_entry(root: Path, manifest: dict, case_id: str) -> dict[str, Any]:
    cases = manifest["cases"]
    if case_id not in cases:
        raise FileNotFoundError(f"{root}: the export has no case '{case_id}'")
    return cases[case_id]


def load_exported_case(root: str | Path, case_id: str, grid: float, with_label: bool) -> Case:
    """A case of an export at ``grid``, equal to ``load_case`` on the release it came from.

    ``with_label=False`` never reads the label. An export keeps the full-grid (``1``) label of a
    case for evaluation but not its full-grid image (evaluation scores against the original
    label, the image is predicted on the training grid): there the returned ``image`` is ``None``,
    and asking for that grid without the label is an error.
    """
    root = Path(root)
    manifest = read_manifest(root)
    grids = _case_entry(root, manifest, case_id)
    key = grid_key(grid)
    if key not in grids:
        raise FileNotFoundError(
            f"{root}: the export has no grid {key} for case '{case_id}' (grids: {sorted(grids)})"
        )
    entry = grids[key]
    if with_label and "label" not in entry:
        raise FileNotFoundError(f"{root}: the export has no label at grid {key} for '{case_id}'")
    if not with_label and "image" not in entry:
        raise FileNotFoundError(
            f"{root}: the export has only the label at grid {key} for case '{case_id}', no image"
        )
    image = read_array(root, entry["image"]) if "image" in entry else None
    label = read_array(root, entry["label"]) if with_label else None
    return Case(case_id, image, label, tuple(float(s) for s in entry["spacing"]))


def case_streams(manifest: dict[str, Any], case_id: str) -> list[dict[str, Any]]:
    """The manifest entries of every array of ``case_id`` (all grids), in manifest order."""
    grids = manifest["cases"][case_id]
    return [e[kind] for e in grids.values() for kind in ("image", "label") if kind in e]


def case_shards(manifest: dict[str, Any], case_id: str) -> set[str]:
    """The shard files that hold any array of ``case_id`` (at every grid)."""
    return {e["shard"] for e in case_streams(manifest, case_id)}


def available_cases(root: str | Path) -> set[str]:
    """Cases of the export whose every array is readable here (its shard files are present and
    long enough): all of them for a whole export, some for one part of a split export."""
    root = Path(root)
    manifest = read_manifest(root)
    present = {
        name
        for name, size in manifest["shards"].items()
        if (root / name).is_file() and (root / name).stat().st_size >= size
    }
    return {c for c in manifest["cases"] if case_shards(manifest, c) <= present}


def exported_file_digests(root: str | Path) -> dict[str, str]:
    """Each case's source file digest (``dtml.data.fingerprint.file_digest`` at export time)."""
    return read_manifest(root)["file_digests"]
