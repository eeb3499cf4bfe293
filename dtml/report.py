"""Tables 1-3 of the paper from finished run folders: our numbers beside the paper's.

A run folder (``runs/<method>-<key>/``, written by ``dtml.train`` and ``dtml.evaluate``) and its
committed copy (``results/<setting>/runs/<name>/``, written by :func:`export_runs`) hold the same
small files, so one reader (:func:`collect`) serves both.

Aggregation (every number says over what it was taken):

* over seeds: the mean and sample std (ddof=1) of the per-seed means over cases; std is ``None``
  for one seed (undefined, not 0);
* over cases: the mean and sample std of every (seed, case) value pooled together.

Dice and Jaccard are in %, ASD and 95HD in voxels of the grid the metrics were computed on
(``dtml.evaluate`` scores against the original labels: the data's own grid, LA 0.625 mm, whatever
grid the run trained on) AND in mm. The paper's distances are voxels of the 0.625 mm LA grid
(Sec. 4.1): differences (ours - paper) of distances are always given in mm, and in voxels only when
our evaluation voxels are the paper's. The coarse-grid metrics ``dtml.evaluate`` keeps as a
secondary column (``*_grid``) are carried as ``*_run_grid`` columns (CSV/JSON only). A table never
mixes settings (profile, data, grid, split, fidelity, schedule...): :func:`table` raises instead.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from dtml.config import PROFILES, TrainConfig, load_profile
from dtml.experiments import ALL_LABELED, TABLES, Row, paper_table
from dtml.methods import get_method
from dtml.metrics import paired_ttest

PAPER_SPACING_MM = 0.625  # the LA release's isotropic voxel (Sec. 4.1): the paper's "voxel"
CASE_COLUMNS = ("dice", "jaccard", "asd", "hd95", "asd_mm", "hd95_mm")
# optional: the same metrics against the label resampled to the run's grid (secondary)
GRID_COLUMNS = ("dice_grid", "jaccard_grid", "asd_grid", "hd95_grid")
# Config fields that differ between the rows of one table; every other field defines the setting.
ROW_FIELDS = frozenset({"method", "seed", "md_loss", "labeled_count", "unlabeled_bs"})
# Paths, cadence and thread counts change neither the weights nor the evaluation.
BOOKKEEPING_FIELDS = frozenset(
    {"data", "runs_dir", "checkpoint_every", "log_every", "threads", "device"}
)
SMALL_FILES = ("config.yaml", "train_summary.json", "log.csv")
EVAL_FILES = ("summary.json", "cases.csv")
NOT_RUN = "not run"
NOT_REIMPLEMENTED = "not reimplemented"


@dataclass(frozen=True)
class RunRecord:
    """What one run folder holds: config, training summary, one evaluation and its cases.

    ``train`` is ``None`` for an unfinished run, ``eval``/``cases`` are empty when the run has no
    evaluation of the requested split and mode. ``cases`` rows: ``case`` and :data:`CASE_COLUMNS`
    (Dice/Jaccard as fractions, distances in voxels, ``*_mm`` in mm).
    """

    name: str
    config: dict[str, Any]
    train: dict[str, Any] | None
    eval: dict[str, Any] | None
    cases: tuple[dict[str, Any], ...]
    # where it was read from: a live run and its exported copy are the same record
    path: str = field(default="", compare=False)

    @property
    def method(self) -> str:
        return str(self.config["method"])

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def profile(self) -> str:
        return str(self.config.get("profile", "custom"))

    @property
    def evaluated(self) -> bool:
        return self.train is not None and self.eval is not None and bool(self.cases)

    @property
    def real_data(self) -> bool | None:
        for source in (self.eval, self.train):
            if source is not None and "real_data" in source:
                return bool(source["real_data"])
        return None


# --- reading -------------------------------------------------------------------------------------


def find_runs(root: str | Path) -> list[Path]:
    """Run folders (those holding a ``config.yaml``) directly under ``root``; [] if it is absent."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "config.yaml").is_file())


def _eval_folder(
    run: Path, config: Mapping[str, Any], split: str | None, mode: str | None, lcc: bool
) -> Path:
    split = split or ("dev" if config.get("split") == "dev" else "test")
    mode = mode or get_method(str(config["method"])).default_mode()
    return run / f"eval-{split}-{mode}{'' if lcc else '-nolcc'}"


