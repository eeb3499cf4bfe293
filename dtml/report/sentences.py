"""Numbers and paired tests as the sentences the README, the results files and notebooks print.

* one number format: :func:`pm`, :func:`num`;
* one rule for when a comparison is preliminary, a side lacking some of the planned seeds
  (:func:`~dtml.report.stats.missing_seeds`), named by :func:`waiting_text`/:func:`waiting_for`
  and put first by :func:`preliminary`;
* one wording for a paired test over the scans: :func:`result_text` (difference, median, how
  many scans, t, p and :func:`verdict`), :func:`paired_sentence` (A vs B), :func:`paired_sentences`
  (a list of pairs of rows), :func:`holm_counts` and :func:`holm_sentence` (several tests read
  together).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from dtml.metrics import holm
from dtml.report.records import RunRecord
from dtml.report.stats import ALPHA, PLANNED_SEEDS, missing_seeds, paired_test


def pm(mean: float | None, std: float | None, digits: int = 2, missing: str = "") -> str:
    """``"86.55 ± 0.65"``, ``"86.55"`` without a std, ``missing`` without a mean."""
    if mean is None:
        return missing
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def num(value: float | None, digits: int = 2, sign: bool = False, missing: str = "") -> str:
    """``"6.61"`` (``"+6.61"`` with ``sign``), ``missing`` for None."""
    if value is None:
        return missing
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def seeds_text(seeds: Sequence[int | str]) -> str:
    """``"seeds 2, 3"``, ``"seed 1"`` or ``""``."""
    if not seeds:
        return ""
    return f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"


def waiting_text(
    label: str, runs: Sequence[RunRecord], seeds: Sequence[int] = PLANNED_SEEDS
) -> str:
    """``"DTML seeds 2, 3"`` for the planned seeds a row lacks; ``""`` when none."""
    missing = seeds_text(missing_seeds(runs, seeds))
    return f"{label} {missing}" if missing else ""


def waiting_for(
    runs: Mapping[str, Sequence[RunRecord]], seeds: Sequence[int] = PLANNED_SEEDS
) -> str:
    """:func:`waiting_text` of each ``label: runs`` item, joined with "and"; ``""`` when none."""
    return " and ".join(w for w in (waiting_text(k, v, seeds) for k, v in runs.items()) if w)


def preliminary(head: str, waiting: str) -> str:
    """``head`` as is when nothing is ``waiting``, else ``"Preliminary (missing <waiting>):
    <head>"``; ``head`` keeps its case (it may start with a method's name)."""
    return f"Preliminary (missing {waiting}): {head}" if waiting else head


def verdict(p: float, alpha: float = ALPHA) -> str:
    """``"significant at p < 0.05"`` or ``"not significant at p < 0.05"`` (NaN: not)."""
    return f"{'' if p < alpha else 'not '}significant at p < {alpha:g}"


def result_text(
    test: Mapping[str, Any],
    name_a: str,
    scans: str = "cases",
    detail: str = "",
    unit: str = "Dice points",
) -> str:
    """A :func:`~dtml.report.stats.paired_test` result after its subject: the mean difference,
    its median and on how many scans A is higher (a mean carried by one scan shows there), then
    t, p and :func:`verdict` (the paired t-test is the declared test), then the Wilcoxon
    signed-rank p of the same pairs as a check; ``detail`` opens the parenthesis (e.g. the
    difference on a group)."""
    t = test
    where = f"{detail}; " if detail else ""
    measure = unit.split()[0] if unit.endswith(" points") else "values"  # "Dice points": Dice
    return (
        f"{t['mean_diff']:+.2f} {unit} over the {t['n']} {scans} ({where}median per scan "
        f"{t['median_diff']:+.2f}, {name_a} higher on {t['n_higher']} of {t['n']}); paired t-test "
        f"(per-scan {measure}, each the mean over its side's seeds: {t['seeds_a']} and "
        f"{t['seeds_b']}): t = {t['t']:.2f}, {p_text(t['p'])}, {verdict(t['p'])}"
        f"{wilcoxon_text(t)}."
    )


def wilcoxon_text(test: Mapping[str, Any]) -> str:
    """``; Wilcoxon signed-rank p = 0.004`` where the test has it (results read back from files
    written before it was computed have none)."""
    p = test.get("p_wilcoxon")
    return "" if p is None else f"; Wilcoxon signed-rank {p_text(p)}"


def p_text(p: float) -> str:
    """``p = 0.067``; ``p < 0.001`` where three decimals would print zero."""
    return "p < 0.001" if p < 0.0005 else f"p = {p:.3f}"


def paired_sentence(
    test: Mapping[str, Any],
    name_a: str,
    name_b: str,
    claim: str = "",
    scans: str = "cases",
    waiting: str = "",
) -> str:
    """``[Preliminary (...): ]A vs B (claim): <result_text>`` for one paired test."""
    head = f"{name_a} vs {name_b}" + (f" ({claim})" if claim else "")
    return f"{preliminary(head, waiting)}: {result_text(test, name_a, scans)}"


def holm_counts(pvalues: Sequence[float], alpha: float = ALPHA) -> tuple[int, int]:
    """``(raw, kept)``: how many p-values lie below ``alpha`` uncorrected and after Holm's
    correction for their number (:func:`dtml.metrics.holm`)."""
    pvalues = [1.0 if math.isnan(p) else p for p in pvalues]  # NaN: every difference was zero
    return sum(p < alpha for p in pvalues), sum(p < alpha for p in holm(pvalues))


def holm_sentence(pvalues: Sequence[float], alpha: float = ALPHA) -> str | None:
    """How many of several paired tests stay below ``alpha`` once corrected for their number
    (:func:`holm_counts`); None for fewer than 2 tests."""
    if len(pvalues) < 2:
        return None
    raw, kept = holm_counts(pvalues, alpha)
    return (
        f"These {len(pvalues)} paired tests are read together: {raw} of them below {alpha:g} "
        f"uncorrected, {kept} with Holm's correction for {len(pvalues)} tests."
    )


def paired_sentences(
    runs: Mapping[str, Sequence[RunRecord]],
    pairs: Sequence[tuple[str, str, str, str]],
    scans: str,
    seeds: Sequence[int] = PLANNED_SEEDS,
) -> tuple[list[str], list[str]]:
    """``(sentences, untested)``: :func:`paired_sentence` for each pair ``(A, B, what B is
    called, the claim)`` with runs on both sides, then :func:`holm_sentence`; ``"A vs B"`` for
    each pair still without runs on a side."""
    sentences, untested, pvalues = [], [], []
    for a, b, name_b, claim in pairs:
        if not runs[a] or not runs[b]:
            untested.append(f"{a} vs {b}")
            continue
        t = paired_test(runs[a], runs[b])
        waiting = waiting_for({a: runs[a], b: runs[b]}, seeds)
        sentences.append(paired_sentence(t, a, name_b, claim, scans, waiting))
        pvalues.append(t["p"])
    several = holm_sentence(pvalues)
    return sentences + ([several] if several else []), untested
