"""Every step is checked against `sympy.diff`: a rule that gives a different
derivative is a bug in gradcli, raised as StepCheckError (never shown as
a wrong explanation)."""
from __future__ import annotations

import random
from typing import Any

import sympy as sp

from gradcli.i18n import M
from gradcli.symbolic import drop_deltas, to_text


class StepCheckError(AssertionError):
    """A step's result disagrees with sympy.diff: a bug in the step builder.
    `what` is the message (its `str()` is English)."""

    def __init__(self, what):
        super().__init__(str(what))
        self.what = what


def check(expr: Any, x: sp.Symbol, result: Any, expected: Any = None) -> None:
    """Raise StepCheckError unless `result` equals sympy.diff(expr, x) (or `expected`)."""
    if expected is None:
        expected = drop_deltas(sp.diff(expr, x))[0]
    if not same(expected, result):
        raise StepCheckError(M("step check failed: d/d{x} {expr} is {expected}, the rule "
                               "gave {result}", x=str(x), expr=to_text(expr),
                               expected=to_text(expected), result=to_text(result)))


def same(a: Any, b: Any) -> bool:
    diff = a - b
    if diff == 0:
        return True
    if sp.count_ops(diff) <= 40:  # small: exact algebra is cheap
        try:
            if sp.cancel(sp.expand(diff)) == 0:
                return True
        except (TypeError, ValueError, sp.PolynomialError):
            pass
    return _numerically_same(a, b)


def _numerically_same(a: Any, b: Any) -> bool:
    """Spot checks at fixed pseudo-random points where both sides are real and finite."""
    symbols = sorted((a - b).free_symbols, key=str)
    rng = random.Random(20240601)
    compared = 0
    for _ in range(12):
        point = {s: sp.Float(rng.choice((1, -1)) * rng.uniform(0.3, 1.7), 30) for s in symbols}
        va, vb = _value(a, point), _value(b, point)
        if va is None or vb is None:
            continue
        if abs(va - vb) > 1e-9 * (1 + abs(va) + abs(vb)):
            return False
        compared += 1
        if compared == 4:
            return True
    # Fewer points than hoped, none disagreeing; nowhere comparable (complex
    # everywhere) is inconclusive, not a failure.
    return True


def _value(e: Any, point: dict) -> float | None:
    try:
        v = complex(e.xreplace(point).evalf(20))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if v != v or abs(v.imag) > 1e-12 * (1 + abs(v.real)) or abs(v.real) == float("inf"):
        return None
    return v.real