def _read_cases(path: Path) -> tuple[dict[str, Any], ...]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("case", *CASE_COLUMNS) if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}")
        extra = [c for c in GRID_COLUMNS if c in (reader.fieldnames or [])]
        rows = tuple(
            {"case": r["case"], **{c: float(r[c]) for c in (*CASE_COLUMNS, *extra)}} for r in reader
        )
    if not rows:
        raise ValueError(f"{path}: no cases")
    return rows


def read_run(
    run: str | Path, split: str | None = None, mode: str | None = None, lcc: bool = True
) -> RunRecord:
    """One run folder (live or exported). ``split``/``mode``/``lcc`` pick the evaluation: by
    default the split the run was trained for (``dev`` or ``test``), the method's own output (M_s
    for DTML, as the official test script) and the largest-component post-processing."""
    run = Path(run)
    config_path = run / "config.yaml"
    if not config_path.is_file():
        raise ValueError(f"{run}: not a run folder (no config.yaml)")
    config = yaml.safe_load(config_path.read_text())
    if not isinstance(config, dict) or "method" not in config or "seed" not in config:
        raise ValueError(f"{config_path}: not a dtml run config (needs 'method' and 'seed')")
    train_path = run / "train_summary.json"
    train = json.loads(train_path.read_text()) if train_path.is_file() else None
    folder = _eval_folder(run, config, split, mode, lcc)
    summary, cases = None, ()
    if (folder / "summary.json").is_file():
        summary = json.loads((folder / "summary.json").read_text())
        if not (folder / "cases.csv").is_file():
            raise ValueError(f"{folder}: summary.json without cases.csv")
        cases = _read_cases(folder / "cases.csv")
    return RunRecord(run.name, config, train, summary, cases, str(run))


def collect(
    run_dirs: Iterable[str | Path],
    split: str | None = None,
    mode: str | None = None,
    lcc: bool = True,
) -> list[RunRecord]:
    """Records of the given run folders (see :func:`read_run`), in the order given."""
    return [read_run(r, split, mode, lcc) for r in run_dirs]


def committed_records(results_dir: str | Path) -> list[RunRecord]:
    """Records of the runs exported under ``results_dir/runs``; [] when nothing is committed."""
    return collect(find_runs(Path(results_dir) / "runs"))


def export_runs(
    run_dirs: Iterable[str | Path], dest: str | Path, profile: str | None = None
) -> list[Path]:
    """Copy the small provenance files of each FINISHED run into ``dest/<run-name>/``.

    Copies ``config.yaml``, ``train_summary.json``, ``log.csv`` and every ``eval-*/summary.json``
    and ``eval-*/cases.csv``; never checkpoints. Unfinished runs (no ``train_summary.json``) and,
    when ``profile`` is given, runs of other profiles are skipped. Returns the folders written.
    """
    dest = Path(dest)
    written = []
    for run in map(Path, run_dirs):
        if not (run / "config.yaml").is_file():
            raise ValueError(f"{run}: not a run folder (no config.yaml)")
        if not (run / "train_summary.json").is_file():
            continue
        if profile is not None and read_run(run).profile != profile:
            continue
        target = dest / run.name
        target.mkdir(parents=True, exist_ok=True)
        for name in SMALL_FILES:
            if (run / name).is_file():
                shutil.copy2(run / name, target / name)
        for folder in sorted(run.glob("eval-*")):
            for name in EVAL_FILES:
                if (folder / name).is_file():
                    (target / folder.name).mkdir(exist_ok=True)
                    shutil.copy2(folder / name, target / folder.name / name)
        written.append(target)
    return written


# --- settings: what must be equal for runs to share a table --------------------------------------


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
    )


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


# --- rows: which records belong to a table row ----------------------------------------------------


def _defaults(profile: str) -> TrainConfig:
    return load_profile(profile) if profile in PROFILES else TrainConfig()


