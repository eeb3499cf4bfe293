"""Figures 2-3 of the paper from runs: the case rule and scripts/paper_figures.py (its committed
set is read back by dtml.viz.committed_figures, tested in test_viz_committed_figures.py).

The script is run end to end on two tiny runs (1 iteration, 2-filter V-Nets) of the conftest data
set, trained into a temporary run cache: it must find them by their run key, draw three PNGs and
write a provenance without machine paths.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from dtml.config import parse_overrides
from dtml.experiments import TABLES, run_rows
from dtml.report.records import read_run
from dtml.viz import committed_figures as cf
from dtml.viz import figures as vf

ROOT = Path(__file__).resolve().parents[1]
# the smallest runs of the ci profile on the paper split that still train and evaluate
TINY = {
    "labeled_count": "4",
    "patch": "16,16,16",
    "base_filters": "2",
    "iterations": "1",
    "lr_step": "1",
    "rampup_step": "1",
    "rampup_steps": "1",
    "eval_stride": "8,8,8",
    "checkpoint_every": "1",
}


def _script():
    spec = importlib.util.spec_from_file_location(
        "paper_figures", ROOT / "scripts/paper_figures.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(runs: Path, data: str, out: Path, seed: int = 1) -> list[str]:
    sets = [w for k, v in TINY.items() for w in ("--set", f"{k}={v}")]
    common = ["--runs", str(runs), "--data", data, "--profile", "ci", "--split", "paper"]
    fast = ["--device", "cpu", "--slices", "1"]  # one slice: drawing is most of the time
    return [*common, "--seed", str(seed), *sets, "--out", str(out), *fast]


@pytest.fixture(scope="module")
def tiny_runs(tiny_root, tmp_path_factory) -> tuple[Path, list[dict]]:
    """(run cache, run_rows records): the lower bound and DTML of the tiny setting, evaluated."""
    runs = tmp_path_factory.mktemp("figure_runs")
    rows = [r for r in TABLES[3] if r.label in (vf.SUPERVISED, vf.DTML)]
    sets = parse_overrides([f"{k}={v}" for k, v in TINY.items()])
    return runs, run_rows(rows, "ci", [1], tiny_root, runs_dir=str(runs), split="paper", **sets)


def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


# --- the case rule -------------------------------------------------------------------------------


def test_pick_case_is_the_lower_median_whatever_the_order():
    cases = [{"case": f"c{i}", "dice": d} for i, d in enumerate([0.9, 0.5, 0.7, 0.7, 0.1, 0.8])]
    chosen = {vf.pick_case(random.Random(s).sample(cases, len(cases)))[0] for s in range(10)}
    assert chosen == {"c2"}  # sorted: 0.1, 0.5, 0.7 (c2), 0.7 (c3), ...: rank (6 - 1) // 2 = 2
    case, rule = vf.pick_case(cases)
    assert rule.startswith("median") and "rank 3 of 6" in rule
    assert vf.pick_case(cases[:1])[0] == "c0"
    assert vf.pick_case(cases, "c0") == ("c0", "fixed: case 'c0' given on the command line")
    with pytest.raises(ValueError, match="'nope' is not among the 6"):
        vf.pick_case(cases, "nope")
    with pytest.raises(ValueError, match="no evaluated cases"):
        vf.pick_case([])


# --- scripts/paper_figures.py --------------------------------------------------------------------


def test_paper_figures_end_to_end_on_tiny_runs(tiny_root, tiny_runs, tmp_path):
    (runs, records), out = tiny_runs, tmp_path / "real"
    script = _script()
    assert script.main(_args(runs, tiny_root, out)) == 0
    for name in cf.FIGURE_FILES:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    prov = cf.read_committed_figures(out)
    assert prov["profile"] == "ci" and prov["split"] == "paper" and prov["seed"] == 1
    assert set(prov["runs"]) == {vf.SUPERVISED, vf.DTML}
    assert {r["name"] for r in prov["runs"].values()} == {Path(r["run"]).name for r in records}
    assert prov["data_id"].startswith("la-") and prov["real_data"] is True
    # the declared rule, from the DTML run's own evaluation
    dtml_run = next(r["run"] for r in records if r["label"] == vf.DTML)
    expected, _ = vf.pick_case(read_run(dtml_run).cases)
    assert prov["case"]["id"] == expected and prov["case"]["rule"].startswith("median")
    # what is drawn is what the evaluation scored (original grid, same post-processing)
    for label in (vf.SUPERVISED, vf.DTML):
        assert prov["case"]["dice_drawn"][label] == pytest.approx(prov["case"]["dice"][label])
    text = (out / cf.PROVENANCE_FILE).read_text()
    assert str(tmp_path) not in text and tiny_root not in text
    assert not any(s.startswith(("/", "~")) for s in _strings(prov)), "a machine path"
    assert cf.provenance_markdown(prov).startswith("**'ci' profile, paper split, seed 1")
    name = prov["runs"][vf.DTML]["name"]
    assert "retrain" not in cf.provenance_markdown(prov, {name: prov["runs"][vf.DTML]["mean_dice"]})
    retrained = cf.provenance_markdown(prov, {name: 0.5})
    assert f"retrain of the committed run `{name}`" in retrained and "50.00 %" in retrained
    assert prov["rendered"]["command"].endswith("--slices 1") and len(prov["case"]["slices_z"]) == 1


def test_paper_figures_case_option_is_checked_before_drawing(
    tiny_root, tiny_runs, tmp_path, capsys
):
    """An unknown --case fails in one line once the runs are found, before anything is drawn."""
    (runs, _), out = tiny_runs, tmp_path / "real"
    script = _script()
    assert script.main([*_args(runs, tiny_root, out), "--case", "nope"]) == 2
    err = capsys.readouterr().err
    assert err == "paper_figures: error: case 'nope' is not among the 2 evaluated scans\n"
    assert not out.exists()


def test_paper_figures_missing_run_is_one_line_with_key_and_command(tiny_root, tmp_path, capsys):
    script = _script()
    assert script.main(_args(tmp_path / "empty", tiny_root, tmp_path / "out", seed=7)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("paper_figures: error: no finished run")
    assert "supervised-" in err and "dtml-" in err and "python -m dtml train" in err
    assert "--seed 7" in err and "--set split=paper" in err
    assert not (tmp_path / "out").exists()
    assert script.main([*_args(tmp_path, tiny_root, tmp_path / "out"), "--set", "seed=2"]) == 2
    assert "--set seed: given by the options" in capsys.readouterr().err


def test_provenance_check_rejects_machine_paths():
    script = _script()
    script.check_portable({"a": ["fine", {"b": "dtml-123 on AMD EPYC"}]})
    for bad in ("/" + "home/me/runs", "see ~/data", "C:\\runs"):  # split: no path in this file
        with pytest.raises(ValueError, match="names a machine path"):
            script.check_portable({"runs": {"x": bad}})
