"""Figures for the results notebooks (04-06): per-case scores by method, ours beside the paper.

The paper reports one mean per method and no spread; our runs give a value per case, so each method
gets a box of its per-case values with the paper's mean drawn across it. Every function builds a
``matplotlib.figure.Figure`` without pyplot, saves it as PNG when ``save`` is a path, returns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from dtml.viz.sdf import save_figure

OURS_COLOR = "#1f77b4"
PAPER_COLOR = "#d62728"
# table key -> axis label: what each bar of plot_vs_paper shows, with its unit
KEY_LABELS = {
    "dice": "Dice [%]",
    "jaccard": "Jaccard [%]",
    "asd_mm": "ASD [mm]",
    "hd95_mm": "95HD [mm]",
    "asd_vox": "ASD [voxels of our grid]",
    "hd95_vox": "95HD [voxels of our grid]",
}


SHORT_STATUS = {"not reimplemented": "paper only"}  # bar annotations must fit under a bar


def _short(label: str, width: int = 14) -> str:
    """Break long method labels on spaces so tick labels stay readable."""
    words, lines, line = label.split(" "), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return "\n".join([*lines, line])


def plot_case_scores(
    values: Mapping[str, Sequence[float]],
    paper: Mapping[str, float | None] | None = None,
    notes: Mapping[str, str] | None = None,
    ylabel: str = "Dice [%]",
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """One box per method of its per-case values, the points on top, our mean (black diamond)
    and the paper's mean (red bar; in the legend only when drawn). A method without values shows
    its ``notes`` text instead."""
    if not values:
        raise ValueError("dtml.viz.results: `values` is empty")
    labels = list(values)
    paper = paper or {}
    notes = notes or {}
    fig = Figure(figsize=(max(5.0, 1.35 * len(labels) + 3.5), 4.2), layout="constrained")
    ax = fig.subplots()
    rng = np.random.default_rng(0)  # fixed jitter: the same figure on every run
    finite = [v for vs in values.values() for v in vs] + [
        p for p in paper.values() if p is not None
    ]
    low = min(finite) if finite else 0.0
    for i, label in enumerate(labels):
        v = np.asarray(values[label], dtype=float)
        if v.size:
            ax.boxplot(v, positions=[i], widths=0.5, showfliers=False, manage_ticks=False)
            ax.scatter(
                i + rng.uniform(-0.12, 0.12, v.size), v, s=12, color=OURS_COLOR, alpha=0.6, zorder=3
            )
            ax.scatter([i], [v.mean()], marker="D", color="black", zorder=4, s=30)
        elif label in notes:
            ax.text(i, low, notes[label], ha="center", va="bottom", rotation=90, fontsize=8)
        if paper.get(label) is not None:
            ax.hlines(paper[label], i - 0.32, i + 0.32, color=PAPER_COLOR, linewidth=2.5, zorder=5)
    ax.set_xticks(range(len(labels)), [_short(lb) for lb in labels], fontsize=8)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    handles = [
        ax.scatter([], [], s=12, color=OURS_COLOR, label="ours, per case (mean over seeds)"),
        ax.scatter([], [], marker="D", color="black", s=30, label="ours, mean"),
    ]
    if any(v is not None for v in paper.values()):  # no paper entry where none is drawn
        handles.append(ax.plot([], [], color=PAPER_COLOR, linewidth=2.5, label="paper, mean")[0])
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title, fontsize=10)
    return save_figure(fig, save)


def plot_table_cases(
    rows: Sequence[Mapping[str, Any]],
    values: Mapping[str, Sequence[float]],
    key: str = "dice",
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """:func:`plot_case_scores` of ``report.table`` rows: paper means and statuses from the rows."""
    return plot_case_scores(
        {r["label"]: values.get(r["label"], []) for r in rows},
        paper={r["label"]: r.get(f"paper_{key}") for r in rows},
        notes={r["label"]: r["status"] for r in rows if r["status"] != "ok"},
        ylabel=KEY_LABELS.get(key, key),
        title=title,
        save=save,
    )


def plot_vs_paper(
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str] = ("dice", "jaccard", "asd_mm", "hd95_mm"),
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """One panel per metric: our mean over seeds (error bar: std over seeds, when > 1 seed) beside
    the paper's number, per row of a ``report.table``. Distances in mm (paper: voxels x 0.625).

    A metric cannot be negative, so the lower error bar is clipped at 0 (mean - std would cross
    zero for a spread-out ASD or 95HD); the upper bar is the full std. ``title`` (e.g. naming the
    profile and the data) goes above the panels."""
    if not rows:
        raise ValueError("dtml.viz.results: `rows` is empty")
    bad = [k for k in keys if k not in KEY_LABELS]
    if bad:
        raise ValueError(f"dtml.viz.results: unknown keys {bad}; known: {sorted(KEY_LABELS)}")
    fig = Figure(figsize=(3.2 * len(keys), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(keys)))
    x = np.arange(len(rows))
    for ax, key in zip(axes, keys, strict=True):
        ours = [r.get(f"{key}_seeds_mean") for r in rows]
        # no error bar (NaN) where the std over seeds is undefined (one seed)
        err = [np.nan if r.get(f"{key}_seeds_std") is None else r[f"{key}_seeds_std"] for r in rows]
        theirs = [r.get(f"paper_{key}") for r in rows]
        o = np.array([np.nan if v is None else v for v in ours], dtype=float)
        p = np.array([np.nan if v is None else v for v in theirs], dtype=float)
        upper = np.array(err, dtype=float)
        lower = np.minimum(upper, np.where(np.isnan(o), upper, np.maximum(o, 0.0)))
        yerr = np.vstack([lower, upper])  # clipped at 0 below, full std above
        ax.bar(x - 0.2, o, 0.4, yerr=yerr, color=OURS_COLOR, label="ours", capsize=2)
        ax.bar(x + 0.2, p, 0.4, color=PAPER_COLOR, alpha=0.8, label="paper")
        for i, r in enumerate(rows):
            if ours[i] is None and r.get("status") not in (None, "ok"):
                note = SHORT_STATUS.get(r["status"], r["status"])
                ax.text(i - 0.2, 0, note, rotation=90, ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, [_short(r["label"]) for r in rows], fontsize=7, rotation=90)
        ax.set_title(KEY_LABELS[key], fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="outside upper right", ncols=2)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, save)
