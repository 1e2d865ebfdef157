"""What a wrong array gradient most likely got wrong, and the Taylor test.

`diagnose(actual, expected, bad, batch)` names the mistake when one explains
the user's gradient (`actual`) against the reference (`expected`, central
differences) entry by entry; it returns None when none does:

- shape mismatch (both shapes named), transposed (a matrix of the transposed
  shape, or a square one equal to the reference's transpose);
- all zero, or zero exactly at the wrong entries;
- off by a constant factor, named only when simple: -1 (sign flipped), ±2,
  ±1/2, an integer up to 10 or its inverse, the batch size or its inverse;
- one row or one column wrong (the others right).

`taylor_order(f, f0, slope, steps)`: the remainder r(h) = f(h) - f0 - h*slope
of a function along a direction shrinks like h**2 when `slope` is the right
directional derivative and like h when it is not; the fitted order decides
where finite differences are too noisy to (single precision, large values).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

from gradcli.i18n import M, Msg

#: Agreement required for a diagnosis to be named (relative to the largest entry).
EXPLAIN_RTOL = 1e-4


def simple_factors(batch: int | None = None) -> list[tuple[Fraction, Msg | None]]:
    """The factors worth naming, with the batch size marked."""
    out: dict[Fraction, Msg | None] = {}
    for n in range(2, 11):
        for sign in (1, -1):
            out.setdefault(Fraction(sign * n), None)
            out.setdefault(Fraction(sign, n), None)
    out[Fraction(-1)] = None
    if batch and batch > 1:
        out[Fraction(batch)] = M("the batch size {batch}: not divided by the batch size",
                                 batch=batch)
        out[Fraction(1, batch)] = M("the batch size {batch}: divided by the batch size "
                                    "once too often", batch=batch)
    return list(out.items())


def factor_message(factor: Fraction, why: Msg | None) -> Msg:
    if factor == -1:
        return M("sign flipped")
    shown = str(factor)
    if why is not None:
        return M("off by a factor of {factor} ({why})", factor=shown, why=why)
    return M("off by a factor of {factor}", factor=shown)


def scalar_factor(actual: float, expected: float, batch: int | None = None,
                  rtol: float = EXPLAIN_RTOL) -> Msg | None:
    """actual = c * expected for a simple c (see `simple_factors`), named; else None."""
    if expected == 0.0 or not math.isfinite(actual) or not math.isfinite(expected):
        return None
    ratio = actual / expected
    for factor, why in simple_factors(batch):
        if abs(ratio - float(factor)) <= rtol * abs(float(factor)):
            return factor_message(factor, why)
    return None


def diagnose(actual: Any, expected: Any, bad: Any = None, batch: int | None = None,
             atol: float = 0.0) -> Msg | None:
    """The mistake that explains `actual` against `expected`, or None (see module doc).

    `bad` is the mask of entries beyond tolerance (same shape as expected).
    """
    import numpy as np

    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        if a.ndim == 2 and a.T.shape == e.shape and _close(a.T, e, atol):
            return M("transposed: shape {actual} where {expected} is expected",
                     actual=shape_text(a.shape), expected=shape_text(e.shape))
        return M("shape mismatch: the gradient has shape {actual}, the parameter {expected}",
                 actual=shape_text(a.shape), expected=shape_text(e.shape))
    if e.size == 0 or not np.all(np.isfinite(a)):
        return None
    scale = float(np.abs(e).max())
    if scale == 0.0:
        return None
    if not np.any(a):
        return M("zero where it should not be: the gradient is all zeros")
    bad = np.ones(e.shape, dtype=bool) if bad is None else np.asarray(bad, dtype=bool)
    if np.all(a[bad] == 0) and np.all(e[bad] != 0):
        return M("zero where it should not be: {count} entries are 0", count=int(bad.sum()))
    found = _factor(a, e, batch, atol)
    if found is not None:
        return found
    if a.ndim == 2 and a.shape[0] == a.shape[1] and a.shape[0] > 1 and _close(a, e.T, atol):
        return M("transposed")
    return _one_line(a, e, bad, atol)


def shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _close(a: Any, e: Any, atol: float) -> bool:
    import numpy as np

    scale = max(float(np.abs(e).max(initial=0.0)), float(np.abs(a).max(initial=0.0)))
    return bool(np.all(np.abs(a - e) <= max(EXPLAIN_RTOL * scale, atol)))


def _factor(a: Any, e: Any, batch: int | None, atol: float) -> Msg | None:
    import numpy as np

    c = float(np.vdot(a, e) / np.vdot(e, e))
    for factor, why in simple_factors(batch):
        f = float(factor)
        if abs(c - f) <= 1e-3 * abs(f) and _close(a, f * e, atol):
            return factor_message(factor, why)
    return None


def _one_line(a: Any, e: Any, bad: Any, atol: float) -> Msg | None:
    """Only one row (or one column) of a matrix is wrong."""
    import numpy as np

    if a.ndim != 2 or not bad.any():
        return None
    rows = np.flatnonzero(bad.any(axis=1))
    cols = np.flatnonzero(bad.any(axis=0))
    if len(rows) == 1 and a.shape[0] > 1:
        return M("one row wrong: row {row}, the other rows are right", row=int(rows[0]))
    if len(cols) == 1 and a.shape[1] > 1:
        return M("one column wrong: column {col}, the other columns are right",
                 col=int(cols[0]))
    return None


# ------------------------------------------------------------------ Taylor ---
@dataclass(frozen=True)
class Taylor:
    order: float  # fitted exponent of the remainder in h (2: right, 1: wrong)
    ok: bool
    steps: tuple[float, ...]
    remainders: tuple[float, ...]


def taylor_order(f: Callable[[float], float], f0: float, slope: float,
                 steps: Sequence[float], floor: float = 0.0) -> Taylor | None:
    """Fit r(h) = |f(h) - f0 - h*slope| ~ C h**p over `steps`; None if undecided.

    Remainders below `floor` (rounding noise) are left out; at least two must remain.
    The gradient passes when p >= 1.5 (h**2 behaviour, p = 1 means a wrong slope).
    """
    hs, rs = [], []
    for h in steps:
        r = abs(f(h) - f0 - h * slope)
        if r > floor and math.isfinite(r):
            hs.append(h)
            rs.append(r)
    if len(hs) < 2:
        return None
    lx = [math.log(h) for h in hs]
    ly = [math.log(r) for r in rs]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    den = sum((x - mx) ** 2 for x in lx)
    order = sum((x - mx) * (y - my) for x, y in zip(lx, ly)) / den
    return Taylor(order, order >= 1.5, tuple(hs), tuple(rs))
