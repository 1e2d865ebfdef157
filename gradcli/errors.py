"""Errors that map to exit codes: every refusal of input is a GradcliError (exit 2).

`what` is a message (`i18n.M(...)`, or plain text); `line()` prints it in the
current language after the unchanged `error: <where>: ` prefix, and
`english_line()` is the same line in English, for JSON.  Both are one line:
control characters and line breaks in user-supplied text are escaped
(`\\n`, `\\x1b`), so a file name or YAML key cannot forge a second line.
"""
from __future__ import annotations

from typing import Any

from gradcli.i18n import Msg, text


def escape(value: Any) -> str:
    """`value` as one printable line: control characters escaped, the rest kept."""
    s = str(value)
    if s.isprintable():
        return s
    out = []
    for ch in s:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


class GradcliError(Exception):
    """Input that cannot be used: printed as `error: <where>: <what>`, exit 2.

    `detail` holds extra lines (e.g. the expression and a caret line) printed
    after the one-line message.
    """

    exit_code = 2

    def __init__(self, what: str | Msg, where: str | None = None, detail: str | None = None):
        super().__init__(str(what))
        self.what = what
        self.where = where
        self.detail = detail

    def _line(self, what: str) -> str:
        what = escape(what)
        if self.where:
            return f"error: {escape(self.where)}: {what}"
        return f"error: {what}"

    def line(self) -> str:
        """The error line in the current language."""
        return self._line(text(self.what))

    def english_line(self) -> str:
        """The error line in English (JSON is the same in every language)."""
        return self._line(str(self.what))


class ExpressionError(GradcliError):
    """A problem in an expression, located by column (1-based)."""

    def __init__(self, what: str | Msg, text: str = "", col: int | None = None, where=None):
        self.text = text
        self.col = col
        loc = locate(where, col)
        detail = None
        if text and col is not None and len(text) <= 200:
            shown = escape(text)
            # the caret goes under the same character of the escaped text, counted
            # in terminal columns (a Korean letter takes two)
            from gradcli.i18n.width import display_width

            caret = display_width(escape(text[:col - 1]))
            detail = f"  {shown}\n  {' ' * caret}^"
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
