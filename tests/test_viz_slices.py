"""dtml.viz.slices: figures are built, saved, and show what they claim (proposed test file)."""

import numpy as np
import pytest

from dtml.data.phantom import generate_case
from dtml.viz.slices import (
    compare_cases,
    intensity_histograms,
    label_center,
    orthogonal_slices,
    plot_case_statistics,
    slice_montage,
    slice_viewer,
    surface_3d,
    surface_mesh,
)


@pytest.fixture(scope="module")
def case():
    return generate_case(0, (24, 24, 16))


def test_label_center_is_the_centroid_or_the_middle():
    label = np.zeros((10, 8, 6), bool)
    label[2:5, 1:4, 3] = True
    assert label_center(label, label.shape) == (3, 2, 3)
    assert label_center(np.zeros((10, 8, 6)), (10, 8, 6)) == (5, 4, 3)


def test_orthogonal_slices_saves_a_png_with_three_panels(case, tmp_path):
    fig = orthogonal_slices(*case, spacing=(1, 1, 2), save=tmp_path / "a" / "o.png")
    assert len(fig.axes) == 3
    assert (tmp_path / "a" / "o.png").read_bytes()[:4] == b"\x89PNG"
    # aspect follows the spacing: the y-z and x-z panels are stretched along z
    assert fig.axes[0].get_aspect() == pytest.approx(2.0)
    assert fig.axes[2].get_aspect() == pytest.approx(1.0)


def test_montage_slices_stay_inside_the_label_extent(case):
    image, label = case
    fig = slice_montage(image, label, axis=2, n=4)
    zs = np.flatnonzero(label.any(axis=(0, 1)))
    titles = [int(ax.get_title().split("=")[1]) for ax in fig.axes if ax.get_title()]
    assert titles[0] == zs[0] and titles[-1] == zs[-1]


def test_surface_mesh_encloses_the_label_volume():
    label = np.zeros((20, 20, 20), bool)
    grid = np.indices(label.shape) - 9.5
    label[(grid**2).sum(0) <= 36] = True  # ball of radius 6
    verts, faces = surface_mesh(label, spacing=(2.0, 1.0, 1.0))
    assert faces.shape[1] == 3
    # mm coordinates: x doubles, and the ball touches no padding offset
    assert verts[:, 0].max() - verts[:, 0].min() == pytest.approx(2 * 12, abs=2.5)
    assert verts[:, 1].max() - verts[:, 1].min() == pytest.approx(12, abs=1.5)
    assert 0 < verts[:, 1].min() < 20


def test_surface_3d_and_compare_cases_return_figures(case, tmp_path):
    assert surface_3d(case[1], save=tmp_path / "s.png").axes
    fig = compare_cases({"a": case, "b": case})
    assert len(fig.axes) == 6


def test_slice_viewer_renders_and_follows_the_controls(case):
    view = slice_viewer(*case)
    (axis_box, slider), picture = view.children[0].children, view.children[1]
    first = picture.value
    assert first[:4] == b"\x89PNG"
    slider.value = 0
    assert picture.value != first
    axis_box.value = 0
    assert slider.max == case[0].shape[0] - 1


@pytest.mark.parametrize(
    "call",
    [
        lambda: orthogonal_slices(np.zeros((4, 4))),
        lambda: orthogonal_slices(np.zeros((4, 4, 4)), np.zeros((4, 4, 3))),
        lambda: surface_mesh(np.zeros((4, 4, 4))),
        lambda: orthogonal_slices(np.zeros((4, 4, 4)), spacing=(1, 0, 1)),
    ],
)
def test_bad_input_is_rejected(call):
    with pytest.raises(ValueError, match="dtml.viz.slices"):
        call()


def test_intensity_histograms_are_fractions_of_each_class(case):
    fig = intensity_histograms({"phantom": case})
    ax = fig.axes[0]
    assert "fraction" in ax.get_ylabel()
    for bars in ax.containers:  # background, label: each sums to (almost) 1 over the shown range
        assert 0.95 < sum(b.get_height() for b in bars) <= 1.0 + 1e-9


def _stats(shapes):
    return [
        {"shape": s, "fg_fraction": 0.05, "fg_mean": 1.0 + i, "bg_mean": 0.0}
        for i, s in enumerate(shapes)
    ]


def test_case_statistics_says_so_when_every_case_has_one_size():
    fig = plot_case_statistics(_stats([(40, 40, 32)] * 5))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["all 5 cases:\n40 x 40 x 32 voxels"]
    assert not fig.axes[0].collections  # no one-dot scatter
    fig = plot_case_statistics(_stats([(40, 40, 32), (50, 44, 32)]))
    assert fig.axes[0].collections and fig.axes[0].get_xlabel() == "size x (voxels)"


def test_surface_3d_axes_are_in_mm(case):
    ax = surface_3d(case[1], spacing=(1.25, 1.25, 1.25)).axes[0]
    assert [ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()] == ["x (mm)", "y (mm)", "z (mm)"]
