"""The committed results: every table number is recomputed from the committed run provenance."""

import json
from pathlib import Path

import pytest

from dtml.config import NON_RESULT_FIELDS
from dtml.experiments import shown_rows
from dtml.report import committed_records, tables_by_setting

RESULTS = Path(__file__).resolve().parent.parent / "results"


@pytest.mark.parametrize("folder", ["cpu_dev", "phantom"])
def test_committed_tables_follow_from_the_committed_runs(folder):
    out = RESULTS / folder
    records = committed_records(out)
    assert records, f"{out}/runs: no committed run provenance"
    for table_file in sorted(out.glob("table*.json")):
        n = int(table_file.stem.removeprefix("table").split("_")[0])
        (result,) = [t for t in tables_by_setting(n, records, shown_rows(n)) if t.records][:1]
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
