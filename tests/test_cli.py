import argparse
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from dtml.cli import _set_values, build_parser, check_overrides, main, run
from dtml.plan import runtime_overrides

ROOT = Path(__file__).resolve().parent.parent


def test_train_then_evaluate_from_the_command_line(tiny_root, tmp_path, capsys):
    runs = str(tmp_path / "runs")
    sets = ["--set", "iterations=2", "--set", "labeled_count=4", "--set", "val_count=2"]
    sets += ["--set", "eval_stride=8,8,8", "--set", "base_filters=2", "--set", "patch=16x16x16"]
    main(
        [
            "train",
            "--profile",
            "ci",
            "--method",
            "dtml",
            "--data",
            tiny_root,
            "--runs-dir",
            runs,
            "--quiet",
            *sets,
        ]
    )
    run = capsys.readouterr().out.strip().splitlines()[-1]
    nifti = tmp_path / "nifti"
    main(["evaluate", run, "--data", tiny_root, "--save-nifti", str(nifti)])
    summary = json.loads(capsys.readouterr().out)
    assert len(list(nifti.glob("*_pred.nii.gz"))) == len(list(nifti.glob("*_prob.nii.gz"))) == 2
    assert summary["n_cases"] == 2 and summary["method"] == "dtml" and summary["mode"] == "seg"
    assert 0 <= summary["metrics_voxel"]["dice"]["mean"] <= 1


def test_notebooks_subcommand_passes_options_through(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["notebooks", "--profile", "ci", "--only", "99_nonexistent"])
    assert exit_info.value.code == 2


def documented_commands() -> list[tuple[str, list[str]]]:
    """``python -m dtml <command> <options>`` as written in the README, docs, plans and notebooks:
    (file, argv), options in ``[...]`` left out; a command named without options is prose."""
    files = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "plans").glob("*.yaml")]
    files += sorted((ROOT / "notebooks").glob("*.ipynb"))
    found = []
    for path in files:
        for match in re.finditer(r"python -m dtml ([a-z]+)([^`#\"|\[\n\\]*)", path.read_text()):
            words = shlex.split(match.group(2))
            if any(w.startswith("--") for w in words):
                found.append((path.name, [match.group(1), *words]))
    return found


def test_documented_commands_parse(monkeypatch):
    """Every documented command line is accepted by the parser of its command (nothing runs)."""

    class Parsed(Exception):
        pass

    parse = argparse.ArgumentParser.parse_args

    def parse_only(self, args=None, namespace=None):
        parse(self, args, namespace)  # a bad option ends here (SystemExit, not Parsed)
        raise Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_only)
    commands = documented_commands()
    assert {argv[0] for _, argv in commands} >= {"train", "evaluate", "sweep", "publish", "cache"}
    for name, argv in commands:
        print(name, argv)  # shown when the line fails
        with pytest.raises(Parsed):
            run(argv)
        # what the commands check after parsing: every --set names a config field with a valid
        # value, and sweep's only fields outside the run key
        sets = _set_values(argv)
        check_overrides(sets)
        if argv[0] == "sweep":
            runtime_overrides(sets)


# --- errors a user can act on: one line on stderr, exit status 2, no traceback -------------------

TINY = ["--set", "labeled_count=4", "--set", "val_count=2", "--set", "eval_stride=8,8,8"]
TINY += ["--set", "base_filters=2", "--set", "patch=16x16x16", "--set", "iterations=1", "--quiet"]


