import numpy as np

from dtml.viz.intensity import plot_dice_vs_scale, plot_intensity_scale


def test_intensity_scale_figure_marks_the_lowest_labeled_scan(tmp_path):
    rows = [
        {"case": "a", "part": "labeled", "std": 0.9},
        {"case": "b", "part": "labeled", "std": 0.73},
        {"case": "c", "part": "unlabeled", "std": 0.4},
        {"case": "d", "part": "test", "std": 0.46},
    ]
    fig = plot_intensity_scale(rows, save=tmp_path / "scale.png")
    ax = fig.axes[0]
    assert (tmp_path / "scale.png").is_file()
    floor = [line for line in ax.lines if line.get_linestyle() == "--"][0]
    assert np.allclose(floor.get_ydata(), 0.73)
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "labeled (2)",
        "unlabeled (1)",
        "test (1)",
    ]


def test_dice_vs_scale_plots_only_cases_with_a_scale():
    fig = plot_dice_vs_scale(
        {"a": 0.5, "b": 1.0}, {"lower bound": {"a": 10.0, "b": 88.0, "zz": 50.0}}, floor=0.73
    )
    points = fig.axes[0].collections[0].get_offsets()
    assert sorted(map(tuple, np.asarray(points))) == [(0.5, 10.0), (1.0, 88.0)]
