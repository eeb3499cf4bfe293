"""Fake run folders for the report tests: the files and keys ``dtml.train`` (config.yaml,
train_summary.json, log.csv, final.pt) and ``dtml.evaluate`` (eval-<split>-<mode>/summary.json and
cases.csv) leave, with per-case values chosen so every aggregate has a hand-computed answer; and
``by_label``, a table's rows by label.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from dtml.config import load_profile
from dtml.methods import get_method
from dtml.runs import save_config

CASES = ("LA_a", "LA_b")


def make_run(
    root: Path,
    method: str,
    seed: int,
    dice: dict[str, float] | list[float],
    profile: str = "ci",
    spacing: float = 1.25,
    finished: bool = True,
    evaluated: bool = True,
    old_eval: bool = False,
    eval_split: str = "dev",
    **overrides,
) -> Path:
    """A run folder as train() + evaluate_run() leave it; asd = 2 x (1 - dice) voxels, hd95 = 3 x asd.

    ``spacing``: the voxels the metrics are computed on (the data's original grid); the run-grid
    metrics (``*_grid``) get dice - 0.1. ``old_eval``: the format before scoring at the original
    resolution (``spacing_mm``, no ``*_grid`` columns). ``eval_split``: the split it was scored
    on; the train summary's scan counts follow the config's split (``paper``: 80 training scans,
    20 test; ``dev``: 64 training scans, 16 validation).
    """
    cfg = load_profile(profile, method=method, seed=seed, **overrides)
    if not get_method(method).uses_unlabeled:
        cfg = cfg.replace(unlabeled_bs=0)
    run = root / f"{method}-{cfg.key()}"
    run.mkdir(parents=True)
    save_config(cfg, run / "config.yaml")
    (run / "log.csv").write_text("iteration,loss\n0,1.0\n")
    if not finished:
        (run / "last.pt").write_bytes(b"checkpoint")
        return run
    (run / "final.pt").write_bytes(b"weights")
    labeled = cfg.labeled_count
    paper = cfg.split == "paper"
    summary = {
        "method": method,
        "fidelity": cfg.fidelity,
        "profile": profile,
        "key": cfg.key(),
        "seed": seed,
        "iterations": cfg.iterations,
        "wall_seconds": 10.0 * seed,
        "seconds_per_iteration": 0.1,
        "device": "cpu",
        "hardware": "test cpu (1 threads)",
        "precision": cfg.precision,
        "commit": "abc1234",
        "config": cfg.to_dict(),
        "torch": "2.x",
        "data_root": "/data/LA",
        "real_data": True,
        "labeled": labeled,
        "unlabeled": (80 if paper else 64) - labeled,
        "val": 0 if paper else 16,
        "test": 20 if paper else 0,
    }
    (run / "train_summary.json").write_text(json.dumps(summary))
    if not evaluated:
        return run
    mode = get_method(method).default_mode()
    out = run / f"eval-{eval_split}-{mode}"
    out.mkdir()
    values = dice if isinstance(dice, dict) else dict(zip(CASES, dice, strict=True))
    rows = []
    for case, d in values.items():
        asd = 2.0 * (1.0 - d)
        row = {
            "case": case,
            "dice": d,
            "jaccard": d / (2.0 - d),
            "asd": asd,
            "hd95": 3.0 * asd,
            "asd_mm": spacing * asd,
            "hd95_mm": spacing * 3.0 * asd,
        }
        if not old_eval:
            grid = {"dice": d - 0.1, "jaccard": 0.5, "asd": asd / 2, "hd95": 1.5 * asd}
            row.update({f"{k}_grid": v for k, v in grid.items()})
        rows.append(row)
    with (out / "cases.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    eval_summary = {
        "run": run.name,
        "method": method,
        "fidelity": cfg.fidelity,
        "profile": profile,
        "seed": seed,
        "mode": mode,
        "lcc": True,
        "split": eval_split,
        "n_cases": len(rows),
        "grid": cfg.grid,
        "metrics_voxel": {},
        "metrics_mm": {},
        "metrics_run_grid": {},
        "original_spacing_mm": [spacing] * 3,
        "run_grid_spacing_mm": [spacing / cfg.grid] * 3,
        "window": list(cfg.window),
        "stride": list(cfg.eval_stride),
        "data_root": "/data/LA",
        "real_data": True,
        "eval_seconds": 1.0,
        "hardware": "test cpu (1 threads)",
        "commit": "abc1234",
    }
    if old_eval:
        for key in ("original_spacing_mm", "run_grid_spacing_mm", "metrics_run_grid", "lcc"):
            del eval_summary[key]
        eval_summary["spacing_mm"] = [spacing] * 3
    (out / "summary.json").write_text(json.dumps(eval_summary))
    return run


def by_label(rows):
    """A table's rows by their label."""
    return {r["label"]: r for r in rows}
