"""Data identity by content: the same scans under another folder are the same data.

A fingerprint hashes the case ids of the lists used, in file order (order decides which scans are
labeled), and for every listed case its file size and the first and last MiB of its file. Reading
2 MiB per case keeps it well under a second for the 100 LA scans, while any re-export, edit or
swap of a case changes its bytes near the start (h5 header, chunk index) or the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from dtml.data.la import case_path, read_list

SAMPLE_BYTES = 1 << 20


def file_digest(path: Path, sample: int = SAMPLE_BYTES) -> str:
    """Size and a hash of the head and tail of one file."""
    h = hashlib.blake2b(digest_size=16)
    size = path.stat().st_size
    h.update(str(size).encode())
    with path.open("rb") as f:
        h.update(f.read(sample))
        if size > sample:
            f.seek(max(sample, size - sample))
            h.update(f.read(sample))
    return h.hexdigest()


def cases_digest(root: str | Path, case_ids: Sequence[str]) -> str:
    """Hash of the ordered ids and each case file's digest; a missing file is named."""
    h = hashlib.blake2b(digest_size=16)
    for case_id in case_ids:
        path = case_path(root, case_id)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: file not found (case '{case_id}')")
        h.update(f"{case_id}:{file_digest(path)}\n".encode())
    return h.hexdigest()


def fingerprint(root: str | Path, lists: Sequence[str] = ("train.list",)) -> str:
    """``la-<12 hex>``: the identity of the scans the named lists select under ``root``."""
    h = hashlib.blake2b(digest_size=16)
    for name in lists:
        h.update(f"{name}\n{cases_digest(root, read_list(root, name))}\n".encode())
    return "la-" + h.hexdigest()[:12]
