"""gradcli.mistakes: each diagnosis on a case it explains, None where none does; the Taylor test."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gradcli import mistakes

RNG = np.random.default_rng(0)
E = RNG.standard_normal((4, 3))


@pytest.mark.parametrize("actual, expected_text", [
    (-E, "sign flipped"),
    (2 * E, "off by a factor of 2"),
    (E / 2, "off by a factor of 1/2"),
    (-3 * E, "off by a factor of -3"),
    (4 * E, "off by a factor of 4 (the batch size 4: not divided by the batch size)"),
    (E / 4, "off by a factor of 1/4 (the batch size 4: divided by the batch size once too often)"),
    (np.zeros_like(E), "zero where it should not be: the gradient is all zeros"),
    (E.T, "transposed: shape (3, 4) where (4, 3) is expected"),
    (np.ones((4,)), "shape mismatch: the gradient has shape (4,), the parameter (4, 3)"),
])
def test_diagnoses(actual, expected_text):
    assert str(mistakes.diagnose(actual, E, batch=4)) == expected_text


def test_square_transposed():
    s = RNG.standard_normal((3, 3))
    assert str(mistakes.diagnose(s.T, s)) == "transposed"


def test_one_row_and_one_column():
    row = E.copy()
    row[2] += 1.0
    assert str(mistakes.diagnose(row, E, bad=row != E)) == \
        "one row wrong: row 2, the other rows are right"
    col = E.copy()
    col[:, 1] *= 3.7
    assert str(mistakes.diagnose(col, E, bad=col != E)) == \
        "one column wrong: column 1, the other columns are right"


def test_zero_only_where_wrong():
    a = E.copy()
    a[0, 0] = a[3, 2] = 0.0
    assert str(mistakes.diagnose(a, E, bad=a != E)) == \
        "zero where it should not be: 2 entries are 0"


def test_no_diagnosis_when_nothing_explains_it():
    noise = E + RNG.standard_normal(E.shape)
    assert mistakes.diagnose(noise, E, bad=np.ones(E.shape, bool)) is None
    assert mistakes.diagnose(3.3 * E, E) is None  # not a simple factor


def test_scalar_factor():
    assert str(mistakes.scalar_factor(-0.5, 0.5)) == "sign flipped"
    assert str(mistakes.scalar_factor(1.0, 2.0)) == "off by a factor of 1/2"
    assert mistakes.scalar_factor(1.23, 1.0) is None
    assert mistakes.scalar_factor(1.0, 0.0) is None


def test_taylor_order_two_for_the_right_slope_and_one_for_a_wrong_one():
    f = math.exp
    steps = [0.1 / 2 ** k for k in range(5)]
    right = mistakes.taylor_order(f, 1.0, 1.0, steps)
    wrong = mistakes.taylor_order(f, 1.0, 1.5, steps)
    assert right.ok and right.order == pytest.approx(2.0, abs=0.1)
    assert not wrong.ok and wrong.order == pytest.approx(1.0, abs=0.1)


def test_taylor_undecided_below_the_noise_floor():
    assert mistakes.taylor_order(lambda h: 0.0, 0.0, 0.0, [1e-3, 1e-4], floor=1e-12) is None
