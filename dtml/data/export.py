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

:func:`split_export` cuts an export into part folders of bounded size (a transfer limit: the LA
export at grid 0.5 is ~100 MB, the stored images are nearly incompressible float32), each a partial
export holding whole cases; :func:`join_export` puts the parts together again. Streams are copied
byte for byte, so a joined export reads exactly as the original (``docs/gpu.md``).
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
    available_cases,
    case_streams,
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


def _read_blob(root: Path, entry: dict[str, Any]) -> bytes:
    with (root / entry["shard"]).open("rb") as f:
        f.seek(entry["offset"])
        blob = f.read(entry["size"])
    if len(blob) != entry["size"]:
        raise ValueError(f"{root / entry['shard']}: truncated at offset {entry['offset']}")
    return blob


def _assign_parts(
    manifest: dict[str, Any], order: Sequence[str], limit: int, src: Path
) -> list[list[str]]:
    """Whole cases, in ``order``, packed into consecutive parts of at most ``limit`` bytes."""
    parts: list[list[str]] = [[]]
    used = 0
    for case_id in order:
        size = sum(e["size"] for e in case_streams(manifest, case_id))
        if size > limit:
            raise ValueError(f"{src}: case '{case_id}' alone ({size} bytes) exceeds a part")
        if used + size > limit and parts[-1]:
            parts.append([])
            used = 0
        parts[-1].append(case_id)
        used += size
    return parts


def part_overhead(src: str | Path) -> int:
    """Bytes of a part of ``src`` beside its shard: the manifest (rewritten for the new shards,
    about as large as the original; 4 kB of slack) and the lists."""
    src = Path(src)
    lists = sum((src / name).stat().st_size for name in read_manifest(src)["lists"])
    return (src / MANIFEST).stat().st_size + 4096 + lists


def split_export(
    src: str | Path, dest: str | Path, part_mb: float, first: Sequence[str] = ()
) -> list[Path]:
    """Cut the export ``src`` into ``dest/<name>-part1``, ``-part2``, ... of at most ``part_mb``
    MB each (manifest and lists included); returns the part folders.

    Each part holds whole cases (``first`` ones first, the rest in manifest order) in one shard,
    plus the full manifest, rewritten for the new shards, and the lists: a part alone is a
    partial export (``available_cases``), all parts joined (:func:`join_export`) the whole one."""
    src, dest = Path(src), Path(dest)
    manifest = read_manifest(src)
    unknown = sorted(set(first) - set(manifest["cases"]))
    if unknown:
        raise ValueError(f"{src}: cases {unknown[:3]} to put first are not in the export")
    order = list(dict.fromkeys([*first, *manifest["cases"]]))
    lists = {name: (src / name).read_bytes() for name in manifest["lists"]}
    limit = int(part_mb * MB) - part_overhead(src)
    if limit <= 0:
        raise ValueError(f"part size {part_mb:g} MB leaves no room beside the manifest")
    assignment = _assign_parts(manifest, order, limit, src)
    folders = [dest / f"{src.name}-part{k + 1}" for k in range(len(assignment))]
    clash = [str(f) for f in folders if f.exists()]
    if clash:
        raise FileExistsError(f"{clash[0]}: already exists; remove it or choose another folder")
    new = json.loads(json.dumps(manifest))  # a deep copy, rewritten below
    new["shards"], new["parts"] = {}, {}
    tmp = dest / f".{src.name}.split-tmp-{os.getpid()}"
    tmp.mkdir(parents=True)
    try:
        for k, cases in enumerate(assignment):
            name = f"shard-{k:03d}.bin"
            (tmp / f"part{k + 1}").mkdir()
            with (tmp / f"part{k + 1}" / name).open("wb") as out:
                offset = 0
                for case_id in cases:
                    for old, ent in zip(
                        case_streams(manifest, case_id), case_streams(new, case_id), strict=True
                    ):
                        out.write(_read_blob(src, old))
                        ent.update(shard=name, offset=offset)
                        offset += old["size"]
            new["shards"][name], new["parts"][name] = offset, k + 1
        text = json.dumps(new, indent=1)
        for k, folder in enumerate(folders):
            part = tmp / f"part{k + 1}"
            (part / MANIFEST).write_text(text)
            for list_name, data in lists.items():
                (part / list_name).write_bytes(data)
            if available_cases(part) != set(assignment[k]):  # a part reads its own cases
                raise ValueError(f"{folder}: part does not read back its cases; split again")
        for k, folder in enumerate(folders):
            os.replace(tmp / f"part{k + 1}", folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folders


def join_export(parts: Sequence[str | Path], out: str | Path) -> Path:
    """One export folder ``out`` from the parts of a split export (hard links where the file
    system allows, else copies); every shard of the manifest must be in one of the parts."""
    parts, out = [Path(p) for p in parts], Path(out)
    if not parts:
        raise ValueError("join_export: no parts given")
    manifest = read_manifest(parts[0])
    for part in parts[1:]:
        if read_manifest(part) != manifest:
            raise ValueError(f"{part}: its manifest differs from {parts[0]}'s: not the same export")
    if out.exists():
        raise FileExistsError(f"{out}: already exists; remove it or choose another folder")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True)
    try:
        for name, size in manifest["shards"].items():
            found = [p / name for p in parts if (p / name).is_file()]
            good = [f for f in found if f.stat().st_size == size]
            if not good:
                where = f"found with another size in {found[0].parent}" if found else "in no part"
                raise FileNotFoundError(
                    f"{parts[0]}: shard {name} of this split export is {where}; "
                    f"pass all {len(set(manifest.get('parts', {}).values())) or '?'} parts"
                )
            try:
                os.link(good[0], tmp / name)
            except OSError:
                shutil.copyfile(good[0], tmp / name)
        for name in (MANIFEST, *manifest["lists"]):
            shutil.copyfile(parts[0] / name, tmp / name)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


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
