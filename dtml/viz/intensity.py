"""Figures of the release's intensity scale (notebook 00; the input-normalisation study).

The release z-scores each MRI before cropping it around the atrium, so the stored crops differ in
scale. One figure shows that spread per part of the paper's split; the other shows what it does to
a model: per-scan Dice against the scan's stored intensity std.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from dtml.viz.sdf import save_figure

PART_COLORS = {"labeled": "#2ca02c", "unlabeled": "#7f7f7f", "test": "#1f77b4"}


def plot_intensity_scale(
    rows: Sequence[Mapping[str, object]], save: str | Path | None = None
) -> Figure:
    """Stored intensity std of every scan, one column per part (``rows``: case, part, std); the
    dashed line is the lowest std among the labeled scans."""
    parts = [p for p in PART_COLORS if any(r["part"] == p for r in rows)]
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.subplots()
    rng = np.random.default_rng(0)  # horizontal jitter only, so points do not hide each other
    for i, part in enumerate(parts):
        std = np.array([float(r["std"]) for r in rows if r["part"] == part])
        ax.scatter(i + rng.uniform(-0.15, 0.15, std.size), std, s=14, color=PART_COLORS[part])
    floor = min(float(r["std"]) for r in rows if r["part"] == "labeled")
    ax.axhline(floor, ls="--", lw=1, color="k")
    ax.text(-0.45, floor, f"lowest labeled: {floor:.2f}", va="bottom", ha="left", fontsize="small")
    counts = {p: sum(r["part"] == p for r in rows) for p in parts}
    ax.set_xticks(range(len(parts)), [f"{p} ({counts[p]})" for p in parts])
    ax.set_ylabel("stored intensity std (crop)")
    ax.set_title("Intensity scale of the LA release, by part of the paper split")
    return save_figure(fig, save)


def plot_dice_vs_scale(
    scale: Mapping[str, float],
    dice: Mapping[str, Mapping[str, float]],
    floor: float | None = None,
    title: str = "",
    save: str | Path | None = None,
) -> Figure:
    """Per-scan Dice (%) against the scan's stored intensity std, one marker series per model
    (``dice``: model -> case -> Dice %); ``floor`` marks the lowest labeled std."""
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.subplots()
    for (name, values), marker in zip(dice.items(), "os^Dv<>", strict=False):
        cases = [c for c in values if c in scale]
        ax.scatter([scale[c] for c in cases], [values[c] for c in cases], label=name, marker=marker)
    if floor is not None:
        ax.axvline(floor, ls="--", lw=1, color="k", label=f"lowest labeled std {floor:.2f}")
    ax.set_xlabel("stored intensity std of the scan")
    ax.set_ylabel("Dice [%] (mean over seeds)")
    ax.set_ylim(-3, 100)
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title(title)
    return save_figure(fig, save)
