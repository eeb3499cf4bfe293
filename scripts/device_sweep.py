"""Benchmark runs on a GPU machine lent for minutes: split the data, run, pack, unpack.

A lent machine (``docs/gpu.md``) gets a copy of the working tree plus a few carried folders (at
most 64 MiB per call), keeps files only while it stays warm between calls, and returns at most 8
files of 16 MiB from ``$OUT``. So checkpoints never come back: runs are trained AND evaluated
there, and only their small provenance files return, in one archive. Subcommands:

here, before:  ``split``   cut a cache export into part folders that fit a call (plus ``travel``,
                           the size a call would send)
there:         ``prepare`` install carried wheels, keep a part for the next call, check the GPU
               ``run``     join the parts, run plan indices N at a time under a wall-clock guard,
                           evaluate on the GPU, draw Figures 2-3 when their runs are done, and
                           pack every finished, evaluated run into ``$OUT/device_runs.tar.gz``
                           (plus ``$OUT/device_sweep.log``)
here, after:   ``unpack``  the archive into a runs folder that ``python -m dtml publish`` reads

``run --check-only`` (also here, on this machine) says what a call would start and skip.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python3 scripts/device_sweep.py` on a copy without an install
    sys.path.insert(0, str(ROOT))

from dtml.device.log import Log  # noqa: E402 - dtml is importable once ROOT is on sys.path
from dtml.device.pack import ARCHIVE, unpack  # noqa: E402
from dtml.device.session import prepare, run_call  # noqa: E402
from dtml.device.travel import split_for_calls, travel  # noqa: E402


def cmd_split(args: argparse.Namespace, say: Log) -> int:
    """Cut ``--export`` into parts; part 1 first holds the scans the smallest runs need."""
    split_for_calls(
        args.export, args.dest, args.plan, args.carry, args.part_mb, args.margin_mib, ROOT, say
    )
    return 0


def cmd_travel(args: argparse.Namespace, say: Log) -> int:
    """What one call would send: the tree plus the ``--carry`` paths, against 64 MiB."""
    return 0 if travel(args.carry, ROOT, say) else 1


def cmd_prepare(args: argparse.Namespace, say: Log) -> int:
    """First of two calls: wheels, parts kept for the next call, and a check of the machine."""
    prepare(args.export, args.wheels, args.out, ROOT, say)
    return 0


def cmd_run(args: argparse.Namespace, say: Log) -> int:
    """Join, select, sweep under the guard, figures, pack (see the module docstring)."""
    return run_call(args, ROOT, say)


def cmd_unpack(args: argparse.Namespace, say: Log) -> int:
    """Unpack an archive into ``--runs`` (each run folder new or identical), checking every
    member's name and that each run was trained on a GPU (``--allow-cpu``: any device)."""
    unpack(Path(args.archive), Path(args.runs), Path(args.figures), args.allow_cpu, say)
    return 0


# ---------------------------------------------------------------- command line


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="device_sweep", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("split", help="cut a cache export into parts that fit a call (here)")
    s.add_argument("--export", required=True, help="the cache export (dtml cache export --out)")
    s.add_argument("--dest", default=".gpu", help="folder for the parts (default: .gpu)")
    s.add_argument("--plan", default="plans/benchmark.yaml", help="plan whose runs order part 1")
    s.add_argument("--part-mb", type=float, help="MB per part (default: what a call leaves)")
    s.add_argument("--carry", action="append", default=[], help="other carried path (.whl)")
    s.add_argument("--margin-mib", type=float, default=4.0, help="room left per call (4 MiB)")

    t = sub.add_parser("travel", help="the size one call would send (here)")
    t.add_argument("--carry", action="append", default=[], help="a carried path (repeatable)")

    prepare = sub.add_parser("prepare", help="first of two calls: wheels, keep a part (there)")
    r = sub.add_parser("run", help="run plan indices, evaluate, pack (there)")
    for q in (prepare, r):
        q.add_argument("--export", action="append", required=True, help="an export part (repeat)")
        q.add_argument("--wheels", help="folder of carried wheels to install (.whl)")
        q.add_argument("--out", default=os.environ.get("OUT"), help="archive + log ($OUT)")
        q.add_argument("--commit", help="commit of the code sent (default: $DTML_COMMIT, git)")
    r.add_argument("--plan", default="plans/benchmark.yaml", help="plan YAML")
    r.add_argument("--indices", help="plan indices, e.g. 0-8,12 (default: all)")
    r.add_argument("--only", help="comma-separated stage names")
    r.add_argument("--workers", type=int, default=8, help="runs sharing the GPU (8)")
    r.add_argument("--threads", type=int, default=2, help="CPU threads per run (2)")
    r.add_argument("--runs-dir", default=".gpu/runs", help="run folders (default: .gpu/runs)")
    r.add_argument("--budget", type=float, default=540, help="seconds until packed (540)")
    r.add_argument("--run-seconds", type=float, default=420, help="a run's expected seconds")
    r.add_argument("--pack-seconds", type=float, default=25, help="seconds kept for packing")
    r.add_argument("--figure-seconds", type=float, default=60, help="seconds kept for figures")
    r.add_argument("--progress-every", type=float, default=30, help="seconds between reports")
    r.add_argument("--skip-done", help="runs folder whose evaluated runs are not run again")
    r.add_argument("--set", action="append", default=[], help="runtime field for dtml sweep")
    r.add_argument("--figures-script", default="scripts/paper_figures.py", help=argparse.SUPPRESS)
    r.add_argument("--no-figures", action="store_true", help="skip Figures 2-3")
    r.add_argument("--check-only", action="store_true", help="say what would start, then stop")

    u = sub.add_parser("unpack", help="an archive into a runs folder (here)")
    u.add_argument("archive", help=f"the {ARCHIVE} that came back")
    u.add_argument("--runs", default="runs/device", help="runs folder (default: runs/device)")
    u.add_argument("--figures", default="runs/device-figures", help="folder for the figures")
    u.add_argument("--allow-cpu", action="store_true", help="accept runs trained on a CPU")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    commands = {
        "split": cmd_split,
        "travel": cmd_travel,
        "prepare": cmd_prepare,
        "run": cmd_run,
        "unpack": cmd_unpack,
    }
    say = Log()  # lines to stdout, and to $OUT's log once a command attaches it
    try:
        return commands[args.command](args, say)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"device_sweep: error: {error}", file=sys.stderr, flush=True)
        return 2
    finally:
        say.close()


if __name__ == "__main__":
    raise SystemExit(main())
