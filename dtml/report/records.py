"""Run folders and their committed copies, read into :class:`RunRecord` objects.

A run folder (``runs/<method>-<key>/``, written by ``dtml.train`` and ``dtml.evaluate``) and its
committed copy (``results/<setting>/runs/<name>/``, written by :func:`export_runs`) hold the same
small files, so one reader (:func:`collect`) serves both.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dtml.methods import get_method
from dtml.report.portable import copy_portable, portable_config

CASE_COLUMNS = ("dice", "jaccard", "asd", "hd95", "asd_mm", "hd95_mm")
# optional: the same metrics against the label resampled to the run's grid (secondary)
GRID_COLUMNS = ("dice_grid", "jaccard_grid", "asd_grid", "hd95_grid")
SMALL_FILES = ("config.yaml", "train_summary.json", "log.csv")
EVAL_FILES = ("summary.json", "cases.csv")


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
    and ``eval-*/cases.csv``, with any data path replaced by the data's content id
    (:mod:`dtml.report.portable`); never checkpoints. Unfinished runs (no ``train_summary.json``) and,
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
        config = yaml.safe_load((run / "config.yaml").read_text())
        data_id = portable_config(config).get("data_id")
        for name in SMALL_FILES:
            if (run / name).is_file():
                copy_portable(run / name, target / name, data_id)
        for folder in sorted(run.glob("eval-*")):
            for name in EVAL_FILES:
                if (folder / name).is_file():
                    (target / folder.name).mkdir(exist_ok=True)
                    copy_portable(folder / name, target / folder.name / name, data_id)
        written.append(target)
    return written
