"""Looking at 3D cases: orthogonal slices with the mask outline, a slice viewer, a 3D surface.

Every plotting function builds a ``matplotlib.figure.Figure`` without pyplot (no global figure
state; a notebook shows it as the cell's value), saves it as PNG when ``save`` is a path, and
returns it. Volumes are indexed (x, y, z); a slice is drawn with its first remaining axis to the
right and the second one up, with the aspect ratio of the voxel ``spacing``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import LightSource
from matplotlib.figure import Figure

from dtml.viz.sdf import save_figure

AXIS_NAMES = ("x", "y", "z")
CONTOUR_COLOR = "#ff3b30"


def _check_volume(image: np.ndarray, label: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"dtml.viz.slices: `image` must be 3D (x, y, z), got {image.shape}")
    if label is None:
        return image, np.zeros(image.shape, bool)
    label = np.asarray(label)
    if label.shape != image.shape:
        raise ValueError(
            f"dtml.viz.slices: `label` shape {label.shape} != `image` shape {image.shape}"
        )
    return image, label.astype(bool)


def _check_spacing(spacing: Sequence[float]) -> tuple[float, float, float]:
    spacing = tuple(float(s) for s in spacing)
    if len(spacing) != 3 or min(spacing) <= 0:
        raise ValueError(f"dtml.viz.slices: `spacing` must be 3 positive sizes, got {spacing}")
    return spacing  # type: ignore[return-value]


def label_center(label: np.ndarray | None, shape: Sequence[int]) -> tuple[int, int, int]:
    """The (rounded) centroid of the label, or the volume's centre when there is none."""
    if label is not None and np.any(label):
        return tuple(int(round(c.mean())) for c in np.nonzero(label))  # type: ignore[return-value]
    return tuple(int(s) // 2 for s in shape)  # type: ignore[return-value]


def _window(image: np.ndarray) -> tuple[float, float]:
    """Display range: the 0.5-99.5 % intensity percentiles (robust to a few hot voxels)."""
    flat = np.asarray(image).ravel()
    sample = flat[:: max(1, flat.size // 200_000)]  # a strided sample is enough for percentiles
    lo, hi = (float(p) for p in np.percentile(sample, [0.5, 99.5]))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def draw_slice(
    ax,
    image: np.ndarray,
    label: np.ndarray | None,
    axis: int,
    index: int,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    window: tuple[float, float] | None = None,
) -> None:
    """One slice of ``image`` (perpendicular to ``axis``) on ``ax``, the label outlined in red."""
    image, mask = _check_volume(image, label)
    spacing = _check_spacing(spacing)
    if axis not in (0, 1, 2) or not 0 <= index < image.shape[axis]:
        raise ValueError(f"dtml.viz.slices: slice {index} of axis {axis} outside {image.shape}")
    h, v = [a for a in range(3) if a != axis]
    lo, hi = window or _window(image)
    ax.imshow(
        np.take(image, index, axis=axis).T,
        origin="lower",
        cmap="gray",
        vmin=lo,
        vmax=hi,
        aspect=spacing[v] / spacing[h],
        interpolation="nearest",
    )
    outline = np.take(mask, index, axis=axis)
    if outline.any() and not outline.all():
        ax.contour(outline.T.astype(float), levels=[0.5], colors=CONTOUR_COLOR, linewidths=0.9)
    ax.set_xlabel(AXIS_NAMES[h], fontsize=8)
    ax.set_ylabel(AXIS_NAMES[v], fontsize=8)
    ax.tick_params(labelsize=7)


def orthogonal_slices(
    image: np.ndarray,
    label: np.ndarray | None = None,
    center: Sequence[int] | None = None,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """The y-z, x-z and x-y slices through ``center`` (default: the label's centroid)."""
    image, mask = _check_volume(image, label)
    center = tuple(center) if center is not None else label_center(mask, image.shape)
    window = _window(image)
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    for axis, ax in enumerate(fig.subplots(1, 3)):
        draw_slice(ax, image, mask, axis, int(center[axis]), spacing, window)
        ax.set_title(f"{AXIS_NAMES[axis]} = {center[axis]}", fontsize=9)
    if title:
        fig.suptitle(title)
    return save_figure(fig, save)


def slice_montage(
    image: np.ndarray,
    label: np.ndarray | None = None,
    axis: int = 2,
    n: int = 8,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """``n`` evenly spaced slices along ``axis`` through the label's extent (static viewer)."""
    image, mask = _check_volume(image, label)
    if n < 1:
        raise ValueError(f"dtml.viz.slices: `n` must be >= 1, got {n}")
    others = tuple(a for a in range(3) if a != axis)
    present = np.flatnonzero(mask.any(axis=others)) if mask.any() else None
    lo, hi = (present[0], present[-1]) if present is not None else (0, image.shape[axis] - 1)
    indices = np.unique(np.linspace(lo, hi, n).round().astype(int))
    ncols = min(len(indices), 4)
    nrows = -(-len(indices) // ncols)
    fig = Figure(figsize=(3.3 * ncols, 3.0 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    window = _window(image)
    for ax, index in zip(axes, indices, strict=False):
        draw_slice(ax, image, mask, axis, int(index), spacing, window)
        ax.set_title(f"{AXIS_NAMES[axis]} = {index}", fontsize=9)
    for ax in axes[len(indices) :]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return save_figure(fig, save)


def _slice_png(image, mask, axis, index, spacing, window) -> bytes:
    fig = Figure(figsize=(5, 4.2), layout="constrained")
    ax = fig.subplots()
    draw_slice(ax, image, mask, axis, index, spacing, window)
    ax.set_title(f"{AXIS_NAMES[axis]} = {index}", fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def slice_viewer(
    image: np.ndarray,
    label: np.ndarray | None = None,
    axis: int = 2,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
):
    """An ipywidgets viewer: an axis selector and a slice slider over a PNG of the slice.

    Returns the widget (display it). It renders once when built and never blocks, so it also
    runs under papermill; pair it with a static figure (:func:`slice_montage`) in notebooks.
    """
    import ipywidgets

    image, mask = _check_volume(image, label)
    spacing = _check_spacing(spacing)
    window = _window(image)
    center = label_center(mask, image.shape)
    axis_box = ipywidgets.Dropdown(
        options=[(f"{n} (slices ⟂ {n})", a) for a, n in enumerate(AXIS_NAMES)],
        value=axis,
        description="axis",
    )
    slider = ipywidgets.IntSlider(
        value=center[axis],
        min=0,
        max=image.shape[axis] - 1,
        description="slice",
        continuous_update=True,
    )
    picture = ipywidgets.Image(format="png")

    def redraw(_=None) -> None:
        picture.value = _slice_png(image, mask, axis_box.value, slider.value, spacing, window)

    def change_axis(_=None) -> None:
        slider.unobserve(redraw, names="value")
        slider.max = image.shape[axis_box.value] - 1
        slider.value = center[axis_box.value]
        slider.observe(redraw, names="value")
        redraw()

    slider.observe(redraw, names="value")
    axis_box.observe(change_axis, names="value")
    redraw()
    return ipywidgets.VBox([ipywidgets.HBox([axis_box, slider]), picture])


def mesh_or_none(
    label: np.ndarray,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    step_size: int = 1,
    smooth: float = 0.0,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Marching-cubes surface of a 3D mask at the 0.5 level: (vertices in mm, faces), or ``None``
    when there is nothing to draw (an empty mask, or a speck that the ``smooth`` blur dissolved).

    The volume is zero-padded (2 voxels when smoothing) so that objects touching the border come
    out closed; ``smooth`` > 0 blurs the mask first (Gaussian sigma in voxels) to hide the voxel
    staircase, moving the surface by about a voxel at most.
    """
    from scipy import ndimage
    from skimage.measure import marching_cubes

    mask = np.asarray(label).astype(np.float32)
    if mask.ndim != 3:
        raise ValueError(f"dtml.viz.slices: need a 3D label, got shape {mask.shape}")
    spacing = _check_spacing(spacing)
    pad = 2 if smooth > 0 else 1
    padded = np.pad(mask, pad)
    if smooth > 0:
        padded = ndimage.gaussian_filter(padded, smooth)
    if padded.max() <= 0.5:
        return None
    verts, faces, _, _ = marching_cubes(
        padded, level=0.5, spacing=spacing, step_size=max(int(step_size), 1)
    )
    return verts - np.asarray(spacing) * pad, faces


def surface_mesh(
    label: np.ndarray,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    step_size: int = 1,
    smooth: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mesh_or_none` for a label that must have a surface (raises otherwise)."""
    mesh = mesh_or_none(label, spacing, step_size, smooth)
    if mesh is None:
        raise ValueError(
            f"dtml.viz.slices: need a non-empty 3D label (not too thin for smooth={smooth})"
        )
    return mesh


def surface_3d(
    label: np.ndarray,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    step_size: int = 2,
    smooth: float = 1.0,
    color: str = "#d9544d",
    view: tuple[float, float] = (25.0, -60.0),
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """A shaded 3D rendering of the label's surface (marching cubes + Poly3DCollection).

    ``step_size`` > 1 coarsens the mesh (faster to draw); ``smooth`` is a display-only blur.
    """
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    verts, faces = surface_mesh(label, spacing, step_size, smooth)
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    mesh = Poly3DCollection(
        verts[faces],
        shade=True,
        facecolors=color,
        lightsource=LightSource(azdeg=225, altdeg=45),
        linewidths=0,
    )
    ax.add_collection3d(mesh)
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_zlim(lo[2], hi[2])
    ax.set_box_aspect(np.maximum(hi - lo, 1e-6))
    ax.view_init(elev=view[0], azim=view[1])
    ax.set_xlabel("x (mm)", fontsize=8)
    ax.set_ylabel("y (mm)", fontsize=8)
    ax.set_zlabel("z (mm)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title or f"label surface: {len(faces):,} triangles", fontsize=10)
    return save_figure(fig, save)


def compare_cases(
    cases: Mapping[str, tuple[np.ndarray, np.ndarray | None]],
    spacings: Mapping[str, Sequence[float]] | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """One row of orthogonal slices per named case (e.g. a real case beside a phantom)."""
    if not cases:
        raise ValueError("dtml.viz.slices: `cases` is empty")
    spacings = spacings or {}
    fig = Figure(figsize=(12, 3.4 * len(cases)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(cases), 3))
    for row, (name, (image, label)) in zip(axes, cases.items(), strict=True):
        image, mask = _check_volume(image, label)
        center = label_center(mask, image.shape)
        window = _window(image)
        for axis, ax in enumerate(row):
            draw_slice(ax, image, mask, axis, center[axis], spacings.get(name, (1, 1, 1)), window)
            ax.set_title(f"{name}: {AXIS_NAMES[axis]} = {center[axis]}", fontsize=9)
    if title:
        fig.suptitle(title)
    return save_figure(fig, save)


def intensity_histograms(
    cases: Mapping[str, tuple[np.ndarray, np.ndarray]],
    bins: int = 100,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Per named case, the intensity histograms inside and outside the label (one panel each).

    Each class is normalised on its own: a bar is the fraction of that class's voxels falling in
    the bin, so the small label and the large background are comparable on one axis."""
    if not cases:
        raise ValueError("dtml.viz.slices: `cases` is empty")
    fig = Figure(figsize=(4.2 * len(cases), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(cases)))
    for ax, (name, (image, label)) in zip(axes, cases.items(), strict=True):
        image, mask = _check_volume(image, label)
        edges = np.linspace(*np.percentile(image, [0.1, 99.9]), bins + 1)
        for values, text, color in (
            (image[~mask], "background", "0.4"),
            (image[mask], "label", CONTOUR_COLOR),
        ):
            weights = np.full(values.size, 1.0 / values.size)
            ax.hist(values, edges, weights=weights, alpha=0.6, label=text, color=color)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("intensity (z-score)", fontsize=8)
        ax.set_ylabel("fraction of the class's voxels", fontsize=8)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return save_figure(fig, save)


def plot_case_statistics(
    stats: Sequence[Mapping[str, object]],
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Data-set overview from per-case rows with keys ``shape``, ``fg_fraction``, ``fg_mean``
    and ``bg_mean``: volume sizes, foreground fractions and the intensity contrast per case."""
    if not stats:
        raise ValueError("dtml.viz.slices: `stats` is empty")
    shapes = np.array([row["shape"] for row in stats], dtype=float)
    fraction = np.array([row["fg_fraction"] for row in stats], dtype=float)
    fg_mean = np.array([row["fg_mean"] for row in stats], dtype=float)
    bg_mean = np.array([row["bg_mean"] for row in stats], dtype=float)
    fig = Figure(figsize=(13, 3.4), layout="constrained")
    ax_size, ax_frac, ax_int = fig.subplots(1, 3)
    unique = np.unique(shapes, axis=0)
    if len(unique) == 1:  # one dot would hide that every case shares it: say so instead
        w, h, d = (int(v) for v in unique[0])
        ax_size.text(
            0.5,
            0.5,
            f"all {len(stats)} cases:\n{w} x {h} x {d} voxels",
            ha="center",
            va="center",
            fontsize=11,
            transform=ax_size.transAxes,
        )
        ax_size.set_axis_off()
        ax_size.set_title("volume sizes (x x y x z)", fontsize=9)
    else:
        ax_size.scatter(shapes[:, 0], shapes[:, 1], c=shapes[:, 2], cmap="viridis", s=18)
        ax_size.set_xlabel("size x (voxels)")
        ax_size.set_ylabel("size y (voxels)")
        depths = ", ".join(str(int(d)) for d in np.unique(shapes[:, 2]))
        ax_size.set_title(f"volume sizes (z: {depths})", fontsize=9)
    ax_frac.hist(100 * fraction, bins=min(20, len(stats)), color="0.5")
    ax_frac.set_xlabel("foreground (% of voxels)")
    ax_frac.set_title(f"median {100 * np.median(fraction):.1f} %", fontsize=9)
    order = np.argsort(fg_mean - bg_mean)
    ax_int.plot(fg_mean[order], "o", ms=3, color=CONTOUR_COLOR, label="label mean")
    ax_int.plot(bg_mean[order], "o", ms=3, color="0.4", label="background mean")
    ax_int.set_xlabel("case (sorted by contrast)")
    ax_int.set_ylabel("intensity (z-score)")
    ax_int.legend(fontsize=8)
    ax_int.set_title("label vs background intensity", fontsize=9)
    if title:
        fig.suptitle(title)
    return save_figure(fig, save)
