"""A DeriveReport as a Section of the view model: what `gradcli derive` shows.

Per variable: the derivative (and its factored form), a note where it is
undefined at the point, the u-substitution with its values, and the rule
steps as a tree; then the values three ways with each row's kink note, the
report's notes, the expression's graph where the format draws one, and the
verdict.
"""
from __future__ import annotations

from typing import Any

from gradcli.i18n import _, text
from gradcli.steps.printers import rule_word
from gradcli.render.equations import Deriv, Equation, Expr, Name, Product, Words
from gradcli.render.model import (ERROR, OK, WARN, Cell, Column, EquationGroup, Equations,
                                  Line, Note, Row, Section, StepLine, Steps, Table, figure)
from gradcli.render.numbers import err, num


def point_text(report) -> str:
    return ", ".join(f"{k} = {num(v)}" for k, v in report.at.items())


def _expr(sympy_expr: Any, order: Any, shown: str | None = None) -> Expr:
    from gradcli.symbolic import to_text

    return Expr(shown if shown is not None else to_text(sympy_expr, order), sympy_expr, order)


def _factor(e: Any, order: Any) -> Expr:
    """A factor of a product: a sum or a leading minus in parentheses."""
    from sympy.printing.precedence import PRECEDENCE, precedence

    from gradcli.symbolic import to_text

    shown = to_text(e, order)
    paren = precedence(e) < PRECEDENCE["Mul"] or shown.startswith("-")
    return Expr(f"({shown})" if paren else shown, e, order, paren)


def _operand(e: Any, order: Any) -> Expr:
    """The expression after d/dx, in parentheses unless it binds like a power:
    `d/dx (x**2 + 1)`, `d/dx (2*x)`, but `d/dx x**2`."""
    from sympy.printing.precedence import PRECEDENCE, precedence

    from gradcli.symbolic import to_text

    shown = to_text(e, order)
    paren = precedence(e) < PRECEDENCE["Pow"] or shown.startswith("-")
    return Expr(f"({shown})" if paren else shown, e, order, paren)


# ------------------------------------------------------------- derivative ---
def derivative_line(r, order: Any) -> Line:
    """`∂f/∂x = 18*x + 6 = 6*(3*x + 1)`: the derivative, and its factored form."""
    lhs = Deriv("f", r.wrt, partial=True)
    if r.derivative is None:
        words = _("(symbolic skipped: time budget)")
        return Line(f"∂f/∂{r.wrt} = {words}", strong=True, math=Equation(lhs, Words(words)),
                    kind="derivative")
    sides = [lhs, _expr(r.expr, order, r.derivative) if r.expr is not None
             else Expr(r.derivative)]
    if r.factored:
        sides.append(_expr(r.factored_expr, order, r.factored) if r.factored_expr is not None
                     else Expr(r.factored))
    equation = Equation(*sides)
    from gradcli.render.equations import plain

    return Line(plain(equation), strong=True, math=equation, kind="derivative")


def substitution_block(explanation, point: str) -> Equations | None:
    """u = x**2 + 1, du/dx = 2*x, dy/du = 3*u**2, dy/dx = 3*u**2 * 2*x = ... and the
    values at the point."""
    from gradcli import steps as explaining

    sub, order = explanation.substitution, explanation.order
    if sub is None:
        return None
    c = sub.chain
    u, x, y = c.name.name, sub.wrt.name, sub.y
    last = [Deriv(y, x), Product((_factor(c.d_outer, order), _factor(c.d_inner, order)),
                                 sep="*"), _expr(sub.result, order)]
    if sub.factored is not None:
        last.append(_expr(sub.factored, order))
    equations = [Equation(Name(u), _expr(c.inner, order)),
                 Equation(Deriv(u, x), _expr(c.d_inner, order)),
                 Equation(Deriv(y, u), _expr(c.d_outer, order)), Equation(*last)]
    notes = []
    values = explaining.substitution_values(sub)
    if values:
        notes.append(Note(_("at {point}: {values}", point=point, values=values), "plain"))
    return Equations("substitution", _("u-substitution:"), [EquationGroup(equations, indent=4)],
                     notes, indent=1)


def step_lines(tree, order: Any) -> list[StepLine]:
    from gradcli.steps import walk

    lines = []
    for s, depth in walk(tree):
        if s.rule == "skipped" or s.expr is None:
            lines.append(StepLine(depth, rule_word(s.rule), s.var.name, note=text(s.note)))
            continue
        chain = None
        if s.chain is not None:
            chain = Equation(Name(s.chain.name.name), _expr(s.chain.inner, order))
        operand = _operand(s.expr, order)
        lines.append(StepLine(depth, rule_word(s.rule), s.var.name, operand, operand.text,
                              _expr(s.result, order), chain,
                              None if chain is not None else s.identity,
                              text(s.note) if s.note else None))
    return lines


