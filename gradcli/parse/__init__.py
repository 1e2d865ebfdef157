"""Text -> expression graph: gradcli's own whitelist parser.

User text is never evaluated, and never handed to Python's parser: a
tokenizer (`lexer`) reads numbers, names, the operators `+ - * / ** ^ @`,
parentheses and calls of the functions in the op table, plus the student
notation of CONTRACT.md (`2x`, `x²`, `√x`, `σ(z)`, `·`, names in any
script); an operator-precedence parser with explicit stacks (`grammar`)
builds the graph without recursion; constant parts are folded through the
op table (`fold`).  Anything else is refused with its column and a caret
(`refusals`), and every limit (`limits`) is a LimitError, exit 2.

    parse(text, graph=None, resolve=None, where=None, *, bound=()) -> Parsed
    is_identifier(name) -> None, or why `name` cannot be a name
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Collection

from gradcli.errors import ExpressionError, LimitError, escape, locate
from gradcli.graph import Graph
from gradcli.i18n import M
from gradcli.parse.grammar import Parser, Resolver
from gradcli.parse.lexer import is_identifier
from gradcli.parse.limits import MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, MAX_NUMBER
from gradcli.parse.refusals import Refused

__all__ = ["parse", "Parsed", "Resolver", "is_identifier", "normalize_name",
           "MAX_LENGTH", "MAX_DEPTH", "MAX_EXPONENT", "MAX_NUMBER"]


@dataclass
class Parsed:
    graph: Graph
    root: int
    text: str
    #: tokens read plus operators applied: the parser's work, linear in the text
    steps: int = 0


def parse(text: str, graph: Graph | None = None, resolve: Resolver | None = None,
          where=None, *, bound: Collection[str] = ()) -> Parsed:
    """Parse `text` into `graph` (a new one by default) and return its root.

    `resolve(name, col)` maps a name (NFKC form) to a node id; by default
    every name is a free variable of the graph.  `where` prefixes error
    locations (a file position, or a function of the column) instead of
    "column N".  `bound` names the values the caller defines: `NAME(` with
    such a name is a product, as it is for single letters (`x(x+1)`).
    """
    if not isinstance(text, str):
        raise ExpressionError(M("expression must be text"), where=where)
    if len(text) > MAX_LENGTH:
        raise LimitError(M("expression too long: {length} characters (the limit is {limit})",
                           length=f"{len(text):,}", limit=f"{MAX_LENGTH:,}"),
                         locate(where, None))
    graph = graph if graph is not None else Graph()
    if resolve is None:
        def resolve(name: str, col: int) -> int:
            return graph.var(name, col)
    parser = Parser(text, graph, resolve, bound)
    try:
        root = parser.run()
    except Refused as refused:
        raise _error(refused, text, where) from None
    return Parsed(graph, root, text, parser.steps)


def normalize_name(name: str) -> str:
    """The form in which the parser reads and resolves a name (NFKC)."""
    return unicodedata.normalize("NFKC", name)


def _error(refused: Refused, text: str, where) -> ExpressionError | LimitError:
    col = None if refused.offset is None else refused.offset + 1
    detail = caret_detail(text, col)
    if refused.limit:
        return LimitError(refused.what, locate(where, col), detail)
    error = ExpressionError(refused.what, text, col, where)
    error.detail = detail
    return error


_SHOWN = 200  # longer text is shown as a window around the caret
_CONTEXT = 60


def caret_detail(text: str, col: int | None) -> str | None:
    """The expression on one line (control characters escaped) and a caret
    under column `col`, aligned for wide (CJK) and combining characters."""
    if col is None or not text:
        return None
    i = min(col - 1, len(text))
    lo, hi = 0, len(text)
    if len(text) > _SHOWN:
        lo, hi = max(0, i - _CONTEXT), min(len(text), i + _CONTEXT)
    before = ("…" if lo > 0 else "") + escape(text[lo:i])
    after = escape(text[i:hi]) + ("…" if hi < len(text) else "")
    return f"  {before}{after}\n  {' ' * _width(before)}^"


def _width(s: str) -> int:
    """Terminal columns taken by `s`."""
    from gradcli.i18n.width import display_width

    return display_width(s)
