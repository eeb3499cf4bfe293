"""The case viewer of notebook 07: a case dropdown and an axial-slice slider over any evaluated
scan, showing the image with the masks outlined next to maps such as M_s's probability and M_d's
distance map (what the paper's Fig. 2 shows on a few fixed slices).

Each slice is drawn as a PNG into an ``ipywidgets.Image`` (see :mod:`dtml.viz.widgets`), so the
viewer also executes headless under papermill.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from dtml.viz.panels import MASK_COLORS, axial, bare, check_volume, method_colors, outline
from dtml.viz.sdf import SIGNED_CMAP


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
        raise ValueError("dtml.viz.viewer: `data` needs an 'image' entry")
    image = check_volume("image", data["image"])
    if not 0 <= z < image.shape[2]:
        raise ValueError(f"dtml.viz.viewer: slice z = {z} outside 0..{image.shape[2] - 1}")
    missing = [n for n in (*contours, *panels) if n not in data]
    if missing:
        raise ValueError(f"dtml.viz.viewer: `data` has no entries {missing}")
    full = (slice(None), slice(None))
    colors = {**method_colors([c for c in contours if c not in MASK_COLORS]), **MASK_COLORS}
    fig = Figure(figsize=(3.6 * (1 + len(panels)), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, 1 + len(panels)))
    axes[0].imshow(axial(image, z, full), origin="lower", cmap="gray")
    for name in contours:
        outline(axes[0], axial(check_volume(name, data[name], image.shape), z, full), colors[name])
        axes[0].plot([], [], color=colors[name], label=name)
    if contours:
        axes[0].legend(fontsize=7, loc="upper right")
    axes[0].set_title(title or f"z = {z}", fontsize=9)
    for ax, name in zip(axes[1:], panels, strict=True):
        values = axial(check_volume(name, data[name], image.shape), z, full)
        if name in signed:
            bound = float(np.max(np.abs(values))) or 1.0
            im = ax.imshow(values, origin="lower", cmap=SIGNED_CMAP, vmin=-bound, vmax=bound)
        else:
            im = ax.imshow(values, origin="lower", cmap="viridis", vmin=0, vmax=1)
        fig.colorbar(im, ax=ax, shrink=0.8)
        ax.set_title(name, fontsize=9)
    for ax in axes:
        bare(ax)
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
        raise ValueError("dtml.viz.viewer: `case_ids` is empty")
    loaded: dict[str, Mapping[str, np.ndarray]] = {}

    def get(case_id: str) -> Mapping[str, np.ndarray]:
        if case_id not in loaded:
            loaded[case_id] = load(case_id)
        return loaded[case_id]

    initial = case_ids[0] if initial is None else initial
    if initial not in case_ids:
        raise ValueError(f"dtml.viz.viewer: `initial` {initial!r} is not one of `case_ids`")
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
