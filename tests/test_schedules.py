import math

import pytest

from dtml.schedules import official_rampup, paper_rampup, step_lr


def test_official_ramp_is_stepped_and_reaches_one_at_6000():
    assert official_rampup(0) == pytest.approx(math.exp(-5))
    assert official_rampup(149) == official_rampup(0)
    assert official_rampup(150) == pytest.approx(math.exp(-5 * (39 / 40) ** 2))
    assert official_rampup(5999) < 1.0 and official_rampup(6000) == 1.0 == official_rampup(9000)


def test_paper_ramp_is_the_printed_formula():
    assert paper_rampup(0, 6000) == pytest.approx(0.1 * math.exp(-5))
    assert paper_rampup(3000, 6000) == pytest.approx(0.1 * math.exp(-2.5))
    assert paper_rampup(6000, 6000) == pytest.approx(0.1)


def test_step_lr():
    assert [step_lr(i) for i in (0, 2499, 2500, 5000)] == pytest.approx([0.01, 0.01, 0.001, 0.0001])
