"""Interactive views that are safe under papermill: a PNG in an ``ipywidgets.Image``.

``ipywidgets.interactive`` and ``Output`` + ``clear_output(wait=True)`` route figures through
widget-captured output messages, which nbclient can wait on forever in headless runs (observed in
CI; nbclient#312, papermill#723). An Image widget whose ``value`` is replaced is plain widget state.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """The figure as PNG bytes (for an ``ipywidgets.Image``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
