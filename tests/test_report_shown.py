"""dtml.report.shown: the tables a notebook shows, their titles, caveats and summary."""

from __future__ import annotations

from runfolders import by_label, make_run

from dtml import report
from dtml.report.shown import caveats_once, shown_tables, summary_markdown, table_kind


def test_shown_tables_are_titled_by_what_they_are(tmp_path):
    dev = report.collect(
        [
            make_run(tmp_path / "d", "dtml", 1, [0.9, 0.8], profile="cpu"),
            make_run(tmp_path / "d", "supervised", 1, [0.7, 0.6], profile="cpu"),
        ]
    )
    check = report.collect([make_run(tmp_path / "c", "dtml", 1, [0.5, 0.5])])  # ci profile
    shown = shown_tables(3, [("bench", []), ("dev", dev), ("live", check)])
    assert [t.tag for t in shown] == ["none", "dev", "check"]
    empty, study, live = shown
    assert empty.paper and "not run yet" in empty.title
    assert by_label(empty.result.rows)["SASS"]["paper_dice"] is not None
    assert not study.paper and "dev split" in study.title and "not the benchmark" in study.title
    assert "cpu profile, real LA data, seed 1" in study.title
    assert not [k for k in study.result.rows[0] if k.startswith("paper_")]
    assert "SASS" not in by_label(study.result.rows)  # paper-only rows need the paper column
    assert not live.paper and live.title.startswith("Pipeline check, not the paper's Table 3")
    assert table_kind({"runs": {"x": {}}, "real_data": True, "eval_split": "test"}) == "test"
    assert table_kind({"runs": {"x": {}}, "real_data": False, "eval_split": "test"}) == "check"
    notes = caveats_once(shown)
    assert len(notes) == len(set(notes))
    assert not [n for n in notes if "No evaluated runs" in n]  # said in the empty table's title
    seeds = [n for n in notes if "seed(s)" in n]
    assert len(seeds) == 1 and seeds[0].endswith("[dev-split study; pipeline check]")
    assert [n for n in notes if "ci profile" in n][0].endswith("[pipeline check]")


def test_an_input_study_is_shown_beside_the_benchmark_with_its_own_rows_only(tmp_path):
    def run(method, normalization, dice):
        return make_run(
            tmp_path / normalization,
            method,
            1,
            dice,
            profile="cpu",
            eval_split="test",
            split="paper",
            normalization=normalization,
        )

    records = report.collect(
        [
            run("supervised", "stored", [0.7, 0.6]),
            run("sdf_only", "stored", [0.7, 0.7]),
            run("supervised", "volume", [0.8, 0.8]),
        ]
    )
    bench, study = shown_tables(2, [("committed", records)])
    assert bench.paper and bench.tag == "test" and "the paper's benchmark" in bench.title
    assert "not run yet" in report.to_markdown(bench.result.rows, compact=True)  # DTML rows
    assert (
        not study.paper and study.tag == "volume" and study.name == "input study, `volume` inputs"
    )
    assert "input-normalisation study" in study.title and "not a second one" in study.title
    assert bench.name == "test-split benchmark" and "setting" not in bench.title
    assert [r["label"] for r in study.result.rows] == ["M_s only"]  # never planned: not shown
    assert not [k for k in study.result.rows[0] if k.startswith("paper_")]
    said = summary_markdown([bench, study], [("M_d only", "M_s only")])
    ours, theirs = said.split("**input study, `volume` inputs**")
    assert "On these runs M_d only is above M_s only by 5.00 Dice points" in ours
    assert "M_d only" not in theirs.split("**Read with care**")[0]  # a pair it does not hold
