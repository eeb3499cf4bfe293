"""Figures 2-3 drawn on the device (``scripts/paper_figures.py``) when seed 1's lower bound and
DTML of one stage are finished there: their PNGs come back in the archive."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dtml.device.log import Say, stamp

FIGURE_ROWS = ("V-Net (lower bound)", "DTML")  # the two runs Figures 2-3 are drawn from


def figure_overrides(plan, index: int) -> list[str]:
    """``--set`` pairs of one planned run for ``scripts/paper_figures.py`` (split aside)."""
    pairs = []
    for key, value in plan.runs[index].overrides.items():
        if key in ("split", "labeled_count"):
            continue
        text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        pairs.append(f"{key}={text}")
    return pairs


def figure_pairs(plan) -> list[tuple[str, dict[str, int]]]:
    """(stage, {row: index}) of every stage that holds seed 1 of both ``FIGURE_ROWS``."""
    out = []
    for stage_name in plan.stages:
        pick = {
            r.label: i
            for i, r in enumerate(plan.runs)
            if r.stage == stage_name and r.seed == 1 and r.label in FIGURE_ROWS
        }
        if len(pick) == len(FIGURE_ROWS):
            out.append((stage_name, pick))
    return out


def draw_figures(
    args, plan, data: str, out: Path, seconds: float, t0: float, root: Path, say: Say
) -> bool:
    """Figures 2-3 (``scripts/paper_figures.py``, run in ``root``) into ``out`` when seed 1's lower
    bound and DTML of one stage are finished here; skipped (and said) otherwise. Never fails the
    call; returns whether PNGs were written."""
    from dtml.plan import run_config
    from dtml.sweep import state

    script = Path(args.figures_script)
    if args.no_figures or not script.is_file():
        say(f"{stamp(t0)} figures: skipped ({'--no-figures' if args.no_figures else script})")
        return False
    for stage_name, pick in figure_pairs(plan):
        extra = {"runs_dir": args.runs_dir}
        cfgs = [run_config(plan, plan.runs[i], data, extra) for i in pick.values()]
        if any(state(c) != "finished" for c in cfgs):
            continue
        cmd = [sys.executable, str(script), "--runs", args.runs_dir, "--data", data]
        cmd += ["--profile", plan.profile, "--split", cfgs[0].split, "--seed", "1"]
        cmd += ["--out", str(out), "--device", "auto"]
        cmd += [f"--set={s}" for s in figure_overrides(plan, pick["DTML"])]
        say(f"{stamp(t0)} figures of stage {stage_name}: {' '.join(cmd[1:])}")
        try:
            done = subprocess.run(
                cmd, cwd=root, capture_output=True, text=True, timeout=max(5.0, seconds)
            )
            for line in (done.stdout + done.stderr).strip().splitlines()[-10:]:
                say(f"  {line}")
        except subprocess.TimeoutExpired:
            say(f"{stamp(t0)} figures: stopped after {seconds:.0f} s")
        return any(out.glob("*.png"))
    say(f"{stamp(t0)} figures: no stage with seed 1's lower bound and DTML finished here")
    return False
