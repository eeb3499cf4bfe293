"""Tests for dtml.report.sentences: every number in a sentence has a hand answer."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from dtml.report.sentences import (
    holm_counts,
    holm_sentence,
    num,
    p_text,
    paired_sentence,
    paired_sentences,
    pm,
    preliminary,
    result_text,
    seeds_text,
    verdict,
    waiting_for,
    waiting_text,
)
from dtml.report.stats import missing_seeds

CASES = ("c1", "c2", "c3", "c4")


@pytest.fixture()
def record(run_record):
    """``record(method, seed, dice, **train)``: ``run_record`` with Dice in the order of CASES."""
    return lambda method, seed, dice, **train: run_record(
        method, seed, dict(zip(CASES, dice, strict=True)), **train
    )


def test_numbers_format_with_their_sign_and_a_placeholder_for_none():
    assert pm(86.554, 0.651) == "86.55 ± 0.65" and pm(86.554, None) == "86.55"
    assert pm(None, 1.0) == "" and pm(None, None, missing="–") == "–"
    assert pm(1.0, 0.25, digits=1) == "1.0 ± 0.2"  # round half to even, as format does
    assert num(6.612) == "6.61" and num(6.612, sign=True) == "+6.61"
    assert num(-0.06, sign=True) == "-0.06" and num(None, missing="–") == "–"


def test_missing_seeds_name_what_a_row_still_waits_for(record):
    runs = [record("dtml", 1, [0.8] * 4), record("dtml", 3, [0.8] * 4)]
    assert missing_seeds(runs) == [2] and missing_seeds(runs, (1, 3)) == []
    assert seeds_text([2]) == "seed 2" and seeds_text([1, 2, 3]) == "seeds 1, 2, 3"
    assert seeds_text([]) == ""
    assert waiting_text("DTML", runs) == "DTML seed 2"
    assert waiting_text("DTML", []) == "DTML seeds 1, 2, 3"
    assert waiting_text("DTML", runs, (1, 3)) == ""
    later = [record("dtml", s, [0.8] * 4) for s in (4, 5, 6)]  # seeds count by number
    assert missing_seeds(later) == [1, 2, 3]
    both = waiting_for({"DTML": runs, "LB": [], "UB": runs + later})
    assert both == "DTML seed 2 and LB seeds 1, 2, 3 and UB seed 2"
    assert waiting_for({"DTML": runs}, (1, 3)) == ""


def test_preliminary_prefixes_only_while_something_waits_and_keeps_the_case():
    assert preliminary("DTML vs X", "") == "DTML vs X"
    assert preliminary("Mean teacher vs DTML", "Mean teacher seeds 2, 3") == (
        "Preliminary (missing Mean teacher seeds 2, 3): Mean teacher vs DTML"
    )


def test_verdict_reads_nan_as_not_significant():
    assert verdict(0.049) == "significant at p < 0.05"
    assert verdict(0.05) == "not significant at p < 0.05"
    assert verdict(math.nan) == "not significant at p < 0.05"
    assert verdict(0.02, alpha=0.01) == "not significant at p < 0.01"


def test_paired_sentence_prints_every_field_of_the_test():
    t = {"mean_diff": 6.612, "median_diff": 1.41, "n_higher": 13, "n": 20, "seeds_a": 3}
    t |= {"seeds_b": 2, "t": 1.954, "p": 0.0667, "p_wilcoxon": 0.0042}
    text = paired_sentence(
        t, "DTML", "the lower bound", "Table 3: +4.09", "test scans", "LB seed 3"
    )
    assert text == (
        "Preliminary (missing LB seed 3): DTML vs the lower bound (Table 3: +4.09): "
        "+6.61 Dice points over the 20 test scans (median per scan +1.41, DTML higher on 13 of "
        "20); paired t-test (per-scan Dice, each the mean over its side's seeds: 3 and 2): "
        "t = 1.95, p = 0.067, not significant at p < 0.05; Wilcoxon signed-rank p = 0.004."
    )


def test_result_text_opens_with_its_detail_and_names_the_measure_of_its_unit():
    t = {"mean_diff": -1.5, "median_diff": 0.0, "n_higher": 1, "n": 3, "seeds_a": 1}
    t |= {"seeds_b": 1, "t": -0.5, "p": float("nan")}
    text = result_text(t, "A", "scans", detail="+2.00 on the low-scale scans", unit="voxels")
    assert text == (
        "-1.50 voxels over the 3 scans (+2.00 on the low-scale scans; median per scan +0.00, A "
        "higher on 1 of 3); paired t-test (per-scan values, each the mean over its side's seeds: "
        "1 and 1): t = -0.50, p = nan, not significant at p < 0.05."  # no Wilcoxon p: none shown
    )
    assert "(per-scan Jaccard, each" in result_text(t, "A", unit="Jaccard points")


def test_p_values_print_three_decimals_and_never_a_zero():
    assert p_text(0.0667) == "p = 0.067" and p_text(0.0004) == "p < 0.001"
    assert p_text(0.0005) == "p = 0.001" and p_text(float("nan")) == "p = nan"


def test_holm_counts_rejections_before_and_after_the_correction():
    # Holm: sorted 0.01, 0.03, 0.04 -> 0.03, 0.06, 0.06
    assert holm_counts([0.04, 0.01, 0.03]) == (3, 1)
    assert holm_counts([0.01, 0.02], alpha=0.01) == (0, 0)  # below 0.01 means strictly below
    assert holm_counts([math.nan, 0.001]) == (1, 1)  # NaN (no difference at all) rejects nothing


def test_holm_sentence_counts_raw_and_corrected_rejections():
    assert holm_sentence([0.01]) is None
    # Holm: sorted 0.01, 0.03, 0.04 -> 0.03, 0.06, 0.06: one of three kept
    assert holm_sentence([0.04, 0.01, 0.03]) == (
        "These 3 paired tests are read together: 3 of them below 0.05 uncorrected, 1 with Holm's "
        "correction for 3 tests."
    )
    assert "0 of them below 0.05" in holm_sentence([math.nan, 0.2])  # NaN: no difference at all


def test_paired_sentences_test_what_has_runs_and_list_the_rest(record):
    runs = {
        "A": [record("dtml", 1, [0.9, 0.8, 0.7, 0.6]), record("dtml", 2, [0.9, 0.8, 0.7, 0.6])],
        "B": [record("supervised", s, [0.8, 0.8, 0.6, 0.7]) for s in (1, 2, 3)],
        "C": [],
    }
    pairs = [("A", "B", "b", ""), ("A", "C", "c", ""), ("B", "A", "a", "")]
    sentences, untested = paired_sentences(runs, pairs, "scans")
    assert untested == ["A vs C"]
    # A - B per case: +10, 0, +10, -10 -> mean +2.50, median +5.00, A higher on 2 of 4
    assert sentences[0].startswith(
        "Preliminary (missing A seed 3): A vs b: +2.50 Dice points over the 4 scans "
        "(median per scan +5.00, A higher on 2 of 4)"
    )
    assert sentences[1].startswith("Preliminary (missing A seed 3): B vs a: -2.50")
    assert sentences[2].startswith("These 2 paired tests are read together")


def test_paired_sentences_without_missing_seeds_are_not_preliminary(record):
    runs = {
        "A": [record("dtml", s, [0.9, 0.8, 0.7, 0.6]) for s in (1, 2, 3)],
        "B": [record("supervised", s, [0.8, 0.8, 0.6, 0.7]) for s in (1, 2, 3)],
    }
    sentences, untested = paired_sentences(runs, [("A", "B", "B", "claim")], "scans")
    assert untested == [] and len(sentences) == 1  # one test: no Holm line
    assert sentences[0].startswith("A vs B (claim): +2.50 Dice points")
    ref = stats.ttest_rel([90, 80, 70, 60], [80, 80, 60, 70])
    assert f"t = {ref.statistic:.2f}, p = {ref.pvalue:.3f}, not significant" in sentences[0]


@pytest.mark.parametrize("seeds", [(1,), (1, 2)])
def test_planned_seeds_decide_what_is_preliminary(seeds, record):
    runs = {
        "A": [record("dtml", s, [0.9, 0.8, 0.7, 0.6]) for s in seeds],
        "B": [record("supervised", s, [0.8, 0.8, 0.6, 0.7]) for s in seeds],
    }
    sentences, _ = paired_sentences(runs, [("A", "B", "B", "")], "scans", seeds=seeds)
    assert sentences[0].startswith("A vs B:")
