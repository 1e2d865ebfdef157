"""The one truth table (`verdict.compare`): every branch, for scalars and arrays."""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from gradcli import verdict
from gradcli.verdict import (BACKPROP_BUG, FD_ARTEFACT, INCONCLUSIVE, KINK, WITHIN_ATOL, agrees,
                             band, compare, rel_error)

NAN = math.nan

# (id, kwargs of compare, ok, band, cause, attribution fragment or None)
TABLE = [
    ("good", dict(reverse=2.0, numeric=2.0 + 1e-9, symbolic=2.0), True, "good", None, None),
    ("fine", dict(reverse=1.0, numeric=1.0 + 1e-6, symbolic=1.0), True, "fine", None, None),
    ("suspicious-ok-with-loose-rtol", dict(reverse=1.0, numeric=1.001, rtol=1e-2),
     True, "suspicious", None, None),
    ("wrong-ok-with-huge-rtol", dict(reverse=1.0, numeric=1.5, rtol=1.0),
     True, "wrong", None, None),
    ("within-atol", dict(reverse=1e-12, numeric=3e-12, symbolic=2e-12, atol=1e-8),
     True, WITHIN_ATOL, None, None),
    ("suspicious-fails", dict(reverse=1.0, numeric=1.001, rtol=1e-5),
     False, "suspicious", INCONCLUSIVE, "symbolic skipped"),
    ("wrong-fails", dict(reverse=1.0, numeric=2.0), False, "wrong", INCONCLUSIVE,
     "central differences disagree"),
    ("kink", dict(reverse=0.0, numeric=0.5, kink=True), True, KINK, KINK, "subgradient 0"),
    ("kink-even-when-agreeing", dict(reverse=0.0, numeric=0.0, kink=True),
     True, KINK, KINK, "kink"),
    ("fd-artefact", dict(reverse=-2.0, numeric=0.3, symbolic=-2.0), True, FD_ARTEFACT,
     FD_ARTEFACT, "finite-difference artefact"),
    ("backprop-bug", dict(reverse=2.0, numeric=1.0, symbolic=1.0), False, "wrong",
     BACKPROP_BUG, "backprop bug"),
    ("inconclusive-symbolic-odd", dict(reverse=1.0, numeric=1.0, symbolic=3.0), False, "wrong",
     INCONCLUSIVE, "SymPy does not"),
    ("inconclusive-symbolic-skipped", dict(reverse=1.0, numeric=3.0), False, "wrong",
     INCONCLUSIVE, "symbolic skipped"),
    ("inconclusive-numeric-skipped", dict(reverse=1.0, symbolic=3.0), False, "wrong",
     INCONCLUSIVE, "numeric skipped"),
    ("inconclusive-numeric-nan", dict(reverse=1.0, numeric=NAN, symbolic=3.0), False, "wrong",
     INCONCLUSIVE, "numeric skipped"),
    ("inconclusive-all-three", dict(reverse=1.0, numeric=2.0, symbolic=3.0), False, "wrong",
     INCONCLUSIVE, "all three"),
    ("nothing-to-compare", dict(reverse=1.0), True, "good", None, None),
    ("fd-error-estimate-decides", dict(reverse=1.0, numeric=1.0 + 1e-6, numeric_error=1e-6,
                                       rtol=1e-9, atol=0.0), True, "fine", None, None),
]


@pytest.mark.parametrize("kwargs, ok, word, cause, fragment", [t[1:] for t in TABLE],
                         ids=[t[0] for t in TABLE])
def test_scalar_table(kwargs, ok, word, cause, fragment):
    v = compare(**kwargs)
    assert (v.ok, v.band, v.cause) == (ok, word, cause)
    if fragment is None:
        assert v.attribution is None
    else:
        assert fragment in v.attribution


@pytest.mark.parametrize("kwargs, ok, word, cause, fragment", [t[1:] for t in TABLE],
                         ids=[t[0] for t in TABLE])
def test_the_same_table_for_arrays(kwargs, ok, word, cause, fragment):
    """An array of one bad entry among good ones gets the scalar's verdict."""
    def widen(value, good):
        if value is None:
            return None
        return np.array([[good, good], [good, value]])

    arrays = dict(kwargs)
    arrays["reverse"] = widen(kwargs["reverse"], 5.0)
    arrays["numeric"] = widen(kwargs.get("numeric"), 5.0)
    arrays["symbolic"] = widen(kwargs.get("symbolic"), 5.0)
    arrays["kink"] = widen(kwargs.get("kink", False), False)
    if arrays["kink"] is None:
        arrays.pop("kink")
    v = compare(**arrays)
    assert (v.ok, v.band, v.cause) == (ok, word, cause)
    assert v.count == 4
    if not ok:
        assert v.bad == 1 and v.worst_index == (1, 1)
        assert v.actual == kwargs["reverse"]


def test_rel_error_and_abs_error_of_a_verdict():
    v = compare(300.0, 300.00000000012)
    assert v.rel_error == pytest.approx(4e-13, rel=0.01)
    assert v.max_abs_error == pytest.approx(1.2e-10, rel=1e-3)
    assert v.expected == 300.00000000012 and v.actual == 300.0
    # symbolic counts too: the worst of the two
    assert compare(1.0, 1.0, symbolic=1.5, rtol=1.0).rel_error == pytest.approx(1 / 3)


