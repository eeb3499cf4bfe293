import json

import pytest

from dtml.cli import main


def test_train_then_evaluate_from_the_command_line(tiny_root, tmp_path, capsys):
    runs = str(tmp_path / "runs")
    sets = ["--set", "iterations=2", "--set", "labeled_count=4", "--set", "val_count=2"]
    sets += ["--set", "eval_stride=8,8,8", "--set", "base_filters=2", "--set", "patch=16x16x16"]
    main(
        [
            "train",
            "--profile",
            "ci",
            "--method",
            "dtml",
            "--data",
            tiny_root,
            "--runs-dir",
            runs,
            "--quiet",
            *sets,
        ]
    )
    run = capsys.readouterr().out.strip().splitlines()[-1]
    nifti = tmp_path / "nifti"
    main(["evaluate", run, "--data", tiny_root, "--save-nifti", str(nifti)])
    summary = json.loads(capsys.readouterr().out)
    assert len(list(nifti.glob("*_pred.nii.gz"))) == len(list(nifti.glob("*_prob.nii.gz"))) == 2
    assert summary["n_cases"] == 2 and summary["method"] == "dtml" and summary["mode"] == "seg"
    assert 0 <= summary["metrics_voxel"]["dice"]["mean"] <= 1


def test_notebooks_subcommand_passes_options_through(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["notebooks", "--profile", "ci", "--only", "99_nonexistent"])
    assert exit_info.value.code == 2


def test_bad_override_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown config key 'itrations'"):
        main(["train", "--profile", "ci", "--set", "itrations=3"])
