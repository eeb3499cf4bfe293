"""Figures for the signed-distance notebooks (01: Eq. 1, 02: the k of Eq. 2).

Every function builds a ``matplotlib.figure.Figure`` without pyplot (no global figure state; a
notebook shows it as the cell's value), saves it as PNG when ``save`` is a path, and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from dtml.sdf import OFFICIAL_K, sdf_to_mask, sdf_to_mask_derivative
from dtml.viz.widgets import figure_png

SIGNED_CMAP = "RdBu"  # red (negative) inside, blue (positive) outside, white at the boundary


def save_figure(fig: Figure, save: str | Path | None) -> Figure:
    """Write ``fig`` to ``save`` (parent folders created) when a path is given; return it."""
    if save is not None:
        path = Path(save)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig


def _check_2d(name: str, array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"dtml.viz.sdf: `{name}` must be a 2D slice, got shape {array.shape}")
    return array


def plot_maps(
    maps: Mapping[str, np.ndarray],
    contour: np.ndarray | None = None,
    signed: Sequence[str] = (),
    ncols: int | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """A row (or grid) of 2D maps, one panel per entry, each with its own colour bar.

    Maps named in ``signed`` use a diverging colour map centred on 0 (inside red, outside blue);
    ``contour`` (a 2D mask) is outlined in black on every panel: the zero level set of Eq. (1).
    Arrays are indexed (row, column) = (first axis, second axis) and shown with the origin low.
    """
    if not maps:
        raise ValueError("dtml.viz.sdf: `maps` is empty")
    ncols = ncols or len(maps)
    nrows = -(-len(maps) // ncols)
    fig = Figure(figsize=(3.4 * ncols, 3.1 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax, (name, values) in zip(axes, maps.items(), strict=False):
        values = _check_2d(name, values).astype(np.float64)
        finite = values[np.isfinite(values)]
        if name in signed:
            bound = float(np.max(np.abs(finite))) if finite.size else 1.0
            bound = bound or 1.0
            im = ax.imshow(values.T, origin="lower", cmap=SIGNED_CMAP, vmin=-bound, vmax=bound)
        else:
            im = ax.imshow(values.T, origin="lower", cmap="viridis")
        if contour is not None and np.any(contour) and not np.all(contour):
            ax.contour(_check_2d("contour", contour).T.astype(float), levels=[0.5], colors="k")
        fig.colorbar(im, ax=ax, shrink=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(maps) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return save_figure(fig, save)


def plot_profiles(
    position: np.ndarray,
    curves: Mapping[str, np.ndarray],
    mask: np.ndarray | None = None,
    xlabel: str = "position along the line (voxels)",
    ylabel: str = "value",
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Line profiles (e.g. raw, rescaled and normalised SDFs) with the inside of ``mask`` shaded."""
    fig = Figure(figsize=(7.5, 3.4), layout="constrained")
    ax = fig.subplots()
    if mask is not None:
        inside = np.asarray(mask, dtype=bool)
        ax.fill_between(
            position, 0, 1, where=inside, transform=ax.get_xaxis_transform(), color="0.9"
        )
    for name, values in curves.items():
        ax.plot(position, values, marker=".", label=name)
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return save_figure(fig, save)


