import json

import pytest
import torch

from dtml.bench.__main__ import main
from dtml.bench.train_step import run


def _ratio_bounds(reference: float, ours: float, half_unit: float = 5e-5) -> tuple[float, float]:
    """The range of reference / ours that times reported rounded to 4 decimals allow (tiny nets
    step in about a millisecond, where that rounding moves the ratio by more than 0.01)."""
    return (reference - half_unit) / (ours + half_unit), (reference + half_unit) / (
        ours - half_unit
    )


def test_train_step_bench_reports_equal_updates_and_ratios(capsys):
    result = run(["--filters", "2", "--patch", "16x16x16", "--repeats", "1", "--threads", "1"])
    assert result["equal"] is True
    assert result["ratio"] > 0 and result["ratio_bf16"] > 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result
    # whole iterations (batch drawing + augmentation + step), reported apart from the step alone
    for key in ("iteration_reference_s", "iteration_ours_s", "iteration_ours_bf16_s", "batch_s"):
        assert result[key] > 0
    for ratio, ours in (
        ("iteration_ratio", "iteration_ours_s"),
        ("iteration_ratio_bf16", "iteration_ours_bf16_s"),
    ):
        low, high = _ratio_bounds(result["iteration_reference_s"], result[ours])
        assert low - 0.005 <= result[ratio] <= high + 0.005, (ratio, result)
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
