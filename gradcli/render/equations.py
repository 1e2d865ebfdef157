"""Math as data: what the ledger and the derivations say, for every printer.

The view model writes equations with these few records; `plain` prints
them as the text report shows them, `latex.py` and `mathml.py` typeset them.

Notation (the same in every format): `d` is a total derivative, what the
chain rule adds up (dL/dw3, the gradient); `∂` is a node's local derivative,
one edge of the graph with every other named value held fixed
(∂yhat/∂z_out = yhat*(1 - yhat)).  So
`dL/dw3 = ∂L/∂yhat · ∂yhat/∂z_out · ∂z_out/∂w3` and the recurrence
`dL/dz_out = dL/dyhat · ∂yhat/∂z_out`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Union

from gradcli.render.numbers import TensorView


@dataclass(frozen=True)
class Name:
    """A name of the user's (yhat, w1, z_out) or of the notation (L, f, u)."""

    name: str


@dataclass(frozen=True)
class Deriv:
    """d top / d bottom (a total) or ∂top/∂bottom (`partial`: a local derivative)."""

    top: str
    bottom: str
    partial: bool = False


@dataclass(frozen=True)
class Number:
    """A number already formatted (its digits chosen by the view model)."""

    text: str


@dataclass(frozen=True)
class Tensor:
    view: TensorView


@dataclass(frozen=True)
class Expr:
    """An expression: `text` in the expression language, and the SymPy expression
    (with the user's term order) where there is one, for typesetting."""

    text: str
    sympy: Any = field(default=None, compare=False)
    order: Mapping[str, int] | None = field(default=None, compare=False)
    paren: bool = False  # a factor that needs parentheses (`text` has them already)


@dataclass(frozen=True)
class Formula:
    """gradcli's notation for tensor formulas: `(delta_2 @ W2) ⊙ (z1 > 0)`,
    `delta_1ᵀ @ x`, `Σ_batch delta_2`."""

    text: str


@dataclass(frozen=True)
class Words:
    """Words inside an equation (already translated)."""

    text: str


@dataclass(frozen=True)
class Product:
    """Factors: `a · b · c`, or numbers side by side in parentheses `(a)(b)(c)`;
    `sep` is the text report's product sign (`*` between expressions)."""

    factors: tuple
    numbers: bool = False
    sep: str = "·"


@dataclass(frozen=True)
class Sum:
    terms: tuple


@dataclass(frozen=True)
class Shaped:
    """A quantity with its tensor shape: `dL/dz1 [4×4]`."""

    math: Any
    shape: str


Math = Union[Name, Deriv, Number, Tensor, Expr, Formula, Words, Product, Sum, Shaped]


@dataclass(frozen=True)
class Equation:
    """`sides[0] = sides[1] = ...`"""

    sides: tuple

    def __init__(self, *sides: Any):
        object.__setattr__(self, "sides", tuple(s for s in sides if s is not None))


# ----------------------------------------------------------------- text ---
def plain(m: Any) -> str:
    """The text report's form of a math record (iterative over nesting would be
    overkill: records nest at most three deep, product in sum in equation)."""
    if isinstance(m, Equation):
        return " = ".join(plain(s) for s in m.sides)
    if isinstance(m, Name):
        return m.name
    if isinstance(m, Deriv):
        d = "∂" if m.partial else "d"
        return f"{d}{m.top}/{d}{m.bottom}"
    if isinstance(m, (Number, Expr, Formula, Words)):
        return m.text
    if isinstance(m, Tensor):
        return m.view.text
    if isinstance(m, Product):
        if m.numbers:
            return "".join(f"({plain(f)})" for f in m.factors)
        return f" {m.sep} ".join(plain(f) for f in m.factors)
    if isinstance(m, Sum):
        return " + ".join(plain(t) for t in m.terms)
    if isinstance(m, Shaped):
        return f"{plain(m.math)} [{m.shape}]"
    if isinstance(m, str):
        return m
    raise TypeError(f"not a math record: {type(m).__name__}")


def width(m: Any) -> int:
    """About how many symbols `m` prints (for breaking long lines in typeset math)."""
    if isinstance(m, Equation):
        return sum(width(s) + 1 for s in m.sides)
    if isinstance(m, Deriv):
        return max(len(m.top), len(m.bottom)) + 1
    if isinstance(m, Tensor):
        rows = m.view.rows
        if m.view.scalar:
            return len(m.view.text)
        if rows is not None:
            return sum(max(len(r[j]) for r in rows) + 2 for j in range(len(rows[0]))) + 2
        return len(m.view.summary) * 2 // 3
    if isinstance(m, Product):
        return sum(width(f) + (2 if m.numbers else 1) for f in m.factors)
    if isinstance(m, Sum):
        return sum(width(t) + 1 for t in m.terms)
    if isinstance(m, Shaped):
        return width(m.math) + len(m.shape)
    if isinstance(m, Words):
        return len(m.text) * 2 // 3
    return len(plain(m))


def step_plain(line: Any, rule: str = "[{}]", code: str = "{}") -> str:
    """One rule step (`model.StepLine`) in text: `[rule] d/dx expr = result    with u = ...`
    (`rule` and `code` lay out the rule name and the formulas)."""
    from gradcli.i18n import _

    head = rule.format(line.rule)
    if line.expr is None:
        return f"{head} {line.note or ''}"
    formula = f"d/d{line.var} {line.expr_text} = {plain(line.result)}"
    out = f"{head} {code.format(formula)}"
    if line.chain is not None:
        out += "    " + _("with {substitution}", substitution=code.format(plain(line.chain)))
    elif line.identity:
        out += "    " + _("by {identity}", identity=code.format(line.identity))
    if line.note:
        out += f"    ({line.note})"
    return out
