"""The in-memory unit every reader returns: one volume, its optional label and voxel spacing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    """One 3D case, axis order (x, y, z).

    ``image`` is float32, ``label`` is uint8 in {0, 1} or ``None`` for a case used without its
    annotation; ``spacing`` is the voxel size in mm along (x, y, z).
    """

    case_id: str
    image: np.ndarray
    label: np.ndarray | None
    spacing: tuple[float, float, float] = (0.625, 0.625, 0.625)

    def without_label(self) -> Case:
        """The same case with its annotation removed (unlabeled stream: labels cannot leak)."""
        return Case(self.case_id, self.image, None, self.spacing)
