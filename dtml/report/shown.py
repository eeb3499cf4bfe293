"""What a notebook shows of Tables 1-3: one table per source and setting, titled by what it is
(:func:`shown_tables`), its caveats said once (:func:`caveats_once`) and what the tables say
(:func:`summary_markdown`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dtml.experiments import TABLES, Row
from dtml.report.normalization import normalization_of
from dtml.report.notes import caveats, compare, describe_source, paper_gap, row_notes
from dtml.report.records import RunRecord
from dtml.report.tables import SettingTable, tables_by_setting

# what a table shows, by its provenance (table_kind) -> a short name for sentences and caveats
KIND_NAMES = {
    "test": "test-split benchmark",
    "dev": "dev-split study",
    "check": "pipeline check",
    "none": "no runs yet",
    "other": "other setting",
}


def table_kind(prov: Mapping[str, Any]) -> str:
    """What a table's runs are: "none" (no evaluated run), "check" (the synthetic phantom or the
    ci profile: the pipeline runs, nothing about the paper), "test" (real data scored on the
    paper's test scans: the benchmark), "dev" (real data scored on our validation carve-out of
    train.list: a study) or "other"."""
    if not prov.get("runs"):
        return "none"
    if prov.get("real_data") is False or prov.get("profile") == "ci":
        return "check"
    if prov.get("real_data") and prov.get("eval_split") == "test":
        return "test"
    if prov.get("real_data") and prov.get("eval_split") == "dev":
        return "dev"
    return "other"


def shows_paper(prov: Mapping[str, Any]) -> bool:
    """Whether the paper's numbers belong beside a table: only beside real-data runs scored on the
    paper's test scans (or beside no runs at all: then they are the target, ours "not run yet").
    A dev-split study scores other scans, a pipeline check a phantom or a toy schedule."""
    return table_kind(prov) in ("test", "none")


def is_input_study(result: SettingTable) -> bool:
    """Whether a table holds test-split runs of other inputs than the release's stored ones: the
    input-normalisation study, a study beside the benchmark and not a second benchmark."""
    return (
        table_kind(result.provenance) == "test"
        and bool(result.records)
        and normalization_of(result.records[0]) != "stored"
    )


def table_title(result: SettingTable, where: str) -> str:
    """A heading naming what the table is (benchmark, input-normalisation study, dev-split study,
    pipeline check), its profile, data and seeds (:func:`describe_source`) and where its runs were
    read."""
    n, prov = result.table_no, result.provenance
    kind = table_kind(prov)
    source = describe_source(result)
    if is_input_study(result):
        return (
            f"Table {n} rows, input-normalisation study on the {prov.get('n_eval_cases')} test "
            f"scans: the rows it ran, beside the benchmark, not a second one ({source}), from "
            f"{where}"
        )
    if kind == "none":
        return f"Table {n} from {where}: no runs yet, every reimplemented row is not run yet"
    if kind == "check":
        return (
            f"Pipeline check, not the paper's Table {n} ({source}; {prov.get('iterations')} "
            f"iterations), from {where}"
        )
    if kind == "test":
        return (
            f"Table {n}, the paper's benchmark: the {prov.get('n_eval_cases')} test scans of "
            f"test.list ({source}), from {where}"
        )
    if kind == "dev":
        return (
            f"Table {n} rows, dev split: {prov.get('n_eval_cases')} validation scans carved from "
            f"train.list; a study, not the benchmark ({source}), from {where}"
        )
    return f"Table {n} ({source}), from {where}"


@dataclass
class ShownTable:
    """One table a notebook shows: a short ``name`` (for sentences and caveats), a file ``tag``,
    its ``title``, the table, and whether the paper's numbers stand beside it."""

    name: str
    tag: str
    title: str
    result: SettingTable
    paper: bool


def shown_tables(
    table_no: int,
    sources: Sequence[tuple[str, Iterable[RunRecord]]],
    rows: Sequence[Row] | None = None,
) -> list[ShownTable]:
    """The tables of ``sources`` ((where, records), in order): one per source and setting, never
    mixed. The paper's columns only where :func:`shows_paper`; without them, rows the paper alone
    reports (not reimplemented) are left out, since they would be empty. An input study
    (:func:`is_input_study`) shows only the rows it ran, without the paper (whose inputs are the
    stored ones): its other rows are not queued, they are not part of it."""
    rows = list(rows) if rows is not None else TABLES[table_no]
    out: list[ShownTable] = []
    for where, records in sources:
        tables = tables_by_setting(table_no, list(records), rows)
        studies, settings = [], []  # settings are numbered among themselves
        for t in tables:
            (studies if is_input_study(t) else settings).append(t)
        several = len(settings) > 1
        for i, result in enumerate(settings):
            kind = table_kind(result.provenance)
            paper = shows_paper(result.provenance)
            if not paper:
                own = [r for r in rows if r.reimplemented]
                (result,) = tables_by_setting(table_no, result.records, own, paper=False)
            part = f" (setting {i + 1} of {len(settings)})" if several else ""
            name = KIND_NAMES[kind] + (f" {i + 1}" if several else "")
            name += f", {where}" if kind in ("none", "other") else ""
            tag = kind + (str(i + 1) if several else "")
            out.append(ShownTable(name, tag, table_title(result, where) + part, result, paper))
        for result in studies:  # after the benchmark
            inputs = normalization_of(result.records[0])
            ran = {r["label"] for r in result.rows if r["status"] == "ok"}
            own = [r for r in rows if r.reimplemented and r.label in ran]
            (result,) = tables_by_setting(table_no, result.records, own, paper=False)
            tag = inputs if all(t.tag != inputs for t in out) else f"{inputs}{len(out) + 1}"
            name = f"input study, `{inputs}` inputs"
            out.append(ShownTable(name, tag, table_title(result, where), result, False))
    return out


def caveats_once(tables: Sequence[ShownTable]) -> list[str]:
    """The caveats of every shown table with runs, each stated once; with several such tables each
    names, in brackets, the tables it applies to. (A table without runs says so in its title.)"""
    with_runs = [t for t in tables if t.result.records]
    applies: dict[str, list[str]] = {}
    for t in with_runs:
        for note in caveats(t.result.provenance):
            applies.setdefault(note, []).append(t.name)
    if len(with_runs) < 2:
        return list(applies)
    return [f"{note} [{'; '.join(names)}]" for note, names in applies.items()]


def summary_markdown(shown: Sequence[ShownTable], pairs: Sequence[tuple[str, str]]) -> str:
    """What the shown tables say, one block per table: :func:`~dtml.report.notes.compare` for
    each pair of ``pairs`` whose two rows the table holds (an input study holds only its own),
    the gap to the paper per row beside the paper, the failed-case notes; then
    :func:`caveats_once`."""
    lines = []
    for t in shown:
        if not t.result.records:
            lines += [f"**{t.name}**: no runs, nothing to compare.", ""]
            continue
        labels = {row["label"] for row in t.result.rows}
        lines.append(f"**{t.name}** ({describe_source(t.result)}):")
        said = [f"- {compare(t.result.rows, a, b)}" for a, b in pairs if {a, b} <= labels]
        lines += said or ["- none of the pairs compared here: it holds other rows."]
        if t.paper:
            lines += [f"- {paper_gap(row)}" for row in t.result.rows]
        lines += [f"- {note}" for note in row_notes(t.result.rows)]
        lines.append("")
    notes = caveats_once(shown) or ["nothing beyond the setting line under each table."]
    lines += ["**Read with care** (each caveat once):", *[f"- {note}" for note in notes]]
    return "\n".join(lines)
