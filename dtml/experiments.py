"""The paper's tables as experiments: each row is a (method, config overrides) pair.

``run_rows`` trains every (row, seed) that is not in the run cache yet and evaluates it, so
notebooks 04-07 share runs and ``make reproduce`` never trains one configuration twice.
Row labels are the paper's (``shared/reference/paper_tables.csv``).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from dtml.config import TrainConfig, load_profile
from dtml.data.la import read_list
from dtml.data.paths import data_root_or_phantom
from dtml.evaluate import evaluate_run
from dtml.methods import resolve
from dtml.runs import run_dir
from dtml.train import train


@dataclass(frozen=True)
class Row:
    """One table row: the paper's label, our method and config overrides."""

    table: int
    label: str
    method: str
    overrides: dict[str, Any] = field(default_factory=dict)
    reimplemented: bool = True


ALL_LABELED = "all"  # labeled_count placeholder: every training case that is not validation

TABLES: dict[int, list[Row]] = {
    1: [
        Row(1, "DTML (L_seg/L_dis)", "dtml", {"md_loss": "dis"}),
        Row(1, "DTML (L_seg/L_mask)", "dtml", {"md_loss": "mask"}),
        Row(1, "DTML (L_seg/L_dis+L_mask)", "dtml", {"md_loss": "dis+mask"}),
    ],
    2: [
        Row(2, "M_s only", "supervised"),
        Row(2, "M_d only", "sdf_only"),
        Row(2, "DTML (labeled only)", "dtml_labeled"),
    ],
    3: [
        Row(3, "V-Net (upper bound)", "supervised", {"labeled_count": ALL_LABELED}),
        Row(3, "V-Net (lower bound)", "supervised"),
        Row(3, "ASDNet", "", reimplemented=False),
        Row(3, "TCSE", "", reimplemented=False),
        Row(3, "UA-MT", "ua_mt"),
        Row(3, "DTC", "dtc"),
        Row(3, "SASS", "", reimplemented=False),
        Row(3, "DoubleUnc", "", reimplemented=False),
        Row(3, "DTML", "dtml"),
    ],
}
# Mean teacher is not a row of the paper's Table 3 but is UA-MT's base; it is offered as an extra.
EXTRA_ROWS = [Row(3, "Mean teacher", "mean_teacher")]


def shown_rows(table: int) -> list[Row]:
    """The rows a published table shows: the paper's, then our extras for that table."""
    return TABLES[table] + [row for row in EXTRA_ROWS if row.table == table]


def rows_by_label(tables: tuple[int, ...] = (1, 2, 3)) -> dict[str, Row]:
    """The shown rows of ``tables`` by label (labels are unique across the three tables)."""
    return {row.label: row for n in tables for row in shown_rows(n)}


def paper_table(table: int) -> list[dict[str, Any]]:
    """The paper's numbers for ``table`` (Dice/Jaccard in %, ASD/95HD in voxels)."""
    text = resources.files("dtml").joinpath("paper_tables.csv").read_text()
    rows = [r for r in csv.DictReader(text.splitlines()) if int(r["table"]) == table]
    for r in rows:
        for k in ("dice", "jaccard", "asd_voxel", "hd95_voxel"):
            r[k] = float(r[k])
        r["labeled"], r["unlabeled"] = int(r["labeled"]), int(r["unlabeled"])
    return rows


def config_for(
    row: Row, profile: str, seed: int, data: str | None = None, **extra: Any
) -> TrainConfig:
    """The resolved training config of ``row`` under ``profile`` (``extra`` overrides last)."""
    if not row.reimplemented:
        raise ValueError(f"'{row.label}' is reported from the paper, not re-implemented here")
    overrides = {**row.overrides, **extra, "method": row.method, "seed": seed, "data": data}
    if overrides.get("labeled_count") == ALL_LABELED:
        base = load_profile(profile, **{**extra, "data": data})
        root, _ = data_root_or_phantom(data)
        n_train = len(read_list(root, "train.list"))
        overrides["labeled_count"] = n_train - (base.val_count if base.split == "dev" else 0)
    return resolve(load_profile(profile, **overrides))


def run_rows(
    rows: list[Row],
    profile: str,
    seeds: list[int],
    data: str | None = None,
    train_missing: bool = True,
    progress: bool = False,
    mode: str | None = None,
    **extra: Any,
) -> list[dict[str, Any]]:
    """Train (if needed) and evaluate every reimplemented row x seed; one record per run.

    Each record: row label, seed, run folder, the evaluation summary and the training summary.
    With ``train_missing=False`` rows without a finished run are skipped (record has no summary).
    """
    records = []
    for row in rows:
        if not row.reimplemented:
            continue
        for seed in seeds:
            cfg = config_for(row, profile, seed, data, **extra)
            out = run_dir(cfg)
            if not (out / "final.pt").is_file():
                if not train_missing:
                    records.append({"label": row.label, "seed": seed, "run": str(out)})
                    continue
                out = train(cfg, progress=progress)
            summary = evaluate_run(out, data, "dev" if cfg.split == "dev" else "test", mode)
            train_summary = json.loads((out / "train_summary.json").read_text())
            records.append(
                {
                    "label": row.label,
                    "seed": seed,
                    "run": str(out),
                    "eval": summary,
                    "train": train_summary,
                }
            )
    return records
