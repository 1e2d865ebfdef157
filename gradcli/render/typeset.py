"""SymPy expressions typeset for LaTeX and MathML, as the user wrote them.

Both printers print sums in the user's term order (`gradcli.symbolic`'s
ordered printing), sigmoid as σ, names through `names.py` (so `yhat`, `ŷ`,
`w1`, `z_out`, `θ` and Hangul names look the same in a ledger line and
inside an expression, and compile with pdflatex).  `tex_lines` breaks an
expression too wide for one line between its terms or factors.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from gradcli.render import names

Order = Mapping[str, int] | None


def _latex_printer_class():
    from gradcli.symbolic.printing import LatexExpressionPrinter

    class TexPrinter(LatexExpressionPrinter):
        def _print_Symbol(self, expr, style="plain"):
            return names.latex(expr.name)

        def _print_Exp1(self, expr):
            return "e"

    return TexPrinter


def _mathml_printer_class():
    from sympy.printing.mathml import MathMLPresentationPrinter

    from gradcli.symbolic.printing import _WrittenOrder

    class MathPrinter(_WrittenOrder, MathMLPresentationPrinter):
        def __init__(self, order: Order = None):
            super().__init__()
            self._rank = dict(order or {})

        def _raw(self, xml: str):
            node = self.dom.createTextNode(xml)  # sympy's raw text nodes: written as is
            return node

        def _print_Symbol(self, sym, style="plain"):
            return self._raw(names.mathml(sym.name))

        def _print_Exp1(self, e):
            return self._raw("<mi>e</mi>")

        def _named(self, word: str, e):
            mrow = self.dom.createElement("mrow")
            mrow.appendChild(self._raw(word))
            mrow.appendChild(self._paren_comma_separated(*e.args))
            return mrow

        def _print_sigmoid(self, e):
            return self._named("<mi>σ</mi>", e)

        def _print_relu(self, e):  # a word: a thin space sets it off, as \operatorname
            return self._named('<mspace width="0.1667em"></mspace>'
                               '<mi mathvariant="normal">relu</mi>', e)

        def _print_softplus(self, e):
            return self._named('<mspace width="0.1667em"></mspace>'
                               '<mi mathvariant="normal">softplus</mi>', e)

        def _print_Heaviside(self, e):  # H(x), whatever its value at 0 (gradcli's is 0)
            mrow = self.dom.createElement("mrow")
            mrow.appendChild(self._raw("<mi>H</mi>"))
            mrow.appendChild(self._paren_comma_separated(e.args[0]))
            return mrow

    return MathPrinter


_classes: dict[str, Any] = {}


def _printer(kind: str, order: Order):
    if kind not in _classes:
        _classes[kind] = _latex_printer_class() if kind == "tex" else _mathml_printer_class()
    return _classes[kind](order)


def tex(expr: Any, order: Order = None) -> str:
    return _printer("tex", order).doprint(expr)


_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_KEEP = {"lt", "gt", "amp", "quot", "apos"}


def mathml(expr: Any, order: Order = None) -> str:
    """Presentation MathML (the inside of a <math> element); named entities become
    numeric references, so the page needs no entity table."""
    import html

    shown = _printer("mathml", order).doprint(expr)

    def numeric(m: re.Match) -> str:
        if m.group(1) in _KEEP:
            return m.group(0)
        char = html.unescape(m.group(0))
        return "".join(f"&#x{ord(c):x};" for c in char) if char != m.group(0) else ""

    return _ENTITY.sub(numeric, shown).replace("<mo>-</mo>", "<mo>−</mo>")


# ---------------------------------------------------------- line breaking ---
_FRAC = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")


def symbols(tex_text: str) -> int:
    """About how many symbols a piece of LaTeX prints (commands count one, a fraction
    the wider of its two lines)."""
    while True:
        stacked = _FRAC.sub(lambda m: max(m.group(1), m.group(2), key=symbols), tex_text)
        if stacked == tex_text:
            break
        tex_text = stacked
    bare = re.sub(r"\\(left|right|[Bb]igl|[Bb]igr|frac|text|operatorname|hat|mathrm)\b", "",
                  tex_text)
    bare = re.sub(r"\\(sin|cos|tan|tanh|log|exp|ln)\b", "xxx", bare)
    bare = re.sub(r"\\[A-Za-z]+", "x", bare)
    return len(re.sub(r"[{}\s\\,&^_]", "", bare))


def tex_lines(expr: Any, order: Order, limit: int) -> list[str]:
    """`expr` in LaTeX on as many lines as it needs, each about `limit` symbols at
    most (`symbolic.latex_lines`, with this module's printer and symbol count)."""
    from gradcli.symbolic.printing import latex_lines

    return latex_lines(expr, _printer("tex", order),
                       lambda *parts: symbols("".join(parts)) > limit)
