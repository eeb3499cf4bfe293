import json
import os
import shutil
import signal

import h5py
import pytest
import torch

from dtml.methods import get_method
from dtml.runs import run_dir
from dtml.train import TrainingStopped, load_trained, make_batch, train, training_cases


def final_weights(out) -> dict[str, torch.Tensor]:
    state = torch.load(out / "final.pt", weights_only=True)
    return {f"{n}.{k}": v for n, sd in state.items() for k, v in sd.items()}


@pytest.mark.parametrize("method", ["dtml", "mean_teacher"])
def test_killed_run_resumes_to_identical_weights(tiny_cfg, tmp_path, method):
    cfg = tiny_cfg.replace(method=method)
    whole = train(cfg.replace(runs_dir=str(tmp_path / "a")), progress=False)
    resumed_cfg = cfg.replace(runs_dir=str(tmp_path / "b"))
    out = train(resumed_cfg, stop_after=3, progress=False)  # "killed" after 3 iterations
    assert (out / "last.pt").is_file() and not (out / "final.pt").exists()
    out = train(resumed_cfg, progress=False)  # the same command again
    a, b = final_weights(whole), final_weights(out)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    log = (out / "log.csv").read_text().splitlines()
    assert [int(r.split(",")[0]) for r in log[1:]] == list(range(cfg.iterations))
    legs = json.loads((out / "train_summary.json").read_text())["legs"]
    assert [leg["from_iteration"] for leg in legs] == [0, 3]  # the resume is on record
    assert json.loads((whole / "train_summary.json").read_text())["legs"][0]["from_iteration"] == 0


def test_sigterm_checkpoints_the_current_step_and_resumes_to_identical_weights(tiny_cfg, tmp_path):
    whole = train(tiny_cfg.replace(runs_dir=str(tmp_path / "a")), progress=False)
    cfg = tiny_cfg.replace(runs_dir=str(tmp_path / "b"))  # checkpoint_every=2: step 3 is not one

    def term_at_2(row):
        if row["iteration"] == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingStopped, match="after iteration 3"):
        train(cfg, progress=False, on_log=term_at_2)
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back
    out = run_dir(cfg.with_data_id())
    assert torch.load(out / "last.pt", weights_only=False)["iteration"] == 3
    assert not (out / "train.lock").exists() and not (out / "final.pt").exists()
    out = train(cfg, progress=False)
    a, b = final_weights(whole), final_weights(out)
    assert all(torch.equal(a[key], b[key]) for key in a), "resumed weights differ"

    def term_at_last(row):  # the run ends, but what would follow it (an evaluation) must not
        if row["iteration"] == tiny_cfg.iterations - 1:
            os.kill(os.getpid(), signal.SIGTERM)

    last = tiny_cfg.replace(runs_dir=str(tmp_path / "c"))
    with pytest.raises(TrainingStopped, match="last step"):
        train(last, progress=False, on_log=term_at_last)
    assert (run_dir(last.with_data_id()) / "final.pt").is_file()


def test_a_checkpoint_from_before_legs_resumes_with_its_first_leg_unknown(tiny_cfg):
    out = train(tiny_cfg, stop_after=2, progress=False)
    ckpt = torch.load(out / "last.pt", weights_only=False)
    del ckpt["legs"]  # as written by the code before legs were recorded
    torch.save(ckpt, out / "last.pt")
    legs = json.loads((train(tiny_cfg, progress=False) / "train_summary.json").read_text())["legs"]
    assert [(leg["from_iteration"], leg["hardware"] == "unknown") for leg in legs] == [
        (0, True),
        (2, False),
    ]
    assert legs[1]["elapsed_before"] == round(ckpt["elapsed"], 1)  # the seconds before the resume


def test_identical_config_is_never_trained_twice(tiny_cfg):
    out = train(tiny_cfg, progress=False)
    stamp = (out / "final.pt").stat().st_mtime_ns
    assert train(tiny_cfg.replace(log_every=3), progress=False) == out  # cadence is not in the key
    assert (out / "final.pt").stat().st_mtime_ns == stamp
    assert run_dir(tiny_cfg.replace(seed=2)) != out


