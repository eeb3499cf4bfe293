"""Settings: what must be equal for runs to share a table.

A setting is every config field that is not a per-row field (method, seed, ...) or bookkeeping,
plus the data kind and the evaluation: profile, data, grid, split, fidelity, schedule...
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from dtml.report.records import RunRecord

# Config fields that differ between the rows of one table; every other field defines the setting.
ROW_FIELDS = frozenset({"method", "seed", "md_loss", "labeled_count", "unlabeled_bs"})
# Paths, cadence and thread counts change neither the weights nor the evaluation.
BOOKKEEPING_FIELDS = frozenset(
    {"data", "runs_dir", "checkpoint_every", "log_every", "threads", "device"}
)


def setting(record: RunRecord) -> dict[str, Any]:
    """Every config field that is not a per-row field or bookkeeping, plus data kind and eval split.

    Two runs belong to one table only if their settings are equal.
    """
    out = {
        k: v
        for k, v in sorted(record.config.items())
        if k not in ROW_FIELDS and k not in BOOKKEEPING_FIELDS
    }
    out["real_data"] = record.real_data
    out["eval_split"] = record.eval.get("split") if record.eval else None
    out["eval_scored_on"] = _scored_on(record.eval)
    return out


def _scored_on(summary: Mapping[str, Any] | None) -> str | None:
    """Older evaluations scored against labels resampled to the run's grid: not comparable."""
    if summary is None:
        return None
    return "original labels" if "original_spacing_mm" in summary else "run-grid labels"


def setting_id(record: RunRecord) -> str:
    return hashlib.sha1(json.dumps(setting(record), sort_keys=True).encode()).hexdigest()[:8]


def check_same_setting(records: Sequence[RunRecord]) -> None:
    """Raise ValueError naming the runs and fields when ``records`` come from different settings."""
    if not records:
        return
    first = setting(records[0])
    for rec in records[1:]:
        other = setting(rec)
        diff = sorted(k for k in set(first) | set(other) if first.get(k) != other.get(k))
        if diff:
            detail = ", ".join(f"{k}: {first.get(k)!r} vs {other.get(k)!r}" for k in diff)
            raise ValueError(
                f"refusing to mix runs of different settings in one table: "
                f"'{records[0].name}' and '{rec.name}' differ in {detail}; "
                f"select one setting first (report.group_by_setting)"
            )


def _spacing(records: Sequence[RunRecord], key: str = "original_spacing_mm") -> list[float] | None:
    """Mean voxel spacing ``key`` over the records (default: the grid the metrics were computed
    on). Evaluations older than scoring at the original resolution wrote ``spacing_mm`` instead:
    the run's grid, which both metrics and training then used."""
    spacings = []
    for r in records:
        value = (r.eval or {}).get(key) or (r.eval or {}).get("spacing_mm")
        if value:
            spacings.append(value)
    if not spacings:
        return None
    return [round(float(s), 3) for s in np.mean(np.asarray(spacings, dtype=float), axis=0)]


def _fmt_spacing(spacing: Sequence[float] | None) -> str:
    return "x".join(f"{s:g}" for s in spacing) if spacing else "?"


def describe_setting(records: Sequence[RunRecord]) -> str:
    """One line naming profile, data, grid and spacing, split, fidelity and schedule."""
    evaluated = [r for r in records if r.evaluated]
    if not evaluated:
        return "no evaluated runs"
    check_same_setting(evaluated)
    rec = _reference(evaluated)
    c, t = rec.config, rec.train or {}
    data = {True: "real LA data", False: "synthetic phantom", None: "unknown data"}[rec.real_data]
    scored = _fmt_spacing(_spacing(evaluated))
    trained = _fmt_spacing(_spacing(evaluated, "run_grid_spacing_mm"))
    return (
        f"{rec.profile} profile, {data}, trained on grid {c.get('grid')} ({trained} mm voxels), "
        f"scored on {scored} mm voxels, "
        f"{c.get('split')} split ({t.get('labeled', '?')} labeled / {t.get('unlabeled', '?')} "
        f"unlabeled / {t.get('val', '?')} validation), evaluated on '{rec.eval['split']}' "
        f"({len(rec.cases)} cases), {c.get('fidelity')} fidelity, {c.get('iterations')} "
        f"iterations, {c.get('base_filters')} base filters, patch "
        f"{'x'.join(str(p) for p in c.get('patch', []))}, {c.get('precision')}"
        f"{inputs_note(c)}"
    )


def inputs_note(config: dict) -> str:
    """The inputs when they are not the release's stored intensities (the normalisation study:
    ``normalization: volume`` re-z-scores each volume), else nothing."""
    normalization = config.get("normalization", "stored")
    return "" if normalization == "stored" else f", inputs `normalization: {normalization}`"


def _reference(records: Sequence[RunRecord]) -> RunRecord:
    """The run whose split sizes describe the setting: an upper bound (every scan labeled) would
    hide the unlabeled pool the semi-supervised rows draw from."""
    return max(records, key=lambda r: (r.train or {}).get("unlabeled") or 0)


def group_by_setting(records: Iterable[RunRecord]) -> dict[str, list[RunRecord]]:
    """Evaluated records grouped by setting, keyed by a readable description (+ id)."""
    groups: dict[str, list[RunRecord]] = {}
    for rec in records:
        if rec.evaluated:
            groups.setdefault(setting_id(rec), []).append(rec)
    return {f"{describe_setting(g)} [setting {k}]": g for k, g in groups.items()}
