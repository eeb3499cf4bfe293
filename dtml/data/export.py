"""Portable training cache: ``python -m dtml.data.export --data ROOT --profile P --out DIR``.

Writes exactly what training and evaluation read from an LA release, so a GPU machine needs neither
the h5 release nor the resampling: for every case of the lists, the image and the label at the
profile's grid (as ``dtml.data.cache.load_case`` returns them, bit for bit), the full-grid label
(evaluation scores against the original annotation), the list files and ``manifest.json``
(format: ``dtml.data.exported``). ``--data DIR`` accepts the export wherever the package reads
data, and runs trained from it get the run key of runs trained from the release: the manifest
carries the release's content fingerprint.

The full-grid label is kept for every case, not only for the test and dev-validation scans: a dev
split of any ``val_count`` evaluates from the same export, and a bit-packed label costs a few kB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dtml.config import PROFILES, load_profile
from dtml.data.cache import RESAMPLER_VERSION, load_case
from dtml.data.exported import (
    FORMAT,
    MANIFEST,
    VERSION,
    encode,
    grid_key,
    is_export,
    read_manifest,
)
from dtml.data.fingerprint import file_digest, fingerprint
from dtml.data.la import case_path, read_case, read_list

MB = 1_000_000


class ShardWriter:
    """Appends zlib streams to ``shard-NNN.bin`` files of at most ``limit`` bytes each."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder, self.limit = folder, limit
        self.sizes: dict[str, int] = {}
        self._file = None

    def add(self, blob: bytes, meta: dict[str, Any], what: str) -> dict[str, Any]:
        """Write one stream; its manifest entry (shard, offset and ``meta``)."""
        if len(blob) > self.limit:
            raise ValueError(
                f"{what}: {len(blob)} bytes compressed, more than a shard of --shard-mb "
                f"{self.limit / MB:g}; raise --shard-mb"
            )
        if self._file is None or self.sizes[self._name] + len(blob) > self.limit:
            self._next()
        offset = self.sizes[self._name]
        self._file.write(blob)
        self.sizes[self._name] += len(blob)
        return {"shard": self._name, "offset": offset, **meta}

    def _next(self) -> None:
        self.close()
        self._name = f"shard-{len(self.sizes):03d}.bin"
        self.sizes[self._name] = 0
        self._file = (self.folder / self._name).open("wb")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _grid_entry(case, shards: ShardWriter, kinds: Sequence[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"shape": list(case.label.shape), "spacing": list(case.spacing)}
    for kind in kinds:
        blob, meta = encode(getattr(case, kind), kind)
        entry[kind] = shards.add(blob, meta, f"case '{case.case_id}' {kind}")
    return entry


def export(
    root: str | Path,
    profile: str,
    out: str | Path,
    shard_mb: float = 60.0,
    lists: Sequence[str] = ("train.list", "test.list"),
    cache_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Write the export of ``root`` for ``profile``'s grid into ``out`` (a new folder); returns
    a summary with the sizes. Written under a temporary name and renamed when complete."""
    root, out = Path(root), Path(out)
    if is_export(root):
        raise ValueError(f"{root}: already an export; export from the h5 release")
    if "train.list" not in lists:
        raise ValueError(f"--lists {','.join(lists)}: must include train.list (the data identity)")
    if out.exists():
        raise FileExistsError(f"{out}: already exists; remove it or choose another --out")
    grid = load_profile(profile).grid
    ids = list(dict.fromkeys(c for name in lists for c in read_list(root, name)))
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True)
    shards = ShardWriter(tmp, int(shard_mb * MB))
    cases: dict[str, dict[str, Any]] = {}
    try:
        for case_id in ids:
            coarse = load_case(root, case_id, grid, cache_dir, with_label=True)
            cases[case_id] = {grid_key(grid): _grid_entry(coarse, shards, ("image", "label"))}
            if grid != 1.0:  # the original annotation, for evaluation
                full = read_case(root, case_id, with_label=True)
                cases[case_id][grid_key(1.0)] = _grid_entry(full, shards, ("label",))
        shards.close()
        for name in lists:
            shutil.copyfile(root / name, tmp / name)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "fingerprint": fingerprint(root),
            "profile": profile,
            "grid": grid,
            "grids": sorted({grid, 1.0}),
            "resampler_version": RESAMPLER_VERSION,
            "lists": {name: read_list(root, name) for name in lists},
            "shards": shards.sizes,
            "file_digests": {c: file_digest(case_path(root, c)) for c in ids},
            "cases": cases,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        if fingerprint(tmp) != manifest["fingerprint"]:  # the lists were copied as read
            raise ValueError(f"{root}: train.list changed during the export; export again")
        os.replace(tmp, out)
    finally:
        shards.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary(out)


def summary(out: str | Path) -> dict[str, Any]:
    """Sizes of an export: per kind of array and in all (bytes on disk)."""
    manifest = read_manifest(out)
    by_kind = {"image": 0, "label": 0, "label_full_grid": 0}
    for grids in manifest["cases"].values():
        for entry in grids.values():
            for kind in ("image", "label"):
                if kind in entry:
                    name = "label_full_grid" if kind == "label" and "image" not in entry else kind
                    by_kind[name] += entry[kind]["size"]
    files = sum(f.stat().st_size for f in Path(out).iterdir() if f.is_file())
    return {
        "fingerprint": manifest["fingerprint"],
        "grid": manifest["grid"],
        "cases": len(manifest["cases"]),
        "shards": len(manifest["shards"]),
        "largest_shard_bytes": max(manifest["shards"].values(), default=0),
        "bytes_by_kind": by_kind,
        "bytes": files,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line (``python -m dtml.data.export``, ``dtml cache export``); prints the sizes."""
    p = argparse.ArgumentParser(
        prog="python -m dtml.data.export", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--data",
        default=os.environ.get("DTML_DATA"),
        help="the LA h5 release to export: <case>/mri_norm2.h5 + list files (default: $DTML_DATA)",
    )
    p.add_argument(
        "--profile",
        default="cpu",
        choices=PROFILES,
        help="training profile whose data grid is exported (default: cpu, grid 0.5)",
    )
    p.add_argument("--out", required=True, help="the export folder to create (must not exist)")
    p.add_argument(
        "--shard-mb",
        type=float,
        default=60.0,
        help="largest shard file, in MB of 10^6 bytes (default: 60)",
    )
    p.add_argument(
        "--lists",
        default="train.list,test.list",
        help="comma-separated list files to export, train.list included "
        "(default: train.list,test.list)",
    )
    p.add_argument(
        "--cache-dir",
        help="resampling cache to read or fill (default: $DTML_CACHE or ~/.cache/dtml)",
    )
    args = p.parse_args(argv)
    if not args.data:
        p.error("--data is required (or set $DTML_DATA)")
    if args.shard_mb <= 0:
        p.error(f"--shard-mb must be > 0, got {args.shard_mb}")
    lists = [name.strip() for name in args.lists.split(",") if name.strip()]
    sizes = export(args.data, args.profile, args.out, args.shard_mb, lists, args.cache_dir)
    print(json.dumps(sizes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