def matches(row: Row, record: RunRecord, overrides: Mapping[str, Any] | None = None) -> bool:
    """Whether ``record`` is a run of ``row``: same method and per-row fields (``md_loss``,
    ``labeled_count``) as ``row.overrides`` over ``overrides`` over the record's profile defaults.
    ``ALL_LABELED`` matches a run whose training split left no unlabeled scan."""
    if not row.reimplemented or record.method != row.method:
        return False
    base = _defaults(record.profile)
    expected = {k: getattr(base, k) for k in ("md_loss", "labeled_count")}
    expected.update({k: v for k, v in (overrides or {}).items() if k in expected})
    expected.update({k: v for k, v in row.overrides.items() if k in expected})
    for key, value in expected.items():
        if value == ALL_LABELED:
            if record.train is None or record.train.get("unlabeled") != 0:
                return False
        elif record.config.get(key) != value:
            return False
    return True


def row_records(
    row: Row, records: Iterable[RunRecord], overrides: Mapping[str, Any] | None = None
) -> list[RunRecord]:
    """Evaluated records of ``row``, sorted by seed; ValueError on a repeated seed."""
    found = sorted((r for r in records if r.evaluated and matches(row, r, overrides)), key=_seed)
    seeds = [r.seed for r in found]
    if len(set(seeds)) != len(seeds):
        names = [r.name for r in found]
        raise ValueError(f"row '{row.label}': several runs share a seed ({seeds}, runs {names})")
    return found


def _seed(record: RunRecord) -> int:
    return record.seed


def find_row(table_no: int, label: str, rows: Sequence[Row] | None = None) -> Row:
    for row in rows if rows is not None else TABLES[table_no]:
        if row.label == label:
            return row
    raise ValueError(f"table {table_no} has no row '{label}'")


# --- aggregation ---------------------------------------------------------------------------------


def _mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    x = np.asarray(values, dtype=np.float64)
    return float(x.mean()), (float(x.std(ddof=1)) if x.size > 1 else None)


def aggregate(records: Sequence[RunRecord], column: str, scale: float = 1.0) -> dict[str, Any]:
    """Mean +- std of ``column`` over seeds (per-seed means) and over the pooled (seed, case) values."""
    if not records:
        raise ValueError("aggregate: no records")
    per_seed = [scale * float(np.mean([c[column] for c in r.cases])) for r in records]
    pooled = [scale * c[column] for r in records for c in r.cases]
    seeds_mean, seeds_std = _mean_std(per_seed)
    cases_mean, cases_std = _mean_std(pooled)
    return {
        "seeds_mean": seeds_mean,
        "seeds_std": seeds_std,
        "cases_mean": cases_mean,
        "cases_std": cases_std,
    }


def per_case(records: Sequence[RunRecord], column: str = "dice") -> dict[str, float]:
    """Per-case value averaged over the records (seeds), keyed by case id."""
    if column not in CASE_COLUMNS:
        raise ValueError(f"column must be one of {CASE_COLUMNS}, got '{column}'")
    values: dict[str, list[float]] = {}
    for rec in records:
        for c in rec.cases:
            values.setdefault(c["case"], []).append(c[column])
    return {k: float(np.mean(v)) for k, v in sorted(values.items())}


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
    hardware = sorted({r.train.get("hardware", "?") for r in found if r.train})
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


def provenance(records: Iterable[RunRecord]) -> dict[str, Any]:
    """Where a table's numbers come from: setting, seeds, commits, hardware, time per run."""
    evaluated = [r for r in records if r.evaluated]
    if not evaluated:
        return {"setting": "no evaluated runs", "runs": {}}
    return {
        "setting": describe_setting(evaluated),
        "profile": evaluated[0].profile,
        "real_data": evaluated[0].real_data,
        "data_root": sorted({str(r.train.get("data_root")) for r in evaluated}),
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
        "hardware": sorted({str(r.train.get("hardware")) for r in evaluated}),
        "torch": sorted({str(r.train.get("torch")) for r in evaluated}),
        "runs": {
            r.name: {
                "method": r.method,
                "seed": r.seed,
                "labeled": r.config.get("labeled_count"),
                "wall_seconds": r.train.get("wall_seconds"),
                "seconds_per_iteration": r.train.get("seconds_per_iteration"),
                "eval_seconds": r.eval.get("eval_seconds"),
                "device": r.train.get("device"),
                "hardware": r.train.get("hardware"),
            }
            for r in evaluated
        },
    }


