"""dtml.report.records and portable: reading, exporting and picking run folders' evaluations."""

from __future__ import annotations

from dataclasses import replace

import pytest
from runfolders import CASES, by_label, make_run

from dtml import report
from dtml.report.portable import portable_config, portable_summary


def test_collect_reads_config_summaries_and_cases(tmp_path):
    run = make_run(tmp_path, "supervised", 1, [0.8, 0.6])
    unfinished = make_run(tmp_path, "dtml", 1, [], finished=False)
    rec, partial = report.collect([run, unfinished])
    assert rec.name == run.name and rec.method == "supervised" and rec.seed == 1
    assert rec.profile == "ci" and rec.evaluated and rec.real_data is True
    assert [c["case"] for c in rec.cases] == list(CASES)
    assert rec.cases[1]["dice"] == pytest.approx(0.6)
    assert rec.cases[1]["asd_mm"] == pytest.approx(1.25 * 0.8)
    assert partial.train is None and partial.eval is None and not partial.evaluated
    assert report.find_runs(tmp_path) == sorted([run, unfinished])
    assert report.find_runs(tmp_path / "missing") == []


def test_collect_rejects_folders_that_are_not_runs(tmp_path):
    with pytest.raises(ValueError, match="no config.yaml"):
        report.collect([tmp_path])
    run = make_run(tmp_path, "supervised", 1, [0.8, 0.6])
    (run / "eval-dev-seg" / "cases.csv").write_text("case,dice\nLA_a,0.5\n")
    with pytest.raises(ValueError, match=r"cases\.csv: missing columns"):
        report.collect([run])


def test_export_copies_only_small_files_and_reads_back_identically(tmp_path):
    live = tmp_path / "runs"
    runs = [
        make_run(live, "supervised", 1, [0.8, 0.6]),
        make_run(live, "dtml", 1, [0.9, 0.7]),
        make_run(live, "dtml", 2, [], finished=False),
    ]
    dest = tmp_path / "results" / "runs"
    written = report.export_runs(runs, dest)
    assert [p.name for p in written] == [runs[0].name, runs[1].name]  # unfinished: skipped
    files = sorted(
        str(p.relative_to(dest / runs[0].name)) for p in (dest / runs[0].name).rglob("*")
    )
    assert files == [
        "config.yaml",
        "eval-dev-seg",
        "eval-dev-seg/cases.csv",
        "eval-dev-seg/summary.json",
        "log.csv",
        "train_summary.json",
    ]
    assert not list(dest.rglob("*.pt"))
    exported = report.committed_records(tmp_path / "results")
    live_records = sorted(report.collect(runs[:2]), key=lambda r: r.name)
    # equal records; only `path` differs, and the summaries name the data by id, not by path
    portable = [
        replace(r, train=portable_summary(r.train), eval=portable_summary(r.eval))
        for r in live_records
    ]
    assert exported == portable and not [r for r in exported if "data_root" in r.train]
    assert exported[0].path != live_records[0].path
    assert report.committed_records(tmp_path / "nothing-here") == []
    ci_only = report.export_runs(
        [*runs, make_run(live, "dtml", 3, [0.5, 0.5], profile="cpu")], tmp_path / "ci", "ci"
    )
    assert [p.name for p in ci_only] == [runs[0].name, runs[1].name]


def test_run_grid_metrics_are_secondary_and_old_evaluations_still_read(tmp_path):
    run = make_run(tmp_path / "new", "supervised", 1, [0.8, 0.6])
    row = by_label(report.table(2, report.collect([run])))["M_s only"]
    assert row["dice_run_grid_seeds_mean"] == pytest.approx(60.0)  # dice - 0.1, in %
    assert row["asd_run_grid_seeds_mean"] == pytest.approx(0.3)
    assert row["eval_spacing_mm"] == "1.25x1.25x1.25"
    assert row["run_grid_spacing_mm"] == "2.5x2.5x2.5"  # 1.25 mm / grid 0.5
    assert "Dice % (seeds)" in report.to_markdown([row]) and "run_grid" not in report.to_markdown(
        [row]
    )
    old = make_run(tmp_path / "old", "supervised", 1, [0.8, 0.6], spacing=0.625, old_eval=True)
    row = by_label(report.table(2, report.collect([old])))["M_s only"]
    assert row["dice_seeds_mean"] == pytest.approx(70.0)
    assert "dice_run_grid_seeds_mean" not in row
    assert row["diff_asd_vox"] == pytest.approx(0.6 - 3.51)  # scored on 0.625 mm voxels
    old_notes = " ".join(report.caveats(report.provenance(report.collect([old]))))
    new_notes = " ".join(report.caveats(report.provenance(report.collect([run]))))
    assert "resampled to that grid" in old_notes and "original labels" not in old_notes
    assert "scored against the original labels" in new_notes
    with pytest.raises(ValueError, match="eval_scored_on: 'original labels' vs 'run-grid labels'"):
        report.table(
            2,
            report.collect(
                [run, make_run(tmp_path / "o2", "sdf_only", 1, [0.5, 0.5], old_eval=True)]
            ),
        )


def test_collect_picks_the_requested_evaluation(tmp_path):
    run = make_run(tmp_path, "dtml", 1, [0.8, 0.6])
    assert report.collect([run])[0].eval["mode"] == "seg"  # M_s, as the official test script
    assert report.collect([run], mode="ensemble")[0].eval is None
    assert report.collect([run], lcc=False)[0].eval is None  # eval-dev-seg-nolcc not there


def test_portable_config_names_no_machine_folder():
    config = {"data": "/somewhere/LA", "data_id": "la-0123", "runs_dir": "/somewhere/queue/runs"}
    out = portable_config(config)
    assert out == {"data": None, "data_id": "la-0123", "runs_dir": "runs"}
    assert portable_config({"runs_dir": "runs"}) == {"runs_dir": "runs"}  # relative: kept
    assert config["runs_dir"] == "/somewhere/queue/runs"  # the input is not changed
