"""Sweeps: a plan (:mod:`dtml.plan`) executed anywhere, then evaluated.

Every run of the plan trains into the run cache (finished runs are skipped, interrupted ones resume
from their last checkpoint) and is then evaluated on the split's held-out scans. Executors:
``local`` (N worker processes on this machine; N CPU workers or N runs sharing one GPU) and
``slurm`` (submitit job array; ``--executor debug`` runs submitit's in-process executor, for tests).

``--set`` takes only fields outside the run key (``dtml.plan.RUNTIME_KEYS``): what a plan trains is
defined by the plan alone.

``--indices 0-8,12`` picks runs by index (with ``--only``: both must hold); ``--skip-done DIR``
counts the runs evaluated in DIR (the committed ``results/cpu_paper/runs``) as done. On a machine
lent for a fixed time, ``--time-limit S`` ends the local executor after S seconds (runs still
training are stopped after their current step, which they checkpoint, and the next sweep resumes
them) and ``--start-within S`` starts no run after S seconds (``scripts/device_sweep.py``,
``docs/gpu.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from dtml.cli import STOPPED_EXIT
from dtml.config import TrainConfig
from dtml.plan import RUNTIME_KEYS, load_plan, run_config, runtime_overrides, select_indices


def eval_split(cfg: TrainConfig) -> str:
    return "dev" if cfg.split == "dev" else "test"


def state(cfg: TrainConfig) -> str:
    """``finished`` (evaluated), ``trained`` (not evaluated), ``partial`` (checkpoint) or ``new``."""
    from dtml.runs import run_dir

    out = run_dir(cfg.with_data_id())
    if (out / "final.pt").is_file():
        done = any(out.glob(f"eval-{eval_split(cfg)}-*/summary.json"))
        return "finished" if done else "trained"
    return "partial" if (out / "last.pt").is_file() else "new"


def needed_cases(cfg: TrainConfig) -> set[str]:
    """The case ids a run reads: its labeled scans, its unlabeled scans when the method uses them,
    and the scans it is evaluated on (used to split a cache export, ``scripts/device_sweep.py``)."""
    from dtml.data.la import read_list
    from dtml.data.paths import data_root_or_phantom
    from dtml.data.splits import make_split
    from dtml.evaluate import eval_ids
    from dtml.methods import get_method, resolve

    cfg = resolve(cfg)
    root, _ = data_root_or_phantom(cfg.data)
    split = make_split(
        cfg.split, read_list(root, "train.list"), (), cfg.labeled_count, cfg.val_count
    )
    cases = set(split.labeled) | set(eval_ids(root, eval_split(cfg), cfg))
    if get_method(cfg.method).uses_unlabeled and cfg.unlabeled_bs:
        cases |= set(split.unlabeled)
    return cases


def execute(plan_path: str, index: int, data: str | None, extra: dict | None = None) -> str:
    """Train and evaluate run ``index`` of the plan in this process; returns its run folder.

    A run another live process is training is skipped (that process finishes it). The evaluation
    runs on the training device (``cfg.device``; ``auto``: the GPU when there is one)."""
    from dtml.evaluate import evaluate_run
    from dtml.train import RunLocked, pick_device, train

    plan = load_plan(plan_path)
    if not 0 <= index < len(plan.runs):
        raise ValueError(f"{plan_path}: --index {index} outside 0..{len(plan.runs) - 1}")
    cfg = run_config(plan, plan.runs[index], data, extra)
    try:
        out = train(cfg, progress=False)
    except RunLocked as error:
        return f"{error} (skipped)"
    # on the device that trained it: a GPU box predicts the held-out scans on its GPU
    evaluate_run(out, data, eval_split(cfg), device=str(pick_device(cfg.device)))
    return str(out)


def _stop(procs: list[subprocess.Popen], grace: float = 20.0) -> None:
    """End run processes: SIGTERM to all, SIGKILL to any still alive ``grace`` seconds later.
    SIGTERM lets a run finish its step and checkpoint it (:class:`dtml.train.TrainingStopped`);
    a killed one keeps its last periodic checkpoint (written atomically). The next sweep resumes
    it."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    end = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(0.0, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _report(index: int, code: int, at_limit: bool = False) -> bool:
    """Print how run ``index`` ended; True if it failed. A run told to stop (SIGTERM: exit 143,
    :class:`dtml.train.TrainingStopped`; at the time limit also SIGKILL) did not fail: the next
    sweep resumes it from its checkpoint."""
    stopped = code in (STOPPED_EXIT, -signal.SIGTERM) or (at_limit and code < 0)
    when = " at the time limit" if at_limit else ""
    text = f"stopped{when} (resumes)" if stopped else f"exit {code}"
    print(f"{time.strftime('%FT%T')} run {index} {text}", flush=True)
    return code != 0 and not stopped


