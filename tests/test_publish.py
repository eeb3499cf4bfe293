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


def test_a_second_setting_is_named_by_its_inputs_in_the_summary(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "supervised", 1, [0.8, 0.9], profile="cpu")
    make_run(runs, "supervised", 1, [0.9, 0.9], profile="cpu", normalization="volume")
    out = tmp_path / "results"
    publish(runs, "cpu", out)
    headings = [line for line in (out / "README.md").read_text().splitlines() if "###" in line]
    assert any(h.endswith("with semi-supervised methods (files `table3.*`)") for h in headings)
    assert any(
        h.endswith(", inputs `normalization: volume` (files `table3_setting2.*`)") for h in headings
    )


def test_publish_refuses_a_missing_run_folder(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="no_such_runs"):
        publish(tmp_path / "no_such_runs", "cpu", tmp_path / "out")
    assert not (tmp_path / "out").exists()
