"""dtml.report.notes: comparisons, caveats, hardware and speed notes, sources, test sentences."""

from __future__ import annotations

import json

from runfolders import make_run

from dtml import report


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