def plot_orthogonal_slices(
    volume: np.ndarray,
    mask: np.ndarray,
    center: Sequence[int] | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """The three orthogonal slices of a 3D signed map through ``center`` with the mask outline."""
    volume = np.asarray(volume)
    if volume.ndim != 3 or np.shape(mask) != volume.shape:
        raise ValueError(
            f"dtml.viz.sdf: `volume` and `mask` must be 3D of one shape, got {volume.shape} "
            f"and {np.shape(mask)}"
        )
    if center is None:
        center = [int(round(c.mean())) for c in np.nonzero(mask)] if np.any(mask) else None
        center = center or [s // 2 for s in volume.shape]
    names = ("y-z slice (x = {})", "x-z slice (y = {})", "x-y slice (z = {})")
    maps, outlines = {}, []
    for axis, name in enumerate(names):
        maps[name.format(center[axis])] = np.take(volume, center[axis], axis=axis)
        outlines.append(np.take(mask, center[axis], axis=axis))
    fig = Figure(figsize=(11, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    bound = float(np.max(np.abs(volume))) or 1.0
    for ax, (name, values), outline in zip(axes, maps.items(), outlines, strict=True):
        im = ax.imshow(values.T, origin="lower", cmap=SIGNED_CMAP, vmin=-bound, vmax=bound)
        if outline.any() and not outline.all():
            ax.contour(outline.T.astype(float), levels=[0.5], colors="k", linewidths=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes, shrink=0.8)
    if title:
        fig.suptitle(title)
    return save_figure(fig, save)


def plot_k_sweep(
    sweeps: Mapping[str, Mapping[str, np.ndarray]],
    official_k: float = OFFICIAL_K,
    save: str | Path | None = None,
) -> Figure:
    """Error, soft Dice and gradient of ``sigmoid(-k z)`` against k, one line per ``k_sweep`` run.

    The authors' k is marked; dashed lines are each run's error floor (boundary voxels, z = 0).
    """
    fig = Figure(figsize=(13, 3.6), layout="constrained")
    axes = fig.subplots(1, 4)
    panels = (
        ("mean_abs_error", "mean |sigmoid(-kz) - mask|", "linear"),
        ("soft_dice", "soft Dice (as in L_mask)", "linear"),
        ("mean_abs_grad", "mean |d/dz sigmoid(-kz)|", "log"),
        ("band_fraction", "fraction of voxels with gradient", "log"),
    )
    for name, sweep in sweeps.items():
        for ax, (key, label, yscale) in zip(axes, panels, strict=True):
            (line,) = ax.plot(sweep["k"], sweep[key], label=name)
            if key == "mean_abs_error":
                ax.axhline(float(sweep["error_floor"]), ls="--", color=line.get_color(), lw=0.8)
            ax.set_xscale("log")
            ax.set_yscale(yscale)
            ax.set_xlabel("k")
            ax.set_title(label, fontsize=9)
    for ax in axes:
        ax.axvline(official_k, color="k", ls=":", lw=1.0)
    axes[0].legend(fontsize=8, title=f"dotted: k = {official_k:g}", title_fontsize=8)
    return save_figure(fig, save)


def plot_k_profiles(
    position: np.ndarray,
    z: np.ndarray,
    mask: np.ndarray,
    ks: Sequence[float],
    xlabel: str = "position along the line (voxels)",
    save: str | Path | None = None,
) -> Figure:
    """Along a line: ``sigmoid(-k z)`` and where its gradient lives, ``|d/dz| / (k/4)``, per k.

    The gradient is scaled by its peak k/4 so that every k fits one axis: what matters here is
    where it is non-zero (a band of half-width ~6/k in z around the boundary).
    """
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    ax_mask, ax_grad = fig.subplots(1, 2, sharex=True)
    inside = np.asarray(mask, dtype=bool)
    for ax in (ax_mask, ax_grad):
        ax.fill_between(
            position, 0, 1, where=inside, transform=ax.get_xaxis_transform(), color="0.9"
        )
    for k in ks:
        ax_mask.plot(position, sdf_to_mask(z, k), marker=".", label=f"k = {k:g}")
        ax_grad.plot(position, np.abs(sdf_to_mask_derivative(z, k)) / (k / 4.0), marker=".")
    ax_mask.set_title("sigmoid(-k z) (grey: inside the mask)", fontsize=9)
    ax_grad.set_title("|d/dz sigmoid(-k z)| / (k/4): where gradients flow", fontsize=9)
    for ax in (ax_mask, ax_grad):
        ax.set_xlabel(xlabel)
    ax_mask.legend(fontsize=8)
    return save_figure(fig, save)


def plot_band_width(
    ks: np.ndarray,
    steps: Mapping[str, float],
    rel: float = 0.01,
    official_k: float = OFFICIAL_K,
    save: str | Path | None = None,
) -> Figure:
    """Half-width in z of the gradient band (|d/dz| >= ``rel`` of its peak) against k.

    ``steps`` maps a name to the change of z over one voxel (1 for a raw SDF in voxels, about
    1 / max distance for a normalised one); where the band is narrower than one step, only voxels
    whose z is (nearly) exactly 0 receive a gradient.
    """
    ks = np.asarray(ks, dtype=np.float64)
    # |d/dz| / (k/4) = 1 / cosh^2(k z / 2) >= rel  <=>  |z| <= 2 arccosh(1 / sqrt(rel)) / k
    half_width = 2.0 * np.arccosh(1.0 / np.sqrt(rel)) / ks
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.loglog(ks, half_width, color="k", label=f"band half-width (|grad| >= {rel:g} of peak)")
    for i, (name, step) in enumerate(steps.items()):
        ax.axhline(step, ls="--", lw=1.0, color=f"C{i}", label=f"one voxel: {name} ({step:.3g})")
    ax.axvline(official_k, color="k", ls=":", lw=1.0)
    ax.set_xlabel("k")
    ax.set_ylabel("|z|")
    ax.legend(fontsize=8)
    return save_figure(fig, save)


def plot_k_slice(
    z: np.ndarray,
    mask: np.ndarray,
    k: float = OFFICIAL_K,
    save: str | Path | None = None,
) -> Figure:
    """One 2D slice at one k: the SDF, ``sigmoid(-k z)`` and ``|d/dz|`` (log colour scale)."""
    z = _check_2d("z", z).astype(np.float64)
    grad = np.abs(sdf_to_mask_derivative(z, k))
    maps = {
        "SDF z": z,
        f"sigmoid(-k z), k = {k:g}": sdf_to_mask(z, k),
        f"log10 |d/dz|, k = {k:g} (floor -8)": np.log10(np.maximum(grad, 1e-8)),
    }
    return plot_maps(maps, contour=mask, signed=("SDF z",), save=save)


def k_slider(z: np.ndarray, mask: np.ndarray, k_min: float = 1.0, k_max: float = 5000.0):
    """An ipywidgets slider over log10(k) that redraws :func:`plot_k_slice` (drag it in Jupyter).

    Returns the widget (display it): the slider and a PNG of the figure (see
    ``dtml.viz.widgets`` for why not ``interactive``). It draws once when built, so it also renders
    under papermill; the static figures of the notebook do not depend on it.
    """
    import ipywidgets

    z = _check_2d("z", z)
    if not 0 < k_min < k_max:
        raise ValueError(f"dtml.viz.sdf: need 0 < k_min < k_max, got {k_min}, {k_max}")
    slider = ipywidgets.FloatLogSlider(
        value=min(max(OFFICIAL_K, k_min), k_max),
        base=10,
        min=np.log10(k_min),
        max=np.log10(k_max),
        step=0.05,
        description="k",
        continuous_update=False,
    )
    picture = ipywidgets.Image(format="png")

    def redraw(_=None) -> None:
        picture.value = figure_png(plot_k_slice(z, mask, slider.value))

    slider.observe(redraw, names="value")
    redraw()
    return ipywidgets.VBox([slider, picture])
