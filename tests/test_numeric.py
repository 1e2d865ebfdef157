"""Central differences, relative error and the bands."""
from __future__ import annotations

import math

import pytest

from gradcli import numeric
from gradcli.numeric import EPS, band, central_difference, close, rel_error, step_for

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


# ---------------------------------------------------------------- rel_error ---
def test_rel_error_edge_cases():
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(-0.0, 0.0) == 0.0
    assert rel_error(0.0, 1e-3) == 1.0
    assert rel_error(1e-3, 0.0) == 1.0
    assert rel_error(2.0, 2.0) == 0.0
    assert rel_error(1.0, -1.0) == 2.0
    # Below the 1e-300 floor two numbers count as (relatively) equal to 0.
    assert rel_error(1e-320, 0.0) < 1e-15
    assert math.isfinite(rel_error(1e-320, -1e-320))
    assert rel_error(300.0, 300.00000000012) == pytest.approx(4e-13, rel=0.01)
    assert rel_error(1.0, 1.0 + 1e-9) == pytest.approx(1e-9, rel=1e-6)


def test_rel_error_is_symmetric_and_scale_free():
    for a, b in [(1.0, 1.5), (-3.0, 2.0), (1e-8, 2e-8), (1e10, 1.0001e10)]:
        assert rel_error(a, b) == rel_error(b, a)
        assert rel_error(a * 1e5, b * 1e5) == pytest.approx(rel_error(a, b), rel=1e-12)
        assert 0.0 <= rel_error(a, b) <= 2.0


def test_close_uses_rtol_or_atol():
    assert close(1.0, 1.0 + 1e-7, rtol=1e-6, atol=0.0)
    assert not close(1.0, 1.0 + 1e-5, rtol=1e-6, atol=0.0)
    assert close(0.0, 1e-10, rtol=1e-6, atol=1e-9)
    assert not close(0.0, 1e-8, rtol=1e-6, atol=1e-9)
    assert close(0.0, 0.0, rtol=0.0, atol=0.0)
    assert not close(1.0, 1.0 + 1e-15, rtol=0.0, atol=0.0)


# -------------------------------------------------------------------- bands ---
@pytest.mark.parametrize("rel, expected", [
    (0.0, "good"),
    (1e-12, "good"),
    (1e-7, "good"),
    (1.0001e-7, "fine"),
    (1e-5, "fine"),
    (1e-4, "fine"),
    (1.0001e-4, "suspicious"),
    (1e-3, "suspicious"),
    (1e-2, "suspicious"),
    (1.0001e-2, "wrong"),
    (1.0, "wrong"),
    (2.0, "wrong"),
])
def test_band_thresholds(rel, expected):
    assert band(rel) == expected


def test_band_constants():
    assert numeric.GOOD == 1e-7
    assert numeric.WRONG == 1e-2
    assert numeric.is_finite(1.0) and not numeric.is_finite(math.inf)
    assert not numeric.is_finite(math.nan)
