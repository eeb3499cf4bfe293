"""Tests for dtml.report.normalization (the input-normalisation study) and its figure.

Tiny synthetic test-split runs (``runfolders.make_run``, as training and evaluation leave them)
are read back with the reader the committed results use, with per-scan Dice chosen so every number
has a hand answer.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from runfolders import make_run
from scipy import stats

from dtml.publish import publish
from dtml.report import committed_records, find_runs
from dtml.report.intensity import read_scale
from dtml.report.normalization import (
    STUDY_ROWS,
    gain_change,
    normalization_study,
    runs_done,
    study_runs,
)
from dtml.report.normalization_report import (
    change_brief,
    gain_brief,
    save_study,
    study_dict,
    study_markdown,
    study_table,
)
from dtml.report.sentences import p_text
from dtml.viz.normalization import plot_normalization_study

NORMS = ("stored", "volume")

# stored std: two labeled scans (0.8, 1.2), five test scans of which two lie below 0.8
SCALE = [
    ("lab1", "labeled", 0.8),
    ("lab2", "labeled", 1.2),
    ("unl1", "unlabeled", 0.3),
    ("hi2", "test", 1.0),
    ("lo2", "test", 0.6),
    ("hi1", "test", 0.8),  # equal to the lowest labeled std: not below it
    ("lo1", "test", 0.5),
    ("hi3", "test", 1.1),
]
CASES = ("lo1", "lo2", "hi1", "hi2", "hi3")
LOWER_S1 = [0.2, 0.4, 0.8, 0.85, 0.9]  # in the order of CASES
LOWER_S2 = [0.4, 0.6, 0.8, 0.85, 0.8]
DTML_S1 = [0.7, 0.8, 0.82, 0.86, 0.88]


def scale_rows() -> list[dict]:
    return [{"case": c, "part": p, "std": s} for c, p, s in SCALE]


def write_scale(path: Path) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "part", "mean", "std", "contrast"])
        w.writerows([c, p, 0.0, s, 1.0] for c, p, s in SCALE)
    return path


def write_run(
    root: Path,
    method: str,
    seed: int,
    dice: list[float],
    normalization: str = "stored",
    upper: bool = False,
    eval_split: str = "test",
    **overrides,
) -> Path:
    """A finished, evaluated run of the paper split (``upper``: every training scan labeled)."""
    fields = {"split": "paper", "precision": "fp32", "labeled_count": 80 if upper else 16}
    fields.update(normalization=normalization, **overrides)
    values = dict(zip(CASES, dice, strict=True))
    return make_run(root, method, seed, values, "cpu", 0.625, eval_split=eval_split, **fields)


@pytest.fixture()
def partial_runs(tmp_path) -> Path:
    """Lower bound stored seeds 1-2, DTML stored seed 1, nothing with volume inputs."""
    root = tmp_path / "runs"
    write_run(root, "supervised", 1, LOWER_S1)
    write_run(root, "supervised", 2, LOWER_S2)
    write_run(root, "dtml", 1, DTML_S1)
    return root


def _row(study, label, norm):
    return next(r for r in study.rows if r["label"] == label and r["normalization"] == norm)


def test_without_runs_every_entry_waits_for_its_three_seeds():
    study = normalization_study([], scale_rows())
    assert len(study.rows) == 2 * len(STUDY_ROWS)
    for row in study.rows:
        assert row["status"] == "waiting" and row["n_seeds"] == 0
        assert row["waiting_for"] == f"{row['label']} seeds 1, 2, 3"
        assert row["dice_seeds_mean"] is None and row["dice_low_scale"] is None
    for test in study.tests:
        assert test["status"] == "waiting" and test["p"] is None
        assert test["waiting_for"] == "DTML seeds 1, 2, 3 and V-Net (lower bound) seeds 1, 2, 3"
    assert runs_done(study) == (0, 24)
    text = study_markdown(study)
    assert text.count("waiting for DTML seeds 1, 2, 3") == 2 and "no test yet" in text


def test_row_numbers_and_gain_match_a_hand_computation(partial_runs):
    study = normalization_study(committed_records(partial_runs.parent), scale_rows())
    lower = _row(study, "V-Net (lower bound)", "stored")
    assert lower["status"] == "partial" and lower["n_seeds"] == 2
    assert lower["waiting_for"] == "V-Net (lower bound) seed 3"
    assert lower["dice_seeds_mean"] == pytest.approx(66.0)  # seed means 63 and 69
    assert lower["dice_seeds_std"] == pytest.approx(np.sqrt(18.0))
    assert lower["dice_low_scale"] == pytest.approx(40.0)  # lo1 30, lo2 50
    assert lower["dice_other"] == pytest.approx((80 + 85 + 85) / 3)
    assert _row(study, "DTML", "stored")["dice_seeds_std"] is None  # one seed: undefined

    gain = next(t for t in study.tests if t["normalization"] == "stored")
    diff = np.array([40.0, 30.0, 2.0, 1.0, 3.0])  # DTML - lower bound (seed mean), per scan
    t = diff.mean() / (diff.std(ddof=1) / np.sqrt(diff.size))
    assert gain["status"] == "partial" and gain["n"] == 5
    assert (gain["seeds_a"], gain["seeds_b"]) == (1, 2)
    assert gain["mean_diff"] == pytest.approx(15.2)
    assert gain["t"] == pytest.approx(t)
    assert gain["p"] == pytest.approx(2 * stats.t.sf(t, diff.size - 1))
    assert gain["significant"] is (gain["p"] < 0.05)
    assert gain["p_wilcoxon"] == pytest.approx(2 / 2**5)  # exact: all 5 scans gain
    assert gain["gain_low_scale"] == pytest.approx(35.0)
    assert gain["gain_other"] == pytest.approx(2.0)
    assert gain["waiting_for"] == "DTML seeds 2, 3 and V-Net (lower bound) seed 3"
    assert runs_done(study) == (3, 24)
    text = study_markdown(study)
    assert "+15.20 Dice points" in text and "+35.00 on the 2 low-scale scans" in text
    assert gain["median_diff"] == pytest.approx(3.0) and gain["n_higher"] == 5
    assert "median per scan +3.00, DTML higher on 5 of 5" in text
    assert (
        "- Preliminary (missing DTML seeds 2, 3 and V-Net (lower bound) seed 3): Gain DTML − "
        "V-Net (lower bound) with `stored` inputs: +15.20 Dice points" in text
    )


def test_each_normalization_keeps_its_own_runs(partial_runs):
    write_run(partial_runs, "supervised", 1, [0.9] * 5, normalization="volume")
    write_run(partial_runs, "supervised", 1, [0.88] * 5, normalization="volume", upper=True)
    write_run(partial_runs, "dtml", 2, [0.1] * 5, md_loss="dis")  # Table 1's L_dis row
    write_run(partial_runs, "mean_teacher", 1, [0.5] * 5, eval_split="dev")  # not scored on test
    records = committed_records(partial_runs.parent)
    stored, volume = study_runs(records, "stored"), study_runs(records, "volume")
    assert [r.seed for r in stored["V-Net (lower bound)"]] == [1, 2]
    assert [r.seed for r in stored["DTML"]] == [1]
    assert stored["Mean teacher"] == [] and stored["V-Net (upper bound)"] == []
    assert [r.seed for r in volume["V-Net (lower bound)"]] == [1]
    assert [r.seed for r in volume["V-Net (upper bound)"]] == [1]
    study = normalization_study(records, scale_rows())
    assert _row(study, "V-Net (upper bound)", "volume")["dice_seeds_mean"] == pytest.approx(88.0)
    volume_gain = next(t for t in study.tests if t["normalization"] == "volume")
    assert volume_gain["status"] == "waiting" and volume_gain["waiting_for"].startswith("DTML")


def test_gain_change_is_the_paired_difference_of_the_per_scan_gains(partial_runs):
    write_run(partial_runs, "supervised", 1, [0.8, 0.8, 0.85, 0.9, 0.9], normalization="volume")
    write_run(partial_runs, "dtml", 1, [0.82, 0.84, 0.86, 0.9, 0.92], normalization="volume")
    study = normalization_study(committed_records(partial_runs.parent), scale_rows())
    stored = np.array([40.0, 30.0, 2.0, 1.0, 3.0])  # DTML - lower bound (seed means), per scan
    volume = np.array([2.0, 4.0, 1.0, 0.0, 2.0])
    ch = study.change
    assert ch["status"] == "partial" and ch["n"] == 5
    assert ch["gain_stored"] == pytest.approx(15.2) and ch["gain_volume"] == pytest.approx(1.8)
    assert ch["change"] == pytest.approx(-13.4) and ch["median_change"] == pytest.approx(-1.0)
    assert ch["change_low_scale"] == pytest.approx(-32.0)  # lo1 -38, lo2 -26
    assert ch["change_other"] == pytest.approx(-1.0)
    ref = stats.ttest_rel(volume, stored)
    assert ch["t"] == pytest.approx(ref.statistic) and ch["p"] == pytest.approx(ref.pvalue)
    assert ch["p_wilcoxon"] == pytest.approx(stats.wilcoxon(volume, stored).pvalue)
    assert ch["waiting_for"] == (
        "`stored`: DTML seeds 2, 3 and V-Net (lower bound) seed 3; "
        "`volume`: DTML seeds 2, 3 and V-Net (lower bound) seeds 2, 3"
    )
    text = study_markdown(study)
    assert "Gain with `volume` minus gain with `stored` inputs: -13.40 Dice points" in text
    assert "(gain +1.80 vs +15.20; -32.00 on the 2 low-scale scans, -1.00 on the other 3" in text
    assert study_dict(study)["change"] == ch


def test_gain_change_refuses_other_pairs_and_missing_scans(partial_runs):
    write_run(partial_runs, "supervised", 1, [0.8, 0.8, 0.85, 0.9, 0.9], normalization="volume")
    write_run(partial_runs, "dtml", 1, [0.82, 0.84, 0.86, 0.9, 0.92], normalization="volume")
    study = normalization_study(committed_records(partial_runs.parent), scale_rows())
    swapped = [
        {**t, "a": t["b"], "b": t["a"]} if t["normalization"] == "volume" else t
        for t in study.tests
    ]
    with pytest.raises(ValueError, match=r"the volume test V-Net \(lower bound\) - DTML"):
        gain_change(swapped, study.case_dice, study.groups)
    dice = {n: {k: dict(v) for k, v in rows.items()} for n, rows in study.case_dice.items()}
    del dice["volume"]["DTML"]["hi2"]
    with pytest.raises(ValueError, match="`volume` DTML and `stored` DTML differ in scans: hi2"):
        gain_change(study.tests, dice, study.groups)


def test_the_briefs_give_each_gain_and_the_change_with_both_p_values(partial_runs):
    write_run(partial_runs, "supervised", 1, [0.8, 0.8, 0.85, 0.9, 0.9], normalization="volume")
    write_run(partial_runs, "dtml", 1, [0.82, 0.84, 0.86, 0.9, 0.92], normalization="volume")
    study = normalization_study(committed_records(partial_runs.parent), scale_rows())
    stored, volume = (next(t for t in study.tests if t["normalization"] == n) for n in NORMS)
    gains = np.array([40.0, 30.0, 2.0, 1.0, 3.0]), np.array([2.0, 4.0, 1.0, 0.0, 2.0])
    wilcoxon = [p_text(stats.wilcoxon(g).pvalue) for g in (*gains, gains[1] - gains[0])]
    assert wilcoxon[0] == "p = 0.062"  # exact: all 5 scans gain, 2 of 2^5 sign patterns
    assert gain_brief(study.tests) == (
        "Gain DTML − V-Net (lower bound) over the 5 test scans: +15.20 Dice points with `stored` "
        f"inputs (t-test {p_text(stored['p'])}, Wilcoxon {wilcoxon[0]}; preliminary, missing "
        f"{stored['waiting_for']}); +1.80 Dice points with `volume` inputs (t-test "
        f"{p_text(volume['p'])}, Wilcoxon {wilcoxon[1]}; preliminary, missing "
        f"{volume['waiting_for']})."
    )
    assert change_brief(study.change, study.groups) == (
        "Normalised inputs change that gain by -13.40 points (-32.00 on the 2 low-scale scans, "
        f"-1.00 on the other 3; t-test {p_text(study.change['p'])}, Wilcoxon {wilcoxon[2]}; "
        f"preliminary, missing {study.change['waiting_for']})."
    )


def test_mean_teachers_gain_is_tested_like_dtmls_and_led_by_the_check(partial_runs):
    write_run(partial_runs, "supervised", 1, [0.8, 0.8, 0.85, 0.9, 0.9], normalization="volume")
    write_run(partial_runs, "mean_teacher", 1, [0.6, 0.7, 0.8, 0.9, 0.8])
    write_run(partial_runs, "mean_teacher", 1, [0.7, 0.71, 0.74, 0.8, 0.79], normalization="volume")
    study = normalization_study(committed_records(partial_runs.parent), scale_rows())
    stored, volume = (next(t for t in study.peer_tests if t["normalization"] == n) for n in NORMS)
    gains = np.array([30.0, 20.0, 0.0, 5.0, -5.0]), np.array([-10.0, -9.0, -11.0, -10.0, -11.0])
    assert (stored["a"], stored["b"]) == ("Mean teacher", "V-Net (lower bound)")
    assert stored["mean_diff"] == pytest.approx(gains[0].mean())  # MT minus the seed mean
    assert volume["mean_diff"] == pytest.approx(gains[1].mean())
    assert volume["p"] == pytest.approx(stats.ttest_1samp(gains[1], 0.0).pvalue)
    assert volume["gain_low_scale"] == pytest.approx(-9.5)
    ch = study.peer_change
    assert ch["change"] == pytest.approx((gains[1] - gains[0]).mean())
    assert ch["p"] == pytest.approx(stats.ttest_rel(gains[1], gains[0]).pvalue)
    assert study.change["status"] == "waiting"  # DTML's own tests are untouched by these runs
    text = study_markdown(study)
    assert (
        "(post hoc, not a claim of the paper): does another semi-supervised method's gain behave "
        "the same? Preliminary (missing Mean teacher seeds 2, 3 and V-Net (lower bound) seed 3): "
        "Gain Mean teacher − V-Net (lower bound) with `stored` inputs: +10.00 Dice points" in text
    )
    assert "Mean teacher's gain with `volume` minus with `stored` inputs: -20.20 Dice" in text
    assert study_dict(study)["peer_change"] == ch


def test_holm_reads_the_tests_that_ran_as_one_family_and_names_the_survivors(partial_runs):
    write_run(partial_runs, "supervised", 1, [0.8, 0.8, 0.85, 0.9, 0.9], normalization="volume")
    write_run(partial_runs, "mean_teacher", 1, [0.6, 0.7, 0.8, 0.9, 0.8])
    write_run(partial_runs, "mean_teacher", 1, [0.7, 0.71, 0.74, 0.8, 0.79], normalization="volume")
    study = normalization_study(committed_records(partial_runs.parent), scale_rows())
    # DTML's volume gain and its change wait for runs: 4 tests ran, with p (by hand, scipy)
    # 0.139 (DTML stored), 0.200 (MT stored), 1.1e-5 (MT volume), 0.032 (MT change)
    assert [t["test"] for t in study.family] == [
        "DTML − V-Net (lower bound), `stored` inputs",
        "Mean teacher − V-Net (lower bound), `stored` inputs",
        "Mean teacher − V-Net (lower bound), `volume` inputs",
        "Mean teacher − V-Net (lower bound): gain with `volume` minus with `stored` inputs",
    ]
    adjusted = [t["p_holm"] for t in study.family]
    assert adjusted[2] == pytest.approx(4 * study.family[2]["p"])  # the smallest: times 4
    assert adjusted[3] == pytest.approx(3 * study.family[3]["p"])  # 0.096: no longer below 0.05
    assert [t["significant"] for t in study.family] == [False, False, True, False]
    assert (
        "t-tests (each method's gain with each input, and each gain's change; the retrained lower "
        "bound, a sensitivity check, is left out; this family was fixed after the p-values were "
        "seen): 2 below 0.05 uncorrected, 1 after correction: Mean teacher − V-Net (lower bound), "
        "`volume` inputs (p < 0.001, adjusted p < 0.001)." in study_markdown(study)
    )
    assert study_dict(study)["family"] == study.family


def test_gain_change_waits_for_both_gains(partial_runs):
    study = normalization_study(committed_records(partial_runs.parent), scale_rows())
    assert study.change["status"] == "waiting" and study.change["p"] is None
    assert study.change["waiting_for"] == (
        "`stored`: DTML seeds 2, 3 and V-Net (lower bound) seed 3; "
        "`volume`: DTML seeds 1, 2, 3 and V-Net (lower bound) seeds 1, 2, 3"
    )
    assert "minus gain with `stored` inputs: waiting for `stored`: DTML" in study_markdown(study)


def test_two_runs_of_one_seed_are_refused(partial_runs):
    write_run(partial_runs, "supervised", 1, LOWER_S2, lr=0.02)  # another config, same row + seed
    with pytest.raises(ValueError, match="share a seed"):
        normalization_study(committed_records(partial_runs.parent), scale_rows())


def test_saved_files_round_trip_without_paths(partial_runs, tmp_path):
    study = normalization_study(committed_records(partial_runs.parent), scale_rows())
    paths = save_study(study, tmp_path / "a")
    assert [p.name for p in paths] == [
        "normalization.csv",
        "normalization.md",
        "normalization.json",
    ]
    assert json.loads(paths[2].read_text()) == json.loads(json.dumps(study_dict(study)))
    with paths[0].open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["label"], r["normalization"]) for r in rows] == [
        (r["label"], r["normalization"]) for r in study.rows
    ]
    assert float(rows[0]["dice_seeds_mean"]) == pytest.approx(study.rows[0]["dice_seeds_mean"])
    assert study_table(study) in paths[1].read_text()
    again = save_study(study, tmp_path / "b")
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]
    assert all(str(tmp_path) not in p.read_text() for p in paths)


def test_publish_writes_the_study_from_the_committed_copies(partial_runs, tmp_path):
    out = tmp_path / "results" / "cpu_paper"
    out.parent.mkdir()
    write_scale(out.parent / "intensity_scale.csv")
    written = publish(partial_runs, "cpu", out)
    assert out / "normalization.json" in written
    assert len(find_runs(out / "runs")) == 3
    study = normalization_study(
        committed_records(out), read_scale(out.parent / "intensity_scale.csv")
    )
    assert json.loads((out / "normalization.json").read_text()) == json.loads(
        json.dumps(study_dict(study))
    )
    assert "Input normalisation study" in (out / "README.md").read_text()


def test_publish_skips_the_study_off_the_test_split(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, "supervised", 1, LOWER_S1, eval_split="dev", split="dev")
    out = tmp_path / "results" / "cpu_dev"
    out.parent.mkdir()
    write_scale(out.parent / "intensity_scale.csv")
    publish(runs, "cpu", out)
    assert not (out / "normalization.json").exists()


def test_figure_draws_what_exists_and_names_what_is_missing(partial_runs):
    study = normalization_study(committed_records(partial_runs.parent), scale_rows())
    fig = plot_normalization_study(study)
    stored, volume = fig.axes
    points = sorted(map(tuple, np.asarray(stored.collections[0].get_offsets())))
    assert points == sorted(
        (dict(SCALE_BY_CASE)[c], 100 * (a + b) / 2)
        for c, a, b in zip(CASES, LOWER_S1, LOWER_S2, strict=True)
    )
    assert len(stored.collections) == 2 and not volume.collections  # lower bound, DTML | none
    assert "waiting for: V-Net lower bound seed 3" in stored.get_title()
    assert "DTML seeds 2, 3" in stored.get_title()
    assert "V-Net lower bound seeds 1, 2, 3" in volume.get_title()
    assert any(t.get_text() == "no runs yet" for t in volume.texts)
    shaded = [p for p in stored.patches if p.get_label() == "labeled scans' std range"]
    span = shaded[0].get_x(), shaded[0].get_x() + shaded[0].get_width()  # axvspan: a Rectangle
    assert span == pytest.approx((0.8, 1.2))


SCALE_BY_CASE = [(c, s) for c, _, s in SCALE]
