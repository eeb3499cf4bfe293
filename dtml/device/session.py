"""The two calls of a device session (there): ``prepare`` (wheels installed, a part kept for the
next call, the machine checked) and ``run`` (the parts joined, runs selected and swept under the
wall-clock guard, Figures 2-3 drawn when due, everything finished packed into ``$OUT``)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from dtml.device.figures import draw_figures, figure_pairs
from dtml.device.log import LOG, Log, stamp
from dtml.device.machine import (
    commit_of,
    data_folder,
    environment,
    find_parts,
    install_wheels,
    stash_part,
)
from dtml.device.pack import pack
from dtml.device.runner import run_names, select_runs, sweep
from dtml.device.travel import path_bytes


def prepare(exports: Sequence[str], wheels: str | None, out: str | None, root: Path, say: Log):
    """First of two calls: wheels, parts kept for the next call, and a check of the machine."""
    t0 = time.monotonic()
    if out:
        say.attach(Path(out) / LOG)
    site = install_wheels(wheels, root)
    for part in find_parts(exports):
        stash_part(part)
        say(f"{stamp(t0)} kept {part.name} for the next call ({path_bytes(part)} bytes)")
    import dtml.sdf  # noqa: F401 - needs edt: fails here, not in every run, when it is missing

    say(f"{stamp(t0)} wheels: {site or 'none needed'}; machine: {json.dumps(environment())}")


def run_call(args, root: Path, say: Log) -> int:
    """Join, select, sweep under the guard, figures, pack (``scripts/device_sweep.py run``), in
    ``root``, the tree the call sent."""
    t0 = time.monotonic()
    os.chdir(root)
    if args.skip_done and not Path(args.skip_done).is_dir():  # before any device time is spent
        raise FileNotFoundError(f"{args.skip_done}: no such runs folder")
    os.environ["PYTHONUNBUFFERED"] = "1"
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(root), os.environ.get("PYTHONPATH")) if p
    )  # scripts/paper_figures.py imports dtml from this tree
    if args.out:
        say.attach(Path(args.out) / LOG)
    args.runs_dir = str(Path(args.runs_dir).resolve())
    work = Path(args.runs_dir).parent
    site = install_wheels(args.wheels, root)
    parts = find_parts(args.export)
    for part in parts:
        stash_part(part)
    data = str(data_folder(parts, work / "export-joined"))
    from dtml.plan import load_plan

    plan = load_plan(args.plan)
    commit = commit_of(args.commit, parts)
    os.environ["DTML_COMMIT"] = commit  # the tree sent has no .git: runs record this commit
    info = {"commit": commit, "plan": args.plan, "argv": sys.argv[1:], **environment()}
    say(f"{stamp(t0)} data {data}; wheels {site or 'none'}; {json.dumps(info)}")
    start, skipped = select_runs(args, plan, data, t0, say)
    info["skipped"] = {str(i): why for i, why in skipped.items()}
    say(f"{stamp(t0)} to start: {start} ({args.workers} at a time)")
    if args.check_only:
        return 0
    here = {*start, *(i for i, why in skipped.items() if "finished" in why)}
    figures_due = not args.no_figures and any(
        set(pick.values()) <= here for _, pick in figure_pairs(plan)
    )  # time is kept for the figures only when this call can draw them
    reserve = args.pack_seconds + (args.figure_seconds if figures_due else 0)
    time_limit = args.budget - reserve - (time.monotonic() - t0)
    if start:
        start_within = max(5.0, time_limit - args.run_seconds)
        info["sweep_exit"] = sweep(args, start, data, time_limit, start_within, t0, root, say)
    figures = work / f"figures-{os.getpid()}"
    shutil.rmtree(figures, ignore_errors=True)
    remaining = args.budget - args.pack_seconds - (time.monotonic() - t0)
    drawn = draw_figures(args, plan, data, figures, remaining, t0, root, say)
    if args.out:
        folders = run_names(plan, [*start, *skipped], data, args.runs_dir)
        pack(args, folders, figures if drawn else None, info, t0, say)
    shutil.rmtree(figures, ignore_errors=True)
    return 0
