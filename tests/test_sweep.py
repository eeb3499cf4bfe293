"""dtml sweep: dry run, the local executor, submitit's debug executor."""

from __future__ import annotations

import json

import pytest
import torch

from dtml.config import data_fingerprint
from dtml.plan import RUNTIME_KEYS, load_plan, parse_indices, run_config, runtime_overrides
from dtml.sweep import main, needed_cases


@pytest.fixture()
def tiny_plan(tmp_path, tiny_plan_set, write_plan) -> str:
    return write_plan(
        tmp_path / "plan.yaml",
        profile="ci",
        split="dev",
        seeds=[1],
        set={**tiny_plan_set, "runs_dir": str(tmp_path / "runs")},
        stages=[{"name": "only", "rows": ["M_s only", "DTML (labeled only)"]}],
    )


def dry_run(plan: str, root: str, capsys, *extra: str) -> list[dict]:
    capsys.readouterr()
    assert main([plan, "--dry-run", "--data", root, *extra]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_set_takes_only_fields_outside_the_run_key(tiny_plan, tiny_root, tmp_path, capsys):
    assert {"threads", "runs_dir"} <= set(RUNTIME_KEYS) and "lr" not in RUNTIME_KEYS
    assert runtime_overrides(["threads=2", "runs_dir=x"]) == {"threads": 2, "runs_dir": "x"}
    for pair in ("lr=0.1", "device=cpu", "seed=3"):
        with pytest.raises(ValueError, match="part of the run key"):
            runtime_overrides([pair])
    # --set runs_dir moves the runs, not their keys
    here = dry_run(tiny_plan, tiny_root, capsys)
    there = dry_run(tiny_plan, tiny_root, capsys, "--set", f"runs_dir={tmp_path / 'elsewhere'}")
    assert [r["run"] for r in here] == [r["run"] for r in there]
    with pytest.raises(ValueError, match=r"--only names unknown stages \['nope'\]"):
        main([tiny_plan, "--dry-run", "--data", tiny_root, "--only", "nope"])


def test_local_executor_then_skip_then_debug_executor(tiny_plan, tiny_root, tmp_path, capsys):
    before = dry_run(tiny_plan, tiny_root, capsys)
    assert [r["state"] for r in before] == ["new", "new"] and len({r["run"] for r in before}) == 2

    assert main([tiny_plan, "--workers", "2", "--data", tiny_root]) == 0
    runs = tmp_path / "runs"
    for r in before:  # trained and evaluated on the dev split's validation scans
        assert (runs / r["run"] / "final.pt").is_file()
        summary = json.loads(next((runs / r["run"]).glob("eval-dev-*/summary.json")).read_text())
        assert summary["n_cases"] == 2 and summary["split"] == "dev"
    assert [r["state"] for r in dry_run(tiny_plan, tiny_root, capsys)] == ["finished"] * 2

    stamps = {r["run"]: (runs / r["run"] / "final.pt").stat().st_mtime_ns for r in before}
    capsys.readouterr()
    assert main([tiny_plan, "--workers", "2", "--data", tiny_root]) == 0  # nothing left to run
    assert "every selected run is finished" in capsys.readouterr().out
    assert stamps == {r: (runs / r / "final.pt").stat().st_mtime_ns for r in stamps}

    # submitit's debug executor, in this process, into another runs_dir: the same run folders
    # and the same weights (CPU, one thread: training is deterministic)
    other = tmp_path / "runs_debug"
    argv = [tiny_plan, "--executor", "debug", "--data", tiny_root, "--set", f"runs_dir={other}"]
    assert main([*argv, "--log-dir", str(tmp_path / "submitit")]) == 0
    assert sorted(p.name for p in other.iterdir()) == sorted(stamps)
    for name in stamps:
        assert any((other / name).glob("eval-dev-*/summary.json"))
        ours = torch.load(other / name / "final.pt", weights_only=True)
        ref = torch.load(runs / name / "final.pt", weights_only=True)
        for net in ref:
            assert all(torch.equal(ours[net][k], v) for k, v in ref[net].items())


def test_indices_select_runs_and_bad_ones_are_named(tiny_plan, tiny_root, capsys):
    assert parse_indices("0-2,5,1", 6) == [0, 1, 2, 5]
    for text, message in [("7", r"'7' outside 0\.\.5"), ("a", "'a' is not an index"), ("3-1", "")]:
        with pytest.raises(ValueError, match=rf"--indices {text}: {message}"):
            parse_indices(text, 6)
    assert [r["index"] for r in dry_run(tiny_plan, tiny_root, capsys, "--indices", "1")] == [1]


def test_skip_done_counts_runs_evaluated_elsewhere_as_done(tiny_plan, tiny_root, tmp_path, capsys):
    first, second = (r["run"] for r in dry_run(tiny_plan, tiny_root, capsys))
    published = tmp_path / "published"
    (published / first / "eval-dev-seg").mkdir(parents=True)
    (published / first / "eval-dev-seg" / "summary.json").write_text("{}")
    (published / second / "eval-dev-seg").mkdir(parents=True)  # evaluation cut short: not done
    states = [
        r["state"] for r in dry_run(tiny_plan, tiny_root, capsys, "--skip-done", str(published))
    ]
    assert states == ["published", "new"]
    assert (
        main([tiny_plan, "--data", tiny_root, "--indices", "0", "--skip-done", str(published)]) == 0
    )
    assert "every selected run is finished" in capsys.readouterr().out
    assert not (tmp_path / "runs").exists()  # nothing trained
    with pytest.raises(FileNotFoundError, match="nowhere: no such runs folder"):
        main(
            [tiny_plan, "--dry-run", "--data", tiny_root, "--skip-done", str(tmp_path / "nowhere")]
        )


def test_skip_done_says_when_its_runs_were_trained_on_other_data(
    tiny_plan, tiny_root, tmp_path, capsys, monkeypatch
):
    published = tmp_path / "published"
    elsewhere = published / "dtml_labeled-000000000000"  # same method, other data
    (elsewhere / "eval-dev-seg").mkdir(parents=True)
    (elsewhere / "eval-dev-seg" / "summary.json").write_text("{}")
    (elsewhere / "config.yaml").write_text("data_id: la-0123456789ab\n")
    capsys.readouterr()
    assert main([tiny_plan, "--dry-run", "--data", tiny_root, "--skip-done", str(published)]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["state"] for line in out.splitlines()] == ["new", "new"]
    assert "its runs were trained on data la-0123456789ab" in err
    assert "no listed run is published there" in err and "phantom" not in err
    monkeypatch.delenv("DTML_DATA", raising=False)  # no data at all: the keys are the phantom's
    assert main([tiny_plan, "--dry-run", "--skip-done", str(published)]) == 0
    assert "these keys are for phantom-v" in capsys.readouterr().err
    # a folder without a readable config says nothing and does not stop the sweep
    (published / "dtml_labeled-111111111111" / "eval-dev-seg").mkdir(parents=True)
    (published / "dtml_labeled-111111111111" / "eval-dev-seg" / "summary.json").write_text("{}")
    (published / "dtml_labeled-111111111111" / "config.yaml").write_text("- a list\n")
    # runs on the plan's own data, none of them the plan's: simply new, no note
    (elsewhere / "config.yaml").write_text(f"data_id: {data_fingerprint(tiny_root)}\n")
    assert main([tiny_plan, "--dry-run", "--data", tiny_root, "--skip-done", str(published)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and [json.loads(line)["state"] for line in out.splitlines()] == ["new"] * 2
    # one of the plan's runs published there (on other data, as its config claims): no note
    (elsewhere / "config.yaml").write_text("data_id: la-0123456789ab\n")
    first = json.loads(out.splitlines()[0])["run"]
    (published / first / "eval-dev-seg").mkdir(parents=True)
    (published / first / "eval-dev-seg" / "summary.json").write_text("{}")
    assert main([tiny_plan, "--dry-run", "--data", tiny_root, "--skip-done", str(published)]) == 0
    assert capsys.readouterr().err == ""


def test_needed_cases_are_the_scans_a_run_reads(tmp_path, tiny_root, tiny_plan_set, write_plan):
    path = write_plan(
        tmp_path / "p.yaml",
        profile="ci",
        split="paper",
        set=tiny_plan_set,
        stages=[{"rows": ["V-Net (lower bound)", "DTML", "DTML (labeled only)"]}],
    )
    plan = load_plan(path)
    ids = [f"case{i:02d}" for i in range(12)]  # conftest: 10 train, then 2 test scans
    lower, dtml, labeled = (needed_cases(run_config(plan, r, tiny_root)) for r in plan.runs)
    assert lower == labeled == set(ids[:4]) | set(ids[10:])  # labeled + test scans only
    assert dtml == set(ids)  # and the unlabeled ones


def test_time_limit_stops_runs_and_start_window_skips_them(tmp_path, monkeypatch, capsys):
    import subprocess
    import sys
    import time

    from dtml import sweep

    started, popen = [], subprocess.Popen

    def sleeper(cmd, **kwargs):  # a run that would never end on its own
        started.append(cmd)
        return popen([sys.executable, "-c", "import time; time.sleep(120)"])

    monkeypatch.setattr(sweep.subprocess, "Popen", sleeper)
    t0 = time.monotonic()
    assert sweep._run_local("plan.yaml", [0, 1, 2], None, [], 2, time_limit=1.0) == 0
    assert time.monotonic() - t0 < 15 and len(started) == 2  # the third never started
    out = capsys.readouterr().out
    assert "run 0 stopped at the time limit" in out and "run 1 stopped" in out
    assert sweep._run_local("plan.yaml", [3], None, [], 1, start_within=-1.0) == 0
    assert len(started) == 2 and "runs [3] not started" in capsys.readouterr().out


def test_a_run_stopped_by_sigterm_is_not_a_failure_but_an_error_is(monkeypatch, capsys):
    import subprocess
    import sys

    from dtml import sweep

    codes, popen = iter([143, 1, 0]), subprocess.Popen

    def exits(cmd, **kwargs):  # as a run process that ended with TrainingStopped, an error, success
        return popen([sys.executable, "-c", f"raise SystemExit({next(codes)})"])

    monkeypatch.setattr(sweep.subprocess, "Popen", exits)
    assert sweep._run_local("plan.yaml", [0, 1, 2], None, [], 1) == 1
    out = capsys.readouterr().out
    assert "run 0 stopped (resumes)" in out and "run 1 exit 1" in out and "run 2 exit 0" in out
