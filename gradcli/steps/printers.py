"""Printers of explanations: text, markdown, LaTeX and JSON.

All of them format the records' SymPy expressions (never re-parsing printed
text); sums print in the user's order when an `order` is given
(`symbolic.term_order`).  Rule names and notes are translated; formulas
(expressions, identities) are the same in every language.
"""
from __future__ import annotations

import re
from typing import Any

from gradcli.i18n import NP_, _, english, pgettext, text
from gradcli.steps.records import Step, Substitution, walk
from gradcli.steps.substitution import sub_names, substitution_of
from gradcli.symbolic import TermOrder, to_latex, to_text

#: Every rule name a step can carry, for the message catalog (printers show
#: `rule_word(rule)`); the op table's names are the same words.
RULE_NAMES = (
    NP_("rule", "chain"), NP_("rule", "constant"), NP_("rule", "variable"),
    NP_("rule", "skipped"), NP_("rule", "sum"), NP_("rule", "difference"),
    NP_("rule", "product"), NP_("rule", "quotient"), NP_("rule", "constant multiple"),
    NP_("rule", "power"), NP_("rule", "general power"), NP_("rule", "exponential"),
    NP_("rule", "exp"), NP_("rule", "log"), NP_("rule", "sqrt"), NP_("rule", "trig"),
    NP_("rule", "tanh"), NP_("rule", "sigmoid"), NP_("rule", "relu"), NP_("rule", "softplus"),
    NP_("rule", "abs"), NP_("rule", "step"), NP_("rule", "matrix product"),
    NP_("rule", "transpose"), NP_("rule", "softmax"), NP_("rule", "log-softmax"),
)


def rule_word(rule: str) -> str:
    """A rule's name in the current language (in the context "rule": "step" here
    is the derivative of a step function, not a training step)."""
    return pgettext("rule", rule)


# ------------------------------------------------------------ text forms ---
def format_text(step: Step, order: TermOrder | None = None) -> str:
    """Indented tree, one line per step: `[rule] d/dx expr = result    by identity`."""
    return "\n".join("  " * d + _line(s, order, "[{}]", "{}") for s, d in walk(step))


def format_markdown(step: Step, order: TermOrder | None = None) -> str:
    """Nested bullet list, formulas in backticks."""
    return "\n".join("  " * d + _line(s, order, "- **{}**:", "`{}`") for s, d in walk(step))


def _line(s: Step, order: TermOrder | None, rule: str, code: str) -> str:
    """One step; `rule` and `code` are the layouts of the rule name and of formulas."""
    head = rule.format(rule_word(s.rule))
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
    """`align*` rows, one source line per step (outermost first), joined by \\\\.

    Steps that fit side by side are `d/dx(expr) &= result && \\text{rule}`; when
    one of them would run off the page, every step is written as a block down
    the left margin (rule, then the expression, then `= result`), long sums
    broken between their terms, so that nothing is wider than the page.
    """
    rows = []
    for s, _depth in walk(step):
        if s.rule == "skipped" or s.expr is None:
            rows.append((None, rf"\text{{{latex_escape(text(s.note) or _('skipped'))}}}", ""))
            continue
        tag = rf"\text{{{latex_escape(rule_word(s.rule))}}}"
        if s.chain is not None:
            tag += rf",\ {to_latex(s.chain.name)} = {to_latex(s.chain.inner, order)}"
        rows.append((s, tag, rf"\frac{{d}}{{d{to_latex(s.var)}}}"))
    blocks = any(s is not None and _too_wide(d, to_latex(s.expr, order), "=",
                                                to_latex(s.result, order), tag)
                 for s, tag, d in rows)
    out = []
    for s, tag, d in rows:
        if s is None:
            out.append(f"&{tag}")
        elif blocks:
            out.append(_latex_block(s, tag, d, order))
        else:
            out.append(rf"{d}\left({to_latex(s.expr, order)}\right) &= "
                       rf"{to_latex(s.result, order)} && {tag}")
    return " \\\\\n".join(out)