def _run_local(
    plan_path: str,
    indices: list[int],
    data,
    sets: list[str],
    workers: int,
    time_limit: float | None = None,
    start_within: float | None = None,
) -> int:
    """N worker processes, one run each; returns the number of failed runs.

    ``start_within``: no run starts later than that many seconds after the call; ``time_limit``:
    runs still going then are stopped (not failures: they resume from their checkpoint)."""
    t0 = time.monotonic()
    queue, active, failed = list(indices), [], 0
    while queue or active:
        elapsed = time.monotonic() - t0
        if queue and start_within is not None and elapsed > start_within:
            print(
                f"{time.strftime('%FT%T')} start window over: runs {queue} not started", flush=True
            )
            queue = []
        if time_limit is not None and elapsed > time_limit:
            _stop([proc for _, proc in active])
            for i, proc in active:
                failed += _report(i, proc.returncode, at_limit=True)
            return failed
        while queue and len(active) < workers:
            i = queue.pop(0)
            cmd = [sys.executable, "-m", "dtml", "sweep", plan_path, "--index", str(i)]
            cmd += [f"--set={pair}" for pair in sets]  # as given: values keep their spelling
            if data:
                cmd += ["--data", data]
            print(f"{time.strftime('%FT%T')} start run {i}", flush=True)
            active.append((i, subprocess.Popen(cmd)))
        time.sleep(0.2)
        for i, proc in list(active):
            if proc.poll() is not None:
                active.remove((i, proc))
                failed += _report(i, proc.returncode)
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
            print(job.result(), flush=True)
        except Exception as e:  # noqa: BLE001 - report every failed task, keep collecting
            print(f"task {job.job_id} failed: {e}", file=sys.stderr)
            failed += 1
    return failed


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dtml sweep", description=__doc__)
    p.add_argument("plan", help="plan YAML (see plans/benchmark.yaml)")
    p.add_argument("--data", help="data root or cache export (default: $DTML_DATA)")
    p.add_argument(
        "--executor",
        choices=("local", "slurm", "debug"),
        default="local",
        help="local worker processes, a Slurm job array, or submitit in-process (tests)",
    )
    p.add_argument("--workers", type=int, default=1, help="runs at once (local) / array limit")
    p.add_argument("--dry-run", action="store_true", help="list the runs and their state only")
    p.add_argument("--only", help="comma-separated stage names to run (default: all)")
    p.add_argument("--indices", help="run indices to run, e.g. 0-8,12 (default: all)")
    p.add_argument(
        "--skip-done",
        metavar="DIR",
        help="runs folder (e.g. results/cpu_paper/runs) whose evaluated runs count as done",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        metavar="S",
        help="local: stop runs still training after S seconds (they keep their checkpoint)",
    )
    p.add_argument(
        "--start-within", type=float, metavar="S", help="local: start no run after S seconds"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"a field outside the run key for every run ({', '.join(RUNTIME_KEYS)}), "
        "e.g. threads=1",
    )
    p.add_argument("--index", type=int, help=argparse.SUPPRESS)  # one run, in this process
    p.add_argument("--log-dir", default="runs/submitit", help="submitit logs (slurm/debug)")
    p.add_argument("--partition", help="Slurm partition")
    p.add_argument("--gpus", type=int, help="GPUs per Slurm task")
    p.add_argument("--timeout-min", type=int, default=240, help="Slurm time limit per task")
    return p


def _note_other_data(folder: str, done: set[str], states: dict, cfgs: dict, data) -> None:
    """Run keys hash the data's content: say so when --skip-done's runs were trained on other
    data (e.g. no --data given, so the keys are the phantom's), instead of listing all as new."""
    from dtml.runs import recorded_data_ids

    if not done or "published" in states.values():
        return
    theirs = recorded_data_ids(folder, done)
    ours = {c.data_id for c in cfgs.values() if c.data_id}  # pipeline-1 keys hash a path
    if not theirs or not ours or theirs & ours:
        return
    why = " (the phantom: no --data or $DTML_DATA)" if not data else ""
    print(
        f"dtml sweep: note: --skip-done {folder}: its runs were trained on data "
        f"{', '.join(sorted(theirs))}, these keys are for {', '.join(sorted(ours))}{why}; "
        "no listed run is published there",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    if args.workers < 1:
        p.error(f"--workers must be >= 1, got {args.workers}")
    data = args.data or os.environ.get("DTML_DATA")
    extra = runtime_overrides(args.set)
    if args.index is not None:
        print(execute(args.plan, args.index, data, extra))
        return 0
    from dtml.runs import evaluated_names, run_dir

    plan = load_plan(args.plan)
    indices = select_indices(plan, args.indices, args.only, args.plan)
    done = evaluated_names(args.skip_done) if args.skip_done else set()
    cfgs = {i: run_config(plan, plan.runs[i], data, extra).with_data_id() for i in indices}
    states = {i: "published" if run_dir(c).name in done else state(c) for i, c in cfgs.items()}
    _note_other_data(args.skip_done, done, states, cfgs, data)
    if args.dry_run:
        for i in indices:
            r = plan.runs[i]
            line = {"index": i, "stage": r.stage, "row": r.label, "seed": r.seed}
            line.update(run=run_dir(cfgs[i]).name, state=states[i])
            print(json.dumps(line))
        return 0
    indices = [i for i in indices if states[i] not in ("finished", "published")]
    if not indices:
        print("nothing to run: every selected run is finished or published", flush=True)
        return 0
    if args.executor == "local":
        failed = _run_local(
            args.plan, indices, data, args.set, args.workers, args.time_limit, args.start_within
        )
        return 1 if failed else 0
    if args.time_limit is not None or args.start_within is not None:
        raise ValueError("--time-limit and --start-within apply to --executor local only")
    return 1 if _run_submitit(args.plan, indices, data, extra, args) else 0
