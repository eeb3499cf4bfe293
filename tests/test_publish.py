import json

from runfolders import make_run

from dtml.publish import publish


def test_publish_exports_small_files_and_writes_tables(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "supervised", 1, [0.8, 0.9], profile="cpu")
    make_run(runs, "dtml", 1, [0.85, 0.85], profile="cpu")
    make_run(runs, "dtml", 1, [0.1, 0.1], profile="ci")  # another profile: not exported
    out = tmp_path / "results"
    written = publish(runs, "cpu", out)
    exported = sorted(p.name for p in (out / "runs").iterdir())
    assert len(exported) == 2 and all(not p.name.endswith(".pt") for p in out.rglob("*"))
    table3 = json.loads((out / "table3.json").read_text())
    dtml = next(r for r in table3["rows"] if r["label"] == "DTML")
    assert abs(dtml["dice_seeds_mean"] - 85.0) < 1e-9
    assert (out / "README.md") in written and "not run" in (out / "README.md").read_text()


def test_an_input_study_gets_its_own_files_with_only_its_rows_and_no_paper(tmp_path):
    runs = tmp_path / "runs"
    for norm in ("stored", "volume"):
        make_run(
            runs,
            "supervised",
            1,
            [0.8, 0.9],
            profile="cpu",
            eval_split="test",
            split="paper",
            normalization=norm,
        )
    out = tmp_path / "results"
    publish(runs, "cpu", out)
    headings = [line for line in (out / "README.md").read_text().splitlines() if "###" in line]
    assert any(h.endswith("test-split benchmark (files `table3.*`)") for h in headings)
    assert any(
        h.endswith("input study, `volume` inputs (files `table3_volume.*`)") for h in headings
    )
    study = json.loads((out / "table3_volume.json").read_text())["rows"]
    assert [r["label"] for r in study] == ["V-Net (lower bound)"]
    assert not any(key.startswith("paper_") for key in study[0])
    benchmark = json.loads((out / "table3.json").read_text())["rows"]
    assert len(benchmark) > 1 and "paper_dice" in benchmark[0]


def test_a_dev_split_table_has_no_paper_columns_and_old_tables_are_removed(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "supervised", 1, [0.8, 0.9], profile="cpu")  # scored on the dev split
    out = tmp_path / "results"
    out.mkdir()
    (out / "table3_setting2.json").write_text("{}")  # an earlier publish's table
    (out / "table_notes.md").write_text("mine")  # not a name publish writes
    publish(runs, "cpu", out)
    rows = json.loads((out / "table3.json").read_text())["rows"]
    assert rows and not any(key.startswith("paper_") for r in rows for key in r)
    assert not (out / "table3_setting2.json").exists()
    assert (out / "table_notes.md").read_text() == "mine"


def test_publish_refuses_a_missing_run_folder(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="no_such_runs"):
        publish(tmp_path / "no_such_runs", "cpu", tmp_path / "out")
    assert not (tmp_path / "out").exists()
