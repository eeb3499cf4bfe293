"""The committed results: every table number is recomputed from the committed run provenance."""

import json
from pathlib import Path

import pytest

from dtml.config import NON_RESULT_FIELDS
from dtml.experiments import shown_rows
from dtml.report import committed_records, tables_by_setting

RESULTS = Path(__file__).resolve().parent.parent / "results"


@pytest.mark.parametrize("folder", ["cpu_paper", "cpu_dev", "phantom"])
def test_committed_tables_follow_from_the_committed_runs(folder):
    out = RESULTS / folder
    records = committed_records(out)
    assert records, f"{out}/runs: no committed run provenance"
    for table_file in sorted(out.glob("table*.json")):
        table, _, setting = table_file.stem.removeprefix("table").partition("_setting")
        n, index = int(table), int(setting or 1) - 1  # publish names the i-th setting _setting<i>
        result = [t for t in tables_by_setting(n, records, shown_rows(n)) if t.records][index]
        committed = json.loads(table_file.read_text())["rows"]
        ours = {r["label"]: r for r in result.rows}
        for row in committed:
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
    reference = {r.name: r for r in committed_records(RESULTS / "cpu_dev")}
    assert check
    for rec in check:
        twin = reference[rec.name]  # same method + config key
        same = {k: v for k, v in rec.config.items() if k not in NON_RESULT_FIELDS}
        assert {k: twin.config[k] for k in same} == same and twin.seed == rec.seed
        assert twin.train["hardware"] != rec.train["hardware"]
        assert [c["case"] for c in twin.cases] == [c["case"] for c in rec.cases]


def test_readme_benchmark_block_is_generated_from_the_committed_runs():
    """The README's headline table is exactly what scripts/readme_results.py computes."""
    import sys

    root = RESULTS.parent
    sys.path.insert(0, str(root / "scripts"))
    try:
        from readme_results import TEST_END, TEST_START
        from readme_test_results import build_test
    finally:
        sys.path.remove(str(root / "scripts"))
    readme = (root / "README.md").read_text()
    block = readme.split(TEST_START, 1)[1].split(TEST_END, 1)[0]
    assert block.strip() == build_test(RESULTS / "cpu_paper").strip()
