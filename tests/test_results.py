"""The committed results: every table number is recomputed from the committed run provenance."""

import importlib
import json
from pathlib import Path

import pytest

from dtml.config import NON_RESULT_FIELDS
from dtml.publish import published_tables
from dtml.report import committed_records
from dtml.report.intensity import read_scale
from dtml.report.normalization import normalization_study

RESULTS = Path(__file__).resolve().parent.parent / "results"


@pytest.mark.parametrize("folder", ["cpu_paper", "cpu_dev", "phantom"])
def test_committed_tables_follow_from_the_committed_runs(folder):
    out = RESULTS / folder
    records = committed_records(out)
    assert records, f"{out}/runs: no committed run provenance"
    tables = dict(published_tables(records))
    assert {f.stem for f in out.glob("table*.json")} == set(tables), out  # none stale, none missing
    for name, shown in tables.items():
        table_file = out / f"{name}.json"
        result = shown.result
        committed = json.loads(table_file.read_text())["rows"]
        ours = {r["label"]: r for r in result.rows}
        assert [r["label"] for r in committed] == list(ours), table_file
        for row in committed:
            assert ("paper_dice" in row) == shown.paper, (table_file, "paper columns")
            for key in (
                "status",
                "n_seeds",
                "dice_seeds_mean",
                "dice_cases_std",
                "hd95_mm_seeds_mean",
            ):
                assert ours[row["label"]][key] == pytest.approx(row[key]), (
                    table_file,
                    row["label"],
                )


def test_hardware_check_pairs_one_run_key_on_two_machines():
    check = committed_records(RESULTS / "hardware_check")
    reference = {
        r.name: r for name in ("cpu_dev", "cpu_paper") for r in committed_records(RESULTS / name)
    }
    assert check
    for rec in check:
        twin = reference[rec.name]  # same method + config key
        same = {k: v for k, v in rec.config.items() if k not in NON_RESULT_FIELDS}
        assert {k: twin.config[k] for k in same} == same and twin.seed == rec.seed
        assert twin.eval["split"] == rec.eval["split"]
        # another machine: another name, or (two CPUs recorded as "AMD EPYC" before the vector
        # unit was part of the name) a speed more than twice apart
        speeds = sorted(r.train["seconds_per_iteration"] for r in (twin, rec))
        assert twin.train["hardware"] != rec.train["hardware"] or speeds[1] > 2 * speeds[0]
        assert [c["case"] for c in twin.cases] == [c["case"] for c in rec.cases]


def test_committed_normalization_study_follows_from_the_committed_runs():
    """results/cpu_paper/normalization.json: every row and gain test recomputed from the runs."""
    out = RESULTS / "cpu_paper"
    study = normalization_study(committed_records(out), read_scale(RESULTS / "intensity_scale.csv"))
    committed = json.loads((out / "normalization.json").read_text())
    assert committed["groups"]["low_scale"] == list(study.groups.low)
    for ours, row in zip(
        [*study.rows, *study.tests, study.change, *study.peer_tests, study.peer_change]
        + study.family,
        [*committed["rows"], *committed["tests"], committed["change"]]
        + [*committed["peer_tests"], committed["peer_change"], *committed["family"]],
        strict=True,
    ):
        assert set(ours) == set(row)
        for key, value in row.items():
            assert ours[key] == (
                value if isinstance(value, str | bool) or value is None else pytest.approx(value)
            ), (key, row)


@pytest.mark.parametrize(
    ("start", "end", "builder"),
    [
        ("GLANCE_START", "GLANCE_END", "readme_glance.build_glance"),
        ("TEST_START", "TEST_END", "readme_test_results.build_test"),
        ("NORM_START", "NORM_END", "readme_test_results.build_normalization"),
    ],
)
def test_readme_result_blocks_are_generated_from_the_committed_runs(start, end, builder):
    """The README's opening answer, test-split table and normalisation study are exactly what
    scripts/readme_results.py computes from the committed runs."""
    import sys

    root = RESULTS.parent
    sys.path.insert(0, str(root / "scripts"))
    module, name = builder.split(".")
    try:
        import readme_results

        build = getattr(importlib.import_module(module), name)
    finally:
        sys.path.remove(str(root / "scripts"))
    first, last = getattr(readme_results, start), getattr(readme_results, end)
    readme = (root / "README.md").read_text()
    block = readme.split(first, 1)[1].split(last, 1)[0]
    assert block.strip() == build(RESULTS / "cpu_paper").strip()
