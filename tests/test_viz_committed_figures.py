"""dtml.viz.committed_figures: the committed real-data Figures 2-3 (figures/real/) read back without
data or checkpoints, and which profiles of notebook 07 show them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dtml.notebooks import load_params
from dtml.viz import committed_figures as cf
from dtml.viz.figures import DTML, SUPERVISED

ROOT = Path(__file__).resolve().parents[1]


def test_committed_figures_are_read_back_or_reported_missing(tmp_path):
    assert cf.read_committed_figures(tmp_path) is None
    (tmp_path / cf.PROVENANCE_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="provenance.json: not valid JSON"):
        cf.read_committed_figures(tmp_path)
    (tmp_path / cf.PROVENANCE_FILE).write_text(json.dumps({"profile": "cpu"}))
    with pytest.raises(ValueError, match="figure2.png"):
        cf.read_committed_figures(tmp_path)
    for name in cf.FIGURE_FILES:
        (tmp_path / name).write_bytes(b"")
    assert cf.read_committed_figures(tmp_path) == {"profile": "cpu"}


def test_pending_runs_read_the_committed_records(tmp_path):
    assert cf.pending_runs(tmp_path) == [SUPERVISED, DTML]
    committed = ROOT / "results/cpu_paper/runs/supervised-4889557d9181"  # the lower bound, seed 1
    shutil.copytree(committed, tmp_path / "runs" / committed.name)
    assert cf.pending_runs(tmp_path, seed=1) == [DTML]
    assert cf.pending_runs(tmp_path, seed=2) == [SUPERVISED, DTML]


def test_notebook_07_shows_the_committed_figures_unless_ci():
    """`make reproduce` (default) and the committed profile show figures/real; `make test` (ci)
    draws from freshly trained runs."""
    name = "07_figures"
    for profile in ("default", "committed"):
        params = load_params(profile, ROOT)
        merged = {**params.get("_all", {}), **params.get(name, {})}
        assert merged.get("use_committed_results", True) is True, profile
    assert load_params("ci", ROOT)[name]["use_committed_results"] is False
