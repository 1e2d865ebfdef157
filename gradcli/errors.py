"""Errors that map to exit codes: every refusal of input is a GradcliError (exit 2)."""
from __future__ import annotations


class GradcliError(Exception):
    """Input that cannot be used: printed as `error: <where>: <what>`, exit 2.

    `detail` holds extra lines (e.g. the expression and a caret line) printed
    after the one-line message.
    """

    exit_code = 2

    def __init__(self, what: str, where: str | None = None, detail: str | None = None):
        super().__init__(what)
        self.what = what
        self.where = where
        self.detail = detail

    def line(self) -> str:
        if self.where:
            return f"error: {self.where}: {self.what}"
        return f"error: {self.what}"


class ExpressionError(GradcliError):
    """A problem in an expression, located by column (1-based)."""

    def __init__(self, what: str, text: str = "", col: int | None = None, where=None):
        self.text = text
        self.col = col
        loc = locate(where, col)
        detail = None
        if text and col is not None and len(text) <= 200 and "\n" not in text:
            detail = f"  {text}\n  {' ' * (col - 1)}^"
        super().__init__(what, loc, detail)


def locate(where, col: int | None) -> str:
    """Where column `col` of an expression is: `where` may be a prefix such as a
    file position, or a function of the column giving the full location."""
    if callable(where):
        return where(col or 1)
    if col is None:
        return where or "expression"
    return f"{where}:{col}" if where else f"column {col}"


class NonFiniteError(GradcliError):
    """NaN or infinity given as input or produced while evaluating."""


class LimitError(GradcliError):
    """A size, depth, exponent or time limit was exceeded."""
