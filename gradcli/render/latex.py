"""LaTeX of the view model: a complete document for pdflatex (amsmath, and
kotex when it holds Hangul), or its body for pasting (`--latex-body`).

Nothing runs off the page: equations wider than a line are broken in
`align*` (one side of `=` per row, then between terms or factors), tables
shrink their text columns into paragraphs, and a matrix too wide for its
line is written as its shape and norms.
"""
from __future__ import annotations

from typing import Any

from gradcli.render import model as vm
from gradcli.render import names
from gradcli.render.equations import (Deriv, Equation, Expr, Formula, Name, Number, Product,
                                      Shaped, Sum, Tensor, Words, width)
from gradcli.render.texchars import (has_hangul, math_text, tex_code, tex_number, tex_text)

#: symbols on one display line (16 cm at 10 pt, with room to spare)
LINE = 60
#: points of text width, and of one character of the tables' footnotesize text
TEXT_WIDTH = 450.0
CHAR_PT = 4.4
HEADER_PT = 5.0  # bold
MATH_CHAR_PT = 4.8  # a matrix entry (minus signs are wide)
CODE_PT = 4.3
COLUMN_SEP = 8.0
MIN_PARAGRAPH = 60.0  # a text column shrunk into a paragraph is at least this wide
LINES_PER_TABULAR = 40  # a longer table is split (a tabular cannot break across pages)
_SLOT = "QXSLOTQX"  # where a formula goes into a translated sentence (survives tex_text)

PREAMBLE = r"""\documentclass{article}
\usepackage{amsmath}
%(packages)s\setlength{\textwidth}{16cm}
\setlength{\oddsidemargin}{0.2cm}
\setlength{\evensidemargin}{0.2cm}
\setlength{\textheight}{22cm}
\setlength{\topmargin}{-1cm}
\setlength{\parindent}{0pt}
\setlength{\emergencystretch}{2em}
\allowdisplaybreaks
\begin{document}
"""


def document(doc: vm.Document, body_only: bool = False) -> str:
    body = "\n".join(line for s in doc.sections for line in section(s)) + "\n"
    if body_only:
        return body
    packages = "\\usepackage{kotex}\n" if has_hangul(body) else ""
    return PREAMBLE % {"packages": packages} + body + "\\end{document}\n"


def section(s: vm.Section) -> list[str]:
    out = [r"\section*{" + _heading(s) + "}"]
    if s.heading_math is not None:
        out += display([s.heading_math])
    for block in s.blocks:
        out += _block(block)
    if s.verdict is not None:
        out += [r"\medskip", r"\textbf{" + tex_text(s.verdict.text) + r"}\par", ""]
    return out


def _heading(s: vm.Section) -> str:
    if s.kind == "derive":
        from gradcli.i18n import _

        return tex_text(_("Derivative"))
    # a long path breaks after its slashes: ragged, since a line of it cannot stretch
    shown = tex_code(s.subtitle or s.title) if s.kind != "error" else tex_text(s.title)
    return r"\raggedright " + shown


def _block(block: Any) -> list[str]:
    if isinstance(block, vm.Table):
        return table(block)
    if isinstance(block, vm.Line):
        return _line(block)
    if isinstance(block, vm.Equations):
        return _equations(block)
    if isinstance(block, vm.Steps):
        return _steps(block)
    if isinstance(block, vm.Ledger):
        return _ledger(block)
    return []  # the graph picture is drawn by the HTML and Markdown reports


# -------------------------------------------------------------------- math ---
def tex(m: Any) -> str:
    """One math record in LaTeX math mode."""
    if isinstance(m, Name):
        return names.latex(m.name)
    if isinstance(m, Deriv):
        d = r"\partial " if m.partial else r"\mathrm{d}"
        return rf"\frac{{{d}{names.latex(m.top)}}}{{{d}{names.latex(m.bottom)}}}"
    if isinstance(m, Number):
        return tex_number(m.text)
    if isinstance(m, Tensor):
        return _tensor(m)
    if isinstance(m, Expr):
        return _expr(m)
    if isinstance(m, Formula):
        from gradcli.render.formula import to_tex

        return to_tex(m.text)
    if isinstance(m, Words):
        return math_text(m.text)
    if isinstance(m, Product):
        if m.numbers:
            return "".join(rf"\left({tex(f)}\right)" for f in m.factors)
        return r" \cdot ".join(tex(f) for f in m.factors)
    if isinstance(m, Sum):
        return " + ".join(tex(t) for t in m.terms)
    if isinstance(m, Shaped):
        shape = m.shape.replace("×", r" \times ")
        return rf"{tex(m.math)}\ [{shape}]"
    if isinstance(m, Equation):
        return " = ".join(tex(s) for s in m.sides)
    return math_text(str(m))


