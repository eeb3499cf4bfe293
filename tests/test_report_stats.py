"""dtml.report.stats: the paired test over cases, each case the mean over its seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from runfolders import make_run

from dtml import report


def test_paired_test_averages_seeds_per_case(tmp_path):
    cases = ["c1", "c2", "c3"]
    # A: two seeds whose per-case means are 90, 80, 70; B: one seed 80, 75, 50
    a = [
        make_run(tmp_path, "dtml_labeled", 1, dict(zip(cases, [0.95, 0.8, 0.6], strict=True))),
        make_run(tmp_path, "dtml_labeled", 2, dict(zip(cases, [0.85, 0.8, 0.8], strict=True))),
    ]
    b = [make_run(tmp_path, "supervised", 1, dict(zip(cases, [0.8, 0.75, 0.5], strict=True)))]
    res = report.paired_test(report.collect(a), report.collect(b))
    d = np.array([10.0, 5.0, 20.0])  # Dice points
    t = d.mean() / (d.std(ddof=1) / math.sqrt(3))
    assert res["n"] == 3 and res["seeds_a"] == 2 and res["seeds_b"] == 1
    assert res["mean_diff"] == pytest.approx(d.mean())
    assert res["t"] == pytest.approx(t)
    assert 0 < res["p"] < 1
    other = [make_run(tmp_path / "o", "sdf_only", 1, {"c1": 0.5, "c2": 0.5, "x": 0.5})]
    with pytest.raises(ValueError, match="different cases"):
        report.paired_test(report.collect(a), report.collect(other))
