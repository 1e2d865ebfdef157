"""SymPy -> the expression language and LaTeX, sums in the order the user wrote."""
from __future__ import annotations

from typing import Any, Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from gradcli.graph import VAR, Graph

TermOrder = Mapping[str, int]


def term_order(graph: Graph, root: int) -> dict[str, int]:
    """Each variable's rank in reading order, left to right (pre-order, iterative)."""
    order: dict[str, int] = {}
    stack, seen = [root], set()
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        node = graph.nodes[i]
        if node.op == VAR:
            order.setdefault(node.name, len(order))
        stack.extend(reversed(node.args))
    return order


class _WrittenOrder:
    """Sums in the order the user wrote them (`yhat - y`, not SymPy's `-y + yhat`).

    A term's rank is the earliest rank of its variables; terms are stably
    sorted by it, so ties keep SymPy's order (`x**2 + x`), and terms without
    variables (numbers, pi) keep their place (`1 - sigmoid(z)`, `x**2 + 1`).
    """

    _rank: dict[str, int] = {}

    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order=order)
        if not self._rank or not isinstance(expr, sp.Add):
            return terms
        unranked = len(self._rank)  # substitution names and the like: after the user's
        keys = [min((self._rank.get(s.name, unranked) for s in t.free_symbols), default=None)
                for t in terms]
        slots = [k for k, key in enumerate(keys) if key is not None]
        moved = sorted(slots, key=lambda k: keys[k])
        out = list(terms)
        for slot, k in zip(slots, moved):
            out[slot] = terms[k]
        return out


class ExpressionPrinter(_WrittenOrder, StrPrinter):
    """SymPy -> the expression language (read back by gradcli and by SymPy)."""

    def __init__(self, order: TermOrder | None = None):
        super().__init__({"full_prec": False})
        self._rank = dict(order or {})

    def _print_Exp1(self, expr):
        return "e"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr):  # Heaviside(x, 0) reads back as Heaviside(x)
        return f"Heaviside({self._print(expr.args[0])})"


class LatexExpressionPrinter(_WrittenOrder, LatexPrinter):
    """SymPy -> LaTeX, sums as written, sigma for sigmoid, H for the step function."""

    def __init__(self, order: TermOrder | None = None):
        super().__init__()
        self._rank = dict(order or {})

    def _named(self, name: str, expr, exp=None) -> str:
        head = name if exp is None else f"{name}^{{{exp}}}"
        return rf"{head}\left({self._print(expr.args[0])}\right)"

    def _print_sigmoid(self, expr, exp=None):
        return self._named(r"\sigma", expr, exp)

    def _print_relu(self, expr, exp=None):
        return self._named(r"\operatorname{relu}", expr, exp)

    def _print_softplus(self, expr, exp=None):
        return self._named(r"\operatorname{softplus}", expr, exp)

    def _print_Heaviside(self, expr, exp=None):
        return self._named("H", expr, exp)


_PRINTER = ExpressionPrinter()


def to_text(expr: Any, order: TermOrder | None = None) -> str:
    """`expr` in the expression language; sums in the user's order when `order` is given."""
    return (ExpressionPrinter(order) if order else _PRINTER).doprint(expr)


def to_latex(expr: Any, order: TermOrder | None = None) -> str:
    return LatexExpressionPrinter(order).doprint(expr)