def _expr(m: Expr) -> str:
    if m.sympy is None:
        return r"\text{" + tex_code(m.text) + "}"
    from gradcli.render.typeset import tex as typeset

    shown = typeset(m.sympy, m.order)
    return rf"\left({shown}\right)" if m.paren else shown


def _tensor(m: Tensor, room: int = LINE) -> str:
    view = m.view
    if view.scalar:
        return tex_number(view.text)
    if view.rows is not None and width(m) <= room:
        rows = [" & ".join(tex_number(x) for x in row) for row in view.rows]
        return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"
    return math_text(view.summary)


def _side_width(m: Any) -> int:
    if isinstance(m, Expr) and m.sympy is not None:
        from gradcli.render.typeset import symbols

        return symbols(_expr(m))
    return width(m)


def equation_rows(eq: Equation) -> list[str]:
    """`align*` rows of one equation: one row when it fits, else one side of `=` per
    row, and a side too wide for a row broken between its terms or factors."""
    sides = list(eq.sides)
    if not sides:
        return []
    widths = [_side_width(s) for s in sides]
    lhs = tex(sides[0])
    if len(sides) == 1:
        return ["&" + lhs]
    if sum(widths) + len(sides) <= LINE:
        return [f"{lhs} &= " + " = ".join(tex(s) for s in sides[1:])]
    room = max(LINE - widths[0] - 2, 24)
    rows = []
    for k, side in enumerate(sides[1:], start=1):
        lines = _broken(side, room)
        rows.append((lhs if k == 1 else "") + f" &= {lines[0]}")
        rows += [rf"&\quad {line}" for line in lines[1:]]
    return rows


def _broken(m: Any, room: int) -> list[str]:
    """A side of an equation on as many lines as it needs."""
    if _side_width(m) <= room:
        return [tex(m)]
    if isinstance(m, Tensor):
        return [_tensor(m, room)]
    if isinstance(m, Expr) and m.sympy is not None:
        from gradcli.render.typeset import tex_lines

        lines = tex_lines(m.sympy, m.order, room)
        if m.paren:
            lines = [r"\Bigl(" + lines[0], *lines[1:-1], lines[-1] + r"\Bigr)"] \
                if len(lines) > 1 else [rf"\left({lines[0]}\right)"]
        return lines
    if isinstance(m, (Sum, Product)):
        parts = m.terms if isinstance(m, Sum) else m.factors
        glue = "+ " if isinstance(m, Sum) else ("" if getattr(m, "numbers", False)
                                                 else r"\cdot ")
        lines, current, used = [], "", 0
        for k, part in enumerate(parts):
            shown = tex(part) if not (isinstance(m, Product) and m.numbers) \
                else rf"\left({tex(part)}\right)"
            w = _side_width(part) + 2
            if current and used + w > room:
                lines.append(current)
                current, used = glue + shown, w
            else:
                current = (current + (" " + glue if k else "") + shown).strip()
                used += w
        return lines + [current]
    return [tex(m)]


def display(equations: list[Equation]) -> list[str]:
    """Equations in one `align*`."""
    rows = [r for eq in equations for r in equation_rows(eq)]
    if not rows:
        return []
    return [r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}"]


# ------------------------------------------------------------------ blocks ---
def _line(line: vm.Line) -> list[str]:
    if line.kind == "derivative" and line.math is not None:
        return display([line.math])
    if line.math is not None and width(line.math) <= LINE:
        shown = "$" + tex(line.math) + "$"
    else:
        shown = tex_text(line.text)
    if line.strong:
        shown = r"\textbf{" + shown + "}"
    if line.indent:
        shown = r"\hspace*{1.5em}" + shown
    return [shown + r"\par", ""]


def _equations(block: vm.Equations) -> list[str]:
    out = []
    if block.title:
        out += [r"\subsection*{" + tex_text(block.title) + "}" if block.indent == 0 else
                r"\medskip\noindent\textbf{" + tex_text(block.title) + r"}\par"]
    for group in block.groups:
        if group.caption:
            out.append(r"\noindent " + tex_text(group.caption) + r"\par")
        out += display(group.equations)
    out += [tex_text(n.text) + r"\par" for n in block.notes]
    return out + [""]