def _latex_block(s: Step, tag: str, d: str, order: TermOrder | None) -> str:
    """One step down the left margin: `&rule: \\ &\\quad d/dx(...) \\ &\\qquad = ...`."""
    expr = latex_lines(s.expr, order)
    if len(expr) == 1:
        lhs = [rf"{d}\left({expr[0]}\right)"]
    else:  # \left( cannot span lines; \Bigl( and \Bigr) can
        lhs = [rf"{d}\Bigl({expr[0]}"] + expr[1:-1] + [rf"{expr[-1]}\Bigr)"]
    result = latex_lines(s.result, order)
    lines = [f"&{tag}:"] + [rf"&\quad {line}" for line in lhs]
    lines += [rf"&\qquad = {result[0]}"] + [rf"&\qquad\quad {line}" for line in result[1:]]
    return " \\\\ ".join(lines)


def latex_lines(expr: Any, order: TermOrder | None = None) -> list[str]:
    """`expr` in LaTeX on as many lines as the page needs (`symbolic.latex_lines`)."""
    from gradcli.symbolic import LatexExpressionPrinter
    from gradcli.symbolic.printing import latex_lines as broken

    return broken(expr, LatexExpressionPrinter(order), _too_wide)


def latex_equation(lhs: str, exprs: list[Any], order: TermOrder | None = None,
                   first: str | None = None) -> list[str]:
    """`align*` rows of `lhs = first = e1 = e2 ...` (`first` is LaTeX already, the
    others expressions): one row when it fits, else one per row, long sums broken
    between their terms."""
    shown = ([first] if first else []) + [to_latex(e, order) for e in exprs if e is not None]
    if not _too_wide(lhs, *shown):
        return [f"{lhs} &= " + " = ".join(shown)]
    rows = [f"{lhs} &= {first}"] if first else []
    for e in (e for e in exprs if e is not None):
        lines = latex_lines(e, order)
        rows.append(("" if rows else lhs) + f" &= {lines[0]}")
        rows += [rf"&\quad {line}" for line in lines[1:]]
    return rows


def latex_escape(value: str) -> str:
    return re.sub(r"([\\{}_%$#&^~])", r"\\\1", value)


#: LaTeX commands printed as words (sin, log); other commands print one symbol.
_WORDS = frozenset({"sin", "cos", "tan", "tanh", "log", "exp", "ln"})
#: About this many symbols fit on one line of an article's text width.
LINE_SYMBOLS = 44


def _too_wide(*parts: str) -> bool:
    """Would these LaTeX parts, side by side, run off the page?  Counts the symbols
    that print (`\\left(` is one, `\\sigma` is one, braces none)."""
    shown = 0
    for part in parts:
        bare = re.sub(r"\\(left|right|[Bb]igl|[Bb]igr)\b", "", part)
        bare = re.sub(r"\\(frac|text|operatorname|hat|quad|qquad)\b", "", bare)
        bare = re.sub(r"\\([A-Za-z]+)", lambda m: m.group(1) if m.group(1) in _WORDS else "x",
                      bare)
        shown += len(re.sub(r"[{}\s\\,&]", "", bare))
    return shown > LINE_SYMBOLS


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
    """The same four lines as `align*` rows (the last over several when long)."""
    u, x, y = sub.chain.name, sub.wrt, sub.y
    c = sub.chain
    frac = r"\frac{{d{}}}{{d{}}}".format
    product = rf"{_factor(c.d_outer, order, True)} \cdot {_factor(c.d_inner, order, True)}"
    return [rf"{to_latex(u)} &= {to_latex(c.inner, order)}",
            rf"{frac(to_latex(u), to_latex(x))} &= {to_latex(c.d_inner, order)}",
            rf"{frac(y, to_latex(u))} &= {to_latex(c.d_outer, order)}",
            *latex_equation(frac(y, to_latex(x)), [sub.result, sub.factored], order, product)]


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
