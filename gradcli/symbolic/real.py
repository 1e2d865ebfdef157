"""Real-valued results: what may never be printed (I, zoo, nan, DiracDelta), the
part of an expression to name when it appears, and the tidy and factored
forms shown to students."""
from __future__ import annotations

from typing import Any

import sympy as sp

from gradcli.graph import CONST, VAR, Graph
from gradcli.ops import OPS
from gradcli.symbolic.core import (NAMESPACE, _foreign_functions, symbol, time_limit,
                                   to_sympy)
from gradcli.symbolic.printing import to_text


def non_real(expr: Any) -> bool:
    """Does `expr` contain the imaginary unit, an infinity, NaN or a constant power that
    is not real (`(-1)**(1/3)`, SymPy's principal root)?  None of them may be printed."""
    expr = sp.S.Zero + expr
    if expr.has(sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo):
        return True
    return any(p.is_extended_real is False for p in expr.atoms(sp.Pow) if not p.free_symbols)


def first_non_real(graph: Graph, root: int, wrt: str | None = None
                   ) -> tuple[str, int | None] | None:
    """The first node (construction order: innermost first) whose value -- or, with
    `wrt`, whose derivative with respect to that variable -- is not a finite real
    number, as (its text, its column); None if there is none.  For error messages."""
    exprs: dict[int, Any] = {}
    x = symbol(wrt) if wrt else None
    for i in graph.ancestors(root):
        node = graph.nodes[i]
        if node.op in (CONST, VAR):
            exprs[i] = to_sympy(graph, i)
            continue
        args = [exprs[a] for a in node.args]
        exprs[i] = OPS[node.op].sympy(NAMESPACE, *args)
        if x is None:
            suspect = exprs[i]
        elif exprs[i].has(x):
            suspect = drop_deltas(sp.diff(exprs[i], x))[0]
        else:
            continue
        if non_real(suspect):
            return node_text(node.op, args), node.col
    return None


def node_text(op_name: str, args: list) -> str:
    """One operation applied to SymPy arguments, as written: `log(0)`, `(-1)**x`."""
    op = OPS[op_name]

    def operand(a: Any) -> str:
        shown = to_text(a)
        fraction = a.is_Rational and not a.is_Integer  # 1/3 prints as a division
        simple = (a.is_Atom and not fraction or a.is_Function) and not shown.startswith("-")
        return shown if simple else f"({shown})"

    if op.symbol is None:
        return f"{op.name}({', '.join(to_text(a) for a in args)})"
    if op.arity == 1:
        return f"{op.symbol}{operand(args[0])}"
    spaced = f" {op.symbol} " if op.symbol in "+-" else op.symbol
    return spaced.join(operand(a) for a in args)


def drop_deltas(expr: Any) -> tuple[Any, list]:
    """`expr` with DiracDelta terms replaced by 0, and the deltas' arguments.

    Step functions (Heaviside, sign) have derivative 0 wherever it exists; at
    their jump it does not exist, which a note says instead of `DiracDelta`.
    """
    expr = sp.S.Zero + expr
    if not expr.has(sp.DiracDelta):
        return expr, []
    args = sorted({d.args[0] for d in expr.atoms(sp.DiracDelta)}, key=sp.default_sort_key)
    zeroed = expr.replace(lambda t: isinstance(t, sp.DiracDelta), lambda t: sp.S.Zero)
    return zeroed, args


def tidy(expr: Any) -> Any:
    """A product with the numbers of its sums pulled out, so that they cancel:
    `(2*s - 2*y)*x/2` -> `(s - y)*x`.  Sums on their own stay expanded."""
    if not isinstance(expr, sp.Mul) or not any(isinstance(a, sp.Add) for a in expr.args):
        return expr
    return sp.Mul(*(sp.factor_terms(a) if isinstance(a, sp.Add) else a for a in expr.args))


#: A factored form is shown beside a sum when it is at most this many
#: characters longer: the parentheses and the factor it pulls out
#: (`18*x + 6 = 6*(3*x + 1)`), never a longer rearrangement.
FACTORED_SLACK = 4
#: Beside a sum longer than this the factored form is not shown: it would not help.
FACTORED_MAX = 80


def factored_form(expr: Any, seconds: float) -> sp.Expr | None:
    """A product equal to the sum `expr` and about as short, or None."""
    if not isinstance(expr, sp.Add) or seconds <= 0 or len(to_text(expr)) > FACTORED_MAX:
        return None
    try:
        with time_limit(seconds):
            candidates = [sp.factor_terms(expr)]
            if expr.is_polynomial(*expr.free_symbols):
                candidates.append(sp.factor(expr))
            limit = len(to_text(expr)) + FACTORED_SLACK
            fitting = [(len(to_text(c)), k, c) for k, c in enumerate(candidates)
                       if isinstance(c, sp.Mul) and c != expr
                       and not _foreign_functions(c) - _foreign_functions(expr)]
    except Exception:  # SymbolicTimeout or SymPy internals: no factored form
        return None
    fitting = [f for f in fitting if f[0] <= limit]
    return min(fitting, key=lambda f: f[:2])[2] if fitting else None
