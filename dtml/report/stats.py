"""Aggregation over seeds and cases, per-case values, the paired test and the protocol's seeds.

Every number says over what it was taken:

* over seeds: the mean and sample std (ddof=1) of the per-seed means over cases; std is ``None``
  for one seed (undefined, not 0);
* over cases: the mean and sample std of every (seed, case) value pooled together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from dtml.experiments import Row
from dtml.metrics import paired_ttest
from dtml.report.records import CASE_COLUMNS, RunRecord
from dtml.report.rows import row_records
from dtml.report.settings import check_same_setting

PLANNED_SEEDS = (1, 2, 3)  # every row's seeds (plans/benchmark.yaml, plans/dev_study.yaml)
ALPHA = 0.05  # the paired tests' significance level (Table 2's p < 0.05)


def missing_seeds(runs: Sequence[RunRecord], seeds: Sequence[int] = PLANNED_SEEDS) -> list[int]:
    """The planned seeds, by number, without a run in ``runs`` (seed 4 does not stand in for 1)."""
    done = {r.seed for r in runs}
    return [s for s in seeds if s not in done]


def _mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    x = np.asarray(values, dtype=np.float64)
    return float(x.mean()), (float(x.std(ddof=1)) if x.size > 1 else None)


def aggregate(records: Sequence[RunRecord], column: str, scale: float = 1.0) -> dict[str, Any]:
    """Mean +- std of ``column`` over seeds (per-seed means) and over the pooled (seed, case) values."""
    if not records:
        raise ValueError("aggregate: no records")
    per_seed = [scale * float(np.mean([c[column] for c in r.cases])) for r in records]
    pooled = [scale * c[column] for r in records for c in r.cases]
    seeds_mean, seeds_std = _mean_std(per_seed)
    cases_mean, cases_std = _mean_std(pooled)
    return {
        "seeds_mean": seeds_mean,
        "seeds_std": seeds_std,
        "cases_mean": cases_mean,
        "cases_std": cases_std,
    }


def per_case(records: Sequence[RunRecord], column: str = "dice") -> dict[str, float]:
    """Per-case value averaged over the records (seeds), keyed by case id."""
    if column not in CASE_COLUMNS:
        raise ValueError(f"column must be one of {CASE_COLUMNS}, got '{column}'")
    values: dict[str, list[float]] = {}
    for rec in records:
        for c in rec.cases:
            values.setdefault(c["case"], []).append(c[column])
    return {k: float(np.mean(v)) for k, v in sorted(values.items())}


def paired_test(
    records_a: Sequence[RunRecord], records_b: Sequence[RunRecord], column: str = "dice"
) -> dict[str, Any]:
    """Two-sided paired t-test over cases of A vs B (Table 2's claim, p < 0.05).

    Each case's value is first averaged over the seeds of each side; both sides must cover the same
    case ids and come from one setting. Returns ``dtml.metrics.paired_ttest``'s t, p, n and
    ``mean_diff`` (A - B; Dice/Jaccard in % points), plus the seed counts.
    """
    a = [r for r in records_a if r.evaluated]
    b = [r for r in records_b if r.evaluated]
    if not a or not b:
        raise ValueError("paired_test: both sides need at least one evaluated run")
    check_same_setting([*a, *b])
    va, vb = per_case(a, column), per_case(b, column)
    if set(va) != set(vb):
        only = sorted(set(va) ^ set(vb))
        raise ValueError(f"paired_test: the two sides cover different cases ({only[:5]} ...)")
    scale = 100.0 if column in ("dice", "jaccard") else 1.0
    cases = sorted(va)
    result = paired_ttest([scale * va[c] for c in cases], [scale * vb[c] for c in cases])
    return {**result, "column": column, "seeds_a": len(a), "seeds_b": len(b)}


def case_scores(
    records: Iterable[RunRecord],
    rows: Sequence[Row],
    column: str = "dice",
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, list[float]]:
    """Per-case values (mean over seeds; Dice/Jaccard in %) of each row, by label; [] if not run."""
    records = [r for r in records if r.evaluated]
    scale = 100.0 if column in ("dice", "jaccard") else 1.0
    out = {}
    for row in rows:
        found = row_records(row, records, overrides) if row.reimplemented else []
        out[row.label] = [scale * v for v in per_case(found, column).values()]
    return out
