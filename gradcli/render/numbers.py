"""Numbers and tensors as a student copies them: never a negative zero.

`num` keeps 10 significant digits (enough to compare with a hand calculation),
`short` the 4 of the chain-rule ledger, `err` one digit of a relative error.
`tensor_view` gives a tensor in one line (the text report), as rows of
entries when it is small enough to typeset as a matrix, and as its shape and
norms when it is not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gradcli.i18n import _

DASH = "—"  # a value that does not exist (skipped, undefined)
SMALL = 16  # tensors of at most this many entries are shown in full
MATRIX_DIGITS = 4  # significant digits of a typeset matrix entry

#: a "-0", "-0.", "-0.000" token (and not -0.001): rounding left only the sign
_NEGATIVE_ZERO = re.compile(r"-(0(?:\.0*)?)(?![0-9.e])")


def g(value: float, digits: int) -> str:
    """`value` with `digits` significant digits; -0.0 and values that round to 0 print 0."""
    if value == 0:
        value = 0.0  # -0.0 == 0: print it without its sign
    shown = f"{value:.{digits}g}"
    return _NEGATIVE_ZERO.sub(r"\1", shown)


def num(value: Any, digits: int = 10) -> str:
    """A number as a student would copy it: 10 significant digits."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return g(value, digits)
    return str(value)


def short(value: Any) -> str:
    """4 significant digits: the factors of the ledger."""
    return num(value, 4)


def err(value: float | None) -> str:
    """A relative error: one digit (`2.3e-10`); none is a dash."""
    return DASH if value is None else f"{abs(value):.1e}" if value == 0 else f"{value:.1e}"


@dataclass
class TensorView:
    """A value for every printer: `text` in one line; `rows` of formatted entries when
    it is a small scalar, vector or matrix; otherwise its shape and norms."""

    text: str
    shape: tuple[int, ...] = ()
    rows: list[list[str]] | None = None  # small (up to 2-D): a vector is one row
    norm: str | None = None  # tensors: ‖·‖, min and max
    low: str | None = None
    high: str | None = None

    @property
    def scalar(self) -> bool:
        return self.norm is None

    @property
    def shape_text(self) -> str:
        return "×".join(str(n) for n in self.shape)

    @property
    def summary(self) -> str:
        """Shape and norms (the form of a tensor too large to show in full)."""
        return _("shape {shape}, norm {norm}, min {low}, max {high}", shape=list(self.shape),
                 norm=self.norm, low=self.low, high=self.high)


def tensor(value: Any, digits: int = 6) -> str:
    """Small tensors in full, large ones as shape, norm, min and max (one line)."""
    return tensor_view(value, digits).text


def tensor_view(value: Any, digits: int = 6) -> TensorView:
    if value is None or isinstance(value, (float, int)):
        shown = num(value, digits if digits != 6 else 10)
        return TensorView(shown, (), [[shown]])
    import numpy as np

    a = np.asarray(value, dtype=float)
    shape = tuple(int(n) for n in a.shape)
    if a.size <= SMALL:
        text = _nested(a, digits)
        rows = None
        if a.ndim <= 2:
            grid = a.reshape(1, -1) if a.ndim < 2 else a
            # 4 digits of a matrix cannot show rounding noise next to its largest entry
            # (2.8e-17 beside 0.9): such entries are 0 in the typeset matrix
            finite = np.abs(grid[np.isfinite(grid)])
            noise = float(finite.max()) * 1e-12 if finite.size else 0.0
            rows = [[g(0.0 if abs(x) <= noise else float(x), MATRIX_DIGITS) for x in row]
                    for row in grid]
        return TensorView(text, shape, rows, *_norms(a))
    view = TensorView("", shape, None, *_norms(a))
    view.text = view.summary
    return view


def _nested(a: Any, digits: int) -> str:
    """[[0, 0.5], [-1.99962, 2]]: every entry to `digits` significant digits, no padding
    (numpy's own text aligns columns with spaces, which one line does not need)."""
    if a.ndim == 0:
        return g(float(a), digits)
    return "[" + ", ".join(_nested(row, digits) for row in a) + "]"


def _norms(a: Any) -> tuple[str, str, str]:
    import numpy as np

    if a.size == 0:
        return "0", DASH, DASH
    return (g(float(np.linalg.norm(a)), 4), g(float(np.nanmin(a)), 4),
            g(float(np.nanmax(a)), 4))
