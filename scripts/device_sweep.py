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
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python3 scripts/device_sweep.py` on a copy without an install
    sys.path.insert(0, str(ROOT))

MIB = 1 << 20
TRAVEL_LIMIT = 64 * MIB  # what one call may send: working tree + carried paths
ARCHIVE = "device_runs.tar.gz"
LOG = "device_sweep.log"
ORIGIN = "origin.json"  # written by `split` into each part: the commit of the code
ARCHIVE_LIMIT = 15 * MIB  # one file back from $OUT: at most 16 MiB
# outside the tree: outlives a call while the machine stays warm ($DTML_DEVICE_STASH: tests)
STASH = Path(os.environ.get("DTML_DEVICE_STASH") or Path(tempfile.gettempdir()) / "dtml-device")
FIGURES = ("figure2.png", "figure3_2d.png", "figure3_3d.png", "provenance.json")
# what an archive may hold: runs/<run>/<small file>, runs/<run>/eval-*/<file>, figures/<file>
MEMBER = re.compile(
    r"^(device\.json|figures/[\w.-]+\.(png|json)|runs/[\w.-]+/(config\.yaml|log\.csv|"
    r"train_summary\.json|eval-[\w.-]+/(summary\.json|cases\.csv)))$"
)


def safe_member(name: str) -> bool:
    """Whether an archive member's name is one a pack writes (no '.' or '..' component)."""
    return bool(MEMBER.match(name)) and not any(p in (".", "..") for p in name.split("/"))


class Log:
    """Lines to stdout (unbuffered) and, once ``attach``ed, to a log file as well."""

    def __init__(self) -> None:
        self.file = None
        self.lock = threading.Lock()

    def attach(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("a", buffering=1)

    def __call__(self, text: str) -> None:
        with self.lock:
            print(text, flush=True)
            if self.file is not None:
                self.file.write(text + "\n")


say = Log()


def stamp(t0: float) -> str:
    return f"[{time.strftime('%H:%M:%S')} +{time.monotonic() - t0:5.0f}s]"


# ---------------------------------------------------------------- sizes and splitting (here)


def tree_bytes(root: Path = ROOT) -> int:
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
    from dtml.sweep import load_plan, needed_cases, run_config

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


def cmd_split(args: argparse.Namespace) -> int:
    """Cut ``--export`` into parts; part 1 first holds the scans the smallest runs need."""
    from dtml.data.export import part_overhead, split_export
    from dtml.data.exported import available_cases

    wheels = sum(path_bytes(Path(w)) for w in args.carry)
    tree = tree_bytes()
    if args.part_mb is None:  # what is left of a call beside the tree and the wheels
        args.part_mb = (TRAVEL_LIMIT - tree - wheels - args.margin_mib * MIB) / 1e6
        if args.part_mb <= 0:
            raise SystemExit(f"device_sweep: the tree ({tree} bytes) leaves no room for data")
    first = first_cases(
        args.plan, args.export, int(args.part_mb * 1e6) - part_overhead(args.export)
    )
    parts = split_export(args.export, args.dest, args.part_mb, first)
    from dtml.runs import git_commit

    for part in parts:
        (part / ORIGIN).write_text(json.dumps({"commit": git_commit()}))
        total = tree + wheels + path_bytes(part)
        say(
            f"{part}: {path_bytes(part)} bytes, {len(available_cases(part))} cases; a call "
            f"carrying it and {' '.join(args.carry) or 'nothing else'} sends {total / MIB:.1f} MiB "
            f"of {TRAVEL_LIMIT // MIB}"
        )
    return 0


def cmd_travel(args: argparse.Namespace) -> int:
    """What one call would send: the tree plus the ``--carry`` paths, against 64 MiB."""
    tree = tree_bytes()
    carried = {c: path_bytes(Path(c)) for c in args.carry}
    total = tree + sum(carried.values())
    say(f"working tree (tracked + untracked, not ignored): {tree / MIB:.1f} MiB")
    for c, n in carried.items():
        say(f"carry {c}: {n / MIB:.1f} MiB")
    verdict = "fits" if total <= TRAVEL_LIMIT else "TOO LARGE"
    say(f"total {total / MIB:.1f} MiB of {TRAVEL_LIMIT // MIB}: {verdict}")
    return 0 if total <= TRAVEL_LIMIT else 1


# ---------------------------------------------------------------- on the device


def install_wheels(wheels: str | None) -> str | None:
    """Install carried wheels (``pip --target``, once per machine); returns the site folder,
    also put first on ``sys.path`` and ``$PYTHONPATH`` (None when no wheel folder is given)."""
    if not wheels or not Path(wheels).is_dir():
        return None
    site = STASH / "site"
    files = sorted(str(w) for w in Path(wheels).glob("*.whl"))
    if files and not (site / ".installed").is_file():
        cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps"]
        cmd += ["--no-compile", "--no-cache-dir", "--upgrade", "--target", str(site), *files]
        subprocess.run(cmd, check=True)
        (site / ".installed").write_text("\n".join(files))
    if site.is_dir():
        sys.path.insert(0, str(site))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(site), str(ROOT), os.environ.get("PYTHONPATH")) if p
        )
        return str(site)
    return None


def stash_part(part: Path) -> None:
    """Keep a copy of a part outside the tree for a later call on the same (warm) machine."""
    target = STASH / "parts" / part.name
    if target.is_dir():
        return
    tmp = target.with_name(f".{part.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in part.iterdir():
        try:
            os.link(f, tmp / f.name)
        except OSError:
            shutil.copyfile(f, tmp / f.name)
    os.replace(tmp, target)


def find_parts(names: Sequence[str]) -> list[Path]:
    """Each ``--export`` folder as given, else its copy from an earlier call (``stash_part``)."""
    found = []
    for name in names:
        path = Path(name)
        if not (path / "manifest.json").is_file():
            path = STASH / "parts" / Path(name).name
        if not (path / "manifest.json").is_file():
            raise SystemExit(
                f"device_sweep: {name}: no export here and none kept from an earlier call (the "
                "machine was given back between the calls?): carry it in this call"
            )
        found.append(path)
    return found


def data_folder(parts: list[Path], dest: Path) -> Path:
    """The export to train from: the single part, or the parts joined in ``dest`` (kept and
    reused on a warm machine when it is the same export)."""
    from dtml.data.export import join_export
    from dtml.data.exported import available_cases, read_manifest

    if len(parts) == 1:
        return parts[0].resolve()
    if dest.is_dir():
        same = read_manifest(dest) == read_manifest(parts[0])
        if same and len(available_cases(dest)) == len(read_manifest(dest)["cases"]):
            return dest.resolve()
        shutil.rmtree(dest)
    return join_export(parts, dest).resolve()


def environment() -> dict[str, Any]:
    """The machine: GPU, torch, CUDA, CPUs, and ``nvidia-smi -L`` when it is there."""
    import torch

    info: dict[str, Any] = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    try:
        smi = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
        info["nvidia_smi"] = smi.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        info["nvidia_smi"] = None
    return info


def commit_of(args: argparse.Namespace, parts: Sequence[Path]) -> str:
    """The code's commit: ``--commit``, ``$DTML_COMMIT``, git, else the one ``split`` recorded
    in the parts (``origin.json``; the tree a call sends has no ``.git``)."""
    from dtml.runs import git_commit

    found = args.commit or os.environ.get("DTML_COMMIT") or git_commit()
    if found in (None, "", "unknown"):
        origin = [p / ORIGIN for p in parts if (p / ORIGIN).is_file()]
        found = json.loads(origin[0].read_text())["commit"] if origin else "unknown"
    return found


def cmd_prepare(args: argparse.Namespace) -> int:
    """First of two calls: wheels, parts kept for the next call, and a check of the machine."""
    t0 = time.monotonic()
    if args.out:
        say.attach(Path(args.out) / LOG)
    site = install_wheels(args.wheels)
    for part in find_parts(args.export):
        stash_part(part)
        say(f"{stamp(t0)} kept {part.name} for the next call ({path_bytes(part)} bytes)")
    import dtml.sdf  # noqa: F401 - needs edt: fails here, not in every run, when it is missing

    say(f"{stamp(t0)} wheels: {site or 'none needed'}; machine: {json.dumps(environment())}")
    return 0


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


def select_runs(args, plan, data: str, t0: float) -> tuple[list[int], dict[int, str]]:
    """The plan indices to start, and why each other selected index is not started."""
    from dtml.data.exported import available_cases
    from dtml.runs import run_dir
    from dtml.sweep import needed_cases, parse_indices, run_config, state

    chosen = parse_indices(args.indices, len(plan.runs)) if args.indices else None
    stages = set(args.only.split(",")) if args.only else None
    unknown = sorted((stages or set()) - set(plan.stages))
    if unknown:
        raise SystemExit(f"device_sweep: {args.plan}: --only names unknown stages {unknown}")
    indices = [
        i
        for i in (range(len(plan.runs)) if chosen is None else chosen)
        if stages is None or plan.runs[i].stage in stages
    ]
    have = available_cases(data)
    done_names = set()
    if args.skip_done and Path(args.skip_done).is_dir():
        done_names = {p.name for p in Path(args.skip_done).iterdir() if any(p.glob("eval-*"))}
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
    from dtml.runs import run_dir
    from dtml.sweep import run_config

    return {
        i: run_dir(run_config(plan, plan.runs[i], data, {"runs_dir": runs_dir}).with_data_id())
        for i in indices
    }


def sweep(args, start: list[int], data: str, time_limit: float, start_within: float, t0) -> int:
    """``python -m dtml sweep`` on ``start`` with the guard; its output goes to the log, and a
    progress line per run every ``--progress-every`` seconds. Returns its exit status."""
    sets = [f"runs_dir={args.runs_dir}", f"threads={args.threads}", *args.set]
    cmd = [sys.executable, "-m", "dtml", "sweep", args.plan, "--data", data]
    cmd += ["--workers", str(args.workers), "--indices", ",".join(map(str, start))]
    cmd += ["--time-limit", f"{time_limit:.0f}", "--start-within", f"{start_within:.0f}"]
    cmd += [f"--set={s}" for s in sets]
    say(f"{stamp(t0)} {' '.join(cmd[1:])}")
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=os.setpgrp,  # one process group: ended together if the guard must
    )
    reader = threading.Thread(target=lambda: [say(line.rstrip()) for line in proc.stdout])
    reader.start()
    from dtml.sweep import load_plan

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


def figure_overrides(plan, index: int) -> list[str]:
    """``--set`` pairs of one planned run for ``scripts/paper_figures.py`` (split aside)."""
    pairs = []
    for key, value in plan.runs[index].overrides.items():
        if key in ("split", "labeled_count"):
            continue
        text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        pairs.append(f"{key}={text}")
    return pairs


FIGURE_ROWS = ("V-Net (lower bound)", "DTML")  # the two runs Figures 2-3 are drawn from


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


def draw_figures(args, plan, data: str, out: Path, seconds: float, t0: float) -> bool:
    """Figures 2-3 (``scripts/paper_figures.py``) into ``out`` when seed 1's lower bound and DTML
    of one stage are finished here; skipped (and said) otherwise. Never fails the call; returns
    whether PNGs were written."""
    from dtml.sweep import run_config, state

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
                cmd, cwd=ROOT, capture_output=True, text=True, timeout=max(5.0, seconds)
            )
            for line in (done.stdout + done.stderr).strip().splitlines()[-10:]:
                say(f"  {line}")
        except subprocess.TimeoutExpired:
            say(f"{stamp(t0)} figures: stopped after {seconds:.0f} s")
        return any(out.glob("*.png"))
    say(f"{stamp(t0)} figures: no stage with seed 1's lower bound and DTML finished here")
    return False


def pack(args, folders: dict[int, Path], figures: Path | None, info: dict, t0: float) -> Path:
    """Every finished, evaluated run of the runs folder (small files only, data paths removed),
    the figures and ``device.json`` (``info`` plus each selected run's progress) in one archive
    ``--out``/device_runs.tar.gz; returns it."""
    from dtml.report import export_runs, find_runs, read_run

    stage = Path(args.runs_dir).parent / f"pack-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    done = [r for r in find_runs(args.runs_dir) if (r / "final.pt").is_file()]
    done = [r for r in done if read_run(r).evaluated]
    export_runs(done, stage / "runs")
    names = {r.name for r in done}
    info["runs"] = {
        str(i): {"run": f.name, "packed": f.name in names, **run_progress(f)}
        for i, f in folders.items()
    }
    info["packed"] = sorted(names)
    info["seconds"] = round(time.monotonic() - t0, 1)
    (stage / "device.json").write_text(json.dumps(info, indent=1))
    if figures is not None:
        shutil.copytree(figures, stage / "figures")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    archive = Path(args.out) / ARCHIVE
    for keep_figures in (True, False):  # too large to come back: keep the runs, drop the figures
        with tarfile.open(archive, "w:gz") as tar:
            for f in sorted(stage.rglob("*")):
                name = f.relative_to(stage).as_posix()
                if f.is_file() and safe_member(name) and (keep_figures or "figures/" not in name):
                    tar.add(f, arcname=name)
        if archive.stat().st_size <= ARCHIVE_LIMIT:
            break
    shutil.rmtree(stage, ignore_errors=True)
    say(f"{stamp(t0)} packed {len(done)} runs into {archive} ({archive.stat().st_size} bytes)")
    return archive


def cmd_run(args: argparse.Namespace) -> int:
    """Join, select, sweep under the guard, figures, pack (see the module docstring)."""
    t0 = time.monotonic()
    os.chdir(ROOT)
    os.environ["PYTHONUNBUFFERED"] = "1"
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
    )  # scripts/paper_figures.py imports dtml from this tree
    if args.out:
        say.attach(Path(args.out) / LOG)
    args.runs_dir = str(Path(args.runs_dir).resolve())
    work = Path(args.runs_dir).parent
    site = install_wheels(args.wheels)
    parts = find_parts(args.export)
    for part in parts:
        stash_part(part)
    data = str(data_folder(parts, work / "export-joined"))
    from dtml.sweep import load_plan

    plan = load_plan(args.plan)
    commit = commit_of(args, parts)
    os.environ["DTML_COMMIT"] = commit  # the tree sent has no .git: runs record this commit
    info = {"commit": commit, "plan": args.plan, "argv": sys.argv[1:], **environment()}
    say(f"{stamp(t0)} data {data}; wheels {site or 'none'}; {json.dumps(info)}")
    start, skipped = select_runs(args, plan, data, t0)
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
        info["sweep_exit"] = sweep(args, start, data, time_limit, start_within, t0)
    figures = work / f"figures-{os.getpid()}"
    shutil.rmtree(figures, ignore_errors=True)
    remaining = args.budget - args.pack_seconds - (time.monotonic() - t0)
    drawn = draw_figures(args, plan, data, figures, remaining, t0)
    if args.out:
        folders = run_names(plan, [*start, *skipped], data, args.runs_dir)
        pack(args, folders, figures if drawn else None, info, t0)
    shutil.rmtree(figures, ignore_errors=True)
    return 0


# ---------------------------------------------------------------- after (here)


def cmd_unpack(args: argparse.Namespace) -> int:
    """Unpack an archive into ``--runs`` (each run folder new or identical), checking every
    member's name and that each run was trained on a GPU (``--allow-cpu``: any device)."""
    runs, archive = Path(args.runs), Path(args.archive)
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for m in members:
            if not (m.isfile() or m.isdir()) or (m.isfile() and not safe_member(m.name)):
                raise SystemExit(f"device_sweep: {archive}: unexpected member '{m.name}'")
        files = {m.name: tar.extractfile(m).read() for m in members if m.isfile()}
    names = sorted({n.split("/")[1] for n in files if n.startswith("runs/")})
    device = json.loads(files.get("device.json", b"{}"))
    for name in names:
        summary = json.loads(files.get(f"runs/{name}/train_summary.json", b"{}"))
        if not str(summary.get("device", "")).startswith("cuda") and not args.allow_cpu:
            raise SystemExit(
                f"device_sweep: {archive}: runs/{name}/train_summary.json records device "
                f"{summary.get('device')!r}, not a GPU (--allow-cpu to accept)"
            )
        for n, data in files.items():
            target = runs / n.removeprefix("runs/")
            if n.startswith(f"runs/{name}/") and target.is_file() and target.read_bytes() != data:
                raise SystemExit(f"device_sweep: {target}: exists with other content; not replaced")
    for n, data in files.items():
        if n.startswith("runs/"):
            target = runs / n.removeprefix("runs/")
        elif n.startswith("figures/"):
            target = Path(args.figures) / n.removeprefix("figures/")
        else:  # device.json: the machine, the commit and each run's progress
            target = runs / f"device-{time.strftime('%Y%m%dT%H%M%S')}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for name in names:
        s = json.loads(files.get(f"runs/{name}/train_summary.json", b"{}"))
        say(f"{runs / name}: {s.get('hardware')} ({s.get('device')}), {s.get('wall_seconds')} s")
    say(f"{len(names)} runs from {device.get('gpu') or 'an unnamed device'}; publish with:")
    say(f"python -m dtml publish --runs {runs} --profile PROFILE --out results/<setting>")
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
    try:
        return commands[args.command](args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"device_sweep: error: {error}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
