import json

import pytest
import torch

from dtml.bench.__main__ import main
from dtml.bench.train_step import run


def test_train_step_bench_reports_equal_updates_and_ratios(capsys):
    result = run(["--filters", "2", "--patch", "16x16x16", "--repeats", "1", "--threads", "1"])
    assert result["equal"] is True
    assert result["ratio"] > 0 and result["ratio_bf16"] > 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result
    # whole iterations (batch drawing + augmentation + step), reported apart from the step alone
    for key in ("iteration_reference_s", "iteration_ours_s", "iteration_ours_bf16_s", "batch_s"):
        assert result[key] > 0
    ratio = result["iteration_reference_s"] / result["iteration_ours_s"]
    assert result["iteration_ratio"] == pytest.approx(ratio, abs=0.01)
    ratio_bf16 = result["iteration_reference_s"] / result["iteration_ours_bf16_s"]
    assert result["iteration_ratio_bf16"] == pytest.approx(ratio_bf16, abs=0.01)
    assert result["config"]["volumes"] == [24, 24, 24]


def test_whole_iteration_draws_the_training_loop_batches():
    from dtml.bench.train_step import iteration, stand_in_volumes
    from dtml.config import TrainConfig
    from dtml.train import make_batch

    cfg = TrainConfig(base_filters=2, patch=(16, 16, 16))
    volumes = stand_in_volumes(cfg, seed=0)
    assert [c.label is None for c in volumes[1]] == [True] * 4  # unlabeled: no label at all
    seen = {"ours": [], "reference": []}
    for name in seen:
        run = iteration(seen[name].append, cfg, volumes, "cpu", reference=name == "reference")
        run()
        run()
    for it in range(2):  # iteration numbers 0, 1, ...: the batches training would draw
        expected = make_batch(cfg, it, *volumes, torch.device("cpu"))
        for batches in seen.values():
            assert torch.equal(batches[it].image, expected.image)
            assert torch.equal(batches[it].label, expected.label)
        assert seen["reference"][it].image.is_contiguous()  # the authors' default layout
        assert seen["ours"][it].image.is_contiguous(memory_format=torch.channels_last_3d)


def test_dispatcher_rejects_unknown_bench():
    with pytest.raises(SystemExit, match="usage"):
        main(["train_step"])
