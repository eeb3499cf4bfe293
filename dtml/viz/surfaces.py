"""Fig. 3 (3D) of the paper: shaded surfaces of segmentation masks, side by side.

Surfaces are the 0.5 level set of each mask (``skimage.measure.marching_cubes`` through
:func:`dtml.viz.slices.mesh_or_none`, vertices in mm), drawn with matplotlib's
``Poly3DCollection`` and a fixed light, so the figure needs no 3D viewer. The plot builds a
``matplotlib.figure.Figure`` without pyplot, saves it as PNG when ``save`` is a path, and
returns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mpl_toolkits.mplot3d.art3d import Poly3DCollection

from dtml.viz.panels import MASK_COLORS, check_volume, method_colors
from dtml.viz.sdf import save_figure
from dtml.viz.slices import mesh_or_none


def surface_mesh(
    mask: np.ndarray,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    step: int = 1,
    smooth: float = 0.0,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(vertices in mm, triangles) of the 0.5 level set of ``mask``; ``None`` when there is nothing
    to draw (see :func:`dtml.viz.slices.mesh_or_none`, the one implementation)."""
    return mesh_or_none(check_volume("mask", mask), spacing, step, smooth)


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
        raise ValueError("dtml.viz.surfaces: `masks` is empty")
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
        raise ValueError("dtml.viz.surfaces: `masks` is empty")
    if crop_margin is not None:
        box = volume_box([check_volume(n, m) for n, m in masks.items()], crop_margin)
        masks = {name: np.asarray(m)[box] for name, m in masks.items()}
    meshes = {name: surface_mesh(m, spacing, step, smooth) for name, m in masks.items()}
    colors = {**method_colors(list(masks)), **MASK_COLORS}
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