def _check_cell(r) -> Cell:
    if r.undefined:
        return Cell(_("undefined"), WARN)
    if r.kink:
        return Cell(_("kink"), WARN)
    return Cell(_("ok"), OK) if r.ok else Cell(_("FAIL"), ERROR)


def values_table(report) -> Table | None:
    evaluated = [r for r in report.gradient if r.evaluated]
    if not evaluated:
        return None
    columns = [Column(_("wrt"), left=True), Column(_("symbolic")), Column(_("reverse")),
               Column(_("numeric")), Column(_("rel error")), Column(_("check"))]
    rows = []
    for r in evaluated:
        notes = [Note(text(r.note), WARN, f"∂f/∂{r.wrt}")] if r.kink and r.note else []
        rows.append(Row([Cell(r.wrt), Cell(num(r.value)), Cell(num(r.reverse)),
                         Cell(num(r.numeric)), Cell(err(r.rel_error)), _check_cell(r)], notes))
    return Table("values", _("Values at {point}", point=point_text(report)), columns, rows)


def answer_lines(r) -> list[Line]:
    """The student's --answer for one derivative: the verdict and, for a wrong one, the
    counterexample and the diagnosis (nothing without an answer)."""
    a = getattr(r, "answer", None)
    if a is None:
        return []
    if a.equivalent:
        how = _("symbolic: the difference simplifies to 0") if a.method == "symbolic" else \
            _("numeric: equal at {points} random points, seed {seed}", points=a.points,
              seed=a.seed)
        return [Line(_("your answer {given}: right ({how})", given=a.given, how=how), OK,
                     indent=1)]
    lines = [Line(_("your answer {given}: WRONG (compared at {points} random points, seed "
                    "{seed})", given=a.given, points=a.points, seed=a.seed), ERROR, indent=1)]
    c = a.counterexample
    if c:
        point = ", ".join(f"{k} = {num(v)}" for k, v in c["at"].items())
        lines.append(Line(_("at {point}: the derivative is {expected}, your answer gives "
                            "{given}", point=point, expected=num(c["expected"]),
                            given=num(c["given"])), ERROR, indent=2))
    if a.diagnosis:
        lines.append(Line(_("diagnosis: {diagnosis}", diagnosis=text(a.diagnosis)), ERROR,
                          indent=2))
    return lines


def verdict(report) -> Line:
    if not all(r.ok for r in report.gradient):  # a wrong --answer is said on its own line
        return Line(_("the methods DISAGREE"), ERROR, strong=True)
    if any(r.kink for r in report.gradient):
        return Line(_("ok (at a kink the methods need not agree; see the note)"), OK,
                    strong=True)
    if any(r.undefined for r in report.gradient):
        return Line(_("ok where the derivative is defined (see the note)"), OK, strong=True)
    return Line(_("all three methods agree"), OK, strong=True)


def derive_section(report, picture: Any = None) -> Section:
    """Everything `derive` shows, in order; `picture` is the expression's graph at the
    point, for the formats that draw it."""
    blocks: list[Any] = []
    by_var = {e.wrt: e for e in report.steps}
    point = point_text(report)
    for r in report.gradient:
        blocks.append(derivative_line(r, report.order))
        blocks += answer_lines(r)
        if r.note and not r.kink:  # a kink's note stands under the values table
            blocks.append(Line(_("note: {note}", note=text(r.note)), WARN, indent=1))
        e = by_var.get(r.wrt)
        if e is None:
            continue
        sub = substitution_block(e, point)
        if sub is not None:
            blocks.append(sub)
        if e.tree is not None:
            blocks.append(Steps(_("steps:"), step_lines(e.tree, e.order)))
    table = values_table(report)
    if table is not None:
        blocks.append(table)
    blocks += [Line(_("note: {note}", note=text(n)), WARN) for n in report.notes]
    if picture is not None:
        blocks.append(figure(picture))
    heading = Equation(Name("f"), _expr(report.function, report.order, report.expression)
                       if report.function is not None else Expr(report.expression))
    return Section(f"f = {report.expression}", blocks, report.ok,
                   verdict(report) if table is not None else None, heading, kind="derive",
                   subtitle=_("Derivative of {expression}", expression=report.expression))
