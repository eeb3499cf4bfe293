"""Consistency ramp-up and learning-rate schedules (Sec. 3.2 and 4.1)."""

from __future__ import annotations

import math


def official_rampup(
    iteration: int, max_weight: float = 1.0, step: int = 150, steps: int = 40
) -> float:
    """The authors' stepped sigmoid ramp: w * exp(-5 (1 - min(floor(t/step), steps)/steps)^2).

    With the defaults lambda changes every 150 iterations and reaches ``max_weight`` at 6000.
    """
    phase = 1.0 - min(iteration // step, steps) / steps
    return max_weight * math.exp(-5.0 * phase * phase)


def paper_rampup(iteration: int, t_max: int, max_weight: float = 0.1) -> float:
    """The paper's printed ramp lambda(t) = 0.1 * exp(-5 (1 - t/t_max)), t clipped to t_max.

    The paper does not define t_max; we use the total number of iterations. Note the printed formula
    has no square, unlike the Gaussian ramp of UA-MT that the paper says it follows.
    """
    t = min(max(iteration, 0), t_max) / t_max
    return max_weight * math.exp(-5.0 * (1.0 - t))


def step_lr(iteration: int, base_lr: float = 0.01, step: int = 2500, gamma: float = 0.1) -> float:
    """lr multiplied by ``gamma`` every ``step`` iterations (0.01 -> 0.001 at 2500 -> ...)."""
    return base_lr * gamma ** (iteration // step)
