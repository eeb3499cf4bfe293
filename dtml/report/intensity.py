"""The per-scan intensity-scale table and the test scans it marks as low-scale (issue 12).

The LA release z-scores each volume before cropping it, so the stored crops differ in intensity
scale. ``results/intensity_scale.csv`` (written by ``scripts/intensity_scale.py``) holds each scan's
stored std and its part of the split; a test scan is *low-scale* when its std lies below that of
every labeled scan: an intensity range the labeled scans never showed the network.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCALE_FILE = "intensity_scale.csv"  # next to the results folders: results/intensity_scale.csv


@dataclass(frozen=True)
class ScaleGroups:
    """The test scans split by stored intensity scale.

    ``floor``/``ceiling``: the lowest/highest stored std among the labeled scans; ``std``: the
    stored std of every test scan; ``low``: the test scans below ``floor`` (lowest first);
    ``other``: the remaining test scans (sorted by id); ``n_labeled``: how many labeled scans.
    """

    floor: float
    ceiling: float
    std: dict[str, float]
    low: tuple[str, ...]
    other: tuple[str, ...]
    n_labeled: int

    @property
    def low_text(self) -> str:
        """``"5 low-scale scans"`` (``"1 low-scale scan"``), as the sentences name the group."""
        return f"{len(self.low)} low-scale scan{'s' * (len(self.low) != 1)}"


def read_scale(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a per-scan intensity table (``case``, ``part``, ``std``, ...), ``std`` as float."""
    with Path(path).open(newline="") as f:
        rows = [{**r, "std": float(r["std"])} for r in csv.DictReader(f)]
    if not rows:
        raise ValueError(f"{path}: no scans")
    return rows


def scale_groups(scale_rows: Iterable[Mapping[str, Any]]) -> ScaleGroups:
    """Low-scale test scans: stored std below the lowest std of the labeled scans."""
    rows = list(scale_rows)
    labeled = [float(r["std"]) for r in rows if r["part"] == "labeled"]
    std = {str(r["case"]): float(r["std"]) for r in rows if r["part"] == "test"}
    if not labeled or not std:
        raise ValueError("scale_groups: needs labeled and test scans")
    floor = min(labeled)
    low = tuple(sorted((c for c, s in std.items() if s < floor), key=lambda c: (std[c], c)))
    other = tuple(sorted(c for c in std if c not in low))
    return ScaleGroups(floor, max(labeled), std, low, other, len(labeled))


def low_scale_sentence(groups: ScaleGroups) -> str:
    """Which test scans are low-scale, and why."""
    scans = ", ".join(f"{c[:8]}… {groups.std[c]:.2f}" for c in groups.low)
    return (
        f"Low-scale scans: the {len(groups.low)} test scans whose stored intensity std lies below "
        f"{groups.floor:.2f}, the lowest of the {groups.n_labeled} labeled scans (labeled range "
        f"{groups.floor:.2f}-{groups.ceiling:.2f}, `results/{SCALE_FILE}`): {scans}."
    )
