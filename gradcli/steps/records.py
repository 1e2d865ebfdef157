"""Typed records of a derivative explanation.

The builder fills them with SymPy expressions; the printers (`printers.py`)
turn them into text, markdown, LaTeX or JSON.  Nothing here is printed text
except the identities, which are formulas, and the notes, which are
messages (`i18n.M`), so that every printer formats from the same data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcli.i18n import Msg

Expr = Any  # a SymPy expression (SymPy is imported lazily by the builder)


@dataclass
class Chain:
    """The u-substitution of a chain step: y = outer(u) with u = inner."""

    name: Expr  # the substitution symbol u (v, w, u1, ...)
    inner: Expr  # u = inner, in terms of the variable
    outer: Expr  # the outer function, in terms of u
    d_outer: Expr  # dy/du, in terms of u
    d_inner: Expr  # du/dx


@dataclass
class Step:
    """One rule applied: d/d`var` `expr` = `result`, by `identity`.

    `rule` is the rule's key ("chain", "constant", "variable", "skipped" or an
    `Op.rule` such as "power"); printers translate it.  Chain steps have the
    outer step (differentiated with respect to `chain.name`) and the inner
    step as `substeps`; constant multiples keep their constant in `factor`.
    """

    rule: str
    var: Expr  # the symbol differentiated with respect to
    expr: Expr | None = None  # the expression differentiated (None: skipped)
    result: Expr | None = None  # its derivative
    identity: str | None = None  # the textbook identity, letters fresh for this expression
    substeps: list[Step] = field(default_factory=list)
    chain: Chain | None = None
    factor: Expr | None = None  # constant multiple: c in d(c*u) = c*du
    note: Msg | None = None  # why skipped, why constant, where a rule has an exception


@dataclass
class Substitution:
    """The u-substitution view of the outermost chain (constant multiples folded in):
    `u = x**2 + 1, du/dx = 2*x, dy/du = 3*u**2, dy/dx = 3*u**2 * 2*x = ...`."""

    wrt: Expr  # x
    y: str  # the name of the outer function: y, or f, F, g when y is taken
    chain: Chain
    result: Expr  # dy/dx
    factored: Expr | None = None  # dy/dx as a product, when that is about as short
    values: dict[str, float | None] | None = None  # u, du/dx, dy/du, dy/dx at the point


@dataclass
class Explanation:
    """What `derive` keeps per variable: the rule tree and the u-substitution."""

    wrt: str
    tree: Step | None  # None with --no-steps
    substitution: Substitution | None  # None with --no-substitution or without a chain
    #: variable name -> reading position, so sums print as the user wrote them
    order: dict[str, int] = field(default_factory=dict, repr=False)


def walk(step: Step) -> list[tuple[Step, int]]:
    """Pre-order (step, depth) pairs, iteratively: deep chains cannot overflow."""
    out, stack = [], [(step, 0)]
    while stack:
        s, depth = stack.pop()
        out.append((s, depth))
        stack.extend((c, depth + 1) for c in reversed(s.substeps))
    return out
