"""Graph -> SymPy: derivatives, bounded simplification, evaluation, printing.

- `core`: time limits, gradcli's SymPy functions (sigmoid, relu, softplus,
  Heaviside with H(0) = 0), the op namespace, `to_sympy`, `differentiate`,
  `simplify_bounded`, `evaluate`;
- `printing`: the expression language and LaTeX, sums in the user's order;
- `real`: refusing what is not a finite real number, tidy and factored forms.
"""
from __future__ import annotations

from gradcli.symbolic.core import (NAMESPACE, SIMPLIFY_MIN_OPS, SYMPY_RECURSION_LIMIT,
                                   SymbolicTimeout, SymbolicTooDeep, differentiate,
                                   evaluate, exact_float, heaviside, number, relu, sigmoid,
                                   simplify_bounded, softplus, symbol, time_limit, to_sympy)
from gradcli.symbolic.printing import (ExpressionPrinter, LatexExpressionPrinter, TermOrder,
                                       term_order, to_latex, to_text)
from gradcli.symbolic.real import (FACTORED_MAX, FACTORED_SLACK, drop_deltas, factored_form,
                                   first_non_real, node_text, non_real, tidy)

__all__ = [
    "FACTORED_MAX", "FACTORED_SLACK", "NAMESPACE", "SIMPLIFY_MIN_OPS",
    "SYMPY_RECURSION_LIMIT", "ExpressionPrinter", "LatexExpressionPrinter",
    "SymbolicTimeout", "SymbolicTooDeep", "TermOrder", "differentiate", "drop_deltas",
    "evaluate", "exact_float", "factored_form", "first_non_real", "heaviside", "node_text", "non_real",
    "number", "relu", "sigmoid", "simplify_bounded", "softplus", "symbol", "term_order",
    "tidy", "time_limit", "to_latex", "to_sympy", "to_text",
]
