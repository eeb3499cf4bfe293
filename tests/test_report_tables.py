"""dtml.report.tables: rows of Tables 1-3 from run records, matched by config, one setting each."""

from __future__ import annotations

import math

import numpy as np
import pytest
from runfolders import by_label, make_run

from dtml import report
from dtml.experiments import EXTRA_ROWS, TABLES


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
