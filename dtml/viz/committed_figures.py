"""The committed real-data Figures 2-3 of the paper (``figures/real/``): three PNGs and
``provenance.json``, written by ``scripts/paper_figures.py`` and shown by notebook 07.

Reading them back needs neither data nor checkpoints: :func:`read_committed_figures` checks the
set, :func:`pending_runs` says which benchmark runs it still waits for, and
:func:`provenance_markdown` says where it comes from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dtml.viz.figures import DTML, SUPERVISED

FIGURE_FILES = ("figure2.png", "figure3_2d.png", "figure3_3d.png")
PROVENANCE_FILE = "provenance.json"


def read_committed_figures(folder: str | Path) -> dict[str, Any] | None:
    """The provenance of the committed figure set in ``folder``; ``None`` when it has none yet.

    A set is ``provenance.json`` plus :data:`FIGURE_FILES`; a provenance without every PNG, or
    one that is not JSON, is an error naming the file.
    """
    folder = Path(folder)
    path = folder / PROVENANCE_FILE
    if not path.is_file():
        return None
    try:
        provenance = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
    missing = [name for name in FIGURE_FILES if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"{path}: the figures {missing} it describes are missing in {folder}")
    return provenance


def pending_runs(results_dir: str | Path, seed: int = 1) -> list[str]:
    """The rows of Fig. 3 (:data:`SUPERVISED`, :data:`DTML`) with no committed, evaluated run of
    ``seed`` under ``results_dir/runs`` (read without data or checkpoints)."""
    from dtml.experiments import TABLES
    from dtml.report.records import committed_records
    from dtml.report.rows import row_records

    records = committed_records(results_dir)
    rows = [r for r in TABLES[3] if r.label in (SUPERVISED, DTML)]
    return [row.label for row in rows if seed not in {r.seed for r in row_records(row, records)}]


def committed_mean_dice(results_dir: str | Path) -> dict[str, float]:
    """Mean Dice (fraction) of each committed, evaluated run under ``results_dir/runs``, by name."""
    from dtml.report.records import committed_records

    return {
        r.name: float(r.eval["metrics_voxel"]["dice"]["mean"])
        for r in committed_records(results_dir)
        if r.evaluated
    }


def provenance_markdown(
    provenance: Mapping[str, Any], committed: Mapping[str, float] | None = None
) -> str:
    """A short paragraph naming where a committed figure set comes from (runs, case, data).

    ``committed``: mean Dice of the committed runs by name (:func:`committed_mean_dice`); a drawn
    run whose committed namesake scores otherwise is named as a retrain of that key (checkpoints
    are never committed, so a figure may need one, e.g. on another machine).
    """
    runs = provenance.get("runs", {})
    names = "; ".join(
        f"{label}: `{run.get('name')}` (trained at `{run.get('train_commit')}` on "
        f"{run.get('train_hardware')}, mean Dice {100 * float(run.get('mean_dice', 0)):.2f} % "
        f"over {run.get('n_cases')} scans)"
        for label, run in runs.items()
    )
    case = provenance.get("case", {})
    dice = ", ".join(f"{k} {100 * float(v):.2f} %" for k, v in case.get("dice", {}).items())
    return (
        f"**'{provenance.get('profile')}' profile, {provenance.get('split')} split, seed "
        f"{provenance.get('seed')}, data `{provenance.get('data_id')}`.** Runs: {names}. "
        f"Case `{case.get('id')}` ({case.get('rule')}); its Dice: {dice} (original grid). "
        f"Drawn at commit `{provenance.get('rendered', {}).get('commit')}` by "
        "`scripts/paper_figures.py`." + _retrains(runs, committed or {})
    )


def _retrains(runs: Mapping[str, Any], committed: Mapping[str, float]) -> str:
    out = ""
    for label, run in runs.items():
        name, drawn = run.get("name"), float(run.get("mean_dice", 0))
        if name in committed and abs(committed[name] - drawn) > 1e-9:
            out += (
                f" The {label} drawn is a retrain of the committed run `{name}` (same key; "
                f"checkpoints are never committed): mean Dice {100 * drawn:.2f} % against "
                f"{100 * committed[name]:.2f} % for the committed run, which the tables use."
            )
    return out
