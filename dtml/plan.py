"""Plans: one YAML file of table rows x seeds, checked and expanded to run configurations.

A plan names a profile, a split, seeds, optional label counts and ordered stages of table rows
(``dtml.experiments``) with config overrides (plan-level ``set:``, then the stage's ``set:``).
Runs are expanded stage by stage, row by row, label count by label count, seed by seed; a run's
index is its place in that order (``plans/benchmark.yaml``; executed by :mod:`dtml.sweep`).

What a plan trains is defined by the plan alone: ``--set`` at run time takes only fields outside the
run key (``RUNTIME_KEYS``: threads, runs_dir, checkpoint and log cadence, evaluation window).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from dtml.config import (
    NON_RESULT_FIELDS,
    PROFILES,
    TrainConfig,
    load_profile,
    parse_overrides,
)
from dtml.experiments import ALL_LABELED, config_for, rows_by_label

PLAN_KEYS = {"profile", "split", "seeds", "labeled_counts", "set", "stages"}
STAGE_KEYS = {"name", "rows", "set", "seeds"}
# set by the rows, seeds, --data and profile of a plan, never by its `set:`
PLAN_OWNED = {"method", "seed", "data", "data_id", "profile"}
RUNTIME_KEYS = tuple(sorted(NON_RESULT_FIELDS - {"data_id", "profile"}))


@dataclass(frozen=True)
class PlannedRun:
    """One (row, seed) of a plan, with the overrides that define its configuration."""

    stage: str
    label: str
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    profile: str
    runs: tuple[PlannedRun, ...]

    @property
    def stages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.stage for r in self.runs))


def plan_value(name: str, value: Any) -> Any:
    """A plan's ``set:`` value converted to the field's type, as ``--set name=value`` would be;
    a YAML list becomes a tuple, other non-string values are kept."""
    if isinstance(value, str):
        return parse_overrides([f"{name}={value}"])[name]
    return tuple(value) if isinstance(value, list) else value


def _rows_by_label() -> dict[str, Any]:
    return {label: row for label, row in rows_by_label().items() if row.reimplemented}


def _overrides(path: Path, where: str, values: Any) -> dict[str, Any]:
    """A ``set:`` mapping checked against the config fields and converted to their types."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: {where}'set' must be a mapping of config fields to values")
    names = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{path}: {where}unknown config keys {unknown} in 'set'")
    owned = sorted(set(values) & PLAN_OWNED)
    if owned:
        raise ValueError(
            f"{path}: {where}'set' cannot change {owned} (given by the rows, seeds, profile "
            "and --data)"
        )
    try:
        return {k: plan_value(k, v) for k, v in values.items()}
    except ValueError as error:
        raise ValueError(f"{path}: {where}bad value in 'set': {error}") from error


