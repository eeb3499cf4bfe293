"""Tables 1-3 of the paper from run records: our numbers beside the paper's, with provenance.

Dice and Jaccard are in %, ASD and 95HD in voxels of the grid the metrics were computed on
(``dtml.evaluate`` scores against the original labels: the data's own grid, LA 0.625 mm, whatever
grid the run trained on) AND in mm. The paper's distances are voxels of the 0.625 mm LA grid
(Sec. 4.1): differences (ours - paper) of distances are always given in mm, and in voxels only when
our evaluation voxels are the paper's. The coarse-grid metrics ``dtml.evaluate`` keeps as a
secondary column (``*_grid``) are carried as ``*_run_grid`` columns (CSV/JSON only). A table never
mixes settings: :func:`table` raises instead, and :func:`tables_by_setting` makes one per setting.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dtml.experiments import TABLES, Row, paper_table
from dtml.methods import get_method
from dtml.report.hardware import run_hardware
from dtml.report.records import GRID_COLUMNS, RunRecord
from dtml.report.rows import matches, row_records
from dtml.report.settings import (
    _fmt_spacing,
    _reference,
    _spacing,
    check_same_setting,
    describe_setting,
    inputs_note,
    setting_id,
)
from dtml.report.stats import aggregate, per_case

PAPER_SPACING_MM = 0.625  # the LA release's isotropic voxel (Sec. 4.1): the paper's "voxel"
NOT_RUN = "not run"
NOT_REIMPLEMENTED = "not reimplemented"
# (table key, case column, scale): Dice/Jaccard in %, distances in voxels and mm
MEASURES = (
    ("dice", "dice", 100.0),
    ("jaccard", "jaccard", 100.0),
    ("asd_vox", "asd", 1.0),
    ("asd_mm", "asd_mm", 1.0),
    ("hd95_vox", "hd95", 1.0),
    ("hd95_mm", "hd95_mm", 1.0),
)


def _paper_values(entry: Mapping[str, Any] | None) -> dict[str, float | None]:
    if entry is None:
        return {k: None for k in ("dice", "jaccard", "asd_vox", "asd_mm", "hd95_vox", "hd95_mm")}
    return {
        "dice": entry["dice"],
        "jaccard": entry["jaccard"],
        "asd_vox": entry["asd_voxel"],
        "asd_mm": entry["asd_voxel"] * PAPER_SPACING_MM,
        "hd95_vox": entry["hd95_voxel"],
        "hd95_mm": entry["hd95_voxel"] * PAPER_SPACING_MM,
    }


def _provenance_columns(found: Sequence[RunRecord]) -> dict[str, Any]:
    first = found[0]
    commits = sorted({r.train.get("commit", "?") for r in found if r.train})
    hardware = sorted({h for r in found if r.train for h in run_hardware(r.train)})
    return {
        "profile": first.profile,
        "real_data": first.real_data,
        "grid": first.config.get("grid"),
        "run_grid_spacing_mm": _fmt_spacing(_spacing(found, "run_grid_spacing_mm")),
        "eval_spacing_mm": _fmt_spacing(_spacing(found)),
        "split": first.config.get("split"),
        "eval_split": first.eval["split"],
        "mode": first.eval.get("mode"),
        "fidelity": first.config.get("fidelity"),
        "commits": ";".join(commits),
        "hardware": ";".join(hardware),
        "wall_s_per_run": ";".join(f"{r.train['wall_seconds']:g}" for r in found),
        "runs": ";".join(r.name for r in found),
    }


def table(
    table_no: int,
    records: Iterable[RunRecord],
    paper: bool = True,
    rows: Sequence[Row] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One dict per row of the paper's Table ``table_no`` (or of ``rows``, e.g. plus EXTRA_ROWS).

    ``status`` is "ok", "not run" (no evaluated run matches the row) or "not reimplemented"
    (the paper's number only). ``overrides``: the per-row config overrides the runs were trained
    with beyond their profile (as given to ``run_rows``). Raises ValueError if the evaluated
    records come from more than one setting.
    """
    if rows is None:
        if table_no not in TABLES:
            raise ValueError(f"table_no must be one of {sorted(TABLES)}, got {table_no}")
        rows = TABLES[table_no]
    evaluated = [r for r in records if r.evaluated]
    check_same_setting(evaluated)
    reported = {p["method"]: p for p in paper_table(table_no)} if paper else {}
    out = []
    for row in rows:
        entry = reported.get(row.label)
        result: dict[str, Any] = {"table": table_no, "label": row.label, "method": row.method}
        found = row_records(row, evaluated, overrides) if row.reimplemented else []
        if not row.reimplemented:
            result["status"] = NOT_REIMPLEMENTED
        else:
            result["status"] = "ok" if found else NOT_RUN
        if found:
            t = found[0].train
            uses_unlabeled = get_method(row.method).uses_unlabeled
            result["labeled"] = t.get("labeled")
            result["unlabeled"] = t.get("unlabeled") if uses_unlabeled else 0
        else:
            result["labeled"] = result["unlabeled"] = None
        if paper:
            result["paper_labeled"] = entry["labeled"] if entry else None
            result["paper_unlabeled"] = entry["unlabeled"] if entry else None
        result["n_seeds"] = len(found)
        result["seeds"] = ";".join(str(r.seed) for r in found)
        result["n_cases"] = len(per_case(found)) if found else 0
        result["n_case_values"] = sum(len(r.cases) for r in found)
        result["n_zero_dice"] = sum(c["dice"] == 0 for r in found for c in r.cases)
        values = _paper_values(entry)
        for key, column, scale in MEASURES:
            stats = (
                aggregate(found, column, scale)
                if found
                else dict.fromkeys(("seeds_mean", "seeds_std", "cases_mean", "cases_std"))
            )
            for stat, value in stats.items():
                result[f"{key}_{stat}"] = value
            if paper:
                result[f"paper_{key}"] = values[key]
        for column in GRID_COLUMNS:
            if found and all(column in c for r in found for c in r.cases):
                scale = 100.0 if column in ("dice_grid", "jaccard_grid") else 1.0
                stats = aggregate(found, column, scale)
                key = column.replace("_grid", "_run_grid")
                result[f"{key}_seeds_mean"] = stats["seeds_mean"]
                result[f"{key}_seeds_std"] = stats["seeds_std"]
        if paper:
            spacing = _spacing(found) if found else None
            same_grid = spacing is not None and all(
                math.isclose(s, PAPER_SPACING_MM, rel_tol=0.01) for s in spacing
            )
            for key in ("dice", "jaccard", "asd_mm", "hd95_mm", "asd_vox", "hd95_vox"):
                ours, theirs = result[f"{key}_seeds_mean"], values[key]
                comparable = key not in ("asd_vox", "hd95_vox") or same_grid
                ok = ours is not None and theirs is not None and comparable
                result[f"diff_{key}"] = ours - theirs if ok else None
        if found:
            result.update(_provenance_columns(found))
        out.append(result)
    return out


