"""What comes back from a device call: every finished, evaluated run's small files, the figures
and ``device.json`` in one archive of at most 15 MiB (there), and that archive unpacked into a
runs folder that ``python -m dtml publish`` reads (here, after)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tarfile
import time
from pathlib import Path

from dtml.device.log import Say, stamp
from dtml.device.runner import run_progress
from dtml.device.travel import MIB

ARCHIVE = "device_runs.tar.gz"
ARCHIVE_LIMIT = 15 * MIB  # one file back from $OUT: at most 16 MiB
# what an archive may hold: runs/<run>/<small file>, runs/<run>/eval-*/<file>, figures/<file>
MEMBER = re.compile(
    r"^(device\.json|figures/[\w.-]+\.(png|json)|runs/[\w.-]+/(config\.yaml|log\.csv|"
    r"train_summary\.json|eval-[\w.-]+/(summary\.json|cases\.csv)))$"
)


def safe_member(name: str) -> bool:
    """Whether an archive member's name is one a pack writes (no '.' or '..' component)."""
    return bool(MEMBER.match(name)) and not any(p in (".", "..") for p in name.split("/"))


def pack(
    args, folders: dict[int, Path], figures: Path | None, info: dict, t0: float, say: Say
) -> Path:
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


def unpack(archive: Path, runs: Path, figures: Path, allow_cpu: bool, say: Say) -> list[str]:
    """Unpack ``archive`` into ``runs`` (each run folder new or identical) and its figures into
    ``figures``, checking every member's name and that each run was trained on a GPU
    (``allow_cpu``: any device); returns the names of the runs unpacked."""
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
        if not str(summary.get("device", "")).startswith("cuda") and not allow_cpu:
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
            target = figures / n.removeprefix("figures/")
        else:  # device.json: the machine, the commit and each run's progress
            target = runs / f"device-{time.strftime('%Y%m%dT%H%M%S')}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for name in names:
        s = json.loads(files.get(f"runs/{name}/train_summary.json", b"{}"))
        say(f"{runs / name}: {s.get('hardware')} ({s.get('device')}), {s.get('wall_seconds')} s")
    say(f"{len(names)} runs from {device.get('gpu') or 'an unnamed device'}; publish with:")
    say(f"python -m dtml publish --runs {runs} --profile PROFILE --out results/<setting>")
    return names
