"""Constant folding through the op table: the values of constant parts.

The graph keeps what the user wrote (`2*3` stays a product, so the
explanations show it); folding only checks that every constant part is a
finite real number within ±MAX_NUMBER, and gives exponents their value for
the exponent limit.  The arithmetic is `OPS[op].forward` on floats, the same
rows the engine uses: there is no second arithmetic to drift apart.
"""
from __future__ import annotations

import math
from typing import Sequence

from gradcli.i18n import M, Msg
from gradcli.ops import OPS
from gradcli.parse.limits import MAX_NUMBER
from gradcli.parse.refusals import shown

LIMIT_TEXT = f"{MAX_NUMBER:.0e}".replace("+", "")  # "1e300"


class NoValue(Exception):
    """A constant part that is undefined, infinite, not real or too large;
    `message` words it once the parser knows the text it came from."""

    def __init__(self, kind: str, reason: Msg):
        super().__init__(str(reason))
        self.kind = kind  # "undefined", "infinite", "complex" or "large"
        self.reason = reason


def fold(op: str, values: Sequence[float | None]) -> float | None:
    """The value of `op` applied to constant `values` (None when one is not
    constant, or for matmul, whose forward needs arrays)."""
    for v in values:
        if v is None:
            return None
    spec = OPS[op]
    if not (spec.elementwise or spec.arity == 1):
        return None
    try:
        result = float(spec.forward(*values))
    except OverflowError:
        raise NoValue("large", M("overflow")) from None
    except (ArithmeticError, ValueError):
        raise _why(op, values) from None
    if math.isnan(result):
        raise _why(op, values)
    if not abs(result) <= MAX_NUMBER:
        raise NoValue("large", M("overflow"))
    return result


def _why(op: str, values: Sequence[float]) -> NoValue:
    """Name the operation and why it has no finite real value here."""
    a = values[0]
    b = values[1] if len(values) > 1 else None
    if op == "div" and b == 0:
        if a == 0:
            return NoValue("undefined", M("0 divided by 0"))
        return NoValue("infinite", M("division by zero"))
    if op == "log":
        if a == 0:
            return NoValue("infinite", M("the log of 0"))
        return NoValue("complex", M("the log of a negative number"))
    if op == "sqrt":
        return NoValue("complex", M("the square root of a negative number"))
    if op == "pow" and b is not None:
        if a == 0 and b < 0:
            return NoValue("infinite", M("0 to a negative power"))
        if a < 0:
            return NoValue("complex", M("a negative number to a fractional power"))
    args = ", ".join(f"{v:.6g}" for v in values)
    return NoValue("undefined", M("{op}({args}) has no finite value", op=op, args=args))


def message(problem: NoValue, expr: str) -> Msg:
    """The refusal of the constant part `expr` (as the user wrote it)."""
    if problem.kind == "large":
        return M("'{expr}' is beyond ±{limit} (numbers and constant parts of an "
                 "expression are limited to ±{limit})", expr=expr, limit=LIMIT_TEXT)
    if problem.kind == "infinite":
        return M("'{expr}' is infinite: {reason}", expr=expr, reason=problem.reason)
    if problem.kind == "complex":
        return M("'{expr}' is not a real number: {reason}", expr=expr, reason=problem.reason)
    return M("'{expr}' is undefined: {reason}", expr=expr, reason=problem.reason)


def number_message(literal: str, value: float) -> Msg:
    """The refusal of a number literal beyond ±MAX_NUMBER."""
    digits = sum(ch.isdigit() for ch in literal)
    number = shown(literal)
    if number != literal:
        number = M("{number} ({digits} digits)", number=number, digits=f"{digits:,}")
    if math.isinf(value):
        return M("the number {number} is not finite (numbers are limited to ±{limit})",
                 number=number, limit=LIMIT_TEXT)
    return M("the number {number} is beyond ±{limit}, the limit for numbers",
             number=number, limit=LIMIT_TEXT)
