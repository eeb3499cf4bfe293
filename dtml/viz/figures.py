"""The paper's qualitative figures: Fig. 2 (what M_s and M_d output) and Fig. 3 (2D and 3D
comparison of a supervised V-Net with DTML), plus an interactive case/slice viewer.

Plotting functions build a ``matplotlib.figure.Figure`` without pyplot, save it as PNG when
``save`` is a path, and return it. Volumes are (x, y, z) arrays; "axial" slices are along z and
are drawn with x to the right and y up. 3D surfaces use ``skimage.measure.marching_cubes``.

:func:`case_outputs` computes what the figures show for one scan, on the data's original grid
as the evaluation scores it; :func:`pick_case` is the declared rule that chooses the scan.
The committed real-data set (``figures/real/``: three PNGs and ``provenance.json``, written by
``scripts/paper_figures.py``) is read back by :func:`read_committed_figures`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mpl_toolkits.mplot3d.art3d import Poly3DCollection
from torch import nn

from dtml.config import TrainConfig
from dtml.infer import predict_case, sliding_window_probability
from dtml.metrics import case_metrics
from dtml.viz.sdf import SIGNED_CMAP, save_figure
from dtml.viz.slices import mesh_or_none

MASK_COLORS = {"ground truth": "limegreen"}
METHOD_COLORS = ("#1f77b4", "#d62728", "#9467bd", "#ff7f0e")
SUPERVISED, DTML = "V-Net (lower bound)", "DTML"  # Table 3's rows that Fig. 3 compares
FIGURE_FILES = ("figure2.png", "figure3_2d.png", "figure3_3d.png")
PROVENANCE_FILE = "provenance.json"
CASE_RULE = (
    "median: the scan of the lower-median DTML Dice (original grid, the run's own evaluation) "
    "over the evaluated scans, sorted by Dice then case id"
)


def _check_volume(name: str, array: np.ndarray, shape: tuple[int, ...] | None = None) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 3:
        raise ValueError(
            f"dtml.viz.figures: `{name}` must be a 3D (x, y, z) array, got {array.shape}"
        )
    if shape is not None and array.shape != shape:
        raise ValueError(f"dtml.viz.figures: `{name}` has shape {array.shape}, expected {shape}")
    return array


def inference_maps(
    cfg: TrainConfig,
    nets: Mapping[str, nn.Module],
    image: np.ndarray,
    device: str | torch.device = "cpu",
) -> dict[str, np.ndarray]:
    """What the trained networks output on one whole volume, with the run's sliding window.

    ``nets`` is ``method.inference_nets(...)`` (keys ``seg_net`` and/or ``sdf_net``). Returns
    ``seg_prob`` (M_s: sigmoid of the logits, ``predict_case`` mode "seg"), ``sdf`` (M_d's tanh
    output, averaged over windows like the probabilities) and ``sdf_prob`` (``predict_case`` mode
    "sdf": sigmoid(-k z) per window, then averaged; what ``evaluate_run(mode="sdf")`` thresholds),
    each only when the network that makes it is present.
    """
    image = _check_volume("image", image)
    autocast = torch.bfloat16 if cfg.precision == "bf16" else None
    common = {"patch": cfg.window, "stride": cfg.eval_stride, "device": device}
    out: dict[str, np.ndarray] = {}
    if nets.get("seg_net") is not None:
        out["seg_prob"] = predict_case(
            image, seg_net=nets["seg_net"], mode="seg", k=cfg.k, autocast_dtype=autocast, **common
        )
    sdf_net = nets.get("sdf_net")
    if sdf_net is not None:
        out["sdf_prob"] = predict_case(
            image, sdf_net=sdf_net, mode="sdf", k=cfg.k, autocast_dtype=autocast, **common
        )
        was_training = sdf_net.training
        sdf_net.eval()
        try:
            out["sdf"] = sliding_window_probability(
                image, lambda x: sdf_net(x)[1].float(), autocast_dtype=autocast, **common
            )
        finally:
            sdf_net.train(was_training)
    return out


def case_outputs(
    root: str | Path,
    case_id: str,
    runs: Mapping[str, tuple[TrainConfig, Any, Mapping[str, nn.Module]]],
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """What the figures show of one scan, on the data's ORIGINAL grid, as the evaluation sees it.

    ``runs`` maps a name to ``load_trained(run)`` (config, method, networks). Each run predicts on
    its own grid and normalisation; every map is upsampled (trilinear) to the original grid and
    the run's mask is its default-mode map thresholded at 0.5, largest component kept: what
    ``evaluate_run`` scores. Returns ``image`` (the original image; an export without one: the
    run grid's, upsampled), ``label``, ``spacing`` (mm), ``image_source`` and per run name a dict
    of ``mask`` and the maps of :func:`inference_maps` (``seg_prob``, ``sdf``, ``sdf_prob``).
    """
    from dtml.data.cache import load_case
    from dtml.data.intensity import normalize_image
    from dtml.evaluate import upsample
    from dtml.infer import postprocess

    if not runs:
        raise ValueError("dtml.viz.figures: `runs` is empty")
    full = load_case(root, case_id, 1.0, with_label=True)
    shape = tuple(full.label.shape)
    out: dict[str, Any] = {"label": full.label.astype(np.uint8), "spacing": tuple(full.spacing)}
    image, source = full.image, "original grid"
    for name, (cfg, method, nets) in runs.items():
        coarse = load_case(root, case_id, cfg.grid, with_label=False)
        net_input = normalize_image(coarse.image, cfg.normalization)
        maps = inference_maps(cfg, method.inference_nets(nets), net_input, device)
        maps = {k: upsample(v, shape) for k, v in maps.items()}
        chosen = "sdf_prob" if method.default_mode() == "sdf" else "seg_prob"
        out[name] = {"mask": postprocess(maps[chosen]), **maps}
        if image is None:  # an export keeps no full-grid image: show the run grid's, upsampled
            image, source = upsample(coarse.image, shape), f"grid {cfg.grid:g}, upsampled"
    out["image"], out["image_source"] = image, source
    return out


def pick_case(cases: Sequence[Mapping[str, Any]], case: str | None = None) -> tuple[str, str]:
    """(case id, rule) for the figures: ``case`` when given, else :data:`CASE_RULE`.

    ``cases`` are the DTML run's per-case rows (``case`` and ``dice``, as in its ``cases.csv``).
    The lower median of ``n`` scans is rank ``(n - 1) // 2`` (0-based) in ascending Dice, ties
    broken by case id, so the same evaluation always gives the same scan.
    """
    if not cases:
        raise ValueError("dtml.viz.figures: no evaluated cases to pick from")
    ids = [str(c["case"]) for c in cases]
    if case is not None:
        if case not in ids:
            raise ValueError(f"case '{case}' is not among the {len(ids)} evaluated scans")
        return case, f"fixed: case '{case}' given on the command line"
    ranked = sorted(cases, key=lambda c: (float(c["dice"]), str(c["case"])))
    rank = (len(ranked) - 1) // 2
    return str(ranked[rank]["case"]), f"{CASE_RULE} (rank {rank + 1} of {len(ranked)})"


def pick_slices(label: np.ndarray, n: int, axis: int = 2) -> list[int]:
    """``n`` slice indices along ``axis`` spread over the middle of the label's extent.

    Distinct indices at the 20 %..80 % quantiles of the foreground slices (so each slice shows some
    target), widened to the whole extent when that has too few slices; fewer than ``n`` only when
    the extent is thinner than ``n``. An empty label spreads them over the whole volume.
    """
    label = _check_volume("label", label)
    if n < 1:
        raise ValueError(f"dtml.viz.figures: `n` must be >= 1, got {n}")
    present = np.flatnonzero(np.any(label, axis=tuple(a for a in range(3) if a != axis)))
    if present.size == 0:
        present = np.arange(label.shape[axis])
    if n == 1:
        return [int(present[int(round(0.5 * (present.size - 1)))])]
    wanted = min(n, present.size)
    for lo, hi in ((0.2, 0.8), (0.0, 1.0)):  # widen when the middle has too few slices
        picks = np.unique(np.round(np.linspace(lo, hi, n) * (present.size - 1)).astype(int))
        if picks.size >= wanted:
            break
    return [int(present[i]) for i in picks[:wanted]]


def crop_box(
    masks: Sequence[np.ndarray], margin: int = 8, min_size: int = 24
) -> tuple[slice, slice]:
    """In-plane (x, y) box around the union of ``masks`` plus ``margin``; whole plane if empty."""
    if not masks:
        raise ValueError("dtml.viz.figures: `masks` is empty")
    union = np.zeros(np.shape(masks[0])[:2], dtype=bool)
    for m in masks:
        union |= np.any(np.asarray(m, dtype=bool), axis=2)
    if not union.any():
        return slice(None), slice(None)
    box = []
    for axis, size in enumerate(union.shape):
        idx = np.flatnonzero(np.any(union, axis=1 - axis))
        lo, hi = int(idx[0]) - margin, int(idx[-1]) + 1 + margin
        grow = max(min_size - (hi - lo), 0)
        lo, hi = lo - grow // 2, hi + grow - grow // 2
        box.append(slice(max(lo, 0), min(hi, size)))
    return box[0], box[1]


def _panel_height(shape: tuple[int, ...], box: tuple[slice, slice], width: float) -> float:
    """Height (inches) of a panel ``width`` wide showing the in-plane ``box`` of ``shape``."""
    nx = len(range(*box[0].indices(shape[0])))
    ny = len(range(*box[1].indices(shape[1])))
    return width * ny / max(nx, 1)


def _axial(volume: np.ndarray, z: int, box: tuple[slice, slice]) -> np.ndarray:
    return np.asarray(volume)[box[0], box[1], z].T  # (y, x) for imshow with origin "lower"


def _outline(ax, mask2d: np.ndarray, color: str, lw: float = 1.0) -> None:
    mask2d = np.asarray(mask2d, dtype=float)
    if mask2d.any() and not mask2d.all():
        ax.contour(mask2d, levels=[0.5], colors=color, linewidths=lw)


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def plot_figure2(
    image: np.ndarray,
    label: np.ndarray,
    sdf: np.ndarray,
    sdf_prob: np.ndarray,
    seg_prob: np.ndarray,
    slices: Sequence[int],
    k: float,
    title: str | None = None,
    crop: bool = True,
    save: str | Path | None = None,
) -> Figure:
    """Fig. 2: rows image, ground truth, M_d output (SDF), DisMask sigmoid(-k z), M_s output.

    One column per axial slice in ``slices``. The SDF uses a diverging colour map centred on 0
    (negative, i.e. inside, is red); the probability maps share the range [0, 1]. The ground
    truth is outlined in green on the output rows. ``crop`` zooms onto the label and predictions.
    """
    image = _check_volume("image", image)
    shape = image.shape
    label = _check_volume("label", label, shape)
    maps = {
        "image": image,
        "ground truth": label,
        "M_d output (SDF)": _check_volume("sdf", sdf, shape),
        f"DisMask sigmoid(-{k:g} z)": _check_volume("sdf_prob", sdf_prob, shape),
        "M_s output": _check_volume("seg_prob", seg_prob, shape),
    }
    if not slices:
        raise ValueError("dtml.viz.figures: `slices` is empty")
    box = crop_box([label, sdf_prob > 0.5, seg_prob > 0.5]) if crop else (slice(None),) * 2
    bound = float(np.max(np.abs(maps["M_d output (SDF)"]))) or 1.0
    height = _panel_height(shape, box, 2.4) + 0.1
    fig = Figure(figsize=(2.4 * len(slices) + 1.2, height * len(maps) + 0.4), layout="constrained")
    axes = np.asarray(fig.subplots(len(maps), len(slices), squeeze=False))
    for r, (name, volume) in enumerate(maps.items()):
        for c, z in enumerate(slices):
            ax = axes[r, c]
            if name == "image":
                kw = {"cmap": "gray"}
            elif name == "ground truth":
                kw = {"cmap": "gray", "vmin": 0, "vmax": 1}
            elif name.startswith("M_d"):
                kw = {"cmap": SIGNED_CMAP, "vmin": -bound, "vmax": bound}
            else:
                kw = {"cmap": "viridis", "vmin": 0, "vmax": 1}
            im = ax.imshow(_axial(volume, z, box), origin="lower", **kw)
            if r >= 2:
                _outline(ax, _axial(label, z, box), MASK_COLORS["ground truth"], 0.8)
            _bare(ax)
            if r == 0:
                ax.set_title(f"z = {z}", fontsize=9)
            if c == 0:
                ax.set_ylabel(name, fontsize=9)
        fig.colorbar(im, ax=list(axes[r]), shrink=0.8)  # on every row: columns stay aligned
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, save)


def _method_colors(names: Sequence[str]) -> dict[str, str]:
    return {n: METHOD_COLORS[i % len(METHOD_COLORS)] for i, n in enumerate(names)}


def plot_comparison_2d(
    image: np.ndarray,
    label: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    slices: Sequence[int],
    title: str | None = None,
    crop: bool = True,
    save: str | Path | None = None,
) -> Figure:
    """Fig. 3 (2D): one row per axial slice, one column per prediction and the ground truth.

    Each panel is the image with the mask filled in colour; prediction panels also outline the
    ground truth in green, and their column title gives the whole-volume Dice.
    """
    image = _check_volume("image", image)
    label = _check_volume("label", label, image.shape).astype(bool)
    preds = {n: _check_volume(n, p, image.shape).astype(bool) for n, p in predictions.items()}
    if not slices:
        raise ValueError("dtml.viz.figures: `slices` is empty")
    colors = {**_method_colors(list(preds)), **MASK_COLORS}
    columns = {**preds, "ground truth": label}
    box = crop_box(list(columns.values())) if crop else (slice(None),) * 2
    height = _panel_height(image.shape, box, 2.6) + 0.2
    fig = Figure(figsize=(2.6 * len(columns), height * len(slices) + 0.6), layout="constrained")
    axes = np.asarray(fig.subplots(len(slices), len(columns), squeeze=False))
    for c, (name, mask) in enumerate(columns.items()):
        head = name
        if name != "ground truth":
            head = f"{name}\nDice {case_metrics(mask, label).dice:.3f}"
        for r, z in enumerate(slices):
            ax = axes[r, c]
            ax.imshow(_axial(image, z, box), origin="lower", cmap="gray")
            overlay = np.ma.masked_where(~_axial(mask, z, box), np.ones(_axial(mask, z, box).shape))
            ax.imshow(
                overlay, origin="lower", cmap=_single(colors[name]), alpha=0.45, vmin=0, vmax=1
            )
            if name != "ground truth":
                _outline(ax, _axial(label, z, box), MASK_COLORS["ground truth"], 0.8)
            _bare(ax)
            if r == 0:
                ax.set_title(head, fontsize=9)
            if c == 0:
                ax.set_ylabel(f"z = {z}", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, save)


def _single(color: str) -> ListedColormap:
    return ListedColormap([color])


def surface_mesh(
    mask: np.ndarray,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    step: int = 1,
    smooth: float = 0.0,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(vertices in mm, triangles) of the 0.5 level set of ``mask``; ``None`` when there is nothing
    to draw (see :func:`dtml.viz.slices.mesh_or_none`, the one implementation)."""
    return mesh_or_none(_check_volume("mask", mask), spacing, step, smooth)


def _lambert(
    verts: np.ndarray, faces: np.ndarray, color: str, light=(-1.0, -1.0, 1.0)
) -> np.ndarray:
    """RGBA per triangle: ``color`` times 0.3 + 0.7 |cos| of the angle to a fixed light."""
    tri = verts[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    light = np.asarray(light, dtype=np.float64) / np.linalg.norm(light)
    intensity = 0.3 + 0.7 * np.abs(normals @ light)  # two-sided: winding order does not matter
    rgba = np.tile(to_rgba(color), (len(faces), 1))
    rgba[:, :3] *= intensity[:, None]
    return rgba


def volume_box(masks: Sequence[np.ndarray], margin: int = 4) -> tuple[slice, slice, slice]:
    """3D box around the union of ``masks`` plus ``margin`` voxels; the whole volume if empty."""
    if not masks:
        raise ValueError("dtml.viz.figures: `masks` is empty")
    union = np.zeros(np.shape(masks[0]), dtype=bool)
    for m in masks:
        union |= np.asarray(m, dtype=bool)
    if not union.any():
        return (slice(None),) * 3  # type: ignore[return-value]
    box = []
    for axis, size in enumerate(union.shape):
        idx = np.flatnonzero(np.any(union, axis=tuple(a for a in range(3) if a != axis)))
        box.append(slice(max(int(idx[0]) - margin, 0), min(int(idx[-1]) + 1 + margin, size)))
    return box[0], box[1], box[2]


def plot_surfaces(
    masks: Mapping[str, np.ndarray],
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    step: int = 1,
    smooth: float = 0.7,
    title: str | None = None,
    save: str | Path | None = None,
    crop_margin: int | None = None,
) -> Figure:
    """Fig. 3 (3D): one shaded surface per mask (marching cubes, matplotlib Poly3DCollection).

    All panels share one bounding box and view, so their shapes compare directly; an empty mask
    gives a panel that says so. ``step`` > 1 coarsens the mesh (faster for large volumes);
    ``smooth`` is the display blur of :func:`surface_mesh`. ``crop_margin``: zoom every panel onto
    the union of the masks plus that many voxels (axes in mm from the box's corner).
    """
    if not masks:
        raise ValueError("dtml.viz.figures: `masks` is empty")
    if crop_margin is not None:
        box = volume_box([_check_volume(n, m) for n, m in masks.items()], crop_margin)
        masks = {name: np.asarray(m)[box] for name, m in masks.items()}
    meshes = {name: surface_mesh(m, spacing, step, smooth) for name, m in masks.items()}
    colors = {**_method_colors(list(masks)), **MASK_COLORS}
    shape = np.asarray(np.shape(next(iter(masks.values()))), dtype=np.float64)
    extent = shape * np.asarray(spacing, dtype=np.float64)
    fig = Figure(figsize=(3.8 * len(masks), 4.0), layout="constrained")
    for i, (name, mesh) in enumerate(meshes.items()):
        ax = fig.add_subplot(1, len(masks), i + 1, projection="3d")
        if mesh is None:
            ax.text2D(0.5, 0.5, "empty mask", ha="center", transform=ax.transAxes)
        else:
            verts, faces = mesh
            shaded = _lambert(verts, faces, colors[name])
            # edges in the face colour hide the seams between triangles
            ax.add_collection3d(
                Poly3DCollection(verts[faces], facecolors=shaded, edgecolors=shaded, linewidths=0.2)
            )
        ax.set_xlim(0, extent[0])
        ax.set_ylim(0, extent[1])
        ax.set_zlim(0, extent[2])
        ax.set_box_aspect(tuple(extent))
        ax.view_init(elev=25, azim=-60)
        ax.set_title(name, fontsize=9)
        for axis, text in ((ax.xaxis, "x (mm)"), (ax.yaxis, "y (mm)"), (ax.zaxis, "z (mm)")):
            axis.set_major_locator(MaxNLocator(3))
            axis.set_label_text(text, fontsize=7)
        ax.tick_params(labelsize=6, pad=0)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, save)


def plot_viewer_slice(
    data: Mapping[str, np.ndarray],
    z: int,
    contours: Sequence[str] = (),
    panels: Sequence[str] = (),
    signed: Sequence[str] = (),
    title: str | None = None,
) -> Figure:
    """One axial slice for the viewer: the image with the masks in ``contours`` outlined, then one
    panel per map in ``panels`` (names in ``signed`` centred on 0). ``data`` must hold "image"."""
    if "image" not in data:
        raise ValueError("dtml.viz.figures: `data` needs an 'image' entry")
    image = _check_volume("image", data["image"])
    if not 0 <= z < image.shape[2]:
        raise ValueError(f"dtml.viz.figures: slice z = {z} outside 0..{image.shape[2] - 1}")
    missing = [n for n in (*contours, *panels) if n not in data]
    if missing:
        raise ValueError(f"dtml.viz.figures: `data` has no entries {missing}")
    full = (slice(None), slice(None))
    colors = {**_method_colors([c for c in contours if c not in MASK_COLORS]), **MASK_COLORS}
    fig = Figure(figsize=(3.6 * (1 + len(panels)), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, 1 + len(panels)))
    axes[0].imshow(_axial(image, z, full), origin="lower", cmap="gray")
    for name in contours:
        _outline(
            axes[0], _axial(_check_volume(name, data[name], image.shape), z, full), colors[name]
        )
        axes[0].plot([], [], color=colors[name], label=name)
    if contours:
        axes[0].legend(fontsize=7, loc="upper right")
    axes[0].set_title(title or f"z = {z}", fontsize=9)
    for ax, name in zip(axes[1:], panels, strict=True):
        values = _axial(_check_volume(name, data[name], image.shape), z, full)
        if name in signed:
            bound = float(np.max(np.abs(values))) or 1.0
            im = ax.imshow(values, origin="lower", cmap=SIGNED_CMAP, vmin=-bound, vmax=bound)
        else:
            im = ax.imshow(values, origin="lower", cmap="viridis", vmin=0, vmax=1)
        fig.colorbar(im, ax=ax, shrink=0.8)
        ax.set_title(name, fontsize=9)
    for ax in axes:
        _bare(ax)
    return fig


def case_viewer(
    case_ids: Sequence[str],
    load: Callable[[str], Mapping[str, np.ndarray]],
    contours: Sequence[str] = (),
    panels: Sequence[str] = (),
    signed: Sequence[str] = (),
    initial: str | None = None,
):
    """An ipywidgets viewer: a case dropdown and an axial-slice slider over :func:`plot_viewer_slice`.

    ``load(case_id)`` returns the case's arrays (at least "image"); each case is loaded once, when
    first selected, and kept for the viewer's lifetime. ``initial`` (default: the first id) is
    shown first. Returns the widget (display it); it draws once when built, so it renders under
    papermill without waiting for input.
    """
    import ipywidgets as widgets

    from dtml.viz.widgets import figure_png

    if not case_ids:
        raise ValueError("dtml.viz.figures: `case_ids` is empty")
    loaded: dict[str, Mapping[str, np.ndarray]] = {}

    def get(case_id: str) -> Mapping[str, np.ndarray]:
        if case_id not in loaded:
            loaded[case_id] = load(case_id)
        return loaded[case_id]

    initial = case_ids[0] if initial is None else initial
    if initial not in case_ids:
        raise ValueError(f"dtml.viz.figures: `initial` {initial!r} is not one of `case_ids`")
    depth = int(np.shape(get(initial)["image"])[2])
    case_box = widgets.Dropdown(options=list(case_ids), value=initial, description="case")
    z_box = widgets.IntSlider(
        value=depth // 2, min=0, max=depth - 1, description="z", continuous_update=False
    )
    out = widgets.Image(format="png")  # not Output + clear_output: see dtml.viz.widgets

    def draw(*_) -> None:
        data = get(case_box.value)
        fig = plot_viewer_slice(
            data, int(z_box.value), contours, panels, signed, f"{case_box.value}, z = {z_box.value}"
        )
        out.value = figure_png(fig)

    def new_case(change) -> None:
        depth = int(np.shape(get(change["new"])["image"])[2])
        z_box.max = depth - 1
        z_box.value = min(z_box.value, depth - 1)
        draw()

    case_box.observe(new_case, names="value")
    z_box.observe(draw, names="value")
    draw()
    viewer = widgets.VBox([widgets.HBox([case_box, z_box]), out])
    viewer.loaded = loaded  # exposed for inspection (which cases were computed)
    return viewer


# --- the committed real-data figures (figures/real/, written by scripts/paper_figures.py) --------


def read_committed_figures(folder: str | Path) -> dict[str, Any] | None:
    """The provenance of the committed figure set in ``folder``; ``None`` when it has none yet.

    A set is ``provenance.json`` plus :data:`FIGURE_FILES`; a provenance without every PNG, or
    one that is not JSON, is an error naming the file.
    """
    folder = Path(folder)
    path = folder / PROVENANCE_FILE
    if not path.is_file():
        return None
    try:
        provenance = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
    missing = [name for name in FIGURE_FILES if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"{path}: the figures {missing} it describes are missing in {folder}")
    return provenance


def pending_runs(results_dir: str | Path, seed: int = 1) -> list[str]:
    """The rows of Fig. 3 (:data:`SUPERVISED`, :data:`DTML`) with no committed, evaluated run of
    ``seed`` under ``results_dir/runs`` (read without data or checkpoints)."""
    from dtml.experiments import TABLES
    from dtml.report.records import committed_records
    from dtml.report.rows import row_records

    records = committed_records(results_dir)
    rows = [r for r in TABLES[3] if r.label in (SUPERVISED, DTML)]
    return [row.label for row in rows if seed not in {r.seed for r in row_records(row, records)}]


def provenance_markdown(provenance: Mapping[str, Any]) -> str:
    """A short paragraph naming where a committed figure set comes from (runs, case, data)."""
    runs = provenance.get("runs", {})
    names = "; ".join(
        f"{label}: `{run.get('name')}` (trained at `{run.get('train_commit')}` on "
        f"{run.get('train_hardware')}, mean Dice {100 * float(run.get('mean_dice', 0)):.2f} % "
        f"over {run.get('n_cases')} scans)"
        for label, run in runs.items()
    )
    case = provenance.get("case", {})
    dice = ", ".join(f"{k} {100 * float(v):.2f} %" for k, v in case.get("dice", {}).items())
    return (
        f"**'{provenance.get('profile')}' profile, {provenance.get('split')} split, seed "
        f"{provenance.get('seed')}, data `{provenance.get('data_id')}`.** Runs: {names}. "
        f"Case `{case.get('id')}` ({case.get('rule')}); its Dice: {dice} (original grid). "
        f"Drawn at commit `{provenance.get('rendered', {}).get('commit')}` by "
        "`scripts/paper_figures.py`."
    )
