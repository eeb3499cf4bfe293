"""Figures for notebook 03: one DTML run (Sec. 3.2 and 4.1), from the networks to the loss curves.

Every plotting function builds a ``matplotlib.figure.Figure`` without pyplot, saves it as PNG when
``save`` is a path, and returns it. The schedules are computed by the functions training uses
(``dtml.methods.consistency_weight``, ``dtml.schedules.step_lr``), so the plot is the run's.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from torch import nn

from dtml.config import TrainConfig
from dtml.methods import consistency_weight
from dtml.schedules import step_lr
from dtml.viz.sdf import SIGNED_CMAP, save_figure

LABEL_COLOR = "limegreen"  # the ground truth outline, as in dtml.viz.panels.MASK_COLORS
LOSS_KEYS = ("loss", "l_seg", "l_md", "l_dis", "l_con")
LOSS_NAMES = {
    "loss": "total (what backward sees)",
    "l_seg": "L_seg (M_s)",
    "l_md": "L_mask / L_dis (M_d)",
    "l_dis": "L_dis",
    "l_con": "C, consistency (unweighted)",
}


def parameter_breakdown(net: nn.Module, depth: int = 2) -> dict[str, int]:
    """Parameter count per module, grouped by the first ``depth`` parts of the module path.

    For ``dtml.nets.VNet`` and ``depth=2``: ``enc.0`` ... ``enc.4`` (encoder stages), ``down.*``,
    ``up.*``, ``dec.*`` and the two heads, in definition order.
    """
    if depth < 1:
        raise ValueError(f"dtml.viz.training: `depth` must be >= 1, got {depth}")
    counts: dict[str, int] = {}
    for name, p in net.named_parameters():
        key = ".".join(name.split(".")[:-1][:depth]) or name
        counts[key] = counts.get(key, 0) + p.numel()
    return counts


def plot_parameter_breakdown(
    breakdowns: Mapping[str, Mapping[str, int]], save: str | Path | None = None
) -> Figure:
    """Grouped bars (log scale) of :func:`parameter_breakdown` for one or more networks."""
    if not breakdowns:
        raise ValueError("dtml.viz.training: `breakdowns` is empty")
    parts = list(dict.fromkeys(p for b in breakdowns.values() for p in b))
    fig = Figure(figsize=(max(6.0, 0.5 * len(parts) + 2), 3.8), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(breakdowns)
    x = np.arange(len(parts))
    for i, (name, counts) in enumerate(breakdowns.items()):
        values = [counts.get(p, 0) for p in parts]
        total = sum(counts.values())
        ax.bar(x + i * width, values, width, label=f"{name}: {total:,} parameters")
    ax.set_xticks(x + width * (len(breakdowns) - 1) / 2, parts, rotation=60, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylim(
        top=30 * max(max(b.values(), default=1) for b in breakdowns.values())
    )  # legend room
    ax.set_ylabel("parameters")
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, save)


def _central_slice(volume: np.ndarray, z: int | None) -> np.ndarray:
    return volume[:, :, volume.shape[2] // 2 if z is None else z]


def _batch_array(name: str, array: Any, ndim: int = 4) -> np.ndarray:
    """(B, X, Y, Z) float array from a (B, 1, X, Y, Z) or (B, X, Y, Z) array or CPU tensor."""
    array = np.asarray(array)
    if array.ndim == 5 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != ndim:
        raise ValueError(
            f"dtml.viz.training: `{name}` must be (B, 1, X, Y, Z) or (B, X, Y, Z), "
            f"got shape {array.shape}"
        )
    return array


def plot_batch(
    image: Any,
    label: Any,
    maps: Mapping[str, Any] | None = None,
    signed: Sequence[str] = (),
    z: int | None = None,
    save: str | Path | None = None,
) -> Figure:
    """One axial slice of every sample of a two-stream batch; labeled samples come first.

    Columns are samples; the first row is the image, then one row per entry of ``maps`` (same
    batch layout, e.g. network outputs; names in ``signed`` get a diverging colour map centred on
    0; each row shares one colour scale). The label of a labeled sample is outlined in green on
    every row of its column; unlabeled samples have no label to draw, and their title says so.
    ``z`` defaults to the middle slice.
    """
    image = _batch_array("image", image)
    label = _batch_array("label", label)
    n, n_lab = image.shape[0], label.shape[0]
    if n_lab > n or label.shape[1:] != image.shape[1:]:
        raise ValueError(
            f"dtml.viz.training: `label` {label.shape} must hold the first samples of "
            f"`image` {image.shape}"
        )
    rows = {"image": image, **{k: _batch_array(k, v) for k, v in (maps or {}).items()}}
    fig = Figure(figsize=(2.6 * n, 2.5 * len(rows)), layout="constrained")
    axes = np.asarray(fig.subplots(len(rows), n, squeeze=False))
    for r, (name, values) in enumerate(rows.items()):
        if values.shape != image.shape:
            raise ValueError(
                f"dtml.viz.training: map '{name}' has shape {values.shape}, image {image.shape}"
            )
        # one colour scale per row, so the samples of a row compare directly
        low, high = float(np.min(values)), float(np.max(values))
        kw = {"cmap": "gray" if name == "image" else "viridis", "vmin": low, "vmax": high}
        if name in signed:
            bound = max(abs(low), abs(high)) or 1.0
            kw = {"cmap": SIGNED_CMAP, "vmin": -bound, "vmax": bound}
        for c in range(n):
            ax = axes[r, c]
            im = ax.imshow(_central_slice(values[c], z).T, origin="lower", **kw)
            if c < n_lab:
                outline = _central_slice(label[c], z)
                if outline.any() and not outline.all():
                    ax.contour(outline.T.astype(float), levels=[0.5], colors=LABEL_COLOR)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                kind = f"labeled #{c}" if c < n_lab else f"unlabeled #{c - n_lab} (no label)"
                ax.set_title(kind, fontsize=9)
            if c == 0:
                ax.set_ylabel(name, fontsize=9)
        if name != "image":
            fig.colorbar(im, ax=list(axes[r]), shrink=0.8)
    return save_figure(fig, save)


def schedule_curves(cfg: TrainConfig, iterations: int | None = None) -> dict[str, np.ndarray]:
    """lambda(t) of both fidelities, the weight each puts on C, and the lr, for every iteration.

    ``lambda_official``: the authors' stepped ramp (max 1.0 unless ``cfg.consistency``);
    ``lambda_paper``: the printed 0.1 exp(-5 (1 - t/t_max)) with t_max = ``cfg.iterations``.
    ``weight_official`` is 2 lambda: the authors' two backward passes each contain lambda C
    (``dtml.methods.DTML``); the paper's Eqs. (5)-(6) give weight lambda once.
    """
    total = int(iterations or cfg.iterations)
    if total < 1:
        raise ValueError(f"dtml.viz.training: `iterations` must be >= 1, got {total}")
    t = np.arange(total)
    official = cfg.replace(fidelity="official")
    paper = cfg.replace(fidelity="paper")
    lam_o = np.array([consistency_weight(official, int(i)) for i in t])
    lam_p = np.array([consistency_weight(paper, int(i)) for i in t])
    return {
        "iteration": t,
        "lambda_official": lam_o,
        "lambda_paper": lam_p,
        "weight_official": 2.0 * lam_o,
        "weight_paper": lam_p,
        "lr": np.array([step_lr(int(i), cfg.lr, cfg.lr_step, cfg.lr_gamma) for i in t]),
    }


def plot_schedules(
    curves: Mapping[str, np.ndarray], title: str | None = None, save: str | Path | None = None
) -> Figure:
    """Consistency weights of both fidelities (linear and log scale) and the lr schedule."""
    t = curves["iteration"]
    fig = Figure(figsize=(13, 3.6), layout="constrained")
    ax_lin, ax_log, ax_lr = fig.subplots(1, 3)
    lines = (
        ("lambda_official", "official lambda (stepped ramp)", "C0", "-"),
        ("weight_official", "official weight on C = 2 lambda", "C0", "--"),
        ("lambda_paper", "paper lambda = weight on C", "C1", "-"),
    )
    for ax in (ax_lin, ax_log):
        for key, name, color, style in lines:
            ax.plot(t, curves[key], color=color, ls=style, label=name)
        ax.set_xlabel("iteration")
    ax_lin.set_title("consistency weight", fontsize=9)
    ax_log.set_yscale("log")
    ratio = np.asarray(curves["weight_official"]) / np.asarray(curves["weight_paper"])
    ax_log.set_title(
        f"log scale: official / paper weight = {ratio.min():.0f} to {ratio.max():.0f}", fontsize=9
    )
    ax_lin.legend(fontsize=8)
    ax_lr.step(t, curves["lr"], where="post", color="k")
    ax_lr.set_yscale("log")
    ax_lr.set_xlabel("iteration")
    ax_lr.set_title("SGD learning rate", fontsize=9)
    if title:
        fig.suptitle(title)
    return save_figure(fig, save)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def read_log(run: str | Path) -> dict[str, np.ndarray]:
    """``<run>/log.csv`` as float columns (a loss a method does not log is NaN)."""
    path = Path(run) / "log.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no training log (has the run started?)")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    return rows_to_columns(rows)


def rows_to_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Log rows (dicts, as ``train(on_log=...)`` passes them) to float columns, NaN where absent."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return {k: np.array([_float(r.get(k)) for r in rows], dtype=np.float64) for k in keys}


def plot_training_log(
    log: Mapping[str, np.ndarray], title: str | None = None, save: str | Path | None = None
) -> Figure:
    """Loss terms against iteration (log scale), and lambda with the lr (right axis)."""
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    ax_loss, ax_lam = fig.subplots(1, 2)
    t = np.asarray(log.get("iteration", np.array([])))
    for key in LOSS_KEYS:
        values = np.asarray(log.get(key, np.full(t.shape, np.nan)))
        if values.size and np.isfinite(values).any():
            ax_loss.plot(t, np.where(values > 0, values, np.nan), marker=".", label=LOSS_NAMES[key])
    if ax_loss.lines:
        ax_loss.set_yscale("log")
        ax_loss.legend(fontsize=8)
    else:
        ax_loss.text(0.5, 0.5, "no log rows yet", ha="center", transform=ax_loss.transAxes)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_title("loss terms (logged every log_every iterations)", fontsize=9)
    lam = np.asarray(log.get("lambda", np.full(t.shape, np.nan)))
    if lam.size and np.isfinite(lam).any():
        ax_lam.plot(t, lam, color="C0", marker=".", label="lambda")
    ax_lam.set_ylabel("lambda", color="C0")
    ax_lam.set_xlabel("iteration")
    lr = np.asarray(log.get("lr", np.full(t.shape, np.nan)))
    if lr.size and np.isfinite(lr).any():
        ax_lr = ax_lam.twinx()
        ax_lr.step(t, lr, where="post", color="k", lw=0.8)
        ax_lr.set_yscale("log")
        ax_lr.set_ylabel("lr")
    ax_lam.set_title("consistency weight lambda and learning rate", fontsize=9)
    if title:
        fig.suptitle(title)
    return save_figure(fig, save)


class LiveTrainingPlot:
    """A ``train(on_log=...)`` callback that keeps the rows and redraws a loss plot in place.

    In Jupyter the plot updates every ``every`` log rows (an IPython display handle); it is a
    convenience only: under papermill or a terminal, plot the finished ``log.csv`` instead
    (:func:`read_log`, :func:`plot_training_log`), which is what the notebooks save.
    """

    def __init__(self, every: int = 5, title: str | None = None):
        if every < 1:
            raise ValueError(f"dtml.viz.training: `every` must be >= 1, got {every}")
        self.every = every
        self.title = title
        self.rows: list[dict[str, Any]] = []
        self._handle = None

    def __call__(self, row: Mapping[str, Any]) -> None:
        self.rows.append(dict(row))
        if len(self.rows) % self.every == 0:
            self.redraw()

    def redraw(self) -> None:
        from IPython.display import display

        fig = plot_training_log(rows_to_columns(self.rows), title=self.title)
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
