"""Tests for dtml.report (tables from run folders) and dtml.viz.results (their figures).

Fake run folders come from ``runfolders.make_run``: the files and keys training and evaluation
leave, with per-case values chosen so every aggregate has a hand-computed answer.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace

import numpy as np
import pytest
from runfolders import CASES, make_run

from dtml import report
from dtml.experiments import EXTRA_ROWS, TABLES
from dtml.report.portable import portable_config, portable_summary
from dtml.report.render import show_table
from dtml.report.shown import caveats_once, shown_tables, summary_markdown, table_kind
from dtml.viz.results import plot_table_cases, plot_vs_paper


def by_label(rows):
    return {r["label"]: r for r in rows}


# --- reading -------------------------------------------------------------------------------------


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


# --- aggregation ---------------------------------------------------------------------------------


def test_mean_and_std_over_seeds_differ_from_over_cases(tmp_path):
    # seed 1: cases 80, 60 (mean 70); seed 2: 100, 80 (mean 90)
    runs = [
        make_run(tmp_path, "supervised", 1, [0.8, 0.6]),
        make_run(tmp_path, "supervised", 2, [1.0, 0.8]),
    ]
    row = by_label(report.table(2, report.collect(runs)))["M_s only"]
    assert row["status"] == "ok" and row["n_seeds"] == 2 and row["seeds"] == "1;2"
    assert row["n_cases"] == 2 and row["n_case_values"] == 4
    assert row["dice_seeds_mean"] == pytest.approx(80.0)
    assert row["dice_seeds_std"] == pytest.approx(math.sqrt(200.0))  # std(70, 90), ddof=1
    assert row["dice_cases_mean"] == pytest.approx(80.0)
    assert row["dice_cases_std"] == pytest.approx(math.sqrt(800.0 / 3.0))  # 80,60,100,80
    # asd = 2 (1 - dice) voxels, 1.25 mm voxels
    assert row["asd_vox_seeds_mean"] == pytest.approx(0.4)
    assert row["asd_mm_seeds_mean"] == pytest.approx(0.5)
    assert row["hd95_mm_cases_mean"] == pytest.approx(1.5)
    assert row["jaccard_seeds_mean"] == pytest.approx(
        100 * np.mean([np.mean([d / (2 - d) for d in s]) for s in ([0.8, 0.6], [1.0, 0.8])])
    )
    assert row["wall_s_per_run"] == "10;20" and row["commits"] == "abc1234"


def test_one_seed_has_no_spread_over_seeds(tmp_path):
    rows = report.table(2, report.collect([make_run(tmp_path, "supervised", 1, [0.8, 0.6])]))
    row = by_label(rows)["M_s only"]
    assert row["dice_seeds_std"] is None  # undefined, not 0
    assert row["dice_cases_std"] == pytest.approx(math.sqrt(200.0))
    assert "| M_s only | 16/0 (16/0) | 1 | 2 | 70.00 | 70.00 ± 14.14 |" in report.to_markdown(rows)


def test_paper_columns_and_differences(tmp_path):
    run = make_run(tmp_path, "supervised", 1, [0.8, 0.6])
    row = by_label(report.table(2, report.collect([run])))["M_s only"]
    assert row["paper_dice"] == 86.03 and row["paper_asd_vox"] == 3.51
    assert row["diff_dice"] == pytest.approx(70.0 - 86.03)
    assert row["paper_asd_mm"] == pytest.approx(3.51 * 0.625)
    assert row["diff_asd_mm"] == pytest.approx(0.6 * 1.25 - 3.51 * 0.625)
    assert row["diff_asd_vox"] is None  # 1.25 mm voxels are not the paper's voxels
    assert row["labeled"] == 16 and row["unlabeled"] == 0  # supervised uses no unlabeled scan
    same_grid = make_run(tmp_path / "full", "supervised", 1, [0.8, 0.6], spacing=0.625)
    row = by_label(report.table(2, report.collect([same_grid])))["M_s only"]
    assert row["diff_asd_vox"] == pytest.approx(0.6 - 3.51)
    bare = by_label(report.table(2, report.collect([run]), paper=False))["M_s only"]
    assert not [k for k in bare if k.startswith(("paper_", "diff_"))]
    assert "paper" not in report.to_markdown([bare])


def test_missing_and_not_reimplemented_rows_invent_nothing(tmp_path):
    rows = by_label(report.table(3, report.collect([make_run(tmp_path, "dtml", 1, [0.9, 0.8])])))
    assert rows["DTML"]["status"] == "ok"
    assert rows["DTML"]["unlabeled"] == 48  # what our split gave, beside the paper's 64
    for label in ("V-Net (upper bound)", "UA-MT", "DTC"):
        assert rows[label]["status"] == report.NOT_RUN
        assert rows[label]["n_seeds"] == 0 and rows[label]["dice_seeds_mean"] is None
        assert rows[label]["diff_dice"] is None and rows[label]["paper_dice"] is not None
    for label in ("ASDNet", "TCSE", "SASS", "DoubleUnc"):
        assert rows[label]["status"] == report.NOT_REIMPLEMENTED
        assert rows[label]["dice_seeds_mean"] is None and rows[label]["paper_dice"] > 87
    text = report.to_markdown(list(rows.values()))
    assert "| UA-MT | – (16/64) |  |  | not run |" in text
    assert "| SASS | – (16/64) |  |  | not reimplemented |" in text
    empty = report.table(3, [], rows=TABLES[3] + EXTRA_ROWS)
    assert by_label(empty)["Mean teacher"]["paper_dice"] is None


def test_rows_match_by_config(tmp_path):
    records = report.collect(
        [
            make_run(tmp_path, "dtml", 1, [0.9, 0.8], md_loss="dis"),
            make_run(tmp_path, "dtml", 1, [0.8, 0.8], md_loss="mask"),
            make_run(tmp_path, "supervised", 1, [0.7, 0.7]),
            make_run(tmp_path, "supervised", 1, [0.95, 0.95], labeled_count=64),
        ]
    )
    t1 = by_label(report.table(1, records))
    assert t1["DTML (L_seg/L_dis)"]["dice_seeds_mean"] == pytest.approx(85.0)
    assert t1["DTML (L_seg/L_mask)"]["dice_seeds_mean"] == pytest.approx(80.0)
    assert t1["DTML (L_seg/L_dis+L_mask)"]["status"] == report.NOT_RUN
    t3 = by_label(report.table(3, records))
    assert t3["V-Net (upper bound)"]["dice_seeds_mean"] == pytest.approx(95.0)
    assert t3["V-Net (upper bound)"]["labeled"] == 64
    assert t3["V-Net (lower bound)"]["dice_seeds_mean"] == pytest.approx(70.0)
    # the upper bound (no unlabeled scan) must not hide the split's unlabeled pool
    assert "(16 labeled / 48 unlabeled / 16 validation)" in report.describe_setting(records)
    assert "normalization" not in report.describe_setting(records)  # stored inputs: no mention
    volume = report.collect(
        [make_run(tmp_path / "volume", "supervised", 1, [0.8, 0.8], normalization="volume")]
    )
    assert report.describe_setting(volume).endswith(", inputs `normalization: volume`")
    # Table 2's "M_s only" is the same run as Table 3's lower bound
    t2 = by_label(report.table(2, records))
    assert t2["M_s only"]["runs"] == t3["V-Net (lower bound)"]["runs"]
    # runs trained with a per-row override beyond the profile match only when told so
    lower = report.find_row(3, "V-Net (lower bound)")
    assert not report.row_records(lower, records, overrides={"labeled_count": 8})
    eight = report.collect([make_run(tmp_path / "8", "supervised", 1, [0.6, 0.6], labeled_count=8)])
    assert by_label(report.table(2, eight))["M_s only"]["status"] == report.NOT_RUN
    row = by_label(report.table(2, eight, overrides={"labeled_count": 8}))["M_s only"]
    assert row["dice_seeds_mean"] == pytest.approx(60.0) and row["labeled"] == 8


def test_repeated_seed_in_a_row_raises(tmp_path):
    a = make_run(tmp_path / "a", "supervised", 1, [0.8, 0.6])
    b = make_run(tmp_path / "b", "supervised", 1, [0.8, 0.6])
    with pytest.raises(ValueError, match="share a seed"):
        report.table(2, report.collect([a, b]))


def test_mixing_settings_raises_and_groups_separate_them(tmp_path):
    ci = make_run(tmp_path, "supervised", 1, [0.8, 0.6], profile="ci")
    cpu = make_run(tmp_path, "dtml", 1, [0.8, 0.6], profile="cpu")
    other_grid = make_run(tmp_path, "sdf_only", 1, [0.8, 0.6], profile="ci", grid=1.0)
    records = report.collect([ci, cpu, other_grid])
    with pytest.raises(ValueError, match="different settings.*profile: 'ci' vs 'cpu'"):
        report.table(2, records[:2])
    with pytest.raises(ValueError, match="grid: 0.5 vs 1.0"):
        report.table(2, [records[0], records[2]])
    groups = report.group_by_setting(records)
    assert sorted(len(g) for g in groups.values()) == [1, 1, 1]
    assert any(key.startswith("cpu profile, real LA data, trained on grid 0.5") for key in groups)
    for group in groups.values():
        report.table(2, group)  # one setting each: fine


def test_paired_test_averages_seeds_per_case(tmp_path):
    cases = ["c1", "c2", "c3"]
    # A: two seeds whose per-case means are 90, 80, 70; B: one seed 80, 75, 50
    a = [
        make_run(tmp_path, "dtml_labeled", 1, dict(zip(cases, [0.95, 0.8, 0.6], strict=True))),
        make_run(tmp_path, "dtml_labeled", 2, dict(zip(cases, [0.85, 0.8, 0.8], strict=True))),
    ]
    b = [make_run(tmp_path, "supervised", 1, dict(zip(cases, [0.8, 0.75, 0.5], strict=True)))]
    res = report.paired_test(report.collect(a), report.collect(b))
    d = np.array([10.0, 5.0, 20.0])  # Dice points
    t = d.mean() / (d.std(ddof=1) / math.sqrt(3))
    assert res["n"] == 3 and res["seeds_a"] == 2 and res["seeds_b"] == 1
    assert res["mean_diff"] == pytest.approx(d.mean())
    assert res["t"] == pytest.approx(t)
    assert 0 < res["p"] < 1
    other = [make_run(tmp_path / "o", "sdf_only", 1, {"c1": 0.5, "c2": 0.5, "x": 0.5})]
    with pytest.raises(ValueError, match="different cases"):
        report.paired_test(report.collect(a), report.collect(other))


def test_compare_and_caveats_follow_the_numbers(tmp_path):
    records = report.collect(
        [
            make_run(tmp_path, "supervised", 1, [0.8, 0.6]),
            make_run(tmp_path, "dtml_labeled", 1, [0.7, 0.65]),
        ]
    )
    rows = report.table(2, records)
    text = report.compare(rows, "DTML (labeled only)", "M_s only")
    assert "DTML (labeled only) is below M_s only by 2.50 Dice points" in text
    assert "The paper reports DTML (labeled only) above M_s only by 3.14" in text
    assert "not run" in report.compare(rows, "M_d only", "M_s only")
    prov = report.provenance(records)
    assert prov["seeds"] == [1] and prov["real_data"] is True
    notes = " ".join(report.caveats(prov))
    assert "ci profile" in notes and "1 seed(s)" in notes and "phantom" not in notes
    wider = report.collect([make_run(tmp_path / "w", "supervised", 1, [0.8, 0.6], base_filters=8)])
    assert "V-Net with 8 base filters" in " ".join(report.caveats(report.provenance(wider)))
    assert "leaves 48 unlabeled scans" in notes
    assert report.row_notes(rows) == []
    failed = report.collect([make_run(tmp_path / "f", "sdf_only", 1, [0.0, 0.7])])
    (note,) = report.row_notes(report.table(2, failed))
    assert note.startswith("M_d only: 1 of 2 (seed, case) values have Dice 0")


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


def test_runs_on_different_hardware_are_named_per_run_and_flagged(tmp_path):
    runs = [
        make_run(tmp_path, "supervised", 1, [0.8, 0.6]),
        make_run(tmp_path, "supervised", 2, [0.7, 0.6]),
        make_run(tmp_path, "supervised", 1, [0.9, 0.8], labeled_count=64),
    ]
    summary = runs[1] / "train_summary.json"
    summary.write_text(summary.read_text().replace("test cpu (1 threads)", "NVIDIA H200"))
    records = report.collect(runs)
    prov = report.provenance(records)
    assert prov["hardware"] == ["NVIDIA H200", "test cpu (1 threads)"]
    md = report.to_markdown(report.table(3, records), prov)
    assert "supervised (16 labeled) s1 10 s (CPU, 1 thread)" in md
    assert "supervised (16 labeled) s2 20 s (H200)" in md
    assert "supervised (64 labeled) s1 10 s (CPU, 1 thread)" in md
    assert "different hardware" in " ".join(report.caveats(prov))
    one = report.provenance(records[:1])
    assert "(CPU" not in report.to_markdown(report.table(3, records[:1]), one)
    assert "different hardware" not in " ".join(report.caveats(one))


def test_a_run_moved_between_thread_counts_names_each_stretch_and_both_hardware(tmp_path):
    run = make_run(tmp_path, "supervised", 2, [0.8, 0.6])  # 20 s for the ci profile's iterations
    summary = json.loads((run / "train_summary.json").read_text())
    half = summary["iterations"] // 2
    summary["legs"] = [
        {"from_iteration": 0, "elapsed_before": 0.0, "hardware": "test cpu (1 threads)"},
        {"from_iteration": half, "elapsed_before": 15.0, "hardware": "test cpu (2 threads)"},
    ]
    summary["hardware"] = "test cpu (2 threads)"
    (run / "train_summary.json").write_text(json.dumps(summary))
    records = report.collect([run])
    prov = report.provenance(records)
    assert prov["hardware"] == ["test cpu (1 threads)", "test cpu (2 threads)"]
    md = report.to_markdown(report.table(3, records), prov)
    assert (
        f"s2 20 s (iterations 0-{half} on CPU, 1 thread ({15 / half:.2f} s/it); "
        f"{half}-{summary['iterations']} on CPU, 2 threads" in md
    )


def test_a_moved_run_is_checked_for_speed_by_its_stretches_not_its_blend(tmp_path):
    moved = make_run(tmp_path, "supervised", 1, [0.8, 0.6])
    fast = make_run(tmp_path, "supervised", 2, [0.8, 0.6])
    summary = json.loads((moved / "train_summary.json").read_text())
    n = summary["iterations"]
    # 1 thread at 1.5 s/it for the first half, 2 threads at 0.8 s/it after: 1.15 s/it blended
    summary["legs"] = [
        {"from_iteration": 0, "elapsed_before": 0.0, "hardware": "cpu (1 threads)"},
        {"from_iteration": n // 2, "elapsed_before": 1.5 * (n // 2), "hardware": "cpu (2 threads)"},
    ]
    summary |= {"hardware": "cpu (2 threads)", "wall_seconds": 1.5 * (n // 2) + 0.8 * (n - n // 2)}
    summary["seconds_per_iteration"] = summary["wall_seconds"] / n
    (moved / "train_summary.json").write_text(json.dumps(summary))
    fast_summary = json.loads((fast / "train_summary.json").read_text())
    fast_summary |= {"hardware": "cpu (2 threads)", "seconds_per_iteration": 0.5}
    (fast / "train_summary.json").write_text(json.dumps(fast_summary))
    prov = report.provenance(report.collect([moved, fast]))
    # 0.8 vs 0.5 on 2 threads is one machine; the blend (over 2x 0.5) would call it two
    assert not any("training speed" in c for c in report.caveats(prov))
    fast_summary["seconds_per_iteration"] = 0.3
    (fast / "train_summary.json").write_text(json.dumps(fast_summary))
    prov = report.provenance(report.collect([moved, fast]))
    assert any("training speed" in c for c in report.caveats(prov))  # 0.8 vs 0.3: two


def test_one_hardware_name_at_speeds_over_2x_apart_is_flagged_as_two_machines(tmp_path):
    """Older provenance names no vector unit: only the speed tells an AVX2 CPU from an AVX-512 one."""
    from dtml.report.notes import speed_spread

    def spread(*runs):
        return speed_spread(
            {"method": m, "hardware": h, "seconds_per_iteration": s, "label": f"r{i}"}
            for i, (m, h, s) in enumerate(runs)
        )

    assert spread(("supervised", "cpu", 0.6), ("supervised", "cpu", 2.7)) == [
        "supervised: r0 0.60, r1 2.70"
    ]
    assert spread(("supervised", "cpu", 0.6), ("supervised", "cpu", 1.1)) == []  # one machine
    assert spread(("supervised", "cpu", 0.6), ("dtml", "cpu", 2.8)) == []  # two methods
    assert spread(("supervised", "cpu", 0.6), ("supervised", "gpu", 0.03)) == []  # named apart
    shared_gpu = [  # runs sharing one GPU slow each other down: not two machines
        {"method": "dtml", "hardware": "NVIDIA H200", "device": "cuda", "label": f"s{i}"}
        | {"seconds_per_iteration": s}
        for i, s in enumerate((0.05, 0.14))
    ]
    assert speed_spread(shared_gpu) == []
    moved = {  # 1 thread for 900 iterations, then 2: each stretch under its own hardware
        "method": "dtc",
        "hardware": "cpu2",
        "label": "s1",
        "seconds_per_iteration": 1.1,
        "iterations": 3000,
        "wall_seconds": 3200.0,
        "legs": [
            {"from_iteration": 0, "elapsed_before": 0.0, "hardware": "cpu1"},
            {"from_iteration": 900, "elapsed_before": 1500.0, "hardware": "cpu2"},
        ],
    }
    slow = {"method": "dtc", "hardware": "cpu1", "label": "s2", "seconds_per_iteration": 0.6}
    assert speed_spread([moved, slow]) == ["dtc: s2 0.60, s1 (0-900) 1.67"]
    assert speed_spread([moved]) == []  # the blended 1.1 s/it is nobody's speed
    runs = [make_run(tmp_path, "supervised", seed, [0.8, 0.6]) for seed in (1, 2)]
    summary = runs[1] / "train_summary.json"
    summary.write_text(
        summary.read_text().replace('"seconds_per_iteration": 0.1', '"seconds_per_iteration": 0.3')
    )
    notes = " ".join(report.caveats(report.provenance(report.collect(runs))))
    assert "more than one machine (supervised: supervised s1 0.10, supervised s2 0.30)" in notes
    assert "more than one machine" not in " ".join(
        report.caveats(report.provenance(report.collect(runs[:1])))
    )


# --- figures -------------------------------------------------------------------------------------


def test_figures_draw_the_paper_means_and_save(tmp_path):
    records = report.collect([make_run(tmp_path / "r", "supervised", 1, [0.8, 0.6])])
    rows = report.table(2, records)
    values = report.case_scores(records, TABLES[2])
    assert values == {"M_s only": [80.0, 60.0], "M_d only": [], "DTML (labeled only)": []}
    fig = plot_table_cases(rows, values, save=tmp_path / "f" / "cases.png")
    segments = fig.axes[0].collections
    lines = [c for c in segments if c.__class__.__name__ == "LineCollection"]
    paper_y = sorted(seg[0][1] for c in lines for seg in c.get_segments())
    assert paper_y == pytest.approx(sorted([86.03, 88.69, 89.17]))
    assert (tmp_path / "f" / "cases.png").stat().st_size > 0
    fig = plot_vs_paper(rows, save=tmp_path / "f" / "bars.png")
    assert len(fig.axes) == 4 and (tmp_path / "f" / "bars.png").is_file()
    with pytest.raises(ValueError, match="unknown keys"):
        plot_vs_paper(rows, keys=("nope",))


def test_tables_by_setting_never_mix_and_fall_back_to_not_run(tmp_path):
    records = report.collect(
        [
            make_run(tmp_path, "supervised", 1, [0.8, 0.6], profile="cpu"),
            make_run(tmp_path, "sdf_only", 1, [0.9, 0.7], profile="cpu"),
            make_run(tmp_path, "supervised", 1, [0.5, 0.5], profile="ci"),
            make_run(tmp_path, "dtml", 1, [0.5, 0.5], profile="ci"),  # not a Table 2 row
        ]
    )
    tables = report.tables_by_setting(2, records)
    assert [t.provenance["profile"] for t in tables] == ["cpu", "ci"]  # fuller table first
    cpu, ci = (by_label(t.rows) for t in tables)
    assert cpu["M_s only"]["dice_seeds_mean"] == pytest.approx(70.0)
    assert ci["M_s only"]["dice_seeds_mean"] == pytest.approx(50.0)
    assert ci["M_d only"]["status"] == report.NOT_RUN
    assert [r.method for r in tables[1].records] == ["supervised"]
    md = report.table_markdown(tables[0], "cpu runs")
    assert md.startswith("### cpu runs") and "**Setting:** cpu profile" in md
    assert report.describe_source(tables[1]) == "ci profile, real LA data, seed 1"
    assert report.table_name(tables[1]) == f"table2-ci-{tables[1].setting_id}"
    (empty,) = report.tables_by_setting(2, [])
    assert report.describe_source(empty) == "no evaluated runs"
    assert empty.records == [] and {r["status"] for r in empty.rows} == {report.NOT_RUN}


def test_tables_by_setting_put_stored_inputs_first_even_when_a_study_has_more_rows(tmp_path):
    records = report.collect(
        [
            make_run(tmp_path, "supervised", 1, [0.8, 0.6], profile="cpu"),
            make_run(tmp_path, "supervised", 1, [0.9, 0.9], profile="cpu", normalization="volume"),
            make_run(tmp_path, "sdf_only", 1, [0.9, 0.9], profile="cpu", normalization="volume"),
        ]
    )
    stored, volume = report.tables_by_setting(2, records)
    assert "normalization" not in stored.setting and "normalization: volume" in volume.setting
    assert [r.method for r in stored.records] == ["supervised"]
    assert report.describe_source(stored) == "cpu profile, real LA data, seed 1"
    assert report.describe_source(volume) == (
        "cpu profile, real LA data, inputs `normalization: volume`, seed 1"
    )


def test_describe_source_names_the_rows_run_with_fewer_seeds_than_the_table(tmp_path):
    runs = [make_run(tmp_path, "supervised", seed, [0.8, 0.6], profile="cpu") for seed in (1, 2)]
    runs.append(make_run(tmp_path, "sdf_only", 2, [0.9, 0.9], profile="cpu"))
    (result,) = report.tables_by_setting(2, report.collect(runs))
    assert report.describe_source(result) == (
        "cpu profile, real LA data, seeds 1, 2 (M_d only: seed 2)"
    )


def test_paired_test_text_reports_t_p_n_and_its_limits(tmp_path):
    cases = ["c1", "c2", "c3"]
    runs = [
        make_run(tmp_path, "dtml_labeled", 1, dict(zip(cases, [0.9, 0.8, 0.7], strict=True))),
        make_run(tmp_path, "supervised", 1, dict(zip(cases, [0.8, 0.75, 0.5], strict=True))),
    ]
    (result,) = report.tables_by_setting(2, report.collect(runs))
    text = report.paired_test_text(result, "DTML (labeled only)", "M_s only")
    # per case +10, +5, +20: mean +11.67, median +10, higher on all 3
    assert text.startswith(
        "DTML (labeled only) vs M_s only: +11.67 Dice points over the 3 cases (median per scan "
        "+10.00, DTML (labeled only) higher on 3 of 3); paired t-test (per-scan Dice, each the "
        "mean over its side's seeds: 1 and 1): t = 2.65, p = 0.118, not significant at p < 0.05; "
        "Wilcoxon signed-rank p = 0.250."  # exact: 2 of the 2^3 sign patterns are as extreme
    )
    hd = report.paired_test_text(result, "DTML (labeled only)", "M_s only", column="hd95_mm")
    assert " mm over the 3 cases" in hd and "per-scan values, each" in hd
    assert "means nothing" in text  # ci profile
    assert "not run, no test" in report.paired_test_text(result, "DTML (labeled only)", "M_d only")


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


# --- what a notebook shows: compact tables, titles by kind, caveats once -------------------------


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


def test_failed_cases_are_named_in_one_sentence(tmp_path):
    records = report.collect(
        [
            make_run(tmp_path, "supervised", 1, [0.0, 0.7]),
            make_run(tmp_path, "sdf_only", 1, [0.0, 0.0]),
        ]
    )
    (note,) = report.row_notes(report.table(2, records))
    assert note.startswith("M_s only: 1 of 2; M_d only: 2 of 2 (seed, case) values have Dice 0")
    assert "their Dice means down" in note


def test_portable_config_names_no_machine_folder():
    config = {"data": "/somewhere/LA", "data_id": "la-0123", "runs_dir": "/somewhere/queue/runs"}
    out = portable_config(config)
    assert out == {"data": None, "data_id": "la-0123", "runs_dir": "runs"}
    assert portable_config({"runs_dir": "runs"}) == {"runs_dir": "runs"}  # relative: kept
    assert config["runs_dir"] == "/somewhere/queue/runs"  # the input is not changed
