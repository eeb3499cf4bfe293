"""Sentences about a table: comparisons, tests, gaps to the paper, and what it can NOT show."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dtml.experiments import TABLES, Row
from dtml.report.hardware import hardware_text, training_stretches
from dtml.report.rows import find_row, row_records
from dtml.report.sentences import result_text, seeds_text
from dtml.report.settings import _fmt_spacing, inputs_note
from dtml.report.stats import paired_test
from dtml.report.tables import (
    NOT_RUN,
    PAPER_SPACING_MM,
    SettingTable,
    variant_tag,
)


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
    """Rows whose means are dominated by failed cases (Dice 0: no overlap or empty prediction),
    in one sentence (empty list: no such row)."""
    failed = [
        f"{row['label']}: {row['n_zero_dice']} of {row['n_case_values']}"
        for row in rows
        if row.get("n_zero_dice")
    ]
    if not failed:
        return []
    one = len(failed) == 1
    return [
        f"{'; '.join(failed)} (seed, case) values have Dice 0 (no overlap; an empty prediction "
        "gets the volume diagonal as its distances, dtml.metrics), which pulls "
        f"{'its Dice mean' if one else 'their Dice means'} down and "
        f"{'its' if one else 'their'} distance means up."
    ]


SPEED_RATIO = 2.0  # one CPU trains one method at about one speed: a larger spread means two CPUs


def speed_spread(runs: Iterable[Mapping[str, Any]]) -> list[str]:
    """Methods whose CPU runs under ONE hardware name trained more than 2x apart in s/it.

    Older provenance names no vector unit (``AMD EPYC (1 threads)`` for an AVX2 and an AVX-512
    CPU), so only the speed tells such machines apart. GPU runs are left out: several runs sharing
    one GPU slow each other down. ``runs``: mappings with ``method``, ``hardware``, ``device``,
    ``seconds_per_iteration`` and a ``label`` (e.g. ``V-Net (lower bound) s1``), and where the
    run recorded them ``legs``, ``iterations`` and ``wall_seconds``: a run moved between hardware
    counts each stretch at its own speed under its own hardware, never the blend. Returns one
    ``"<method>: <label> <s/it>, ..."`` per (method, hardware name) spread, slowest last.
    """
    groups: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for run in runs:
        if run.get("device", "cpu") != "cpu":
            continue
        for hardware, seconds, label in _speeds(run):
            groups.setdefault((str(run["method"]), hardware), []).append((seconds, label))
    out = []
    for (method, _), items in sorted(groups.items()):
        items.sort()
        if items[-1][0] > SPEED_RATIO * items[0][0]:
            out.append(f"{method}: " + ", ".join(f"{label} {sec:.2f}" for sec, label in items))
    return out


def _speeds(run: Mapping[str, Any]) -> list[tuple[str, float, str]]:
    """(hardware, s/it, label) of each stretch of a run trained on more than one hardware
    (labelled with its iterations), else of the whole run."""
    if run.get("legs"):
        stretches = training_stretches(run)
        if len(stretches) > 1:
            return [
                (s.hardware, s.seconds_per_iteration, f"{run['label']} ({s.start}-{s.end})")
                for s in stretches
                if s.seconds_per_iteration
            ]
    seconds = run.get("seconds_per_iteration")
    return [(str(run.get("hardware")), float(seconds), str(run["label"]))] if seconds else []


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
        names = "; ".join(hardware_text(h) for h in prov["hardware"])
        out.append(
            f"Runs were trained on different hardware ({names}; per run in the wall-time line). "
            "Same configuration and seeds, but the kernels' arithmetic differs between machines "
            "(results/hardware_check: how far one key moves between two), so a seed is a sample "
            "of the configuration, not a bit-identical rerun; wall times compare only within one "
            "machine."
        )
    spread = speed_spread(
        {**v, "label": f"{v['method']}{variant_tag(v, prov['runs'])} s{v['seed']}"}
        for v in prov["runs"].values()
    )
    if spread:
        mixed = len(prov.get("hardware", [])) > 1  # that caveat already says how to read wall times
        out.append(
            "By their training speed (s/it), runs under one hardware name come from more than "
            f"one machine ({'; '.join(spread)}): a change of CPU alone can move a run "
            "(results/hardware_check)"
            + ("." if mixed else ", and wall times compare only within one machine.")
        )
    if len(prov.get("seeds", [])) < 3:
        out.append(
            f"{len(prov.get('seeds', []))} seed(s): the spread over seeds is unknown or rough; "
            "read it beside the rows with 3 seeds (mean ± std over seeds)."
        )
    return out


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
    names = {"dice": "Dice points", "jaccard": "Jaccard points"}
    unit = names.get(column, "mm" if column.endswith("_mm") else "voxels")
    text = f"{a} vs {b}: {result_text(res, a, 'cases', unit=unit)}"
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
    """Short: profile, data kind, inputs when not the stored release (the normalisation study)
    and seeds of a table (the full setting is printed under it)."""
    prov = result.provenance
    if not result.records:
        return "no evaluated runs"
    data = {True: "real LA data", False: "synthetic phantom"}.get(prov.get("real_data"), "?")
    seeds = seeds_text(prov.get("seeds", []))
    inputs = inputs_note(result.records[0].config)
    return f"{prov.get('profile')} profile, {data}{inputs}, {seeds}{_fewer_seeds(result)}"


def _fewer_seeds(result: SettingTable) -> str:
    """' (DTC: seed 1)': the rows run with fewer seeds than the table's, so a title listing the
    table's seeds does not claim them for every row."""
    every = {str(s) for s in result.provenance.get("seeds", [])}
    fewer = [
        f"{row['label']}: {seeds_text(row['seeds'].split(';'))}"
        for row in result.rows
        if row["status"] == "ok" and set(row["seeds"].split(";")) != every
    ]
    return f" ({'; '.join(fewer)})" if fewer else ""