def _ledger(block: vm.Ledger) -> list[str]:
    out = [r"\subsection*{" + tex_text(block.title) + "}"]
    for entry in block.entries:
        head = r"\textbf{" + tex_text(entry.layer) + "}"
        if entry.check:
            head += " (" + tex_text(entry.check) + ")"
        out += [r"\noindent " + head + r"\par"] + display(entry.equations)
    out += [tex_text(n.text) + r"\par" for n in block.notes]
    return out + [""]


def _steps(block: vm.Steps) -> list[str]:
    """The rule steps as a tree: one paragraph per step, indented by its depth (lines
    that wrap hang under it); a formula too wide for its line is set in `align*`."""
    out = [r"\medskip\noindent\textbf{" + tex_text(block.title) + r"}\par"]
    for line in block.lines:
        out += _step(line)
    return out + [""]


def _step_words(line: vm.StepLine) -> str:
    """`with u = ...` or `by identity`, and the note (after the formula)."""
    from gradcli.i18n import _

    extra = ""
    if line.chain is not None:
        extra = tex_text(_("with {substitution}", substitution=_SLOT)).replace(
            _SLOT, "$" + tex(line.chain) + "$")
    elif line.identity:
        extra = tex_text(_("by {identity}", identity=_SLOT)).replace(
            _SLOT, tex_code(line.identity))
    if line.note:
        extra += " (" + tex_text(line.note) + ")"
    return extra


def _step(line: vm.StepLine) -> list[str]:
    from gradcli.render.typeset import symbols

    depth = min(line.depth, 12)
    start = (rf"\noindent\hangindent={depth * 1.2 + 2.4:g}em\hangafter=1 "
             rf"\hspace*{{{depth * 1.2:g}em}}\textbf{{{tex_text(line.rule)}}}:")
    words = _step_words(line)
    if line.expr is None:
        return [start + " " + tex_text(line.note or "") + r"\par"]
    lhs = rf"\frac{{\mathrm{{d}}}}{{\mathrm{{d}}{names.latex(line.var)}}}"
    operand = _expr(line.expr)
    formula = f"{lhs}{operand} = {_expr(line.result)}"
    if symbols(formula) + 2 * depth <= LINE - 8:
        return [start + " $" + formula + "$" + (", " + words if words else "") + r"\par"]
    room = LINE - 2 * depth - 6
    pad = rf"\hspace*{{{depth * 1.2:g}em}}"
    if symbols(operand) <= room:
        rows = [rf"&{pad}\quad {lhs}{operand}"]
    else:
        lines = _broken(Expr(line.expr.text, line.expr.sympy, line.expr.order), room)
        rows = [rf"&{pad}\quad {lhs}\Bigl({lines[0]}"] + \
            [rf"&{pad}\qquad {x}" for x in lines[1:]]
        rows[-1] += r"\Bigr)"
    result = _broken(line.result, room)
    rows.append(rf"&{pad}\qquad = {result[0]}")
    rows += [rf"&{pad}\qquad\quad {r}" for r in result[1:]]
    return [start + (" " + words if words else "") + r"\par", r"\begin{align*}",
            " \\\\\n".join(rows), r"\end{align*}\par"]  # the next step starts afresh


# ------------------------------------------------------------------ tables ---
def _matrix_width(view) -> float:
    cols = len(view.rows[0])
    widths = [max(len(row[j]) for row in view.rows) for j in range(cols)]
    return sum(w * MATH_CHAR_PT + 10 for w in widths) + 12


def _cell_width(cell: vm.Cell) -> float:
    """Natural width of a cell in points (footnotesize)."""
    view = cell.tensor
    if view is not None and not view.scalar:
        label = len(cell.label) * CODE_PT + 12 if cell.label else 0
        return label + (_matrix_width(view) if view.rows is not None
                        else len(view.summary) * CHAR_PT)
    return len(cell.text) * (CODE_PT if cell.code else CHAR_PT)


