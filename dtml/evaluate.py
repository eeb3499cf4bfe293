"""Evaluate a finished run: sliding-window prediction, largest component, per-case metrics.

Writes ``<run>/eval-<split>-<mode>/cases.csv`` (one row per case, distances in voxels of the run's
grid AND in mm) and ``summary.json`` (mean and std over cases, provenance). The ``test`` split needs
the 20 official test cases, which this workspace withholds: use ``dev`` (the validation carve-out).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import torch

from dtml.data.cache import load_cases
from dtml.data.la import read_list
from dtml.data.paths import data_root_or_phantom
from dtml.data.splits import make_split
from dtml.infer import postprocess, predict_case
from dtml.metrics import case_metrics, summarize
from dtml.runs import git_commit, hardware
from dtml.train import load_trained

METRICS = ("dice", "jaccard", "asd", "hd95")


def eval_ids(root: Path, split: str, cfg) -> list[str]:
    if split == "dev":
        ids = read_list(root, "train.list")
        return list(make_split("dev", ids, (), min(cfg.labeled_count, 1), cfg.val_count).val)
    if split == "test":
        return read_list(root, "test.list")
    raise ValueError(f"split must be 'dev' or 'test', got '{split}'")


def evaluate_run(
    run: str | Path,
    data: str | Path | None = None,
    split: str = "dev",
    mode: str | None = None,
    device: str = "cpu",
    lcc: bool = True,
    force: bool = False,
) -> dict:
    """Metrics of a finished run on ``split``; cached in the run folder unless ``force``."""
    run = Path(run)
    cfg, method, nets = load_trained(run, device)
    mode = mode or method.default_mode()
    out = run / f"eval-{split}-{mode}"
    if (out / "summary.json").is_file() and not force:
        return json.loads((out / "summary.json").read_text())
    root, is_real = data_root_or_phantom(data if data is not None else cfg.data)
    ids = eval_ids(root, split, cfg)
    cases = load_cases(root, ids, cfg.grid, with_label=True)
    autocast = torch.bfloat16 if cfg.precision == "bf16" else None
    rows, t0 = [], time.perf_counter()
    for case in cases:
        prob = predict_case(
            case.image,
            **method.inference_nets(nets),
            mode=mode,
            k=cfg.k,
            patch=cfg.window,
            stride=cfg.eval_stride,
            device=device,
            autocast_dtype=autocast,
        )
        pred = postprocess(prob, 0.5, lcc=lcc)
        vox = case_metrics(pred, case.label).as_dict()
        mm = case_metrics(pred, case.label, spacing=case.spacing).as_dict()
        rows.append({"case": case.case_id, **vox, "asd_mm": mm["asd"], "hd95_mm": mm["hd95"]})
    seconds = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    with (out / "cases.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    stats = summarize([{k: r[k] for k in METRICS} for r in rows])
    stats_mm = summarize([{**r, "asd": r["asd_mm"], "hd95": r["hd95_mm"]} for r in rows])
    stats_mm = {"n": stats_mm["n"], "asd": stats_mm["asd"], "hd95": stats_mm["hd95"]}
    summary = {
        "run": run.name,
        "method": cfg.method,
        "fidelity": cfg.fidelity,
        "profile": cfg.profile,
        "seed": cfg.seed,
        "mode": mode,
        "split": split,
        "n_cases": len(rows),
        "grid": cfg.grid,
        "spacing_mm": list(cases[0].spacing),
        "real_data": is_real,
        "metrics_voxel": stats,
        "metrics_mm": stats_mm,
        "eval_seconds": round(seconds, 1),
        "hardware": hardware(device),
        "commit": git_commit(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
