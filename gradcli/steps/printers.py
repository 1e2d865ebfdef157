"""Printers of explanations: text, markdown, LaTeX and JSON.

All of them format the records' SymPy expressions (never re-parsing printed
text); sums print in the user's order when an `order` is given
(`symbolic.term_order`).  Rule names and notes are translated; formulas
(expressions, identities) are the same in every language.
"""
from __future__ import annotations

import re
from typing import Any

from gradcli.i18n import N_, _, english, text
from gradcli.steps.records import Step, Substitution, walk
from gradcli.steps.substitution import sub_names, substitution_of
from gradcli.symbolic import TermOrder, to_latex, to_text

#: Every rule name a step can carry, for the message catalog (printers show
#: `_(rule)`); the op table's names are the same words.
RULE_NAMES = (
    N_("chain"), N_("constant"), N_("variable"), N_("skipped"), N_("sum"),
    N_("difference"), N_("product"), N_("quotient"), N_("constant multiple"),
    N_("power"), N_("general power"), N_("exponential"), N_("exp"), N_("log"),
    N_("sqrt"), N_("trig"), N_("tanh"), N_("sigmoid"), N_("relu"), N_("softplus"),
    N_("abs"), N_("step"), N_("matrix product"), N_("transpose"), N_("softmax"),
    N_("log-softmax"),
)


# ------------------------------------------------------------ text forms ---
def format_text(step: Step, order: TermOrder | None = None) -> str:
    """Indented tree, one line per step: `[rule] d/dx expr = result    by identity`."""
    return "\n".join("  " * d + _line(s, order, "[{}]", "{}") for s, d in walk(step))


def format_markdown(step: Step, order: TermOrder | None = None) -> str:
    """Nested bullet list, formulas in backticks."""
    return "\n".join("  " * d + _line(s, order, "- **{}**:", "`{}`") for s, d in walk(step))


def _line(s: Step, order: TermOrder | None, rule: str, code: str) -> str:
    """One step; `rule` and `code` are the layouts of the rule name and of formulas."""
    head = rule.format(_(s.rule))
    if s.rule == "skipped" or s.expr is None:
        return f"{head} {text(s.note)}"
    formula = f"d/d{s.var.name} {_operand(s.expr, order)} = {to_text(s.result, order)}"
    line = f"{head} {code.format(formula)}"
    if s.chain is not None:
        sub = f"{s.chain.name.name} = {to_text(s.chain.inner, order)}"
        line += "    " + _("with {substitution}", substitution=code.format(sub))
    elif s.identity:
        line += "    " + _("by {identity}", identity=code.format(s.identity))
    if s.note:
        line += f"    ({text(s.note)})"
    return line


def _operand(expr: Any, order: TermOrder | None) -> str:
    """The expression after d/dx, in parentheses unless it binds at least as
    tightly as a power: `d/dx (x**2 + 1)`, `d/dx (2*x)`, but `d/dx x**2`."""
    from sympy.printing.precedence import PRECEDENCE, precedence

    shown = to_text(expr, order)
    if precedence(expr) < PRECEDENCE["Pow"] or shown.startswith("-"):
        return f"({shown})"
    return shown


def _factor(expr: Any, order: TermOrder | None, latex: bool = False) -> str:
    """An expression as a factor of a product: a sum or a leading minus in parentheses."""
    from sympy.printing.precedence import PRECEDENCE, precedence

    shown = to_latex(expr, order) if latex else to_text(expr, order)
    if precedence(expr) < PRECEDENCE["Mul"] or shown.startswith("-"):
        return rf"\left({shown}\right)" if latex else f"({shown})"
    return shown


# ------------------------------------------------------------------ LaTeX ---
def format_latex(step: Step, order: TermOrder | None = None) -> str:
    """`align*` rows (outermost step first, rule names as \\text{} tags), joined by \\\\."""
    rows = []
    for s, _depth in walk(step):
        if s.rule == "skipped" or s.expr is None:
            rows.append(rf"&\text{{{latex_escape(text(s.note) or _('skipped'))}}}")
            continue
        d = rf"\frac{{d}}{{d{to_latex(s.var)}}}"
        tag = rf"\text{{{latex_escape(_(s.rule))}}}"
        if s.chain is not None:
            tag += rf",\ {to_latex(s.chain.name)} = {to_latex(s.chain.inner, order)}"
        rows.append(rf"{d}\left({to_latex(s.expr, order)}\right) &= "
                    rf"{to_latex(s.result, order)} && {tag}")
    return " \\\\\n".join(rows)