def variant_tag(run: Mapping[str, Any], runs: Mapping[str, Mapping[str, Any]]) -> str:
    """What tells ``run`` from the same method's other ``runs`` (entries of :func:`provenance`'s
    ``runs``): `` (64 labeled)`` for another labeled count, `` (L_dis+L_mask)`` for another M_d
    loss (Table 1's rows are all ``dtml``), both when both differ; ``""`` when nothing does."""
    same = [v for v in runs.values() if v["method"] == run["method"]]
    parts = []
    if len({v.get("labeled") for v in same}) > 1:
        parts.append(f"{run.get('labeled')} labeled")
    if len({v.get("md_loss", "mask") for v in same}) > 1:
        parts.append("+".join(f"L_{term}" for term in run.get("md_loss", "mask").split("+")))
    return f" ({', '.join(parts)})" if parts else ""


def provenance(records: Iterable[RunRecord]) -> dict[str, Any]:
    """Where a table's numbers come from: setting, seeds, commits, hardware, time per run."""
    evaluated = [r for r in records if r.evaluated]
    if not evaluated:
        return {"setting": "no evaluated runs", "runs": {}}
    return {
        "setting": describe_setting(evaluated),
        "profile": evaluated[0].profile,
        "real_data": evaluated[0].real_data,
        "data_id": sorted(
            {str(r.train.get("data_id") or r.config.get("data_id")) for r in evaluated}
        ),
        "grid": evaluated[0].config.get("grid"),
        "run_grid_spacing_mm": _spacing(evaluated, "run_grid_spacing_mm"),
        "eval_spacing_mm": _spacing(evaluated),
        # evaluations before ff6636e scored against labels resampled to the run's grid
        "scored_on_original_labels": all("original_spacing_mm" in r.eval for r in evaluated),
        "split": evaluated[0].config.get("split"),
        "split_sizes": {
            k: _reference(evaluated).train.get(k) for k in ("labeled", "unlabeled", "val", "test")
        },
        "eval_split": evaluated[0].eval["split"],
        "n_eval_cases": len(evaluated[0].cases),
        "fidelity": evaluated[0].config.get("fidelity"),
        "base_filters": evaluated[0].config.get("base_filters"),
        "iterations": evaluated[0].config.get("iterations"),
        "seeds": sorted({r.seed for r in evaluated}),
        "commits": sorted({str(r.train.get("commit")) for r in evaluated}),
        "eval_commits": sorted({str(r.eval.get("commit")) for r in evaluated}),
        # every hardware a run trained on: a run moved between machines or threads names each
        "hardware": sorted({h for r in evaluated for h in run_hardware(r.train)}),
        "torch": sorted({str(r.train.get("torch")) for r in evaluated}),
        "runs": {
            r.name: {
                "method": r.method,
                "seed": r.seed,
                "labeled": r.config.get("labeled_count"),
                "md_loss": r.config.get("md_loss", "mask"),
                "wall_seconds": r.train.get("wall_seconds"),
                "seconds_per_iteration": r.train.get("seconds_per_iteration"),
                "eval_seconds": r.eval.get("eval_seconds"),
                "device": r.train.get("device"),
                "hardware": r.train.get("hardware"),
                # the legs (every start and resume): each stretch's hardware and speed
                "iterations": r.train.get("iterations"),
                "legs": r.train.get("legs"),
            }
            for r in evaluated
        },
    }


