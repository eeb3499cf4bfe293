"""Which records belong to a row of a paper table (method, per-row overrides, seeds)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dtml.config import PROFILES, TrainConfig, load_profile
from dtml.experiments import ALL_LABELED, TABLES, Row
from dtml.report.records import RunRecord


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
