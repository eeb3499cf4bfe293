"""The GPU device kit (scripts/device_sweep.py, dtml.device; docs/gpu.md) run end to end on CPU.

The same script a lent GPU machine runs: a tiny plan on a tiny export split into two parts, joined,
trained and evaluated under the wall-clock guard, with packages the device lacks made unimportable;
then the archive is checked against what may come back from a device call (at most 8 files of
16 MiB, two folders deep, no checkpoint) and unpacked into runs that ``dtml publish`` accepts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dtml.data.export import export
from dtml.data.exported import available_cases, read_manifest
from dtml.device.log import LOG
from dtml.device.machine import stash_dir
from dtml.device.pack import ARCHIVE, safe_member
from dtml.publish import publish
from dtml.report import committed_records
from dtml.runs import git_commit

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "device_sweep.py"
# packages the GPU machine does not have (docs/gpu.md): importing one fails in the twin run
NOT_ON_DEVICE = ("medpy", "submitit", "nibabel", "nrrd", "papermill", "jupyterlab")
FAKE_FIGURES = """import argparse, pathlib
p = argparse.ArgumentParser()
for a in ("--runs", "--data", "--profile", "--split", "--seed", "--out", "--device"):
    p.add_argument(a)
p.add_argument("--set", action="append", default=[])
a = p.parse_args()
out = pathlib.Path(a.out)
out.mkdir(parents=True, exist_ok=True)
(out / "figure2.png").write_bytes(b"png")
(out / "provenance.json").write_text('{"set": %r}' % (a.set,))
"""


def load_kit():
    spec = importlib.util.spec_from_file_location("device_sweep", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def kit(tmp_path, monkeypatch):
    monkeypatch.setenv("DTML_DEVICE_STASH", str(tmp_path / "stash"))
    return load_kit()


@pytest.fixture()
def parts(tiny_root, tmp_path, kit, tiny_plan_set, write_plan) -> list[Path]:
    """The tiny data's export (grid 0.5) split into two parts; part 1 first holds the scans the
    smallest run (the lower bound: 4 labeled + 2 test scans) needs."""
    full = tmp_path / "la_export"
    export(tiny_root, "ci", full, shard_mb=0.004)
    plan = write_plan(
        tmp_path / "plan.yaml",
        profile="ci",
        split="paper",
        seeds=[1],
        set=tiny_plan_set,
        stages=[{"name": "t3", "rows": ["V-Net (lower bound)", "DTML"]}],
    )
    manifest = read_manifest(full)
    streams = sum(
        e[k]["size"]
        for g in manifest["cases"].values()
        for e in g.values()
        for k in e
        if k in {"image", "label"}
    )
    overhead = (full / "manifest.json").stat().st_size + 4096 + 2000
    part_mb = (overhead + 0.6 * streams) / 1e6
    argv = ["split", "--export", str(full), "--dest", str(tmp_path / ".gpu"), "--plan", plan]
    assert kit.main([*argv, "--part-mb", str(part_mb)]) == 0
    found = sorted((tmp_path / ".gpu").glob("la_export-part*"))
    assert len(found) == 2
    return found


def run_kit(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    """``python scripts/device_sweep.py ...`` as on the device: a fresh process, unbuffered, with
    the packages the device lacks made unimportable."""
    blocked = tmp_path / "not_on_device"
    for name in NOT_ON_DEVICE:
        (blocked / name).mkdir(parents=True, exist_ok=True)
        (blocked / name / "__init__.py").write_text(f"raise ImportError('{name}: not on device')")
    env = {
        **os.environ,
        "PYTHONPATH": str(blocked),
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": "1",
    }
    env.pop("OUT", None)
    cmd = [sys.executable, str(SCRIPT), *argv]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def test_split_orders_the_smallest_runs_first(parts, tiny_root):
    first, second = (available_cases(p) for p in parts)
    lists = {n: (Path(tiny_root) / n).read_text().split() for n in ("train.list", "test.list")}
    lower_bound = set(lists["train.list"][:4]) | set(lists["test.list"])
    assert lower_bound <= first and not first & second
    assert first | second == set(lists["train.list"]) | set(lists["test.list"])
    assert json.loads((parts[0] / "origin.json").read_text())["commit"]


def test_check_only_skips_runs_whose_scans_were_not_carried(parts, tmp_path, kit, capsys):
    plan = str(tmp_path / "plan.yaml")
    runs = str(tmp_path / ".gpu" / "runs")
    argv = ["run", "--export", str(parts[0]), "--plan", plan, "--runs-dir", runs]
    assert kit.main([*argv, "--check-only", "--out", str(tmp_path / "out0")]) == 0
    out = capsys.readouterr().out
    assert "run 1 not started: dtml-" in out and "scans not in the carried parts" in out
    assert "to start: [0]" in out
    log = (tmp_path / "out0" / LOG).read_text()
    assert "to start: [0]" in log  # the log file holds what was printed
    name = out.split("run 1 not started: ")[1].split()[0]
    evaluated = tmp_path / "published" / name / "eval-test-seg"
    evaluated.mkdir(parents=True)
    (evaluated / "summary.json").write_text("{}")
    assert kit.main([*argv, "--check-only", "--skip-done", str(tmp_path / "published")]) == 0
    assert f"run 1 not started: {name} already published" in capsys.readouterr().out
    assert kit.main([*argv, "--check-only", "--skip-done", str(tmp_path / "nowhere")]) == 2
    assert "nowhere: no such runs folder" in capsys.readouterr().err


def test_device_run_packs_small_files_that_publish_accepts(parts, tmp_path, kit):
    plan = str(tmp_path / "plan.yaml")
    fake = tmp_path / "paper_figures.py"
    fake.write_text(FAKE_FIGURES)
    out = tmp_path / "OUT"
    argv = ["run", "--export", str(parts[0]), "--export", str(parts[1]), "--plan", plan]
    argv += ["--runs-dir", str(tmp_path / ".gpu" / "runs"), "--out", str(out), "--workers", "2"]
    argv += ["--threads", "1", "--budget", "500", "--run-seconds", "0", "--progress-every", "5"]
    argv += ["--figures-script", str(fake), "--commit", "abc1234"]
    done = run_kit(tmp_path, *argv)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "start run 0" in done.stdout and "start run 1" in done.stdout

    # what may come back from $OUT: <= 8 files, 16 MiB each, 64 MiB together, <= 2 folders down
    files = [f for f in out.rglob("*") if f.is_file()]
    assert sorted(f.name for f in files) == [ARCHIVE, LOG]
    assert all(f.stat().st_size <= 16 << 20 for f in files) and len(files) <= 8
    assert "packed 2 runs" in (out / LOG).read_text()
    with tarfile.open(out / ARCHIVE) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        names = [m.name for m in members]
        device = json.loads(tar.extractfile("device.json").read())
    assert all(safe_member(n) for n in names) and not any(n.endswith(".pt") for n in names)
    assert "figures/figure2.png" in names  # the figures hook ran: both seed-1 runs finished
    assert sum(m.size for m in members) < 1 << 20
    assert device["commit"] == "abc1234" and sorted(device["runs"]) == ["0", "1"]
    assert all(r["packed"] and r["iteration"] == 4 for r in device["runs"].values())

    # unpack: CPU-trained runs are refused unless allowed; then publish reads them
    runs = tmp_path / "runs_device"
    with pytest.raises(SystemExit, match="not a GPU"):
        kit.main(["unpack", str(out / ARCHIVE), "--runs", str(runs)])
    argv = ["unpack", str(out / ARCHIVE), "--runs", str(runs), "--allow-cpu"]
    assert kit.main([*argv, "--figures", str(tmp_path / "figs")]) == 0
    assert kit.main([*argv, "--figures", str(tmp_path / "figs")]) == 0  # again: identical, fine
    assert (tmp_path / "figs" / "figure2.png").is_file()
    results = tmp_path / "results" / "ci_paper"
    publish(runs, "ci", results)
    records = committed_records(results)
    assert len(records) == 2 and all(r.evaluated for r in records)
    for r in records:
        # the commit: git's here; --commit's on a device, whose copy of the tree has no .git
        assert r.train["commit"] in ("abc1234", git_commit()) and r.train["hardware"]
        assert r.config.get("data") is None and r.config["data_id"].startswith("la-")
    # (no table rows: the tiny overrides match no row of a table, as intended for real runs)
    assert (results / "README.md").is_file()


def test_unpack_refuses_unexpected_members(tmp_path, kit):
    archive = tmp_path / "bad.tar.gz"
    evil = tmp_path / "x.pt"
    evil.write_bytes(b"0")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(evil, arcname="runs/r/final.pt")
    with pytest.raises(SystemExit, match="unexpected member 'runs/r/final.pt'"):
        kit.main(["unpack", str(archive), "--runs", str(tmp_path / "runs")])
    assert not safe_member("runs/../config.yaml")


def test_travel_counts_the_tree_and_carried_paths(tmp_path, kit, capsys):
    big = tmp_path / "big"
    big.mkdir()
    (big / "a.bin").write_bytes(b"0" * (65 << 20))
    assert kit.main(["travel", "--carry", str(big)]) == 1
    assert "TOO LARGE" in capsys.readouterr().out


def test_stash_follows_the_environment_when_used(tmp_path, monkeypatch):
    monkeypatch.setenv("DTML_DEVICE_STASH", str(tmp_path / "a"))
    assert stash_dir() == tmp_path / "a"
    monkeypatch.setenv("DTML_DEVICE_STASH", str(tmp_path / "b"))  # read at each use, not import
    assert stash_dir() == tmp_path / "b"
    monkeypatch.delenv("DTML_DEVICE_STASH")
    assert stash_dir().name == "dtml-device"
