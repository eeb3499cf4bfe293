"""The paper's qualitative figures in 2D: Fig. 2 (what M_s and M_d output) and Fig. 3's slices
(a supervised V-Net next to DTML), and what they show of one scan.

Plotting functions build a ``matplotlib.figure.Figure`` without pyplot, save it as PNG when
``save`` is a path, and return it. Volumes are (x, y, z) arrays; "axial" slices are along z and
are drawn with x to the right and y up (:mod:`dtml.viz.panels`).

:func:`case_outputs` computes what the figures show for one scan, on the data's original grid
as the evaluation scores it; :func:`pick_case` is the declared rule that chooses the scan.
Fig. 3's surfaces are :mod:`dtml.viz.surfaces`, the interactive case viewer :mod:`dtml.viz.viewer`
and the committed real-data set (``figures/real/``) :mod:`dtml.viz.committed_figures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from torch import nn

from dtml.config import TrainConfig
from dtml.infer import predict_case, sliding_window_probability
from dtml.metrics import case_metrics
from dtml.viz.panels import MASK_COLORS, axial, bare, check_volume, method_colors, outline
from dtml.viz.sdf import SIGNED_CMAP, save_figure

SUPERVISED, DTML = "V-Net (lower bound)", "DTML"  # Table 3's rows that Fig. 3 compares
CASE_RULE = (
    "median: the scan of the lower-median DTML Dice (original grid, the run's own evaluation) "
    "over the evaluated scans, sorted by Dice then case id"
)


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
    image = check_volume("image", image)
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
    label = check_volume("label", label)
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
    image = check_volume("image", image)
    shape = image.shape
    label = check_volume("label", label, shape)
    maps = {
        "image": image,
        "ground truth": label,
        "M_d output (SDF)": check_volume("sdf", sdf, shape),
        f"DisMask sigmoid(-{k:g} z)": check_volume("sdf_prob", sdf_prob, shape),
        "M_s output": check_volume("seg_prob", seg_prob, shape),
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
            im = ax.imshow(axial(volume, z, box), origin="lower", **kw)
            if r >= 2:
                outline(ax, axial(label, z, box), MASK_COLORS["ground truth"], 0.8)
            bare(ax)
            if r == 0:
                ax.set_title(f"z = {z}", fontsize=9)
            if c == 0:
                ax.set_ylabel(name, fontsize=9)
        fig.colorbar(im, ax=list(axes[r]), shrink=0.8)  # on every row: columns stay aligned
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, save)


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
    image = check_volume("image", image)
    label = check_volume("label", label, image.shape).astype(bool)
    preds = {n: check_volume(n, p, image.shape).astype(bool) for n, p in predictions.items()}
    if not slices:
        raise ValueError("dtml.viz.figures: `slices` is empty")
    colors = {**method_colors(list(preds)), **MASK_COLORS}
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
            ax.imshow(axial(image, z, box), origin="lower", cmap="gray")
            overlay = np.ma.masked_where(~axial(mask, z, box), np.ones(axial(mask, z, box).shape))
            ax.imshow(
                overlay, origin="lower", cmap=_single(colors[name]), alpha=0.45, vmin=0, vmax=1
            )
            if name != "ground truth":
                outline(ax, axial(label, z, box), MASK_COLORS["ground truth"], 0.8)
            bare(ax)
            if r == 0:
                ax.set_title(head, fontsize=9)
            if c == 0:
                ax.set_ylabel(f"z = {z}", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, save)


def _single(color: str) -> ListedColormap:
    return ListedColormap([color])
