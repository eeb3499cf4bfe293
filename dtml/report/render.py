"""Table rows rendered as GitHub markdown, CSV and JSON files."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dtml.report.hardware import hardware_text, run_hardware, short_hardware, stretches_text
from dtml.report.notes import caveats
from dtml.report.sentences import num, pm
from dtml.report.tables import NOT_RUN, SettingTable, variant_tag

NOT_RUN_YET = "not run yet"  # how the compact view shows a reimplemented row without runs


def _ours(row: Mapping[str, Any], key: str, over: str = "seeds", status: bool = False) -> str:
    if row["status"] != "ok":
        return row["status"] if status else ""
    return pm(row[f"{key}_{over}_mean"], row[f"{key}_{over}_std"])


def _scans(row: Mapping[str, Any]) -> str:
    ours = f"{row['labeled']}/{row['unlabeled']}" if row.get("labeled") is not None else "–"
    if row.get("paper_labeled") is None:
        return ours
    return f"{ours} ({row['paper_labeled']}/{row['paper_unlabeled']})"


def _compact_status(row: Mapping[str, Any]) -> str:
    if row["status"] == "ok":
        return pm(row["dice_seeds_mean"], row["dice_seeds_std"])
    return NOT_RUN_YET if row["status"] == NOT_RUN else row["status"]


def compact_columns(paper: bool) -> list[tuple[str, Any]]:
    """At most 8 columns, for a notebook or a projector; every other column is in the CSV/JSON.

    With the paper: method, L/U ours (paper), seeds, Dice over seeds and over cases, the paper's
    Dice, the difference, 95HD in mm. Without: Jaccard and ASD take the paper's two columns.
    """
    cols: list[tuple[str, Any]] = [
        ("Method", lambda r: r["label"]),
        ("L/U ours (paper)" if paper else "L/U", _scans),
        ("seeds", lambda r: str(r["n_seeds"]) if r["status"] == "ok" else ""),
        ("Dice [%] over seeds", _compact_status),
        ("Dice [%] over cases", lambda r: _ours(r, "dice", "cases")),
    ]
    if paper:
        cols += [
            ("paper Dice [%]", lambda r: num(r["paper_dice"])),
            ("Δ Dice", lambda r: num(r["diff_dice"], sign=True)),
        ]
    else:
        cols += [
            ("Jaccard [%]", lambda r: _ours(r, "jaccard")),
            ("ASD [mm]", lambda r: _ours(r, "asd_mm")),
        ]
    cols.append(("95HD [mm]", lambda r: _ours(r, "hd95_mm")))
    return cols


def markdown_columns(paper: bool, compact: bool = False) -> list[tuple[str, Any]]:
    """(header, cell function) of :func:`to_markdown`'s default view (every measure, ours and the
    paper's: the committed results/*/table*.md files), or with ``compact`` of
    :func:`compact_columns`."""
    if compact:
        return compact_columns(paper)
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
            ("Dice paper", lambda r: num(r["paper_dice"])),
            ("Δ Dice", lambda r: num(r["diff_dice"], sign=True)),
        ]
    cols.append(("Jaccard % (seeds)", lambda r: _ours(r, "jaccard")))
    if paper:
        cols += [
            ("Jac. paper", lambda r: num(r["paper_jaccard"])),
            ("Δ Jac.", lambda r: num(r["diff_jaccard"], sign=True)),
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
                        f"{num(r[f'paper_{k}_vox'])} ({num(r[f'paper_{k}_mm'])})"
                        if r[f"paper_{k}_vox"] is not None
                        else ""
                    ),
                ),
                (f"Δ {name} mm", lambda r, k=key: num(r[f"diff_{k}_mm"], sign=True)),
            ]
    return cols


def to_markdown(
    rows: Sequence[Mapping[str, Any]], provenance: Mapping | None = None, compact: bool = False
) -> str:
    """A GitHub-markdown table (mean ± std; "seeds": over per-seed means, "cases": pooled cases;
    Δ = ours - paper, distances in mm), followed by the provenance when given. ``compact``: the
    columns of :func:`compact_columns` only."""
    if not rows:
        raise ValueError("to_markdown: no rows")
    paper = "paper_dice" in rows[0]
    cols = markdown_columns(paper, compact)
    lines = [
        "| " + " | ".join(h for h, _ in cols) + " |",
        "|" + "|".join("---" for _ in cols) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(fn(row) for _, fn in cols) + " |")
    if provenance is not None:
        lines += ["", *_provenance_lines(provenance)]
    return "\n".join(lines) + "\n"


def _provenance_lines(provenance: Mapping) -> list[str]:
    lines = [f"**Setting:** {provenance.get('setting')}"]
    for key in ("seeds", "commits", "hardware"):
        if key in provenance:
            values = [str(v) for v in provenance[key]]
            if key == "hardware":
                values = [hardware_text(v) for v in values]
            lines.append(f"- {key}: {', '.join(values)}")
    runs = provenance.get("runs", {})
    if runs:
        mixed = len({h for v in runs.values() for h in run_hardware(v)}) > 1
        walls = ", ".join(
            f"{v['method']}{variant_tag(v, runs)} s{v['seed']} {v['wall_seconds']:g} s"
            + _trained_on(v, mixed)
            for v in sorted(
                runs.values(),
                key=lambda v: (v["method"], v.get("labeled") or 0, v.get("md_loss", ""), v["seed"]),
            )
        )
        lines.append(f"- training wall time per run: {walls}")
    return lines


def _trained_on(run: Mapping[str, Any], mixed: bool) -> str:
    """`` (iterations 0-900 on ...; 900-3000 on ...)`` for a run moved between hardware, else
    `` (CPU, 1 thread)`` where a table's runs come from several machines."""
    stretches = stretches_text(run)
    if stretches:
        return f" ({stretches})"
    return f" ({short_hardware(run.get('hardware'))})" if mixed else ""


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
    """``<folder>/<name>.csv``, ``.md`` (with the provenance's caveats: the file is read on its
    own) and ``.json``; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / f"{name}.md"
    text = to_markdown(rows, provenance)
    notes = _caveat_lines(provenance) if provenance is not None else []
    md.write_text(text + "".join(f"\n{line}" for line in notes) + ("\n" if notes else ""))
    js = folder / f"{name}.json"
    to_json(rows, js, provenance)
    return [to_csv(rows, folder / f"{name}.csv"), md, js]


def table_markdown(
    result: SettingTable,
    title: str,
    compact: bool = False,
    notes: bool = True,
    all_columns: str | Path | None = None,
) -> str:
    """Heading, table with provenance, and the caveats that apply to it.

    ``compact``: at most 8 columns (:func:`compact_columns`); ``all_columns``: the file holding
    every column, named on a line under the table; ``notes=False`` leaves the caveats out (a
    notebook states them once, :func:`dtml.report.shown.caveats_once`).
    """
    lines = [f"### {title}", "", to_markdown(result.rows, compact=compact)]
    if all_columns is not None:
        lines += [f"all columns: `{all_columns}`", ""]
    lines += [*_provenance_lines(result.provenance), ""]
    if notes:
        lines += _caveat_lines(result.provenance)
    return "\n".join(lines) + "\n"


def _caveat_lines(provenance: Mapping) -> list[str]:
    """``**Read with care:**`` and one bullet per caveat of the provenance; [] when none."""
    found = caveats(provenance)
    return ["**Read with care:**", *[f"- {n}" for n in found]] if found else []


def show_table(result: SettingTable, title: str, folder: str | Path | None = None) -> str:
    """What a notebook displays: :func:`table_markdown` in its compact form without caveats; with
    ``folder`` every column is also written there (:func:`save_table`) and the CSV named."""
    csv_path = None
    if folder is not None:
        csv_path = save_table(result.rows, folder, table_name(result), result.provenance)[0]
    return table_markdown(result, title, compact=True, notes=False, all_columns=csv_path)


def table_name(result: SettingTable) -> str:
    """A file stem naming the table and its setting, e.g. ``table2-cpu-1a2b3c4d``."""
    profile = result.provenance.get("profile", "none")
    return f"table{result.table_no}-{profile}-{result.setting_id or 'empty'}"
