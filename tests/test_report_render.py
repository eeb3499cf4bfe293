"""dtml.report.render: markdown, CSV and JSON of the tables, full and compact."""

from __future__ import annotations

import csv
import json

import pytest
from runfolders import make_run

from dtml import report
from dtml.report.render import show_table


def test_renderers_write_every_column(tmp_path):
    records = report.collect([make_run(tmp_path / "r", "supervised", 1, [0.8, 0.6])])
    rows = report.table(2, records)
    prov = report.provenance(records)
    paths = report.save_table(rows, tmp_path / "out", "table2", prov)
    assert [p.name for p in paths] == ["table2.csv", "table2.md", "table2.json"]
    with paths[0].open() as f:
        back = list(csv.DictReader(f))
    assert len(back) == 3 and set(back[0]) == set(rows[0])
    assert float(back[0]["dice_seeds_mean"]) == pytest.approx(70.0)
    assert back[1]["dice_seeds_mean"] == ""  # not run: empty, not 0
    assert json.loads(paths[2].read_text())["rows"][0]["label"] == "M_s only"
    md = paths[1].read_text()
    assert md.count("\n| ") == 3 and "**Setting:** ci profile" in md
    assert "supervised s1 10 s" in md
    # read on its own, the file states the table's caveats after its provenance
    tail = md.split("**Read with care:**\n", 1)[1]
    assert tail.splitlines() == [f"- {n}" for n in report.caveats(prov)]
    assert md.endswith(f"- {report.caveats(prov)[-1]}\n")


def test_table1_runs_of_one_method_are_told_apart_by_their_md_loss(tmp_path):
    runs = [
        make_run(tmp_path, "dtml", 1, [0.8, 0.6]),
        make_run(tmp_path, "dtml", 1, [0.7, 0.6], md_loss="dis"),
        make_run(tmp_path, "dtml", 1, [0.9, 0.8], md_loss="dis+mask"),
    ]
    records = report.collect(runs)
    prov = report.provenance(records)
    md = report.to_markdown(report.table(1, records), prov)
    walls = next(line for line in md.splitlines() if line.startswith("- training wall time"))
    assert walls.count("dtml (L_") == 3  # one tag per run, in md_loss order
    assert walls.index("dtml (L_dis) s1") < walls.index("dtml (L_dis+L_mask) s1")
    assert walls.index("dtml (L_dis+L_mask) s1") < walls.index("dtml (L_mask) s1")
    one = report.provenance(records[:1])
    assert "dtml s1 10 s" in report.to_markdown(report.table(1, records[:1]), one)


def _header(markdown: str) -> list[str]:
    line = next(ln for ln in markdown.splitlines() if ln.startswith("| "))
    return [c.strip() for c in line.strip("|").split("|")]


def test_compact_tables_fit_a_projector_and_keep_every_column_in_the_csv(tmp_path):
    records = report.collect([make_run(tmp_path / "r", "supervised", 1, [0.8, 0.6])])
    rows = report.table(2, records)
    compact = _header(report.to_markdown(rows, compact=True))
    assert len(compact) <= 8 and "95HD [mm]" in compact and "paper Dice [%]" in compact
    assert "Dice [%] over seeds" in compact and "Dice [%] over cases" in compact
    bare = _header(report.to_markdown(report.table(2, records, paper=False), compact=True))
    assert len(bare) <= 8 and not [h for h in bare if "paper" in h or "Δ" in h]
    assert {"Jaccard [%]", "ASD [mm]", "95HD [mm]"} <= set(bare)
    assert len(_header(report.to_markdown(rows))) > 8  # the full view is unchanged
    assert "| M_d only | – (16/0) |  | not run yet |" in report.to_markdown(rows, compact=True)
    (result,) = report.tables_by_setting(2, records)
    shown = show_table(result, "Table 2", tmp_path / "tables")
    csv_path = tmp_path / "tables" / f"{report.table_name(result)}.csv"
    assert f"all columns: `{csv_path}`" in shown and csv_path.is_file()
    assert "**Setting:** ci profile" in shown and "Read with care" not in shown
    with csv_path.open() as f:
        assert set(next(csv.DictReader(f))) == set(rows[0])  # every column, not the compact ones
    full = report.table_markdown(result, "Table 2")
    assert "**Read with care:**" in full and len(_header(full)) > 8
