"""Runs of a plan on the device: which indices a call starts (and why the others are not), the
``dtml sweep`` of them under a wall-clock guard, and each run's progress from its ``log.csv``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dtml.device.log import Say, stamp


def run_progress(run: Path) -> dict[str, Any]:
    """Iterations done and seconds per iteration of a run folder, from its ``log.csv``."""
    log = run / "log.csv"
    if not log.is_file():
        return {"iteration": None}
    lines = log.read_text().strip().splitlines()
    if len(lines) < 2:
        return {"iteration": 0}
    head, last = lines[0].split(","), lines[-1].split(",")
    row = dict(zip(head, last, strict=False))
    try:
        it, seconds = int(row["iteration"]) + 1, float(row["seconds"])
    except (KeyError, ValueError):
        return {"iteration": None}
    return {"iteration": it, "seconds": round(seconds, 1), "s_per_it": round(seconds / it, 4)}


def select_runs(args, plan, data: str, t0: float, say: Say) -> tuple[list[int], dict[int, str]]:
    """The plan indices to start, and why each other selected index is not started."""
    from dtml.data.exported import available_cases
    from dtml.plan import run_config, select_indices
    from dtml.runs import evaluated_names, run_dir
    from dtml.sweep import needed_cases, state

    indices = select_indices(plan, args.indices, args.only, args.plan)
    have = available_cases(data)
    done_names = evaluated_names(args.skip_done) if args.skip_done else set()
    start, skipped = [], {}
    for i in indices:
        cfg = run_config(plan, plan.runs[i], data, {"runs_dir": args.runs_dir})
        name = run_dir(cfg.with_data_id()).name
        missing = needed_cases(cfg) - have
        if name in done_names:
            skipped[i] = f"{name} already published in {args.skip_done}"
        elif missing:
            skipped[i] = f"{name} needs {len(missing)} scans not in the carried parts"
        elif state(cfg) == "finished":
            skipped[i] = f"{name} finished in an earlier call (packed again)"
        else:
            start.append(i)
    for i, why in skipped.items():
        say(f"{stamp(t0)} run {i} not started: {why}")
    return start, skipped


def run_names(plan, indices: Sequence[int], data: str, runs_dir: str) -> dict[int, Path]:
    """Run folder of each index."""
    from dtml.plan import run_config
    from dtml.runs import run_dir

    return {
        i: run_dir(run_config(plan, plan.runs[i], data, {"runs_dir": runs_dir}).with_data_id())
        for i in indices
    }


def sweep(
    args,
    start: list[int],
    data: str,
    time_limit: float,
    start_within: float,
    t0: float,
    root: Path,
    say: Say,
) -> int:
    """``python -m dtml sweep`` (in ``root``) on ``start`` with the guard; its output goes to the
    log, and a progress line per run every ``--progress-every`` seconds. Returns its exit status."""
    sets = [f"runs_dir={args.runs_dir}", f"threads={args.threads}", *args.set]
    cmd = [sys.executable, "-m", "dtml", "sweep", args.plan, "--data", data]
    cmd += ["--workers", str(args.workers), "--indices", ",".join(map(str, start))]
    cmd += ["--time-limit", f"{time_limit:.0f}", "--start-within", f"{start_within:.0f}"]
    cmd += [f"--set={s}" for s in sets]
    say(f"{stamp(t0)} {' '.join(cmd[1:])}")
    proc = subprocess.Popen(
        cmd,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=os.setpgrp,  # one process group: ended together if the guard must
    )
    reader = threading.Thread(target=lambda: [say(line.rstrip()) for line in proc.stdout])
    reader.start()
    from dtml.plan import load_plan

    folders = run_names(load_plan(args.plan), start, data, args.runs_dir)
    backstop = time.monotonic() + time_limit + 45  # the sweep itself stops its runs at the limit
    next_report = time.monotonic() + args.progress_every
    while proc.poll() is None:
        time.sleep(1)
        if time.monotonic() > backstop:
            os.killpg(proc.pid, signal.SIGKILL)
            say(f"{stamp(t0)} sweep killed at the backstop")
            break
        if time.monotonic() >= next_report:
            next_report += args.progress_every
            for i, run in folders.items():
                p = run_progress(run)
                if p.get("iteration"):
                    say(f"{stamp(t0)} run {i} {run.name}: it {p['iteration']} {p['s_per_it']} s/it")
    proc.wait()
    reader.join(5)
    return proc.returncode
