"""dtml.viz.results: figures of a table's per-case scores and of its means beside the paper's."""

from __future__ import annotations

import pytest
from runfolders import make_run

from dtml import report
from dtml.experiments import TABLES
from dtml.viz.results import plot_table_cases, plot_vs_paper


def test_figures_draw_the_paper_means_and_save(tmp_path):
    records = report.collect([make_run(tmp_path / "r", "supervised", 1, [0.8, 0.6])])
    rows = report.table(2, records)
    values = report.case_scores(records, TABLES[2])
    assert values == {"M_s only": [80.0, 60.0], "M_d only": [], "DTML (labeled only)": []}
    fig = plot_table_cases(rows, values, save=tmp_path / "f" / "cases.png")
    segments = fig.axes[0].collections
    lines = [c for c in segments if c.__class__.__name__ == "LineCollection"]
    paper_y = sorted(seg[0][1] for c in lines for seg in c.get_segments())
    assert paper_y == pytest.approx(sorted([86.03, 88.69, 89.17]))
    assert (tmp_path / "f" / "cases.png").stat().st_size > 0
    fig = plot_vs_paper(rows, save=tmp_path / "f" / "bars.png")
    assert len(fig.axes) == 4 and (tmp_path / "f" / "bars.png").is_file()
    with pytest.raises(ValueError, match="unknown keys"):
        plot_vs_paper(rows, keys=("nope",))


def test_plot_vs_paper_clips_the_lower_error_bar_at_zero_and_shows_the_title():
    from matplotlib.container import ErrorbarContainer

    from dtml.viz.results import plot_vs_paper

    row = {"label": "DTML", "status": "ok"}
    for key, mean, std, paper in (
        ("dice", 80.0, 2.0, 90.12),
        ("jaccard", 70.0, 2.0, 82.14),
        ("asd_mm", 1.0, 3.0, 1.14),  # mean - std < 0: the bar must stop at 0
        ("hd95_mm", 5.0, 1.0, 4.38),
    ):
        row |= {f"{key}_seeds_mean": mean, f"{key}_seeds_std": std, f"paper_{key}": paper}
    fig = plot_vs_paper([row], title="profile 'cpu', real LA")
    assert fig._suptitle.get_text() == "profile 'cpu', real LA"
    bottoms = {}
    for ax, key in zip(fig.axes, ("dice", "jaccard", "asd_mm", "hd95_mm"), strict=True):
        bars = next(c for c in ax.containers if isinstance(c, ErrorbarContainer))
        (segment,) = bars.lines[2][0].get_segments()
        bottoms[key], top = segment[:, 1].min(), segment[:, 1].max()
        assert top == pytest.approx(row[f"{key}_seeds_mean"] + row[f"{key}_seeds_std"])
    assert bottoms["asd_mm"] == 0.0
    assert bottoms["hd95_mm"] == pytest.approx(4.0) and bottoms["dice"] == pytest.approx(78.0)
