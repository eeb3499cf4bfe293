"""What the case figures share: Fig. 2 and Fig. 3 of the paper (:mod:`dtml.viz.figures`,
:mod:`dtml.viz.surfaces`) and the case viewer (:mod:`dtml.viz.viewer`).

Volumes are (x, y, z) arrays; an "axial" panel is a slice along z drawn with x to the right and
y up (``imshow`` with ``origin="lower"``). The ground truth is always green; each method gets the
next colour of :data:`METHOD_COLORS`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MASK_COLORS = {"ground truth": "limegreen"}
METHOD_COLORS = ("#1f77b4", "#d62728", "#9467bd", "#ff7f0e")


def check_volume(name: str, array: np.ndarray, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``array`` as a 3D (x, y, z) array (of ``shape`` when given); ValueError naming ``name``."""
    array = np.asarray(array)
    if array.ndim != 3:
        raise ValueError(
            f"dtml.viz.panels: `{name}` must be a 3D (x, y, z) array, got {array.shape}"
        )
    if shape is not None and array.shape != shape:
        raise ValueError(f"dtml.viz.panels: `{name}` has shape {array.shape}, expected {shape}")
    return array


def method_colors(names: Sequence[str]) -> dict[str, str]:
    """{name: colour}, :data:`METHOD_COLORS` in turn (cycling)."""
    return {n: METHOD_COLORS[i % len(METHOD_COLORS)] for i, n in enumerate(names)}


def axial(volume: np.ndarray, z: int, box: tuple[slice, slice]) -> np.ndarray:
    """The in-plane ``box`` of slice ``z`` as (y, x), for ``imshow`` with ``origin="lower"``."""
    return np.asarray(volume)[box[0], box[1], z].T


def outline(ax, mask2d: np.ndarray, color: str, lw: float = 1.0) -> None:
    """The 0.5 contour of a 2D mask on ``ax``; nothing when the mask is empty or full."""
    mask2d = np.asarray(mask2d, dtype=float)
    if mask2d.any() and not mask2d.all():
        ax.contour(mask2d, levels=[0.5], colors=color, linewidths=lw)


def bare(ax) -> None:
    """No ticks on ``ax`` (image panels)."""
    ax.set_xticks([])
    ax.set_yticks([])
