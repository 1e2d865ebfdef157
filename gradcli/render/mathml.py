"""Presentation MathML of the math records (Chromium renders MathML Core
natively: no script, no web font, nothing fetched)."""
from __future__ import annotations

import re
from typing import Any

from gradcli.render import names
from gradcli.render.equations import (Deriv, Equation, Expr, Formula, Name, Number, Product,
                                      Shaped, Sum, Tensor, Words, width)
from gradcli.render.markup import escape

#: a display line of about this many symbols before breaking
LINE = 100
_SCIENTIFIC = re.compile(r"^(-?)([\d.]+)e([+-]?)(\d+)$")


def math(inner: str, block: bool = True) -> str:
    """A <math> element; `block`: display style, left-aligned in its own line
    (Chromium centres display="block")."""
    style = ' displaystyle="true"' if block else ""
    return f"<math{style}>{inner}</math>"


def number(text: str) -> str:
    m = _SCIENTIFIC.match(text)
    if m:
        sign, mantissa, exp_sign, exponent = m.groups()
        minus = "<mo>−</mo>" if sign else ""
        power = (f"<msup><mn>10</mn><mrow>{'<mo>−</mo>' if exp_sign == '-' else ''}"
                 f"<mn>{int(exponent)}</mn></mrow></msup>")
        return f"<mrow>{minus}<mn>{mantissa}</mn><mo>×</mo>{power}</mrow>"
    if text.startswith("-") and re.fullmatch(r"-[\d.]+", text):
        return f"<mrow><mo>−</mo><mn>{text[1:]}</mn></mrow>"
    if re.fullmatch(r"[\d.]+", text):
        return f"<mn>{text}</mn>"
    return f"<mtext>{escape(text)}</mtext>"


def _d(partial: bool) -> str:
    return "<mi>∂</mi>" if partial else '<mi mathvariant="normal">d</mi>'


def matrix(rows: list[list[str]]) -> str:
    body = "".join("<mtr>" + "".join(f"<mtd>{number(x)}</mtd>" for x in row) + "</mtr>"
                   for row in rows)
    return f'<mrow><mo>[</mo><mtable>{body}</mtable><mo>]</mo></mrow>'


def ml(m: Any) -> str:
    """One math record as MathML (inside a <math> element)."""
    if isinstance(m, Name):
        return names.mathml(m.name)
    if isinstance(m, Deriv):
        d = _d(m.partial)
        return (f"<mfrac><mrow>{d}{names.mathml(m.top)}</mrow>"
                f"<mrow>{d}{names.mathml(m.bottom)}</mrow></mfrac>")
    if isinstance(m, Number):
        return number(m.text)
    if isinstance(m, Tensor):
        view = m.view
        if view.scalar:
            return number(view.text)
        if view.rows is not None:
            return matrix(view.rows)
        return f"<mtext>{escape(view.summary)}</mtext>"
    if isinstance(m, Expr):
        if m.sympy is None:
            return f"<mtext>{escape(m.text)}</mtext>"
        from gradcli.render.typeset import mathml as typeset

        shown = typeset(m.sympy, m.order)
        return f"<mrow><mo>(</mo>{shown}<mo>)</mo></mrow>" if m.paren else shown
    if isinstance(m, Formula):
        from gradcli.render.formula import to_mathml

        return to_mathml(m.text)
    if isinstance(m, Words):
        return f"<mtext>{escape(m.text)}</mtext>"
    if isinstance(m, Product):
        if m.numbers:
            return "<mrow>" + "".join(f"<mo>(</mo>{ml(f)}<mo>)</mo>" for f in m.factors) + \
                "</mrow>"
        return "<mrow>" + "<mo>·</mo>".join(ml(f) for f in m.factors) + "</mrow>"
    if isinstance(m, Sum):
        return "<mrow>" + "<mo>+</mo>".join(ml(t) for t in m.terms) + "</mrow>"
    if isinstance(m, Shaped):
        return (f"<mrow>{ml(m.math)}<mspace width=\"0.4em\"></mspace>"
                f"<mtext>[{escape(m.shape)}]</mtext></mrow>")
    if isinstance(m, Equation):
        return "<mrow>" + "<mo>=</mo>".join(ml(s) for s in m.sides) + "</mrow>"
    return f"<mtext>{escape(str(m))}</mtext>"


def equation_rows(eq: Equation) -> list[str]:
    """An equation as display rows: one when it fits, else `lhs = side` then `= side`
    per row (browsers do not break MathML lines)."""
    sides = list(eq.sides)
    if len(sides) < 2 or width(eq) <= LINE:
        return [ml(eq)]
    rows = [f"<mrow>{ml(sides[0])}<mo>=</mo>{ml(sides[1])}</mrow>"]
    rows += [f"<mrow><mo>=</mo>{ml(s)}</mrow>" for s in sides[2:]]
    return rows