def test_unlabeled_cases_are_loaded_without_labels(tiny_cfg):
    labeled, unlabeled, info = training_cases(tiny_cfg, get_method("dtml"))
    assert info["labeled"] == 4 and info["unlabeled"] == 4 and info["val"] == 2
    assert all(c.label is not None for c in labeled)
    assert unlabeled and all(c.label is None for c in unlabeled)
    batch = make_batch(tiny_cfg, 0, labeled, unlabeled, torch.device("cpu"))
    assert batch.image.shape[0] == 4 and batch.label.shape[0] == 2


def test_training_never_reads_unlabeled_labels(tiny_cfg, tmp_path):
    """Delete the label of every unlabeled case on disk: DTML still trains."""
    root = tmp_path / "data"
    shutil.copytree(tiny_cfg.data, root)
    ids = (root / "train.list").read_text().split()
    for case_id in ids[4:8]:  # the unlabeled part of the dev split
        with h5py.File(root / case_id / "mri_norm2.h5", "a") as f:
            del f["label"]
    cfg = tiny_cfg.replace(data=str(root), iterations=2)
    out = train(cfg, progress=False)
    assert (out / "final.pt").is_file()


def test_batches_depend_only_on_seed_and_iteration(tiny_cfg):
    labeled, unlabeled, _ = training_cases(tiny_cfg, get_method("dtml"))
    cpu = torch.device("cpu")
    a = make_batch(tiny_cfg, 5, labeled, unlabeled, cpu)
    make_batch(tiny_cfg, 2, labeled, unlabeled, cpu)
    b = make_batch(tiny_cfg, 5, labeled, unlabeled, cpu)
    assert torch.equal(a.image, b.image) and torch.equal(a.label, b.label)
    c = make_batch(tiny_cfg.replace(seed=7), 5, labeled, unlabeled, cpu)
    assert not torch.equal(a.image, c.image)


def test_load_trained_returns_eval_networks(tiny_cfg):
    out = train(tiny_cfg.replace(iterations=1), progress=False)
    cfg, method, nets = load_trained(out)
    assert cfg.method == "dtml" and set(nets) == {"seg", "sdf"}
    assert not any(n.training for n in nets.values())
    (out / "final.pt").rename(out / "moved.pt")
    with pytest.raises(FileNotFoundError, match="not finished"):
        load_trained(out)


def test_volume_normalization_makes_batches_blind_to_intensity_scale(tiny_cfg, tmp_path):
    """Every scan's intensities scaled by its own positive factor: `volume` batches unchanged
    (up to float rounding), `stored` batches changed."""
    import numpy as np

    root = tmp_path / "scaled"
    shutil.copytree(tiny_cfg.data, root)
    for i, case_id in enumerate((root / "train.list").read_text().split()):
        with h5py.File(root / case_id / "mri_norm2.h5", "a") as f:
            f["image"][...] = f["image"][...] * (0.3 + 0.2 * i) + 0.1
    cpu, method = torch.device("cpu"), get_method("dtml")
    batches = {}
    for mode in ("stored", "volume"):
        for name, data in (("orig", tiny_cfg.data), ("scaled", str(root))):
            cfg = tiny_cfg.replace(data=data, normalization=mode)
            labeled, unlabeled, _ = training_cases(cfg, method)
            batches[mode, name] = make_batch(cfg, 3, labeled, unlabeled, cpu)
    v0, v1 = batches["volume", "orig"], batches["volume", "scaled"]
    np.testing.assert_allclose(v0.image.numpy(), v1.image.numpy(), atol=1e-4)
    assert torch.equal(v0.label, v1.label)
    assert not torch.allclose(batches["stored", "orig"].image, batches["stored", "scaled"].image)


def test_new_run_folders_hold_no_data_path(tiny_cfg):
    out = train(tiny_cfg.replace(iterations=1), progress=False)
    text = (out / "config.yaml").read_text() + (out / "train_summary.json").read_text()
    assert str(tiny_cfg.data) not in text and "data_id: la-" in text
