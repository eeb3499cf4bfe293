import json

import pytest

from dtml.bench.__main__ import main
from dtml.bench.train_step import run


def test_train_step_bench_reports_equal_updates_and_ratios(capsys):
    result = run(["--filters", "2", "--patch", "16x16x16", "--repeats", "1", "--threads", "1"])
    assert result["equal"] is True
    assert result["ratio"] > 0 and result["ratio_bf16"] > 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result


def test_dispatcher_rejects_unknown_bench():
    with pytest.raises(SystemExit, match="usage"):
        main(["train_step"])