# --- statistics and text -------------------------------------------------------------------------


def paired_test(
    records_a: Sequence[RunRecord], records_b: Sequence[RunRecord], column: str = "dice"
) -> dict[str, Any]:
    """Two-sided paired t-test over cases of A vs B (Table 2's claim, p < 0.05).

    Each case's value is first averaged over the seeds of each side; both sides must cover the same
    case ids and come from one setting. Returns ``dtml.metrics.paired_ttest``'s t, p, n and
    ``mean_diff`` (A - B; Dice/Jaccard in % points), plus the seed counts.
    """
    a = [r for r in records_a if r.evaluated]
    b = [r for r in records_b if r.evaluated]
    if not a or not b:
        raise ValueError("paired_test: both sides need at least one evaluated run")
    check_same_setting([*a, *b])
    va, vb = per_case(a, column), per_case(b, column)
    if set(va) != set(vb):
        only = sorted(set(va) ^ set(vb))
        raise ValueError(f"paired_test: the two sides cover different cases ({only[:5]} ...)")
    scale = 100.0 if column in ("dice", "jaccard") else 1.0
    cases = sorted(va)
    result = paired_ttest([scale * va[c] for c in cases], [scale * vb[c] for c in cases])
    return {**result, "column": column, "seeds_a": len(a), "seeds_b": len(b)}


def compare(rows: Sequence[Mapping[str, Any]], a: str, b: str, key: str = "dice") -> str:
    """A sentence: how far row ``a`` is above/below row ``b`` on ``key``, and what the paper says."""
    by_label = {r["label"]: r for r in rows}
    for label in (a, b):
        if label not in by_label:
            raise ValueError(f"compare: no row '{label}' in the table")
    ra, rb = by_label[a], by_label[b]
    unit = "points" if key in ("dice", "jaccard") else ("mm" if key.endswith("_mm") else "voxels")
    name = {"dice": "Dice", "jaccard": "Jaccard"}.get(key, key)
    ours_a, ours_b = ra.get(f"{key}_seeds_mean"), rb.get(f"{key}_seeds_mean")
    if ours_a is None or ours_b is None:
        missing = [x["label"] for x in (ra, rb) if x.get(f"{key}_seeds_mean") is None]
        text = f"{a} vs {b}: no comparison on our runs ({', '.join(missing)}: {NOT_RUN})."
    else:
        d = ours_a - ours_b
        side = "above" if d > 0 else "below" if d < 0 else "equal to"
        text = (
            f"On these runs {a} is {side} {b} by {abs(d):.2f} {name} {unit} "
            f"({ra['n_seeds']} vs {rb['n_seeds']} seed(s), {ra['n_cases']} cases)."
        )
    pa, pb = ra.get(f"paper_{key}"), rb.get(f"paper_{key}")
    if pa is not None and pb is not None:
        d = pa - pb
        side = "above" if d > 0 else "below" if d < 0 else "equal to"
        text += f" The paper reports {a} {side} {b} by {abs(d):.2f} {name} {unit}."
    return text


