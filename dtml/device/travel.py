"""What one call to a lent machine sends (at most 64 MiB: the working tree plus carried paths), and
a cache export cut into parts that each fit beside the tree (here, before the calls)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from dtml.device.log import Say

MIB = 1 << 20
TRAVEL_LIMIT = 64 * MIB  # what one call may send: working tree + carried paths
ORIGIN = "origin.json"  # written by `split` into each part: the commit of the code


def tree_bytes(root: Path) -> int:
    """Bytes of the working tree a call sends: tracked plus untracked files git does not ignore."""
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout
    files = {root / name for name in out.decode().split("\0") if name}
    return sum(f.stat().st_size for f in files if f.is_file())


def path_bytes(path: Path) -> int:
    """Bytes under a file or folder (0 when absent)."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def first_cases(plan_path: str, data: str, limit: int) -> list[str]:
    """Case ids to put in part 1: the union of the needs of the runs that need the fewest scans,
    grown run by run while it fits in ``limit`` bytes, so part 1 alone serves those runs."""
    from dtml.data.exported import case_streams, read_manifest
    from dtml.plan import load_plan, run_config
    from dtml.sweep import needed_cases

    plan = load_plan(plan_path)
    manifest = read_manifest(data)
    size = {c: sum(e["size"] for e in case_streams(manifest, c)) for c in manifest["cases"]}
    needs = sorted(
        (needed_cases(run_config(plan, r, data)) for r in plan.runs), key=lambda s: len(s)
    )
    chosen: set[str] = set()
    for need in needs:
        if sum(size[c] for c in chosen | need) > limit:
            break
        chosen |= need
    return [c for c in manifest["cases"] if c in chosen]


def split_for_calls(
    export: str,
    dest: str,
    plan: str,
    carry: Sequence[str],
    part_mb: float | None,
    margin_mib: float,
    root: Path,
    say: Say,
) -> list[Path]:
    """Cut ``export`` into parts of ``part_mb`` MB (default: what a call leaves beside the tree
    of ``root``, the ``carry`` paths and ``margin_mib``), part 1 first holding the scans the
    smallest runs of ``plan`` need; each part records the code's commit (``ORIGIN``)."""
    from dtml.data.export import part_overhead, split_export
    from dtml.data.exported import available_cases

    wheels = sum(path_bytes(Path(w)) for w in carry)
    tree = tree_bytes(root)
    if part_mb is None:  # what is left of a call beside the tree and the wheels
        part_mb = (TRAVEL_LIMIT - tree - wheels - margin_mib * MIB) / 1e6
        if part_mb <= 0:
            raise SystemExit(f"device_sweep: the tree ({tree} bytes) leaves no room for data")
    first = first_cases(plan, export, int(part_mb * 1e6) - part_overhead(export))
    parts = split_export(export, dest, part_mb, first)
    from dtml.runs import git_commit

    for part in parts:
        (part / ORIGIN).write_text(json.dumps({"commit": git_commit()}))
        total = tree + wheels + path_bytes(part)
        say(
            f"{part}: {path_bytes(part)} bytes, {len(available_cases(part))} cases; a call "
            f"carrying it and {' '.join(carry) or 'nothing else'} sends {total / MIB:.1f} MiB "
            f"of {TRAVEL_LIMIT // MIB}"
        )
    return parts


def travel(carry: Sequence[str], root: Path, say: Say) -> bool:
    """Say what one call would send (the tree of ``root`` plus the ``carry`` paths) against
    64 MiB; returns whether it fits."""
    tree = tree_bytes(root)
    carried = {c: path_bytes(Path(c)) for c in carry}
    total = tree + sum(carried.values())
    say(f"working tree (tracked + untracked, not ignored): {tree / MIB:.1f} MiB")
    for c, n in carried.items():
        say(f"carry {c}: {n / MIB:.1f} MiB")
    verdict = "fits" if total <= TRAVEL_LIMIT else "TOO LARGE"
    say(f"total {total / MIB:.1f} MiB of {TRAVEL_LIMIT // MIB}: {verdict}")
    return total <= TRAVEL_LIMIT
