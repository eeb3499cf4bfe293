"""Sweeps: one plan (YAML) of table rows x seeds, expanded to run configs and executed anywhere.

A plan names a profile, a split, seeds, optional label counts and ordered stages of table rows
(``dtml.experiments``) with config overrides. Every run trains into the run cache (finished runs
are skipped, interrupted ones resume from their last checkpoint) and is then evaluated on the
split's held-out scans. Executors: ``local`` (N worker processes on this machine; N CPU workers or
N runs sharing one GPU) and ``slurm`` (submitit job array; ``--executor debug`` runs submitit's
in-process executor for tests).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dtml.config import TrainConfig, parse_overrides
from dtml.experiments import config_for, shown_rows

PLAN_KEYS = {"profile", "split", "seeds", "labeled_counts", "set", "stages"}
STAGE_KEYS = {"name", "rows", "set", "seeds"}


@dataclass(frozen=True)
class PlannedRun:
    """One (row, seed) of a plan, with the overrides that define its configuration."""

    stage: str
    label: str
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    profile: str
    runs: tuple[PlannedRun, ...]


def _rows_by_label() -> dict[str, Any]:
    return {row.label: row for n in (1, 2, 3) for row in shown_rows(n) if row.reimplemented}


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan file; every error names the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: plan file not found")
    d = yaml.safe_load(path.read_text()) or {}
    bad = set(d) - PLAN_KEYS
    if bad:
        raise ValueError(f"{path}: unknown plan keys {sorted(bad)}; known: {sorted(PLAN_KEYS)}")
    rows = _rows_by_label()
    base = {"split": d.get("split", "paper"), **(d.get("set") or {})}
    counts = d.get("labeled_counts") or [None]
    runs = []
    for i, stage in enumerate(d.get("stages") or []):
        name = stage.get("name", f"stage{i + 1}")
        bad = set(stage) - STAGE_KEYS
        if bad:
            raise ValueError(f"{path}: stage '{name}': unknown keys {sorted(bad)}")
        for label in stage.get("rows") or []:
            if label not in rows:
                raise ValueError(f"{path}: stage '{name}': unknown row '{label}'")
            for count in counts:
                for seed in stage.get("seeds", d.get("seeds", [1])):
                    over = {**base, **(stage.get("set") or {})}
                    if count is not None:
                        over["labeled_count"] = count
                    runs.append(PlannedRun(name, label, int(seed), over))
    if not runs:
        raise ValueError(f"{path}: the plan has no runs (stages: rows)")
    return Plan(d.get("profile", "cpu"), tuple(runs))


def run_config(plan: Plan, run: PlannedRun, data: str | None, extra: dict | None = None):
    """The resolved ``TrainConfig`` of one planned run (``extra``: non-key fields, e.g. threads)."""
    cfg = config_for(_rows_by_label()[run.label], plan.profile, run.seed, data, **run.overrides)
    return cfg.replace(**(extra or {}))


def eval_split(cfg: TrainConfig) -> str:
    return "dev" if cfg.split == "dev" else "test"


def state(cfg: TrainConfig) -> str:
    """``finished`` (evaluated), ``trained`` (not evaluated), ``partial`` (checkpoint) or ``new``."""
    from dtml.runs import run_dir

    out = run_dir(cfg.with_data_id())
    if (out / "final.pt").is_file():
        split = eval_split(cfg)
        done = any(out.glob(f"eval-{split}-*/summary.json"))
        return "finished" if done else "trained"
    return "partial" if (out / "last.pt").is_file() else "new"


def execute(plan_path: str, index: int, data: str | None, extra: dict | None = None) -> str:
    """Train and evaluate run ``index`` of the plan in this process; returns its run folder."""
    from dtml.evaluate import evaluate_run
    from dtml.train import train

    plan = load_plan(plan_path)
    cfg = run_config(plan, plan.runs[index], data, extra)
    out = train(cfg, progress=False)
    evaluate_run(out, data, eval_split(cfg))
    return str(out)


def _run_local(plan_path: str, indices: list[int], data, extra: dict, workers: int) -> int:
    """N worker processes; a run another process is training (its lock) is skipped."""
    queue, active, failed = list(indices), [], 0
    sets = [f"--set={k}={v}" for k, v in extra.items()]
    while queue or active:
        while queue and len(active) < workers:
            i = queue.pop(0)
            cmd = [sys.executable, "-m", "dtml", "sweep", plan_path, "--index", str(i), *sets]
            if data:
                cmd += ["--data", data]
            print(f"{time.strftime('%FT%T')} start run {i}", flush=True)
            active.append((i, subprocess.Popen(cmd)))
        time.sleep(1.0)
        for i, proc in list(active):
            if proc.poll() is not None:
                active.remove((i, proc))
                failed += proc.returncode != 0
                print(f"{time.strftime('%FT%T')} run {i} exit {proc.returncode}", flush=True)
    return failed


def _run_submitit(plan_path: str, indices: list[int], data, extra: dict, args) -> int:
    """One job-array task per run; preempted tasks requeue and resume from their checkpoint."""
    import submitit

    kind = "debug" if args.executor == "debug" else "slurm"
    ex = submitit.AutoExecutor(folder=args.log_dir, cluster=kind)
    params = {"timeout_min": args.timeout_min, "slurm_array_parallelism": args.workers}
    if kind == "slurm":
        params.update(slurm_partition=args.partition, gpus_per_node=args.gpus, cpus_per_task=2)
    ex.update_parameters(**{k: v for k, v in params.items() if v is not None})
    jobs = ex.map_array(execute, *zip(*[(plan_path, i, data, extra) for i in indices], strict=True))
    failed = 0
    for job in jobs:
        try:
            print(job.result())
        except Exception as e:  # noqa: BLE001 - report every failed task, keep collecting
            print(f"task {job.job_id} failed: {e}", file=sys.stderr)
            failed += 1
    return failed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="dtml sweep", description=__doc__)
    p.add_argument("plan", help="plan YAML (see plans/benchmark.yaml)")
    p.add_argument("--data", help="data root or cache export (default: $DTML_DATA)")
    p.add_argument("--executor", choices=("local", "slurm", "debug"), default="local")
    p.add_argument("--workers", type=int, default=1, help="runs at once (local) / array limit")
    p.add_argument("--dry-run", action="store_true", help="list the runs and their state only")
    p.add_argument("--only", help="comma-separated stage names to run (default: all)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="non-key runtime fields for every run, e.g. threads=1 or device=cuda",
    )
    p.add_argument("--index", type=int, help=argparse.SUPPRESS)  # one run, in this process
    p.add_argument("--log-dir", default="runs/submitit", help="submitit logs (slurm/debug)")
    p.add_argument("--partition", help="Slurm partition")
    p.add_argument("--gpus", type=int, help="GPUs per Slurm task")
    p.add_argument("--timeout-min", type=int, default=240, help="Slurm time limit per task")
    args = p.parse_args(argv)
    data = args.data or os.environ.get("DTML_DATA")
    extra = parse_overrides(args.set)
    if args.index is not None:
        print(execute(args.plan, args.index, data, extra))
        return 0
    plan = load_plan(args.plan)
    stages = set(args.only.split(",")) if args.only else None
    indices = [i for i, r in enumerate(plan.runs) if stages is None or r.stage in stages]
    if args.dry_run:
        for i in indices:
            r = plan.runs[i]
            cfg = run_config(plan, r, data, extra)
            from dtml.runs import run_dir

            print(
                json.dumps(
                    {
                        "index": i,
                        "stage": r.stage,
                        "row": r.label,
                        "seed": r.seed,
                        "run": run_dir(cfg.with_data_id()).name,
                        "state": state(cfg),
                    }
                )
            )
        return 0
    indices = [
        i for i in indices if state(run_config(plan, plan.runs[i], data, extra)) != "finished"
    ]
    if args.executor == "local":
        return 1 if _run_local(args.plan, indices, data, extra, args.workers) else 0
    return 1 if _run_submitit(args.plan, indices, data, extra, args) else 0
