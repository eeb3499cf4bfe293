"""The README's builders in scripts/readme_test_results.py and readme_results.py, on hand-written
inputs.

tests/test_results.py checks that the README equals what the scripts compute from the committed
runs; these check what the scripts say on inputs whose answer is known.
"""

from __future__ import annotations

import csv
import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASES = ("lo1", "hi1", "hi2")


@pytest.fixture(scope="module")
def scripts():
    """``readme_test_results`` and ``readme_results``, imported as the README script does."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        yield (
            importlib.import_module("readme_test_results"),
            importlib.import_module("readme_results"),
        )
    finally:
        sys.path.remove(str(ROOT / "scripts"))


@pytest.fixture(scope="module")
def glance(scripts):
    """``readme_glance``, imported while ``scripts`` holds scripts/ on sys.path."""
    return importlib.import_module("readme_glance")


NORMS = ("stored", "volume")


@pytest.fixture()
def record(run_record):
    """``record(method, seed, dice, **train)``: ``run_record`` with Dice in the order of CASES."""
    return lambda method, seed, dice, **train: run_record(
        method, seed, dict(zip(CASES, dice, strict=True)), **train
    )


def write_scale(path: Path) -> Path:
    """Two labeled scans (lowest std 0.8) and three test scans, ``lo1`` below 0.8."""
    rows = [("l1", "labeled", 0.8), ("l2", "labeled", 1.2)]
    rows += [("lo1", "test", 0.5), ("hi1", "test", 0.9), ("hi2", "test", 1.0)]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "part", "std"])
        w.writerows(rows)
    return path


def test_low_scale_line_lists_each_rows_dice_on_the_low_scale_scans(scripts, tmp_path, record):
    test_results, _ = scripts
    runs = {label: [] for _, label, _ in test_results.ROWS}
    runs["V-Net (lower bound)"] = [record("supervised", 1, [0.1, 0.8, 0.9])]
    runs["DTML"] = [record("dtml", s, [d, 0.85, 0.9]) for s, d in ((1, 0.7), (2, 0.8))]
    line = test_results.low_scale_line(runs, write_scale(tmp_path / "scale.csv"))
    assert line.startswith("Low-scale scans: the 1 test scans whose stored intensity std")
    assert "the lowest of the 2 labeled scans" in line and "lo1… 0.50" in line
    assert line.endswith("in that order: V-Net lower bound 10.0; DTML 75.0.")
    assert test_results.low_scale_line(runs, tmp_path / "absent.csv") is None


def test_claims_without_runs_wait_in_one_bullet(scripts, record):
    test_results, _ = scripts
    runs = {label: [] for _, label, _ in test_results.ROWS}
    runs["DTML"] = [record("dtml", s, [0.9, 0.85, 0.9]) for s in (1, 2, 3)]
    runs["V-Net (lower bound)"] = [record("supervised", 1, [0.1, 0.8, 0.9])]
    lines = test_results.claim_lines(runs)  # per scan +80, +5, 0: mean +28.33
    assert lines[0].startswith(
        "Preliminary (missing V-Net (lower bound) seeds 2, 3): DTML vs V-Net (lower bound) "
        "(Table 3: unlabeled scans help, +4.09): +28.33 Dice points over the 3 test scans"
    )
    assert len(lines) == 2 and lines[1].startswith("Not tested yet, waiting for their runs: DTML")
    assert lines[1].count(" vs ") == len(test_results.CLAIMS) - 1


def test_replace_block_swaps_only_the_marked_text(scripts):
    _, readme = scripts
    text = "head\n<!-- a -->\nold\n<!-- b -->\ntail\n"
    assert readme.replace_block(text, "<!-- a -->", "<!-- b -->", "new\n", "R") == (
        "head\n<!-- a -->\nnew\n<!-- b -->\ntail\n"
    )
    with pytest.raises(SystemExit, match="R: no <!-- c --> ... <!-- b --> block"):
        readme.replace_block(text, "<!-- c -->", "<!-- b -->", "new\n", "R")


def test_a_glance_cell_names_the_missing_seeds_in_the_singular_or_plural(glance, record):
    runs = [record("ua_mt", s, [0.8, 0.7, 0.9]) for s in (1, 2)]
    assert glance._cell(runs) == "80.00 ± 0.00 (missing seed 3)"
    assert glance._cell(runs[:1]) == "80.00 (missing seeds 2, 3)"
    assert glance._cell([]) == "queued"


def test_glance_puts_each_row_beside_its_rescaled_twin_and_the_paper(
    scripts, glance, tmp_path, record
):
    from types import SimpleNamespace

    from dtml.report.intensity import read_scale, scale_groups
    from dtml.report.normalization import gain_change, gain_test

    test_results, _ = scripts
    groups = scale_groups(read_scale(write_scale(tmp_path / "scale.csv")))
    runs = {label: [] for _, label, _ in test_results.ROWS}
    runs["V-Net (lower bound)"] = [record("supervised", s, [0.1, 0.8, 0.9]) for s in (1, 2, 3)]
    runs["DTML"] = [record("dtml", s, [0.7, 0.8, 0.9]) for s in (1, 2, 3)]
    runs["UA-MT"] = [record("ua_mt", 1, [0.8, 0.8, 0.8])]  # not a row of the study
    volume = {"V-Net (lower bound)": [record("supervised", 1, [0.8, 0.8, 0.8])], "DTML": []}
    tests = [gain_test("stored", runs, groups), gain_test("volume", volume, groups)]
    pair = ("Mean teacher", "V-Net (lower bound)")
    found = {"stored": runs, "volume": {**volume, "Mean teacher": []}}
    peer = [gain_test(n, found[n], groups, pair=pair) for n in NORMS]
    change, peer_change = gain_change(tests, {}, groups), gain_change(peer, {}, groups)
    study = SimpleNamespace(
        tests=tests, change=change, peer_tests=peer, peer_change=peer_change, groups=groups
    )
    lines = glance.glance_lines(runs, volume, study, lower_twins=[])
    assert lines[2:5] == [
        "| V-Net lower bound (16 labeled) = M_s only | 60.00 ± 0.00 | 80.00 (missing seeds 2, 3) "
        "| 86.03 |",
        "| DTML (16 labeled + 64 unlabeled) | 80.00 ± 0.00 | queued | 90.12 |",
        "| UA-MT (16 + 64) | 80.00 (missing seeds 2, 3) | not in the study | 88.88 |",
    ]
    assert lines[5] == ""  # rows with no run at all are not in the table
    assert lines[6] == (  # per scan +60, 0, 0: Wilcoxon ranks the one non-zero difference
        "- Gain DTML − V-Net (lower bound) over the 3 test scans: +20.00 Dice points with `stored` "
        "inputs (t-test p = 0.423, Wilcoxon p = 1.000); with `volume` inputs waiting for DTML "
        "seeds 1, 2, 3 and V-Net (lower bound) seeds 2, 3."
    )
    assert lines[7].startswith("- Normalised inputs change that gain by: waiting for")
    assert lines[8] == (  # per scan -10, 0, +10 against UA-MT's one seed
        "- The other paired tests over the 3 test scans, `stored` inputs: DTML − UA-MT +0.00 "
        "(t-test p = 1.000, Wilcoxon p = 1.000; preliminary, missing UA-MT seeds 2, 3). Of these "
        "2 t-tests, the gain above included, 0 lie below 0.05 uncorrected, 0 with Holm's "
        "correction."
    )
    assert lines[9] == (
        "- Mean teacher − V-Net (lower bound), a post-hoc check (not a claim of the paper): with "
        "`stored` inputs waiting for Mean teacher seeds 1, 2, 3; with `volume` inputs waiting for "
        "Mean teacher seeds 1, 2, 3 and V-Net (lower bound) seeds 2, 3."
    )
    assert lines[10].startswith(
        "- Not in the table, no run yet: V-Net upper bound; Mean teacher; DTC;"
    )
    assert lines[10].endswith("; DTML, M_d trained with L_dis + L_mask.") and len(lines) == 11


def test_claims_brief_counts_every_tested_pair_and_says_when_the_gain_is_not_one(glance, record):
    runs = {label: [] for _, label, _ in glance.ROWS}
    runs["DTML"] = [record("dtml", s, [0.9, 0.85, 0.9]) for s in (1, 2, 3)]
    runs["Mean teacher"] = [record("mean_teacher", s, [0.9, 0.8, 0.9]) for s in (1, 2, 3)]
    assert glance.claims_brief(runs) is None  # one test: nothing to read together
    runs["DTC"] = [record("dtc", s, [0.5, 0.85, 0.9]) for s in (1, 2, 3)]
    line = glance.claims_brief(runs)  # the lower bound has no run: the gain is not among them
    assert line.startswith(
        "The other paired tests over the 3 test scans, `stored` inputs: DTML − Mean teacher "
        "+1.67 (t-test p = 0.423"
    )
    assert "; DTML − DTC +13.33 (t-test p = 0.423" in line
    assert line.endswith(
        "Of these 2 t-tests, 0 lie below 0.05 uncorrected, 0 with Holm's correction."
    )


def test_volume_line_sets_the_semi_supervised_rows_against_the_labeled_v_net(glance, record):
    volume = {"V-Net (lower bound)": [], "DTML": [record("dtml", 1, [0.7, 0.8, 0.9])]}
    assert glance.volume_line(volume) is None  # no V-Net to set them against
    volume["V-Net (lower bound)"] = [record("supervised", 1, [0.8, 0.8, 0.8])]
    volume["V-Net (upper bound)"] = [record("supervised", 1, [0.9, 0.9, 0.9])]  # labeled only
    assert glance.volume_line(volume) == (  # a tie is not above
        "With `volume` inputs, no row that also learns from the unlabeled scans scores above the "
        "16-labeled V-Net (80.00 Dice %; DTML 80.00): once the inputs are normalised, the "
        "unlabeled scans add no Dice on the mean."
    )
    volume["Mean teacher"] = [record("mean_teacher", 1, [0.9, 0.8, 0.9])]
    assert glance.volume_line(volume) == (
        "With `volume` inputs, Mean teacher scores above the 16-labeled V-Net (80.00 Dice %; "
        "DTML 80.00, Mean teacher 86.67)."
    )


def test_retrained_text_gives_the_twins_mean_and_their_low_scale_split(scripts, tmp_path, record):
    test_results, _ = scripts
    from dtml.report.intensity import read_scale, scale_groups

    groups = scale_groups(read_scale(write_scale(tmp_path / "scale.csv")))
    twins = [record("supervised", s, [d, 0.8, 0.9]) for s, d in ((1, 0.2), (2, 0.4))]
    text = test_results.retrained_text("V-Net (lower bound)", twins, groups)
    assert text.startswith(
        "V-Net (lower bound) retrained (the same keys trained again: s1 CPU AVX512 30 min, "
        "s2 CPU AVX512 30 min; [`results/hardware_check`]"
    )
    # seed means 63.33 and 70.00; lo1 averaged over seeds 30, the other two 85
    assert text.endswith(
        "66.67 ± 4.71 Dice % over seeds, 30.00 on the 1 low-scale scan, 85.00 on the other 2"
    )


def test_retrained_claim_line_tests_dtml_against_the_retrained_lower_bound(
    scripts, tmp_path, record, monkeypatch
):
    test_results, _ = scripts
    write_scale(tmp_path / "intensity_scale.csv")
    runs = {label: [] for _, label, _ in test_results.ROWS}
    runs["DTML"] = [record("dtml", 1, [0.8, 0.8, 0.9])]
    assert test_results.retrained_claim_line(runs, tmp_path) is None  # no lower bound, no twins
    runs["V-Net (lower bound)"] = [record("supervised", 1, [0.1, 0.8, 0.9])]
    twins = [record("supervised", 1, [0.5, 0.8, 0.9])]
    monkeypatch.setattr(test_results, "retrained", lambda records, results: twins)
    line = test_results.retrained_claim_line(runs, tmp_path)
    head, again = line.split(". ", 1)
    assert head.endswith("73.33 Dice %, 50.00 on the 1 low-scale scan, 85.00 on the other 2")
    assert again.startswith(  # one seed a side: preliminary; per scan +30, 0, 0
        "Preliminary (missing DTML seeds 2, 3 and V-Net (lower bound) retrained seeds 2, 3): "
        "DTML vs V-Net (lower bound) retrained: +10.00 Dice points over the 3 test scans"
    )


def test_runs_done_text_says_queued_only_while_runs_are_missing(scripts):
    test_results, _ = scripts
    assert "the rest are queued" in test_results.runs_done_text(29, 30)
    done = test_results.runs_done_text(30, 30)
    assert done.startswith("30 of 30 runs done; all planned in") and "queued" not in done