def latex_escape(value: str) -> str:
    return re.sub(r"([\\{}_%$#&^~])", r"\\\1", value)


# ------------------------------------------------------------------- JSON ---
def to_json(step: Step, order: TermOrder | None = None) -> dict[str, Any]:
    """The tree as JSON-ready dicts of strings (English notes), built iteratively."""
    def shown(expr: Any) -> str:
        return "" if expr is None else to_text(expr, order)

    top: list[dict[str, Any]] = []
    stack: list[tuple[Step, list]] = [(step, top)]
    while stack:
        s, into = stack.pop()
        c = s.chain
        item = {"rule": s.rule, "var": s.var.name, "expr": shown(s.expr),
                "result": shown(s.result), "identity": s.identity, "substeps": [],
                "inner_name": c.name.name if c else None,
                "inner": shown(c.inner) if c else None,
                "outer": shown(c.outer) if c else None,
                "d_outer": shown(c.d_outer) if c else None,
                "d_inner": shown(c.d_inner) if c else None,
                "factor": shown(s.factor) if s.factor is not None else None,
                "note": english(s.note)}
        into.append(item)
        stack.extend((child, item["substeps"]) for child in reversed(s.substeps))
    return top[0]


# ----------------------------------------------------- u-substitution ---
def substitution_view(source: Step | Substitution | None,
                      order: TermOrder | None = None) -> list[str] | None:
    """`u = ...`, `du/dx = ...`, `dy/du = ...`, `dy/dx = dy/du * du/dx = result`."""
    sub = source if isinstance(source, Substitution) or source is None \
        else substitution_of(source)
    if sub is None:
        return None
    u, du_dx, dy_du, dy_dx = sub_names(sub)
    c = sub.chain
    last = (f"{dy_dx} = {_factor(c.d_outer, order)} * {_factor(c.d_inner, order)} = "
            f"{to_text(sub.result, order)}")
    if sub.factored is not None:
        last += f" = {to_text(sub.factored, order)}"
    return [f"{u} = {to_text(c.inner, order)}", f"{du_dx} = {to_text(c.d_inner, order)}",
            f"{dy_du} = {to_text(c.d_outer, order)}", last]


def substitution_latex(sub: Substitution, order: TermOrder | None = None) -> list[str]:
    """The same four lines as `align*` rows."""
    u, x, y = sub.chain.name, sub.wrt, sub.y
    c = sub.chain
    frac = r"\frac{{d{}}}{{d{}}}".format
    last = (rf"{frac(y, to_latex(x))} &= {_factor(c.d_outer, order, True)} \cdot "
            rf"{_factor(c.d_inner, order, True)} = {to_latex(sub.result, order)}")
    if sub.factored is not None:
        last += f" = {to_latex(sub.factored, order)}"
    return [rf"{to_latex(u)} &= {to_latex(c.inner, order)}",
            rf"{frac(to_latex(u), to_latex(x))} &= {to_latex(c.d_inner, order)}",
            rf"{frac(y, to_latex(u))} &= {to_latex(c.d_outer, order)}", last]


def substitution_values(sub: Substitution) -> str | None:
    """`u = 5, du/dx = 4, dy/du = 75, dy/dx = 300` at the point, or None."""
    if not sub.values:
        return None
    return ", ".join(f"{k} = {'—' if v is None else f'{v:.10g}'}"
                     for k, v in sub.values.items())


def substitution_json(sub: Substitution | None, order: TermOrder | None = None
                      ) -> dict[str, Any] | None:
    """The view's parts as strings, and its values (null where not real)."""
    if sub is None:
        return None
    u, du_dx, dy_du, dy_dx = sub_names(sub)
    c = sub.chain
    return {"name": u, "function": sub.y, "inner": to_text(c.inner, order),
            "outer": to_text(c.outer, order), du_dx: to_text(c.d_inner, order),
            dy_du: to_text(c.d_outer, order), dy_dx: to_text(sub.result, order),
            "factored": None if sub.factored is None else to_text(sub.factored, order),
            "values": sub.values}
