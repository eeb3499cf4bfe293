"""Evaluate a finished run: sliding-window prediction, largest component, per-case metrics.

Metrics are always computed against the ORIGINAL annotation at the data's own resolution (LA:
0.625 mm voxels, the paper's units): a run trained on a coarser grid predicts on that grid and its
probability map is upsampled (trilinear, the inverse of the training resampling) before the 0.5
threshold and the largest component. Scoring against the resampled label instead would be
optimistic by up to ~3 Dice points on LA; those coarse-grid numbers are kept as a secondary
column (``*_grid``). Writes ``<run>/eval-<split>-<mode>[-nolcc]/cases.csv`` and ``summary.json``.
``test`` scores the 20 scans of ``test.list`` (final, pre-declared evaluations only).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from dtml.config import data_fingerprint
from dtml.data.cache import load_case
from dtml.data.fingerprint import cases_digest
from dtml.data.intensity import normalize_image
from dtml.data.la import read_list
from dtml.data.paths import data_root_or_phantom
from dtml.data.splits import make_split
from dtml.infer import postprocess, predict_case, save_nifti
from dtml.metrics import case_metrics, summarize
from dtml.runs import git_commit, hardware
from dtml.train import load_trained

METRICS = ("dice", "jaccard", "asd", "hd95")


def eval_ids(root: Path, split: str, cfg) -> list[str]:
    """Case ids to evaluate; ``dev`` only for runs trained on the dev split (else the
    "validation" cases were the run's own unlabeled training scans)."""
    if split == "dev":
        if cfg.split != "dev":
            raise ValueError(
                f"run was trained on the '{cfg.split}' split: its dev-validation cases are among "
                "its training scans; evaluate it on 'test' instead"
            )
        ids = read_list(root, "train.list")
        return list(make_split("dev", ids, (), 1, cfg.val_count).val)  # only .val is used
    if split == "test":
        return read_list(root, "test.list")
    raise ValueError(f"split must be 'dev' or 'test', got '{split}'")


def upsample(prob: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Trilinear resize of a probability map to ``shape`` (corner-aligned like the resampling)."""
    if prob.shape == tuple(shape):
        return prob
    factors = [n / m for n, m in zip(shape, prob.shape, strict=True)]
    out = ndimage.zoom(prob, factors, order=1)
    if out.shape != tuple(shape):
        raise ValueError(f"upsampling {prob.shape} gave {out.shape}, expected {tuple(shape)}")
    return out


def evaluate_run(
    run: str | Path,
    data: str | Path | None = None,
    split: str = "dev",
    mode: str | None = None,
    device: str = "cpu",
    lcc: bool = True,
    force: bool = False,
    save_nifti_to: str | Path | None = None,
) -> dict:
    """Metrics of a finished run on ``split``; cached in the run folder unless ``force``.

    ``save_nifti_to``: also write each case's label map and probability map (original grid,
    spacing in the affine) as ``<case>_pred.nii.gz`` / ``<case>_prob.nii.gz`` there (forces a
    re-evaluation, since the cached summary holds no maps).
    """
    run = Path(run)
    cfg, method, nets = load_trained(run, device)
    mode = mode or method.default_mode()
    root, is_real = data_root_or_phantom(data if data is not None else cfg.data)
    if cfg.data_id is not None:
        found = data_fingerprint(str(root) if is_real else None)
        if found != cfg.data_id:
            raise ValueError(
                f"{root}: data {found} is not the data run {run.name} was trained on "
                f"({cfg.data_id}); pass --data"
            )
    ids = eval_ids(root, split, cfg)
    where = {"data_root": str(root)}
    if cfg.pipeline >= 2:  # by content: the evaluated cases' files, no machine path
        where = {"data_id": cfg.data_id, "eval_cases_digest": cases_digest(root, ids)[:12]}
    out = run / f"eval-{split}-{mode}{'' if lcc else '-nolcc'}"
    if (out / "summary.json").is_file() and not force and save_nifti_to is None:
        summary = json.loads((out / "summary.json").read_text())
        if all(summary.get(k) == v for k, v in where.items()):
            return summary
    autocast = torch.bfloat16 if cfg.precision == "bf16" else None
    rows, t0 = [], time.perf_counter()
    for case_id in ids:
        coarse = load_case(root, case_id, cfg.grid, with_label=True)
        full = load_case(root, case_id, 1.0, with_label=True)
        prob = predict_case(
            normalize_image(coarse.image, cfg.normalization),
            **method.inference_nets(nets),
            mode=mode,
            k=cfg.k,
            patch=cfg.window,
            stride=cfg.eval_stride,
            device=device,
            autocast_dtype=autocast,
        )
        prob_full = upsample(prob, full.label.shape)
        pred = postprocess(prob_full, 0.5, lcc=lcc)
        if save_nifti_to is not None:
            Path(save_nifti_to).mkdir(parents=True, exist_ok=True)
            save_nifti(Path(save_nifti_to) / f"{case_id}_pred.nii.gz", pred, full.spacing)
            save_nifti(Path(save_nifti_to) / f"{case_id}_prob.nii.gz", prob_full, full.spacing)
        vox = case_metrics(pred, full.label).as_dict()
        mm = case_metrics(pred, full.label, spacing=full.spacing).as_dict()
        grid = case_metrics(postprocess(prob, 0.5, lcc=lcc), coarse.label).as_dict()
        rows.append(
            {
                "case": case_id,
                **vox,
                "asd_mm": mm["asd"],
                "hd95_mm": mm["hd95"],
                **{f"{k}_grid": v for k, v in grid.items()},
            }
        )
    seconds = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    with (out / "cases.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    def stats(suffix: str, keys=METRICS) -> dict:
        full_rows = [{m: r[f"{m}{suffix}"] if m in keys else r[m] for m in METRICS} for r in rows]
        s = summarize(full_rows)
        return {"n": s["n"], **{k: s[k] for k in keys}}

    summary = {
        "run": run.name,
        "method": cfg.method,
        "fidelity": cfg.fidelity,
        "profile": cfg.profile,
        "seed": cfg.seed,
        "mode": mode,
        "lcc": lcc,
        "split": split,
        "n_cases": len(rows),
        "grid": cfg.grid,
        "metrics_voxel": stats(""),  # voxels of the ORIGINAL data grid (LA: 0.625 mm)
        "metrics_mm": stats("_mm", ("asd", "hd95")),
        "metrics_run_grid": stats("_grid"),  # against the resampled label (secondary)
        "original_spacing_mm": list(full.spacing),
        "run_grid_spacing_mm": list(coarse.spacing),
        "window": list(cfg.window),
        "stride": list(cfg.eval_stride),
        **where,
        "normalization": cfg.normalization,
        "real_data": is_real,
        "eval_seconds": round(seconds, 1),
        "hardware": hardware(device),
        "commit": git_commit(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