def _column_specs(t: vm.Table) -> list[str] | None:
    """Column types that fit the text width: the widest text columns shrink into
    paragraphs; None when even that does not fit (the rows are then stacked)."""
    widths = [max([len(c.header) * HEADER_PT] + [_cell_width(r.cells[k]) for r in t.rows])
              for k, c in enumerate(t.columns)]
    specs = ["l" if c.left else "r" for c in t.columns]
    total = sum(widths) + COLUMN_SEP * len(widths)
    shrinkable = sorted((k for k, c in enumerate(t.columns) if k and c.left),
                        key=lambda k: -widths[k])
    for k in shrinkable:
        excess = total - TEXT_WIDTH
        if excess <= 0:
            break
        target = max(widths[k] - excess, MIN_PARAGRAPH)
        total -= widths[k] - target
        widths[k] = target
        specs[k] = f"p{{{target:.0f}pt}}"
    return specs if total <= TEXT_WIDTH else None


def _cell(cell: vm.Cell, paragraph: bool = False, room: float = TEXT_WIDTH) -> str:
    if cell.tensor is not None:
        view = cell.tensor
        if view.scalar:
            shown = tex_text(cell.text) if cell.label else view.text
        elif view.rows is not None and _matrix_width(view) <= room:
            shown = "$" + _tensor(Tensor(view), room=10_000) + "$"
        else:
            shown = tex_text(view.summary)
        if cell.label and not view.scalar:
            shown = tex_code(cell.label) + " = " + shown
    elif cell.code and cell.text:
        shown = tex_code(cell.text)
    else:
        shown = tex_text(cell.text)
    if cell.level == vm.ERROR:
        shown = r"\textbf{" + shown + "}"
    return (r"\raggedright " + shown) if paragraph else shown


def _height(row: vm.Row) -> int:
    """Lines of a row (a matrix is as tall as its rows)."""
    return max([1] + [len(c.tensor.rows) for c in row.cells
                      if c.tensor is not None and c.tensor.rows is not None])


def table(t: vm.Table) -> list[str]:
    out = [r"\subsection*{" + tex_text(t.title) + "}"]
    specs = _column_specs(t)
    if specs is None:
        return out + _stacked(t) + _notes(t.notes) + [""]
    header = " & ".join(r"\textbf{" + tex_text(c.header) + "}" for c in t.columns)
    chunks, current, lines = [], [], 0
    for row in t.rows:  # a tabular cannot break across pages: one per page's worth
        if current and lines + _height(row) > LINES_PER_TABULAR:
            chunks.append(current)
            current, lines = [], 0
        current.append(row)
        lines += _height(row)
    chunks.append(current)
    for chunk in chunks:
        out += [r"{\footnotesize\setlength{\tabcolsep}{4pt}",
                r"\begin{tabular}{" + "".join(specs) + "}", r"\hline",
                header + r" \tabularnewline \hline"]
        for row in chunk:  # rows holding matrices get room between them
            gap = "[5pt]" if _height(row) > 1 else ""
            out.append(" & ".join(_cell(c, specs[k].startswith("p"))
                                  for k, c in enumerate(row.cells)) + r" \tabularnewline" + gap)
        out += [r"\hline", r"\end{tabular}}\par", r"\medskip"]
    return out + _notes(t.notes) + [""]


def _stacked(t: vm.Table) -> list[str]:
    """A table too wide for the page, one row at a time: the row's name, then each
    column's header and value on a line of its own."""
    out = []
    room = TEXT_WIDTH - max(len(c.header) for c in t.columns) * HEADER_PT - 3 * COLUMN_SEP
    for row in t.rows:
        first, rest = row.cells[0], list(zip(t.columns[1:], row.cells[1:]))
        out += [r"\noindent\textbf{" + tex_text(first.text) + r"}\par",
                r"{\footnotesize\setlength{\tabcolsep}{4pt}",
                r"\begin{tabular}{l" + f"p{{{room:.0f}pt}}" + "}"]
        out += [tex_text(c.header) + " & " + _cell(cell, True, room) + r" \tabularnewline"
                + ("[5pt]" if cell.tensor is not None and cell.tensor.rows is not None
                   and len(cell.tensor.rows) > 1 else "") for c, cell in rest]
        out += [r"\end{tabular}}\par", r"\smallskip"]
    return out


def _notes(notes: list[vm.Note]) -> list[str]:
    if not notes:
        return []
    out = [r"\begin{itemize}"]
    for note in notes:
        label = r"\textbf{" + tex_text(note.label) + "}: " if note.label else ""
        if note.math is not None:
            out += [r"\item " + label] + display([note.math])
        else:
            out.append(r"\item " + label + tex_text(note.text))
    return out + [r"\end{itemize}"]
