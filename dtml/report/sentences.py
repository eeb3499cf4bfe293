"""Numbers and paired tests as the sentences the README and the results files print.

One number format (:func:`pm`, :func:`num`), one rule for when a comparison is preliminary (a side
still lacks some of the planned seeds: :func:`waiting_text`, :func:`preliminary`) and one wording
for a paired test over the scans (:func:`paired_sentence`) and for several read together
(:func:`holm_sentence`, Holm's correction).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from dtml.metrics import holm
from dtml.report.records import RunRecord
from dtml.report.stats import paired_test

PLANNED_SEEDS = (1, 2, 3)  # the benchmark's protocol (plans/benchmark.yaml)
ALPHA = 0.05


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


def seeds_text(seeds: Sequence[int]) -> str:
    """``"seeds 2, 3"``, ``"seed 1"`` or ``""``."""
    if not seeds:
        return ""
    return f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"


def missing_seeds(runs: Sequence[RunRecord], seeds: Sequence[int] = PLANNED_SEEDS) -> list[int]:
    """The planned seeds without a run in ``runs``."""
    done = {r.seed for r in runs}
    return [s for s in seeds if s not in done]


def waiting_text(
    label: str, runs: Sequence[RunRecord], seeds: Sequence[int] = PLANNED_SEEDS
) -> str:
    """``"DTML seeds 2, 3"`` for the planned seeds a row still lacks; ``""`` when none."""
    missing = seeds_text(missing_seeds(runs, seeds))
    return f"{label} {missing}" if missing else ""


def preliminary(head: str, waiting: str) -> str:
    """``head`` as is when nothing is ``waiting``, else ``"Preliminary (<waiting> still to come):
    <head>"``; ``head`` keeps its case (it may start with a method's name)."""
    return f"Preliminary ({waiting} still to come): {head}" if waiting else head


def verdict(p: float, alpha: float = ALPHA) -> str:
    """``"significant at p < 0.05"`` or ``"not significant at p < 0.05"`` (NaN: not)."""
    return f"{'' if p < alpha else 'not '}significant at p < {alpha:g}"


def paired_sentence(
    test: Mapping[str, Any],
    name_a: str,
    name_b: str,
    claim: str = "",
    scans: str = "cases",
    waiting: str = "",
) -> str:
    """A :func:`dtml.report.stats.paired_test` result as one sentence: the mean difference, its
    median and on how many scans A is higher (a mean carried by one scan shows there), then t
    and p; :func:`preliminary` while ``waiting`` names missing seeds."""
    t = test
    head = f"{name_a} vs {name_b}" + (f" ({claim})" if claim else "")
    return (
        f"{preliminary(head, waiting)}: {t['mean_diff']:+.2f} Dice points over the {t['n']} "
        f"{scans} (median per scan {t['median_diff']:+.2f}, {name_a} higher on {t['n_higher']} "
        f"of {t['n']}); paired t-test (per-scan Dice averaged over {t['seeds_a']} and "
        f"{t['seeds_b']} seed(s)): t = {t['t']:.2f}, p = {t['p']:.3f}, {verdict(t['p'])}."
    )


def holm_sentence(pvalues: Sequence[float], alpha: float = ALPHA) -> str | None:
    """How many of several paired tests stay below ``alpha`` once corrected for their number
    (:func:`dtml.metrics.holm`); None for fewer than 2 tests."""
    if len(pvalues) < 2:
        return None
    pvalues = [1.0 if math.isnan(p) else p for p in pvalues]  # NaN: every difference was zero
    raw = sum(p < alpha for p in pvalues)
    kept = sum(p < alpha for p in holm(pvalues))
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
        waiting = " and ".join(w for w in (waiting_text(x, runs[x], seeds) for x in (a, b)) if w)
        sentences.append(paired_sentence(t, a, name_b, claim, scans, waiting))
        pvalues.append(t["p"])
    several = holm_sentence(pvalues)
    return sentences + ([several] if several else []), untested
