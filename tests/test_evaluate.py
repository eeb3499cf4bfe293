import json
import shutil

import h5py
import pytest

from dtml.evaluate import evaluate_run
from dtml.train import train


@pytest.fixture()
def trained(tiny_cfg):
    return train(tiny_cfg.replace(method="supervised", iterations=1), progress=False)


def test_evaluation_records_data_by_content(trained, tiny_cfg):
    summary = evaluate_run(trained, tiny_cfg.data, "test")
    assert summary["n_cases"] == 2 and summary["data_id"].startswith("la-")
    assert str(tiny_cfg.data) not in json.dumps(summary)
    assert evaluate_run(trained, tiny_cfg.data, "test") == summary  # cached


def test_evaluation_refuses_other_training_data(trained, tiny_cfg, tmp_path):
    root = tmp_path / "other"
    shutil.copytree(tiny_cfg.data, root)
    case = (root / "train.list").read_text().split()[0]
    with h5py.File(root / case / "mri_norm2.h5", "a") as f:
        f["image"][0, 0, 0] = 42.0
    with pytest.raises(ValueError, match="not the data"):
        evaluate_run(trained, str(root), "test")


def test_volume_runs_are_evaluated_on_normalised_inputs(tiny_cfg, tmp_path):
    """Scaling the evaluated scans leaves a `volume` run's scores unchanged."""
    out = train(
        tiny_cfg.replace(method="supervised", iterations=1, normalization="volume"), progress=False
    )
    ref = evaluate_run(out, tiny_cfg.data, "test")
    assert ref["normalization"] == "volume"
    root = tmp_path / "scaled"
    shutil.copytree(tiny_cfg.data, root)
    for case in (root / "test.list").read_text().split():  # not in the training fingerprint
        with h5py.File(root / case / "mri_norm2.h5", "a") as f:
            f["image"][...] = f["image"][...] * 0.4 + 0.2
    scaled = evaluate_run(out, str(root), "test")
    assert scaled["eval_cases_digest"] != ref["eval_cases_digest"]
    for metric in ("dice", "jaccard"):
        assert scaled["metrics_voxel"][metric] == pytest.approx(ref["metrics_voxel"][metric])