def _one_error_line(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    out, err = capsys.readouterr()
    assert stop.value.code == 2, (argv, out, err)
    assert err.endswith("\n") and err.count("\n") == 1, err  # exactly one line
    assert err.startswith("dtml: error: ") and "Traceback" not in err + out, err
    return err


@pytest.fixture
def corrupt_root(tiny_root, tmp_path) -> str:
    """The tiny data set with every case file overwritten by bytes that are not HDF5."""
    root = tmp_path / "corrupt_la"
    shutil.copytree(tiny_root, root)
    for h5 in root.glob("*/*.h5"):
        h5.write_bytes(b"not an HDF5 file" * 64)
    return str(root)


BAD_INPUTS = {
    # case: (argv, a name the message must contain)
    "unknown --set key": (["train", "--profile", "ci", "--set", "itrations=3"], "itrations"),
    "--set without =": (["train", "--profile", "ci", "--set", "iterations"], "iterations"),
    "--set wrong type": (["train", "--profile", "ci", "--set", "iterations=abc"], "iterations"),
    "--set bad tuple": (["train", "--profile", "ci", "--set", "patch=16xa"], "patch"),
    "--set rejected value": (["train", "--profile", "ci", "--set", "split=foo"], "split"),
    "--set invalid patch": (["train", "--profile", "ci", "--set", "patch=16x16"], "patch"),
    "unknown method": (["train", "--profile", "ci", "--method", "dtmll"], "dtmll"),
    "unknown profile": (["train", "--profile", "nope"], "--profile"),
    "bad --seed": (["train", "--profile", "ci", "--seed", "x"], "--seed"),
    "unknown option": (["train", "--profile", "ci", "--itrations", "3"], "--itrations"),
    "missing data folder": (["train", "--profile", "ci", "--data", "/no/such/LA"], "/no/such/LA"),
    "data folder without train.list": (
        ["train", "--profile", "ci", "--data", "{tmp}"],
        "train.list",
    ),
    "not a run folder": (["evaluate", "{tmp}"], "{tmp}"),
    "missing run folder": (["evaluate", "/no/such/run"], "/no/such/run"),
    "evaluate: missing data": (["evaluate", "{tmp}", "--data", "/no/such/LA"], "/no/such/LA"),
    "unknown command": (["frobnicate"], "frobnicate"),
    "notebooks: unknown notebook": (["notebooks", "--profile", "ci", "--only", "99"], "99"),
    "notebooks: unknown profile": (["notebooks", "--profile", "nope", "--only", "01"], "nope"),
    "notebooks: missing data": (["notebooks", "--only", "01", "--data", "/no/LA"], "/no/LA"),
    "publish: unknown option": (["publish", "--bogus"], "--bogus"),
    "sweep: missing plan": (["sweep", "/no/such/plan.yaml", "--dry-run"], "/no/such/plan.yaml"),
    "sweep: --set wrong type": (
        ["sweep", "/no/such/plan.yaml", "--set", "threads=many", "--dry-run"],
        "threads",
    ),
    "bench: unknown benchmark": (["bench", "nope"], "train-step"),
    "cache: unknown action": (["cache", "nope"], "nope"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_error_line_naming_it(case, tmp_path, capsys):
    argv, name = BAD_INPUTS[case]
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    err = _one_error_line(capsys, argv)
    assert name.replace("{tmp}", str(tmp_path)) in err, err


def test_corrupt_h5_names_its_file(corrupt_root, tmp_path, capsys):
    argv = ["train", "--profile", "ci", "--data", corrupt_root, "--runs-dir", str(tmp_path), *TINY]
    err = _one_error_line(capsys, argv)
    assert corrupt_root in err and ".h5" in err and "corrupt" in err, err


def test_a_run_another_process_trains_is_an_error(tiny_root, tmp_path, capsys):
    from dtml.cli import check_overrides
    from dtml.config import load_profile
    from dtml.methods import resolve
    from dtml.runs import run_dir

    overrides = check_overrides(
        [v for k, v in zip(TINY[:-1], TINY[1:], strict=True) if k == "--set"]
    )
    cfg = load_profile("ci", **overrides, method="dtml", data=tiny_root, runs_dir=str(tmp_path))
    out = run_dir(resolve(cfg).with_data_id())
    out.mkdir(parents=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        (out / "train.lock").write_text(str(other.pid))  # a live process that is not this one
        argv = ["train", "--profile", "ci", "--method", "dtml", "--data", tiny_root]
        err = _one_error_line(capsys, [*argv, "--runs-dir", str(tmp_path), *TINY])
    finally:
        other.kill()
        other.wait()
    assert str(out) in err and "being trained" in err, err


def test_sigterm_stops_a_training_command_with_a_resumable_checkpoint(tiny_root, tmp_path):
    sets = [a.replace("iterations=1", "iterations=100000") for a in TINY]
    argv = [sys.executable, "-m", "dtml", "train", "--profile", "ci", "--method", "supervised"]
    argv += ["--data", tiny_root, "--runs-dir", str(tmp_path), *sets]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120

    def logged_rows():
        return [row for f in tmp_path.glob("*/log.csv") for row in f.read_text().split()[1:]]

    while not logged_rows():  # wait for the first step's log row
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + 15 and err.count("\n") == 1, err
    assert err.startswith("dtml: stopped: ") and "last.pt resumes it" in err, err
    run = next(tmp_path.glob("*/log.csv")).parent
    assert (run / "last.pt").is_file() and not (run / "train.lock").exists()


def test_cache_export_forwards_to_dtml_data_export(monkeypatch, capsys):
    received = []
    fake = types.ModuleType("dtml.data.export")
    fake.main = lambda argv: received.append(argv) or 0
    monkeypatch.setitem(sys.modules, "dtml.data.export", fake)
    main(["cache", "export", "--to", "somewhere"])
    assert received == [["--to", "somewhere"]]
    monkeypatch.setitem(sys.modules, "dtml.data.export", None)  # the module is not there
    assert "dtml cache export" in _one_error_line(capsys, ["cache", "export"])


def test_debug_shows_the_traceback_instead(capsys):
    with pytest.raises(ValueError, match="unknown config key 'itrations'"):
        main(["--debug", "train", "--profile", "ci", "--set", "itrations=3"])
    with pytest.raises(ValueError, match="iterations"):
        main(["train", "--profile", "ci", "--set", "iterations=abc", "--debug"])


def test_the_module_entry_point_prints_one_line(tmp_path):
    argv = [sys.executable, "-m", "dtml", "evaluate", str(tmp_path / "nowhere")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and str(tmp_path / "nowhere") in done.stderr
    done = subprocess.run([*argv, "--debug"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" in done.stderr


def test_every_option_has_help():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse has no public API
    for name, sub in [("dtml", parser), *commands.items()]:
        for action in sub._actions:
            if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                assert action.help, f"{name} {action.option_strings or action.dest}: no help"
