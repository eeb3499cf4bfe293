"""Tests for dtml.viz.training (notebook 03) and the case figures of notebook 07 (dtml.viz.figures,
dtml.viz.surfaces, dtml.viz.viewer), on tiny arrays."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from dtml.config import load_profile
from dtml.nets import VNet, count_parameters
from dtml.schedules import official_rampup, paper_rampup
from dtml.viz import figures as vf
from dtml.viz import surfaces as vs
from dtml.viz import training as vt
from dtml.viz import viewer as vv

SHAPE = (12, 10, 8)


def _ball(shape=SHAPE, radius=3.0, center=None) -> np.ndarray:
    center = np.asarray(center if center is not None else [(s - 1) / 2 for s in shape])
    grid = np.indices(shape).astype(float)
    return (np.sqrt(sum((g - c) ** 2 for g, c in zip(grid, center, strict=True))) <= radius).astype(
        np.uint8
    )


def _is_png(path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- dtml.viz.training ----------------------------------------------------------------------------


def test_parameter_breakdown_sums_to_the_total_and_the_paper_count():
    net = VNet(base_filters=2)
    parts = vt.parameter_breakdown(net)
    assert sum(parts.values()) == count_parameters(net)
    assert list(parts)[:2] == ["enc.0", "enc.1"] and "dropout" not in parts  # no parameters
    assert parts["seg_head"] == parts["sdf_head"] == 2 + 1  # 1x1x1 conv, 2 -> 1 channel + bias
    # first stage: one 3x3x3 conv 1 -> 2 channels (54 + 2 bias) and its BatchNorm (2 + 2)
    assert parts["enc.0"] == 27 * 1 * 2 + 2 + 2 + 2
    top = vt.parameter_breakdown(net, depth=1)
    assert set(top) == {"enc", "down", "up", "dec", "sdf_head", "seg_head"}
    assert sum(top.values()) == count_parameters(net)
    fig = vt.plot_parameter_breakdown({"2 filters": parts})
    assert isinstance(fig, Figure)
    with pytest.raises(ValueError, match="empty"):
        vt.plot_parameter_breakdown({})


def test_plot_batch_marks_unlabeled_samples_and_saves(tmp_path):
    image = np.random.default_rng(0).normal(size=(4, 1, *SHAPE)).astype(np.float32)
    label = np.stack([_ball(), np.zeros(SHAPE, np.uint8)])[:, None]  # one labeled crop is empty
    fig = vt.plot_batch(
        image,
        label,
        maps={"sdf": image * 0.1, "zeros": np.zeros_like(image)},
        signed=("sdf",),
        save=tmp_path / "b.png",
    )
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == [
        "labeled #0",
        "labeled #1",
        "unlabeled #0 (no label)",
        "unlabeled #1 (no label)",
    ]
    assert _is_png(tmp_path / "b.png")
    with pytest.raises(ValueError, match="first samples"):
        vt.plot_batch(image[:1], label)


def test_schedule_curves_use_the_training_schedules():
    cfg = load_profile("ci")
    curves = vt.schedule_curves(cfg)
    t = curves["iteration"]
    assert len(t) == cfg.iterations
    for i in (0, 7, cfg.iterations - 1):
        assert curves["lambda_official"][i] == pytest.approx(
            official_rampup(i, 1.0, cfg.rampup_step, cfg.rampup_steps)
        )
        assert curves["lambda_paper"][i] == pytest.approx(paper_rampup(i, cfg.iterations, 0.1))
    np.testing.assert_allclose(curves["weight_official"], 2 * curves["lambda_official"])
    assert curves["lr"][cfg.lr_step - 1] == pytest.approx(cfg.lr)
    assert curves["lr"][cfg.lr_step] == pytest.approx(cfg.lr * cfg.lr_gamma)
    assert isinstance(vt.plot_schedules(curves, title="ci"), Figure)


def test_read_log_and_plot_training_log(tmp_path):
    fields = ["iteration", "loss", "l_seg", "l_md", "l_dis", "l_con", "lambda", "lr", "seconds"]
    with (tmp_path / "log.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        for it in range(0, 20, 5):
            w.writerow({"iteration": it, "loss": 1.0 / (it + 1), "l_seg": 0.5, "l_md": 0.4,
                        "l_con": 0.01, "lambda": 0.1, "lr": 0.01, "seconds": it})  # fmt: skip
    log = vt.read_log(tmp_path)
    np.testing.assert_array_equal(log["iteration"], [0, 5, 10, 15])
    assert np.isnan(log["l_dis"]).all()  # empty column (not logged by this method) -> NaN
    fig = vt.plot_training_log(log, save=tmp_path / "log.png")
    assert _is_png(tmp_path / "log.png")
    assert len(fig.axes[0].lines) == 4  # loss, l_seg, l_md, l_con; l_dis absent
    assert isinstance(vt.plot_training_log({}), Figure)  # no rows yet: still a figure
    with pytest.raises(FileNotFoundError, match="log.csv"):
        vt.read_log(tmp_path / "missing")


def test_live_plot_keeps_rows_and_redraws_every_n(monkeypatch):
    live = vt.LiveTrainingPlot(every=2)
    calls = []
    monkeypatch.setattr(live, "redraw", lambda: calls.append(len(live.rows)))
    for it in range(5):
        live({"iteration": it, "loss": 1.0, "lambda": 0.0})
    assert len(live.rows) == 5 and calls == [2, 4]
    assert math.isnan(vt.rows_to_columns([{"a": 1}, {"b": 2}])["a"][1])
    with pytest.raises(ValueError, match="every"):
        vt.LiveTrainingPlot(every=0)


# --- dtml.viz.figures -----------------------------------------------------------------------------


def test_pick_slices_fall_inside_the_label_or_the_volume():
    label = np.zeros(SHAPE, np.uint8)
    label[3:8, 3:8, 2:6] = 1
    slices = vf.pick_slices(label, 3)
    assert slices == sorted(slices) and len(slices) == 3
    assert all(2 <= z < 6 for z in slices)
    assert vf.pick_slices(label, 1) == [4]  # the middle of 2..5 (rounded)
    empty = vf.pick_slices(np.zeros(SHAPE, np.uint8), 2)
    assert all(0 <= z < SHAPE[2] for z in empty)
    with pytest.raises(ValueError, match="n"):
        vf.pick_slices(label, 0)


def test_crop_box_covers_every_mask_and_keeps_a_minimum_size():
    a = np.zeros((40, 40, 4), bool)
    a[10:12, 20:22, 1] = True
    b = np.zeros_like(a)
    b[25, 5, 2] = True
    bx, by = vf.crop_box([a, b], margin=2, min_size=4)
    assert bx.start <= 10 and bx.stop >= 26 and by.start <= 5 and by.stop >= 22
    bx, by = vf.crop_box([a], margin=0, min_size=10)
    assert bx.stop - bx.start == 10 and by.stop - by.start == 10
    assert vf.crop_box([np.zeros_like(a)]) == (slice(None), slice(None))


def test_figure2_and_comparison_on_tiny_and_empty_masks(tmp_path):
    rng = np.random.default_rng(1)
    image = rng.normal(size=SHAPE).astype(np.float32)
    label = _ball()
    sdf = np.where(label, -0.5, 0.5).astype(np.float32)
    prob = label.astype(np.float32)
    fig = vf.plot_figure2(image, label, sdf, prob, prob, [3, 4], k=1500, save=tmp_path / "f2.png")
    assert _is_png(tmp_path / "f2.png") and isinstance(fig, Figure)
    empty = np.zeros(SHAPE, np.uint8)
    vf.plot_figure2(image, empty, 0 * sdf, 0 * prob, 0 * prob, [0], k=1500)  # all empty: no crash
    fig = vf.plot_comparison_2d(
        image, label, {"supervised": empty, "DTML": label}, [3, 4], save=tmp_path / "f3.png"
    )
    heads = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert heads == ["supervised\nDice 0.000", "DTML\nDice 1.000", "ground truth"]
    assert _is_png(tmp_path / "f3.png")
    with pytest.raises(ValueError, match="shape"):
        vf.plot_figure2(image, label[:-1], sdf, prob, prob, [3], k=1500)


# --- dtml.viz.surfaces ----------------------------------------------------------------------------


def test_surface_mesh_is_in_mm_and_empty_masks_give_none(tmp_path):
    label = _ball(radius=3.0)
    verts, faces = vs.surface_mesh(label, spacing=(2.0, 2.0, 2.0))
    center = (np.asarray(SHAPE) - 1) / 2 * 2.0
    radii = np.linalg.norm(verts - center, axis=1)
    assert 5.0 < radii.mean() < 8.0  # a ball of ~3.5 voxels = ~7 mm radius
    assert faces.max() < len(verts)
    full = np.ones(SHAPE, np.uint8)  # touches every border: padding closes it
    vmin, vmax = vs.surface_mesh(full)[0].min(0), vs.surface_mesh(full)[0].max(0)
    assert np.all(vmin >= -0.5) and np.all(vmax <= np.asarray(SHAPE) - 0.5)
    assert vs.surface_mesh(np.zeros(SHAPE)) is None
    smooth_verts, _ = vs.surface_mesh(label, spacing=(2.0, 2.0, 2.0), smooth=0.7)
    assert (
        abs(np.linalg.norm(smooth_verts - center, axis=1).mean() - radii.mean()) < 2.0
    )  # < 1 voxel
    speck = np.zeros(SHAPE, np.uint8)
    speck[5, 5, 4] = 1
    assert vs.surface_mesh(speck) is not None and vs.surface_mesh(speck, smooth=0.7) is None
    fig = vs.plot_surfaces(
        {"empty": np.zeros(SHAPE), "ground truth": label},
        spacing=(2, 2, 2),
        save=tmp_path / "s.png",
    )
    assert _is_png(tmp_path / "s.png") and len(fig.axes) == 2


def test_plot_surfaces_labels_its_axes_in_mm():
    fig = vs.plot_surfaces({"ground truth": _ball(radius=3.0)}, spacing=(2, 2, 2))
    ax = fig.axes[0]
    assert [ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()] == ["x (mm)", "y (mm)", "z (mm)"]


def test_volume_box_and_cropped_surfaces(tmp_path):
    mask = np.zeros((20, 18, 12), np.uint8)
    mask[5:9, 6:10, 3:7] = 1
    assert vs.volume_box([mask], margin=2) == (slice(3, 11), slice(4, 12), slice(1, 9))
    assert vs.volume_box([np.zeros_like(mask)]) == (slice(None),) * 3
    fig = vs.plot_surfaces({"a": mask}, crop_margin=2, save=tmp_path / "s.png")
    assert fig.axes[0].get_xlim() == pytest.approx((0, 8))  # the box, not the volume
    assert (tmp_path / "s.png").is_file()


# --- dtml.viz.viewer ------------------------------------------------------------------------------


def test_viewer_slice_and_widget_load_each_case_once():
    label = _ball()
    data = {"image": np.zeros(SHAPE), "ground truth": label, "DTML": label, "sdf": -1.0 * label}
    fig = vv.plot_viewer_slice(
        data, 4, contours=("ground truth", "DTML"), panels=("sdf",), signed=("sdf",)
    )
    assert len(fig.axes) == 3  # image, the sdf panel and its colour bar
    with pytest.raises(ValueError, match="outside"):
        vv.plot_viewer_slice(data, SHAPE[2], contours=("DTML",))
    with pytest.raises(ValueError, match="no entries"):
        vv.plot_viewer_slice(data, 0, contours=("missing",))

    loads = []

    def load(case_id):
        loads.append(case_id)
        return data

    viewer = vv.case_viewer(["a", "b"], load, contours=("ground truth", "DTML"), initial="b")
    case_box, z_box = viewer.children[0].children
    assert case_box.value == "b" and loads == ["b"]
    z_box.value = 2
    case_box.value = "a"
    case_box.value = "b"
    assert loads == ["b", "a"] and z_box.max == SHAPE[2] - 1 and z_box.value == 2
    with pytest.raises(ValueError, match="initial"):
        vv.case_viewer(["a"], load, initial="c")
