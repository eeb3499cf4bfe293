"""Shared fixtures: a tiny LA-layout data set on disk, a tiny training config, run records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from dtml.config import TrainConfig
from dtml.data.la import write_case, write_list
from dtml.report.records import RunRecord


def blob_case(rng: np.random.Generator, shape=(24, 22, 16)) -> tuple[np.ndarray, np.ndarray]:
    """A random ellipsoid label and a noisy image that shows it."""
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in shape], indexing="ij"), -1)
    centre = np.array(shape) / 2 + rng.uniform(-2, 2, 3)
    radii = rng.uniform(3, 6, 3)
    label = (((grid - centre) / radii) ** 2).sum(-1) <= 1
    image = label + rng.normal(0, 0.3, shape)
    return ((image - image.mean()) / image.std()).astype(np.float32), label.astype(np.uint8)


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Resampling caches (and the phantom) of a test session live in a temporary folder."""
    mp = pytest.MonkeyPatch()
    mp.setenv("DTML_CACHE", str(tmp_path_factory.mktemp("dtml_cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> str:
    """10 train + 2 test cases of 24x22x16 voxels in the LA h5 layout."""
    root = tmp_path_factory.mktemp("tiny_la")
    rng = np.random.default_rng(0)
    ids = [f"case{i:02d}" for i in range(12)]
    for case_id in ids:
        write_case(root, case_id, *blob_case(rng))
    write_list(root, "train.list", ids[:10])
    write_list(root, "test.list", ids[10:])
    return str(root)


@pytest.fixture()
def tiny_cfg(tiny_root, tmp_path) -> TrainConfig:
    """A config that trains a 2-filter V-Net on 16^3 crops in well under a second per step."""
    torch.set_num_threads(1)
    return TrainConfig(
        data=tiny_root,
        split="dev",
        labeled_count=4,
        val_count=2,
        patch=(16, 16, 16),
        base_filters=2,
        iterations=6,
        lr_step=4,
        rampup_step=1,
        rampup_steps=6,
        checkpoint_every=2,
        log_every=1,
        eval_stride=(8, 8, 8),
        runs_dir=str(tmp_path / "runs"),
    )


@pytest.fixture()
def tiny_plan_set() -> dict:
    """A plan's ``set:`` for a 2-filter V-Net on 16^3 crops for 4 iterations: seconds per run."""
    return {
        "base_filters": 2,
        "patch": "16x16x16",
        "iterations": 4,
        "lr_step": 2,
        "rampup_step": 1,
        "rampup_steps": 4,
        "val_count": 2,
        "labeled_count": 4,
        "eval_stride": [8, 8, 8],
        "checkpoint_every": 2,
        "threads": 1,
    }


@pytest.fixture()
def write_plan():
    """``write_plan(path, **plan)``: the plan as a YAML file; returns its path as a string."""

    def write(path: Path, **plan) -> str:
        path.write_text(yaml.safe_dump(plan, sort_keys=False))
        return str(path)

    return write


@pytest.fixture()
def run_record():
    """``run_record(method, seed, {case: dice}, **train)``: an evaluated test-split run of one
    setting, read as the committed results are (Dice as a fraction; ``train`` overrides the
    training summary's fields, e.g. ``hardware`` or ``wall_seconds``)."""

    def make(method: str, seed: int, dice: dict[str, float], **train) -> RunRecord:
        summary = {"hardware": "AMD EPYC (1 threads, AVX512)", "wall_seconds": 1800.0, **train}
        return RunRecord(
            name=f"{method}-s{seed}",
            config={"method": method, "seed": seed, "split": "paper"},
            train=summary,
            eval={"split": "test"},
            cases=tuple({"case": c, "dice": d} for c, d in dice.items()),
        )

    return make
