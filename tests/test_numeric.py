"""Central differences (relative error, bands and closeness: tests/test_verdict.py)."""
from __future__ import annotations

import math

import pytest

from gradcli.numeric import EPS, central_difference, step_for

SCALED_EXP = (lambda x: math.exp(x * 1e-4), lambda x: 1e-4 * math.exp(x * 1e-4))
CUBE = (lambda x: x ** 3, lambda x: 3 * x * x)


@pytest.mark.parametrize("f, fprime, x, rtol", [
    (math.exp, math.exp, 1e-3, 1e-10),
    (math.exp, math.exp, 1.0, 1e-10),
    (math.exp, math.exp, 50.0, 1e-10),
    (*SCALED_EXP, 1e4, 1e-10),
    (math.sin, math.cos, 1e-3, 1e-10),
    (math.sin, math.cos, 1.0, 1e-10),
    (math.sin, math.cos, 1e4, 1e-6),   # h = 0.06 here: Richardson keeps it accurate
    (math.sin, math.cos, -2.5, 1e-10),
    (*CUBE, 1e-3, 1e-10),
    (*CUBE, 1e4, 1e-10),
])
def test_central_difference_accuracy(f, fprime, x, rtol):
    d = central_difference(f, x)
    exact = fprime(x)
    actual = abs(d.value - exact)
    assert actual <= rtol * abs(exact), (d.value, exact)
    # The error estimate is honest: derive trusts numeric to 4 x its estimate.
    assert actual <= 4.0 * d.error, (actual, d.error)
    assert d.error < 1e-3 * abs(exact)
    assert d.step == step_for(x)


def test_richardson_beats_plain_central_difference():
    x, h = 1.0, step_for(1.0)
    plain = (math.exp(x + h) - math.exp(x - h)) / (2 * h)
    d = central_difference(math.exp, x, step=1e-2)
    coarse_plain = (math.exp(x + 1e-2) - math.exp(x - 1e-2)) / 2e-2
    assert abs(d.value - math.e) < abs(coarse_plain - math.e) / 1000
    assert abs(plain - math.e) < 1e-9  # sanity: the default step is a good step


def test_step_scales_with_x():
    h1 = step_for(1.0)
    assert h1 == pytest.approx(EPS ** (1 / 3))
    assert step_for(0.0) == h1 and step_for(1e-3) == h1 and step_for(-0.5) == h1
    assert step_for(1e4) == pytest.approx(1e4 * h1)
    assert step_for(-1e4) == pytest.approx(1e4 * h1)


def test_explicit_step_is_used():
    d = central_difference(lambda x: x * x, 3.0, step=0.5)
    assert d.step == 0.5
    assert d.value == pytest.approx(6.0, rel=1e-14)  # exact for a quadratic


def test_linear_function_is_exact():
    d = central_difference(lambda x: 7.0 * x - 2.0, 0.25)
    assert d.value == pytest.approx(7.0, rel=1e-9)
