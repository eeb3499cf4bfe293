"""The input-normalisation study's figure: per-scan Dice against the scan's stored intensity scale.

One panel per normalization (``stored`` | ``volume``), one marker series per model (lower bound,
DTML), x = the stored intensity std of the test scan (a property of the scan, the same in both
panels), the labeled scans' std range shaded. Works with partial data: it draws the runs that
exist and names in each panel's title what it still waits for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from dtml.report.sentences import seeds_text
from dtml.viz.sdf import save_figure

SERIES = (  # (row label, legend name, marker, colour)
    ("V-Net (lower bound)", "V-Net lower bound", "o", "#1f77b4"),
    ("DTML", "DTML", "^", "#d62728"),
)


def plot_dice_by_scale(
    case_dice: Mapping[str, Mapping[str, Mapping[str, float]]],
    scale: Mapping[str, float],
    labeled_range: tuple[float, float],
    waiting: Mapping[str, Sequence[str]] | None = None,
    panels: Sequence[str] = ("stored", "volume"),
    series: Sequence[tuple[str, str, str, str]] = SERIES,
    title: str = "",
    save: str | Path | None = None,
) -> Figure:
    """Per-scan Dice (%) against stored std, one panel per normalization in ``panels``.

    ``case_dice``: normalization -> row label -> case -> Dice % (cases without a scale are left
    out); ``scale``: case -> stored std; ``labeled_range``: (lowest, highest) std of the labeled
    scans, shaded; ``waiting``: normalization -> what that panel still waits for (named in its
    title); ``series``: (row label, legend name, marker, colour) of the rows drawn.
    """
    waiting = waiting or {}
    fig = Figure(figsize=(4.2 * len(panels), 4.0), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    xs = list(scale.values())
    for ax, norm in zip(axes, panels, strict=True):
        ax.axvspan(*labeled_range, color="0.85", zorder=0, label="labeled scans' std range")
        drawn = 0
        for label, name, marker, color in series:
            values = case_dice.get(norm, {}).get(label, {})
            cases = [c for c in sorted(values) if c in scale]
            if cases:
                ax.scatter(
                    [scale[c] for c in cases],
                    [values[c] for c in cases],
                    marker=marker,
                    color=color,
                    label=name,
                    zorder=2,
                )
                drawn += 1
        if not drawn:
            ax.text(0.5, 0.5, "no runs yet", transform=ax.transAxes, ha="center", va="center")
        missing = [w for w in waiting.get(norm, []) if w]
        lines = [
            f"{norm} inputs",
            *(["waiting for: " + missing[0], *missing[1:]] if missing else []),
        ]
        ax.set_title("\n".join(lines), fontsize=9)
        ax.set_xlabel("stored intensity std of the test scan")
        if xs:
            pad = 0.05 * (max(xs) - min(xs) or 1.0)
            ax.set_xlim(min(min(xs), labeled_range[0]) - pad, max(max(xs), labeled_range[1]) + pad)
        ax.set_ylim(-3, 100)
        ax.legend(fontsize="small", loc="lower right")
    axes[0].set_ylabel("Dice [%] (mean over seeds)")
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, save)


def plot_normalization_study(study, save: str | Path | None = None) -> Figure:
    """:func:`plot_dice_by_scale` of a :class:`dtml.report.normalization.NormalizationStudy`: the
    lower bound and DTML, each panel naming the runs it still waits for."""
    names = {label: name for label, name, *_ in SERIES}
    waiting: dict[str, list[str]] = {}
    for row in study.rows:
        if row["label"] in names and row["missing_seeds"]:
            text = f"{names[row['label']]} {seeds_text(row['missing_seeds'].split(';'))}"
            waiting.setdefault(row["normalization"], []).append(text)
    g = study.groups
    title = (
        f"Per-scan Dice on the {len(g.std)} test scans vs stored intensity scale "
        f"({len(g.low)} below the labeled range)"
    )
    return plot_dice_by_scale(
        study.case_dice, g.std, (g.floor, g.ceiling), waiting, title=title, save=save
    )
