"""The u-substitution view of an explanation, as the notes write it:

    u = x**2 + 1
    du/dx = 2*x
    dy/du = 3*u**2
    dy/dx = 3*u**2 * 2*x = 6*x*(x**2 + 1)**2

taken from the outermost chain step, with constant multiples in front of it
folded into the outer function (`0.5*(sigmoid(w*x + b) - y)**2` has
`f = u**2/2`, so `df/du = u`).
"""
from __future__ import annotations

from typing import Any

from gradcli.steps import letters as L
from gradcli.steps.records import Chain, Step, Substitution, walk


def substitution_of(step: Step) -> Substitution | None:
    """The u-substitution of the root chain (through constant multiples), or None."""
    factor: Any = 1
    s = step
    while s.rule == "constant multiple" and s.factor is not None and len(s.substeps) == 1:
        factor = factor * s.factor
        s = s.substeps[0]
    if s.rule != "chain" or s.chain is None or step.expr is None:
        return None
    c = s.chain
    chain = c if factor == 1 else Chain(c.name, c.inner, factor * c.outer,
                                        factor * c.d_outer, c.d_inner)
    taken = {sym.name for sym in step.expr.free_symbols} | {step.var.name}
    taken |= {t.chain.name.name for t, _ in walk(step) if t.chain is not None}
    return Substitution(step.var, L.fresh(L.FUNCTION_NAMES, taken), chain, step.result)


def complete(sub: Substitution, at: dict[str, float] | None, seconds: float) -> None:
    """Add the factored dy/dx and, at a point binding every variable, the values of
    u, du/dx, dy/du and dy/dx (None where not real).  SymPy work within `seconds`."""
    from gradcli import symbolic

    if seconds <= 0:
        return
    sub.factored = symbolic.factored_form(sub.result, seconds / 2)
    names = sub_names(sub)
    free = set().union(*(e.free_symbols for e in (sub.chain.inner, sub.result)))
    if at is None or any(s.name not in at for s in free):
        return
    point = {symbolic.symbol(k): v for k, v in at.items()}
    c = sub.chain
    values: dict[str, float | None] = {}
    try:
        with symbolic.time_limit(seconds / 2):
            for key, expr in zip(names, (c.inner, c.d_inner,
                                         c.d_outer.xreplace({c.name: c.inner}), sub.result)):
                values[key] = symbolic.evaluate(expr, point)
    except symbolic.SymbolicTimeout:
        return
    sub.values = values


def sub_names(sub: Substitution) -> tuple[str, str, str, str]:
    """The four names of the view: u, du/dx, dy/du, dy/dx."""
    u, x, y = sub.chain.name.name, sub.wrt.name, sub.y
    return u, f"d{u}/d{x}", f"d{y}/d{u}", f"d{y}/d{x}"
