"""Tests for dtml.report.intensity (the per-scan intensity table and its low-scale test scans)."""

from __future__ import annotations

import csv

import pytest

from dtml.report.intensity import low_scale_sentence, read_scale, scale_groups

# stored std: three labeled scans (0.7 lowest, 1.3 highest); four test scans, two below 0.7
SCALE = [
    ("L1", "labeled", 1.3),
    ("L2", "labeled", 0.7),
    ("L3", "labeled", 0.9),
    ("U1", "unlabeled", 0.2),  # below every labeled scan, but not a test scan
    ("T4", "test", 0.69),
    ("T1", "test", 0.7),  # equal to the lowest labeled std: not below it
    ("T3", "test", 0.3),
    ("T2", "test", 1.5),
]


def rows() -> list[dict]:
    return [{"case": c, "part": p, "std": s} for c, p, s in SCALE]


def test_low_scale_scans_lie_below_every_labeled_scan():
    g = scale_groups(rows())
    assert (g.floor, g.ceiling) == (0.7, 1.3)
    assert g.low == ("T3", "T4")  # lowest std first
    assert g.other == ("T1", "T2")  # by id
    assert g.std == {"T1": 0.7, "T2": 1.5, "T3": 0.3, "T4": 0.69}


def test_the_sentence_names_each_low_scale_scan_with_its_std():
    text = low_scale_sentence(scale_groups(rows()))
    assert "the 2 test scans" in text and "below 0.70" in text and "range 0.70-1.30" in text
    assert "the lowest of the 3 labeled scans" in text
    assert text.index("T3… 0.30") < text.index("T4… 0.69") and "T1" not in text


def test_read_scale_round_trips_and_refuses_an_empty_table(tmp_path):
    path = tmp_path / "scale.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "part", "mean", "std", "contrast"])
        w.writerows([c, p, 0.0, s, 1.0] for c, p, s in SCALE)
    assert [(r["case"], r["part"], r["std"]) for r in read_scale(path)] == SCALE
    path.write_text("case,part,mean,std,contrast\n")
    with pytest.raises(ValueError, match="scale.csv: no scans"):
        read_scale(path)


@pytest.mark.parametrize("part", ["labeled", "test"])
def test_groups_need_labeled_and_test_scans(part):
    with pytest.raises(ValueError, match="needs labeled and test scans"):
        scale_groups([r for r in rows() if r["part"] != part])
