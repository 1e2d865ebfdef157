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


def latex_lines(expr: Any, printer: Any, too_wide: Any, _depth: int = 0) -> list[str]:
    """`expr` in LaTeX (by `printer`) on as many lines as it needs, where
    `too_wide(*parts)` says whether LaTeX parts side by side are too wide: a sum is
    broken between its terms, a product between its factors, and a long term or
    factor in turn (a sum factor in \\Bigl( \\Bigr), which may span lines; \\left(
    may not).  Used by derive's steps and by the LaTeX reports, with their own
    printers and widths."""
    from sympy.printing.precedence import PRECEDENCE

    whole = printer.doprint(expr)
    if not isinstance(expr, (sp.Add, sp.Mul)) or not too_wide(whole) or _depth > 8:
        return [whole]
    pieces: list[tuple[str, str]] = []  # (text, its prefix when it starts a line)
    if isinstance(expr, sp.Add):
        for k, term in enumerate(printer._as_ordered_terms(expr)):
            sub = latex_lines(term, printer, too_wide, _depth + 1)
            if k:
                sub[0] = f"- {sub[0][1:]}" if sub[0].startswith("-") else f"+ {sub[0]}"
            pieces += [(line, "") for line in sub]
    else:
        coeff, rest = expr.as_coeff_Mul()
        lead = "-" if coeff == -1 else "" if coeff == 1 else printer._print(coeff) + " "
        for f in rest.as_ordered_factors():
            shown = printer.parenthesize(f, PRECEDENCE["Mul"])
            if isinstance(f, sp.Add) and too_wide(shown):
                sub = latex_lines(f, printer, too_wide, _depth + 1)
                sub = [r"\Bigl(" + sub[0], *sub[1:-1], sub[-1] + r"\Bigr)"] \
                    if len(sub) > 1 else [shown]
                pieces += [(sub[0], r"\cdot ")] + [(line, "") for line in sub[1:]]
            else:
                pieces.append((shown, r"\cdot "))
        pieces[0] = (lead + pieces[0][0], "")
    lines, current = [], ""
    for piece, prefix in pieces:
        if current and too_wide(current, piece):
            lines.append(current)
            current = prefix + piece
        else:
            current = f"{current} {piece}".strip()
    return lines + [current]
