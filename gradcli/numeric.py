"""Central differences, step choice, relative error and the usual bands.

The step is scaled to the value (h = EPS**(1/3) * max(1, |x|), the choice
that balances truncation against rounding error), and two steps (h, h/2)
give both a Richardson-extrapolated derivative and an estimate of its error.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Callable

from gradcli.errors import GradcliError

EPS = sys.float_info.epsilon
TINY = 1e-300

#: Relative-error bands (as in the CS231n notes on gradient checking).
GOOD = 1e-7
WRONG = 1e-2


@dataclass(frozen=True)
class Difference:
    value: float  # Richardson-extrapolated central difference
    error: float  # estimated error of `value`
    step: float  # the larger of the two steps used


def step_for(x: float) -> float:
    return EPS ** (1.0 / 3.0) * max(1.0, abs(x))


def central_difference(f: Callable[[float], float], x: float,
                       step: float | None = None, f0: float | None = None) -> Difference:
    """df/dx at x from central differences with steps h and h/2.

    `f0`, the value f(x) when the caller knows it, saves one evaluation (it
    only sizes the rounding-error estimate).
    """
    h = step_for(x) if step is None else step
    try:
        return _richardson(f, x, h, f0)
    except GradcliError:
        # The step left the function's domain (log or sqrt near 0): a step
        # smaller than |x| stays on the same side of 0.
        if step is not None or x == 0.0 or abs(x) / 4.0 >= h:
            raise
        return _richardson(f, x, abs(x) / 4.0, f0)


def _richardson(f: Callable[[float], float], x: float, h: float,
                f0: float | None) -> Difference:
    d1 = (f(x + h) - f(x - h)) / (2.0 * h)
    d2 = (f(x + h / 2) - f(x - h / 2)) / h
    value = (4.0 * d2 - d1) / 3.0
    # |d2 - d1| bounds the O(h^2) term; plus rounding in the differences.
    rounding = EPS * max(abs(f(x) if f0 is None else f0), 1e-300) / h
    return Difference(value, abs(d2 - d1) / 3.0 + rounding, h)


def rel_error(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|, tiny): 0 when both are 0."""
    diff = abs(a - b)
    if diff == 0.0:
        return 0.0
    return diff / max(abs(a), abs(b), TINY)


def close(a: float, b: float, rtol: float, atol: float) -> bool:
    """The gradient-check test: within rtol relatively or atol absolutely."""
    return abs(a - b) <= max(rtol * max(abs(a), abs(b)), atol)


def band(rel: float) -> str:
    """A word for a relative error, from 'good' to 'wrong'."""
    if rel <= GOOD:
        return "good"
    if rel <= 1e-4:
        return "fine"
    if rel <= WRONG:
        return "suspicious"
    return "wrong"


def is_finite(x: float) -> bool:
    return math.isfinite(x)