# --------------------------------------------------------------- the note ---
def test_note_when_the_tolerance_is_below_the_fd_error_estimate():
    v = compare(1.0, 1.0 + 2e-10, numeric_error=1e-10, rtol=1e-14, atol=0.0)
    assert v.ok and v.band == "good"
    assert str(v.note).startswith("compared at the numeric error estimate 4.0e-10")
    # the requested tolerance is above the estimate: no note
    assert compare(1.0, 1.0 + 2e-10, numeric_error=1e-10, rtol=1e-5).note is None
    # no numeric value: nothing was widened
    assert compare(1.0, None, numeric_error=1e-3, symbolic=1.0, rtol=0, atol=0).note is None


def test_note_for_arrays_names_the_largest_widening():
    r = np.array([1.0, 2.0, 3.0])
    v = compare(r, r + 1e-12, numeric_error=np.array([1e-10, 5e-10, 1e-12]), rtol=1e-14,
                atol=0.0)
    assert v.ok and "2.0e-09" in v.note


# ---------------------------------------------------------------- arrays ---
def test_nan_entries_are_not_computed():
    r = np.array([1.0, 2.0, 3.0, 4.0])
    n = np.array([1.0, NAN, 3.0, NAN])
    v = compare(r, n)
    assert v.ok and v.band == "good" and v.count == 4
    # a wrong entry among the computed ones is found; NaN ones never are
    v = compare(r, np.array([1.0, NAN, 30.0, NAN]))
    assert not v.ok and v.bad == 1 and v.worst_index == (2,) and v.expected == 30.0


def test_worst_index_is_the_largest_relative_then_absolute_error():
    r = np.zeros((2, 3))
    n = np.zeros((2, 3))
    n[0, 1], n[1, 2] = 1.0, 10.0  # both relative error 1: the larger difference wins
    v = compare(r, n)
    assert v.worst_index == (1, 2) and v.bad == 2
    assert v.max_abs_error == 10.0 and v.expected == 10.0 and v.actual == 0.0


def test_kink_mask_excuses_only_its_entries():
    r = np.array([1.0, 0.0, 1.0])
    n = np.array([1.0, 0.5, 1.0])
    assert compare(r, n, kink=np.array([False, True, False])).band == KINK
    assert compare(r, n, kink=np.array([False, True, False])).kinks == 1
    v = compare(r, n, kink=np.array([True, False, False]))
    assert not v.ok and v.worst_index == (1,)


def test_backprop_bug_needs_every_bad_entry_outvoted():
    r = np.array([2.0, 2.0])
    v = compare(r, np.array([1.0, 1.0]), symbolic=np.array([1.0, 1.0]))
    assert v.cause == BACKPROP_BUG
    v = compare(r, np.array([1.0, 3.0]), symbolic=np.array([1.0, 1.0]))
    assert v.cause == INCONCLUSIVE


def test_scalars_do_not_import_numpy():
    """derive on a scalar expression never needs numpy: check it in a fresh module table."""
    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if k == "numpy"
             or k.startswith("numpy.")}
    try:
        sys.modules["numpy"] = None  # any import of numpy now fails
        assert compare(1.0, 1.0, 0.0, 1.0, False).ok
        assert agrees(1.0, 1.0 + 1e-9)
    finally:
        del sys.modules["numpy"]
        sys.modules.update(saved)


# ---------------------------------------------------- the closeness rule ---
def test_agrees_uses_rtol_or_atol():
    assert agrees(1.0, 1.0 + 1e-7, rtol=1e-6, atol=0.0)
    assert not agrees(1.0, 1.0 + 1e-5, rtol=1e-6, atol=0.0)
    assert agrees(0.0, 1e-10, rtol=1e-6, atol=1e-9)
    assert not agrees(0.0, 1e-8, rtol=1e-6, atol=1e-9)
    assert agrees(0.0, 0.0, rtol=0.0, atol=0.0)
    assert not agrees(1.0, 1.0 + 1e-15, rtol=0.0, atol=0.0)
    # and the numeric error estimate, SLACK times
    assert agrees(1.0, 1.0 + 3.9e-6, 1e-6, rtol=0.0, atol=0.0)
    assert not agrees(1.0, 1.0 + 4.1e-6, 1e-6, rtol=0.0, atol=0.0)
    np.testing.assert_array_equal(agrees(np.array([1.0, 1.0]), np.array([1.0, 2.0])),
                                  [True, False])


def test_compare_uses_rtol_and_atol_like_agrees():
    assert compare(1.0, 1.0 + 1e-7, rtol=1e-6, atol=0.0).ok
    assert not compare(1.0, 1.0 + 1e-5, rtol=1e-6, atol=0.0).ok
    assert compare(0.0, 1e-10, rtol=1e-6, atol=1e-9).ok
    assert not compare(0.0, 1e-8, rtol=1e-6, atol=1e-9).ok
    assert compare(0.0, 0.0, rtol=0.0, atol=0.0).ok
    assert not compare(1.0, 1.0 + 1e-15, rtol=0.0, atol=0.0).ok


# -------------------------------------------------------------- rel error ---
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
    assert verdict.GOOD < verdict.FINE < verdict.WRONG
