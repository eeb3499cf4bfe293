"""Data identity by content: the same scans under another folder are the same data.

A fingerprint hashes the case ids of the lists used, in file order (order decides which scans are
labeled), and for every listed case its file size and the first and last MiB of its file. Reading
2 MiB per case keeps it well under a second for the 100 LA scans, while any re-export, edit or
swap of a case changes its bytes near the start (h5 header, chunk index) or the end.

An export (``dtml.data.export``) stores its source's file digests, so it has the fingerprint of the
release it came from: runs trained from either get the same run key.

Within one process, file digests are cached (``_DIGESTS``, the module's only mutable state), keyed
by the resolved path, size, modification time (ns) and inode of the file: a sweep computes the
fingerprint of every planned run, and a rewritten or replaced file is read again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from dtml.data.exported import exported_file_digests, is_export
from dtml.data.la import case_path, read_list

SAMPLE_BYTES = 1 << 20
_DIGESTS: dict[tuple[str, int, int, int, int], str] = {}


def file_digest(path: Path, sample: int = SAMPLE_BYTES) -> str:
    """Size and a hash of the head and tail of one file (cached per process, see above)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino, sample)
    if key not in _DIGESTS:
        _DIGESTS[key] = _read_digest(path, stat.st_size, sample)
    return _DIGESTS[key]


def _read_digest(path: Path, size: int, sample: int) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(str(size).encode())
    with path.open("rb") as f:
        h.update(f.read(sample))
        if size > sample:
            f.seek(max(sample, size - sample))
            h.update(f.read(sample))
    return h.hexdigest()


def cases_digest(root: str | Path, case_ids: Sequence[str]) -> str:
    """Hash of the ordered ids and each case file's digest; a missing file is named."""
    stored = exported_file_digests(root) if is_export(root) else None
    h = hashlib.blake2b(digest_size=16)
    for case_id in case_ids:
        if stored is not None:
            if case_id not in stored:
                raise FileNotFoundError(f"{root}: the export has no case '{case_id}'")
            digest = stored[case_id]
        else:
            path = case_path(root, case_id)
            if not path.is_file():
                raise FileNotFoundError(f"{path}: file not found (case '{case_id}')")
            digest = file_digest(path)
        h.update(f"{case_id}:{digest}\n".encode())
    return h.hexdigest()


def fingerprint(root: str | Path, lists: Sequence[str] = ("train.list",)) -> str:
    """``la-<12 hex>``: the identity of the scans the named lists select under ``root`` (a release
    or an export of one)."""
    h = hashlib.blake2b(digest_size=16)
    for name in lists:
        h.update(f"{name}\n{cases_digest(root, read_list(root, name))}\n".encode())
    return "la-" + h.hexdigest()[:12]