@dataclass
class SettingTable:
    """A paper table computed from the runs of ONE setting, with its provenance."""

    table_no: int
    setting: str
    setting_id: str
    rows: list[dict[str, Any]]
    provenance: dict[str, Any]
    records: list[RunRecord]


def tables_by_setting(
    table_no: int,
    records: Iterable[RunRecord],
    rows: Sequence[Row] | None = None,
    overrides: Mapping[str, Any] | None = None,
    paper: bool = True,
) -> list[SettingTable]:
    """One table per setting found among ``records``, never mixed: settings with the release's
    stored inputs first (the benchmark; a normalisation-study setting never takes its place as
    ``table<n>``), then the most filled rows first.

    Without any evaluated record: one table whose reimplemented rows are all "not run".
    """
    rows = list(rows) if rows is not None else TABLES[table_no]
    groups: dict[str, list[RunRecord]] = {}
    for rec in records:
        if rec.evaluated:
            groups.setdefault(setting_id(rec), []).append(rec)
    if not groups:
        empty = table(table_no, [], paper, rows, overrides)
        return [SettingTable(table_no, "no evaluated runs", "", empty, provenance([]), [])]
    out = []
    for sid, group in groups.items():
        # a row counts only the runs that belong to it: leftovers of other tables are ignored
        used = [r for r in group if any(matches(row, r, overrides) for row in rows)]
        if not used:
            continue
        result = table(table_no, used, paper, rows, overrides)
        out.append(
            SettingTable(table_no, describe_setting(used), sid, result, provenance(used), used)
        )
    if not out:
        return tables_by_setting(table_no, [], rows, overrides, paper)
    return sorted(
        out,
        key=lambda t: (
            bool(inputs_note(t.records[0].config)),
            -sum(r["status"] == "ok" for r in t.rows),
        ),
    )