def row_notes(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Rows whose means are dominated by failed cases (Dice 0: no overlap or empty prediction)."""
    out = []
    for row in rows:
        if row.get("n_zero_dice"):
            out.append(
                f"{row['label']}: {row['n_zero_dice']} of {row['n_case_values']} (seed, case) "
                "values have Dice 0 (no overlap; an empty prediction gets the volume diagonal as "
                "its distances, dtml.metrics), which pulls its Dice mean down and its distance "
                "means up."
            )
    return out


def caveats(prov: Mapping[str, Any]) -> list[str]:
    """What the numbers of a table can NOT be read as, from its provenance."""
    out = []
    if not prov.get("runs"):
        return ["No evaluated runs: nothing to compare."]
    if prov.get("real_data") is False:
        out.append(
            "These runs use the synthetic phantom, not the LA data: they check that the pipeline "
            "runs end to end and say nothing about the paper's numbers."
        )
    if prov.get("profile") == "ci":
        out.append(
            f"The ci profile trains a V-Net with {prov.get('base_filters')} base filters for "
            f"{prov.get('iterations')} iterations: far from converged, so differences between "
            "rows are mostly noise."
        )
    if prov.get("eval_split") == "dev":
        sizes = prov.get("split_sizes", {})
        out.append(
            f"Evaluated on our validation carve-out ({prov.get('n_eval_cases')} scans held out of "
            f"train.list), not the paper's 20 test scans; the split leaves "
            f"{sizes.get('unlabeled')} unlabeled scans for the semi-supervised methods (paper: 64)."
        )
    grid, spacing = prov.get("grid"), prov.get("eval_spacing_mm")
    if grid is not None and grid != 1.0:
        if prov.get("scored_on_original_labels"):
            how = (
                "its probabilities were upsampled to the data's grid and scored against the "
                "original labels"
            )
        else:
            how = (
                "it was scored against labels resampled to that grid (an older evaluation), "
                "which is optimistic by up to ~3 Dice points on LA"
            )
        out.append(f"Trained and predicted on grid {grid} (coarser than the data); {how}.")
    if spacing and not all(math.isclose(s, PAPER_SPACING_MM, rel_tol=0.01) for s in spacing):
        out.append(
            f"Distances in voxels are {_fmt_spacing(spacing)} mm voxels, not the paper's 0.625 mm: "
            "compare them with the paper only in mm."
        )
    if len(prov.get("hardware", [])) > 1:
        out.append(
            f"Runs were trained on different hardware ({'; '.join(prov['hardware'])}; per run in "
            "the wall-time line). Same configuration and seeds, but bf16 arithmetic differs "
            "between CPU and GPU kernels, so a seed is a sample of the configuration, not a "
            "bit-identical rerun; wall times compare only within one machine."
        )
    if len(prov.get("seeds", [])) < 3:
        out.append(
            f"{len(prov.get('seeds', []))} seed(s): the spread over seeds is unknown or rough; "
            "published reruns of this method vary by about 0.5-1 Dice."
        )
    return out


# --- renderers -----------------------------------------------------------------------------------


def _pm(mean: float | None, std: float | None, digits: int = 2) -> str:
    if mean is None:
        return ""
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def _num(value: float | None, digits: int = 2, sign: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _ours(row: Mapping[str, Any], key: str, over: str = "seeds", status: bool = False) -> str:
    if row["status"] != "ok":
        return row["status"] if status else ""
    return _pm(row[f"{key}_{over}_mean"], row[f"{key}_{over}_std"])


def _scans(row: Mapping[str, Any]) -> str:
    ours = f"{row['labeled']}/{row['unlabeled']}" if row.get("labeled") is not None else "–"
    if row.get("paper_labeled") is None:
        return ours
    return f"{ours} ({row['paper_labeled']}/{row['paper_unlabeled']})"


def markdown_columns(paper: bool) -> list[tuple[str, Any]]:
    """(header, cell function) of :func:`to_markdown`'s default view."""
    cols: list[tuple[str, Any]] = [
        ("Method", lambda r: r["label"]),
        ("L/U ours (paper)" if paper else "L/U", _scans),
        ("seeds", lambda r: str(r["n_seeds"]) if r["status"] == "ok" else ""),
        ("cases", lambda r: str(r["n_cases"]) if r["status"] == "ok" else ""),
        ("Dice % (seeds)", lambda r: _ours(r, "dice", status=True)),
        ("Dice % (cases)", lambda r: _ours(r, "dice", "cases")),
    ]
    if paper:
        cols += [
            ("Dice paper", lambda r: _num(r["paper_dice"])),
            ("Δ Dice", lambda r: _num(r["diff_dice"], sign=True)),
        ]
    cols.append(("Jaccard % (seeds)", lambda r: _ours(r, "jaccard")))
    if paper:
        cols += [
            ("Jac. paper", lambda r: _num(r["paper_jaccard"])),
            ("Δ Jac.", lambda r: _num(r["diff_jaccard"], sign=True)),
        ]
    for key, name in (("asd", "ASD"), ("hd95", "95HD")):
        cols += [
            (f"{name} vox", lambda r, k=key: _ours(r, f"{k}_vox")),
            (f"{name} mm", lambda r, k=key: _ours(r, f"{k}_mm")),
        ]
        if paper:
            cols += [
                (
                    f"{name} paper vox (mm)",
                    lambda r, k=key: (
                        f"{_num(r[f'paper_{k}_vox'])} ({_num(r[f'paper_{k}_mm'])})"
                        if r[f"paper_{k}_vox"] is not None
                        else ""
                    ),
                ),
                (f"Δ {name} mm", lambda r, k=key: _num(r[f"diff_{k}_mm"], sign=True)),
            ]
    return cols


def _labeled_tag(run: Mapping[str, Any], runs: Mapping[str, Mapping[str, Any]]) -> str:
    """`` (64 labeled)`` when the method also appears with another labeled count, else ``""``."""
    counts = {v.get("labeled") for v in runs.values() if v["method"] == run["method"]}
    return f" ({run.get('labeled')} labeled)" if len(counts) > 1 else ""


def short_hardware(name: str | None) -> str:
    """``NVIDIA H200`` -> ``H200``; ``<cpu model> (1 threads)`` -> ``CPU, 1 threads``."""
    if not name:
        return "unknown hardware"
    if name.startswith("NVIDIA "):
        return name.removeprefix("NVIDIA ")
    threads = name.rsplit("(", 1)[-1].rstrip(")") if name.endswith(")") else ""
    return f"CPU, {threads}" if threads else name


def to_markdown(rows: Sequence[Mapping[str, Any]], provenance: Mapping | None = None) -> str:
    """A GitHub-markdown table (mean ± std; "seeds": over per-seed means, "cases": pooled cases;
    Δ = ours - paper, distances in mm), followed by the provenance when given."""
    if not rows:
        raise ValueError("to_markdown: no rows")
    paper = "paper_dice" in rows[0]
    cols = markdown_columns(paper)
    lines = [
        "| " + " | ".join(h for h, _ in cols) + " |",
        "|" + "|".join("---" for _ in cols) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(fn(row) for _, fn in cols) + " |")
    if provenance is not None:
        lines += ["", f"**Setting:** {provenance.get('setting')}"]
        for key in ("seeds", "commits", "hardware"):
            if key in provenance:
                lines.append(f"- {key}: {', '.join(str(v) for v in provenance[key])}")
        runs = provenance.get("runs", {})
        if runs:
            mixed = len({v.get("hardware") for v in runs.values()}) > 1
            walls = ", ".join(
                f"{v['method']}{_labeled_tag(v, runs)} s{v['seed']} {v['wall_seconds']:g} s"
                + (f" ({short_hardware(v.get('hardware'))})" if mixed else "")
                for v in sorted(
                    runs.values(), key=lambda v: (v["method"], v.get("labeled") or 0, v["seed"])
                )
            )
            lines.append(f"- training wall time per run: {walls}")
    return "\n".join(lines) + "\n"


def to_csv(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Every column of every row (None -> empty cell)."""
    if not rows:
        raise ValueError("to_csv: no rows")
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, keys)
        w.writeheader()
        w.writerows([{k: ("" if row.get(k) is None else row.get(k)) for k in keys} for row in rows])
    return path


def to_json(
    rows: Sequence[Mapping[str, Any]],
    path: str | Path | None = None,
    provenance: Mapping | None = None,
) -> str:
    """``{"rows": [...], "provenance": {...}}`` as text; also written to ``path`` when given."""
    text = json.dumps({"rows": list(rows), "provenance": provenance}, indent=2) + "\n"
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    return text


def save_table(
    rows: Sequence[Mapping[str, Any]],
    folder: str | Path,
    name: str,
    provenance: Mapping | None = None,
) -> list[Path]:
    """``<folder>/<name>.csv``, ``.md`` and ``.json``; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / f"{name}.md"
    md.write_text(to_markdown(rows, provenance))
    js = folder / f"{name}.json"
    to_json(rows, js, provenance)
    return [to_csv(rows, folder / f"{name}.csv"), md, js]


def case_scores(
    records: Iterable[RunRecord],
    rows: Sequence[Row],
    column: str = "dice",
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, list[float]]:
    """Per-case values (mean over seeds; Dice/Jaccard in %) of each row, by label; [] if not run."""
    records = [r for r in records if r.evaluated]
    scale = 100.0 if column in ("dice", "jaccard") else 1.0
    out = {}
    for row in rows:
        found = row_records(row, records, overrides) if row.reimplemented else []
        out[row.label] = [scale * v for v in per_case(found, column).values()]
    return out


# --- one table per setting, for the notebooks ----------------------------------------------------


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
    """One table per setting found among ``records`` (most filled rows first), never mixed.

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
    return sorted(out, key=lambda t: -sum(r["status"] == "ok" for r in t.rows))


def table_markdown(result: SettingTable, title: str) -> str:
    """Heading, table with provenance, and the caveats that apply to it."""
    notes = caveats(result.provenance)
    lines = [f"### {title}", "", to_markdown(result.rows, result.provenance)]
    if notes:
        lines += ["**Read with care:**", *[f"- {n}" for n in notes]]
    return "\n".join(lines) + "\n"


def paired_test_text(
    result: SettingTable, a: str, b: str, rows: Sequence[Row] | None = None, column: str = "dice"
) -> str:
    """The paired t-test of row ``a`` vs row ``b`` over cases, as one honest sentence."""
    rows = list(rows) if rows is not None else TABLES[result.table_no]
    rec_a = row_records(find_row(result.table_no, a, rows), result.records)
    rec_b = row_records(find_row(result.table_no, b, rows), result.records)
    if not rec_a or not rec_b:
        return f"{a} vs {b}: {NOT_RUN}, no test."
    res = paired_test(rec_a, rec_b, column)
    unit = "points" if column in ("dice", "jaccard") else "voxels"
    column = {"dice": "Dice", "jaccard": "Jaccard"}.get(column, column)
    verdict = "below" if res["p"] < 0.05 else "not below"
    text = (
        f"{a} vs {b}: mean per-case difference {res['mean_diff']:+.2f} {column} {unit}, "
        f"t = {res['t']:.2f}, p = {res['p']:.3g} (two-sided, n = {res['n']} cases; per-case "
        f"values averaged over {res['seeds_a']} and {res['seeds_b']} seed(s)); p is {verdict} 0.05."
    )
    prov = result.provenance
    if prov.get("real_data") is False or prov.get("profile") == "ci":
        text += (
            " On a ci-profile or phantom run this test means nothing about the paper's claim: "
            "it only shows that the test runs."
        )
    elif min(res["seeds_a"], res["seeds_b"]) < 2:
        text += " One seed: the test ignores seed-to-seed variation, which is of the same order."
    return text


def paper_gap(row: Mapping[str, Any], key: str = "dice") -> str:
    """One row's mean over seeds beside the paper's number, as a sentence fragment."""
    name = {"dice": "Dice %", "jaccard": "Jaccard %"}.get(key, key)
    ours, theirs = row.get(f"{key}_seeds_mean"), row.get(f"paper_{key}")
    if row["status"] != "ok":
        paper = f" (paper: {theirs:.2f})" if theirs is not None else ""
        return f"{row['label']}: {row['status']}{paper}."
    if theirs is None:
        return f"{row['label']}: {ours:.2f} {name} on our runs; the paper has no such row."
    return (
        f"{row['label']}: {ours:.2f} {name} on our runs vs {theirs:.2f} in the paper "
        f"({ours - theirs:+.2f})."
    )


def describe_source(result: SettingTable) -> str:
    """Short: profile, data kind and seeds of a table (the full setting is printed under it)."""
    prov = result.provenance
    if not result.records:
        return "no evaluated runs"
    data = {True: "real LA data", False: "synthetic phantom"}.get(prov.get("real_data"), "?")
    seeds = ", ".join(str(s) for s in prov.get("seeds", []))
    return f"{prov.get('profile')} profile, {data}, seeds {seeds}"


def table_name(result: SettingTable) -> str:
    """A file stem naming the table and its setting, e.g. ``table2-cpu-1a2b3c4d``."""
    profile = result.provenance.get("profile", "none")
    return f"table{result.table_no}-{profile}-{result.setting_id or 'empty'}"