def _int_list(path: Path, where: str, key: str, value: Any, allow: tuple = ()) -> list:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{path}: {where}'{key}' must be a non-empty list, got {value!r}")
    for v in value:
        if v not in allow and (not isinstance(v, int) or isinstance(v, bool)):
            raise ValueError(f"{path}: {where}'{key}' must hold integers, got {v!r}")
    return value


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan file; every error is one line naming the file (and the stage)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: plan file not found")
    try:
        d = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from error
    d = d if d is not None else {}
    if not isinstance(d, dict):
        raise ValueError(f"{path}: a plan is a mapping with keys {sorted(PLAN_KEYS)}")
    bad = set(d) - PLAN_KEYS
    if bad:
        raise ValueError(f"{path}: unknown plan keys {sorted(bad)}; known: {sorted(PLAN_KEYS)}")
    profile = d.get("profile", "cpu")
    if profile not in PROFILES:
        raise ValueError(f"{path}: unknown profile '{profile}', expected one of {PROFILES}")
    rows = _rows_by_label()
    base = {"split": d.get("split", "paper"), **_overrides(path, "", d.get("set"))}
    counts = d.get("labeled_counts")
    counts = (
        [None] if counts is None else _int_list(path, "", "labeled_counts", counts, (ALL_LABELED,))
    )
    plan_seeds = _int_list(path, "", "seeds", d.get("seeds", [1]))
    stages = d.get("stages") or []
    if not isinstance(stages, list):
        raise ValueError(f"{path}: 'stages' must be a list of mappings")
    runs = []
    for i, stage in enumerate(stages):
        if not isinstance(stage, dict):
            raise ValueError(
                f"{path}: stage {i + 1} must be a mapping with keys {sorted(STAGE_KEYS)}"
            )
        name = stage.get("name", f"stage{i + 1}")
        where = f"stage '{name}': "
        bad = set(stage) - STAGE_KEYS
        if bad:
            raise ValueError(
                f"{path}: {where}unknown keys {sorted(bad)}; known: {sorted(STAGE_KEYS)}"
            )
        over = {**base, **_overrides(path, where, stage.get("set"))}
        try:  # a value of the right type can still be invalid (a 2D patch, an unknown split)
            load_profile(profile, **over)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: {where}bad value in 'set': {error}") from error
        seeds = _int_list(path, where, "seeds", stage.get("seeds", plan_seeds))
        labels = stage.get("rows") or []
        if not isinstance(labels, list):
            raise ValueError(f"{path}: {where}'rows' must be a list of row labels")
        for label in labels:
            if label not in rows:
                raise ValueError(f"{path}: {where}unknown row '{label}'; known: {sorted(rows)}")
            for count in counts:
                for seed in seeds:
                    extra = {} if count is None else {"labeled_count": count}
                    runs.append(PlannedRun(name, label, int(seed), {**over, **extra}))
    if not runs:
        raise ValueError(f"{path}: the plan has no runs (stages: rows)")
    return Plan(profile, tuple(runs))


def runtime_overrides(pairs: list[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs, limited to fields outside the run key (``RUNTIME_KEYS``)."""
    extra = parse_overrides(pairs)
    keyed = sorted(set(extra) - set(RUNTIME_KEYS))
    if keyed:
        raise ValueError(
            f"--set {','.join(keyed)}: part of the run key, so it belongs in the plan's 'set:' "
            f"(--set takes {', '.join(RUNTIME_KEYS)})"
        )
    return extra


def run_config(plan: Plan, run: PlannedRun, data: str | None, extra: dict | None = None):
    """The resolved ``TrainConfig`` of one planned run (``extra``: non-key fields, e.g. threads)."""
    cfg = config_for(_rows_by_label()[run.label], plan.profile, run.seed, data, **run.overrides)
    return cfg.replace(**(extra or {}))


def parse_indices(text: str, count: int, where: str = "--indices") -> list[int]:
    """``"0-8,12"`` -> ``[0, ..., 8, 12]`` (ranges inclusive, order kept, duplicates dropped);
    every index must be in ``0..count-1``."""
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        try:
            lo, _, hi = part.partition("-")
            span = range(int(lo), int(hi or lo) + 1)
        except ValueError:
            raise ValueError(f"{where} {text}: '{part}' is not an index or a range a-b") from None
        if not span or span[0] < 0 or span[-1] >= count:
            raise ValueError(f"{where} {text}: '{part}' outside 0..{count - 1}")
        out += [i for i in span if i not in out]
    return out


def select_indices(plan: Plan, indices: str | None, only: str | None, where: str) -> list[int]:
    """Plan indices chosen by ``--indices`` (``"0-8,12"``) and ``--only`` (comma-separated stage
    names); both must hold, and either left out keeps every run."""
    stages = set(only.split(",")) if only else None
    if stages is not None and stages - set(plan.stages):
        raise ValueError(
            f"{where}: --only names unknown stages {sorted(stages - set(plan.stages))}; "
            f"known: {list(plan.stages)}"
        )
    chosen = range(len(plan.runs)) if indices is None else parse_indices(indices, len(plan.runs))
    return [i for i in chosen if stages is None or plan.runs[i].stage in stages]
