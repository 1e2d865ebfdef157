"""HTML of the view model: one self-contained page (`page.py`), a section per
report, tables with each row's notes in a row under it, the chain rule as
MathML, the rule steps as an indented list and the computation graph as
inline SVG."""
from __future__ import annotations

import re
from typing import Any

from gradcli.render import mathml as mml
from gradcli.render import model as vm
from gradcli.render.markup import escape
from gradcli.render.page import page

_LEVEL_CLASS = {vm.OK: "ok", vm.WARN: "warn", vm.ERROR: "error"}


def document(doc: vm.Document) -> str:
    body = "\n".join(_section(s, k) for k, s in enumerate(doc.sections, start=1))
    return page(doc.title, body, heading=len(doc.sections) > 1)


def _section(s: vm.Section, number: int) -> str:
    state = "unusable" if s.kind == "error" else ("passed" if s.ok else "failed")
    out = [f'<section class="report {state}" id="report-{number}">',
           f"<h2>{escape(s.title)}</h2>"]
    if s.heading_math is not None:
        out.append(_equation(s.heading_math))
    for block in s.blocks:
        out.append(_block(block, number))
    if s.verdict is not None:
        out.append(f'<p class="verdict {_LEVEL_CLASS.get(s.verdict.level, "")}">'
                   f"{escape(s.verdict.text)}</p>")
    out.append("</section>")
    return "\n".join(out)


def _block(block: Any, number: int) -> str:
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
    if isinstance(block, vm.Figure):
        return _figure(block, number)
    if isinstance(block, vm.Chart):
        return _chart(block)
    return ""


# ---------------------------------------------------------------- pieces ---
def _equation(eq, css: str = "") -> str:
    rows = mml.equation_rows(eq)
    out = [f'<div class="eq{css}">{mml.math(rows[0])}</div>']
    out += [f'<div class="eq cont{css}">{mml.math(r)}</div>' for r in rows[1:]]
    return "\n".join(out)


def _line(line: vm.Line) -> str:
    if line.kind == "derivative" and line.math is not None:
        return f'<div class="derivative">{_equation(line.math)}</div>'
    classes = [c for c in (_LEVEL_CLASS.get(line.level, ""), "strong" if line.strong else "",
                           "indent" if line.indent else "") if c]
    attr = f' class="{" ".join(classes)}"' if classes else ""
    if line.math is not None:
        return f"<p{attr}>{mml.math(mml.ml(line.math), block=False)}</p>"
    return f"<p{attr}>{escape(line.text)}</p>"


def _cell(cell: vm.Cell, column: vm.Column) -> str:
    align = "l" if column.left else "r"
    classes = [align] + ([_LEVEL_CLASS[cell.level]] if cell.level in _LEVEL_CLASS else [])
    if cell.tensor is not None and not cell.tensor.scalar:
        view = cell.tensor
        inner = (mml.math(mml.matrix(view.rows), block=False) if view.rows is not None
                 else escape(view.summary))
        if cell.label:
            inner = f"<code>{escape(cell.label)}</code> = {inner}"
    elif cell.code and cell.text:
        inner = f"<code>{escape(cell.text)}</code>"
    else:
        inner = escape(cell.text)
    return f'<td class="{" ".join(classes)}">{inner}</td>'


def table(t: vm.Table) -> str:
    head = "".join(f'<th class="{"l" if c.left else "r"}">{escape(c.header)}</th>'
                   for c in t.columns)
    rows = []
    for row in t.rows:
        rows.append("<tr>" + "".join(_cell(c, t.columns[k]) for k, c in
                                     enumerate(row.cells)) + "</tr>")
        for note in row.notes:  # the row's verdict note, kink note or chain rule
            rows.append(f'<tr class="note {_LEVEL_CLASS.get(note.level, "")}">'
                        f'<td colspan="{len(t.columns)}">{_note(note)}</td></tr>')
    return (f'<div class="scroll"><table class="{escape(t.kind)}"><caption>'
            f"{escape(t.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _note(note: vm.Note) -> str:
    label = f"<b>{escape(note.label)}</b>: " if note.label else ""
    if note.math is not None:
        return label + mml.math(mml.ml(note.math), block=False)
    return label + escape(note.text)


def _equations(block: vm.Equations) -> str:
    css = " indent" if block.indent else ""
    out = [f'<div class="equations {escape(block.kind)}{css}">']
    if block.title:
        out.append(f"<h3>{escape(block.title)}</h3>")
    for group in block.groups:
        out.append('<div class="group">')
        if group.caption:
            out.append(f'<p class="caption">{escape(group.caption)}</p>')
        out += [_equation(e) for e in group.equations]
        out.append("</div>")
    out += [f"<p>{escape(n.text)}</p>" for n in block.notes]
    out.append("</div>")
    return "\n".join(out)


def _steps(block: vm.Steps) -> str:
    from gradcli.i18n import _

    items = []
    for line in block.lines:
        pad = f' style="margin-left:{min(line.depth, 20) * 1.4:g}rem"' if line.depth else ""
        rule = f'<span class="rule">{escape(line.rule)}</span>'
        if line.expr is None:
            items.append(f"<li{pad}>{rule} {escape(line.note or '')}</li>")
            continue
        var = _var(line.var)
        d = ('<mfrac><mi mathvariant="normal">d</mi>'
             f'<mrow><mi mathvariant="normal">d</mi>{var}</mrow></mfrac>')
        formula = f"<mrow>{d}{mml.ml(line.expr)}<mo>=</mo>{mml.ml(line.result)}</mrow>"
        extra = ""
        if line.chain is not None:
            extra = _sentence(_("with {substitution}", substitution="\0"),
                              mml.math(mml.ml(line.chain), block=False))
        elif line.identity:
            extra = _sentence(_("by {identity}", identity="\0"),
                              f"<code>{escape(line.identity)}</code>")
        if line.note:
            extra += f' <span class="by">({escape(line.note)})</span>'
        items.append(f"<li{pad}>{rule} {mml.math(formula, block=False)}{extra}</li>")
    return (f'<div class="indent"><h3>{escape(block.title)}</h3>'
            f'<ol class="steps">{"".join(items)}</ol></div>')


def _var(name: str) -> str:
    from gradcli.render import names

    return names.mathml(name)


def _sentence(template: str, markup: str) -> str:
    """A translated sentence with a formula in its placeholder."""
    before, _sep, after = template.partition("\0")
    return f'<span class="by">{escape(before)}{markup}{escape(after)}</span>'


def _ledger(block: vm.Ledger) -> str:
    out = [f'<div class="ledger"><h3>{escape(block.title)}</h3>']
    for entry in block.entries:
        check = f' <span class="ok">({escape(entry.check)})</span>' if entry.check else ""
        out.append(f'<div class="layer"><h4>{escape(entry.layer)}{check}</h4>')
        out += [_equation(e) for e in entry.equations]
        out.append("</div>")
    if block.notes:
        out.append('<ul class="notes">' + "".join(
            f'<li class="{_LEVEL_CLASS.get(n.level, "")}">{escape(n.text)}</li>'
            for n in block.notes) + "</ul>")
    out.append("</div>")
    return "\n".join(out)


# ----------------------------------------------------------------- figure ---
SVG_LAYOUT = "auto"  # Graphviz when installed, else gradcli's own layout


def _figure(block: vm.Figure, number: int) -> str:
    from gradcli.pictures import svg
    from gradcli.pictures.html import inline

    drawing = scoped(inline(svg.render(block.picture, SVG_LAYOUT)), f"r{number}-")
    return (f'<figure class="graph"><figcaption>{escape(block.title)}</figcaption>'
            f'<div class="scroll">{drawing}</div></figure>')


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')


def scoped(svg: str, prefix: str) -> str:
    """The SVG's ids (and the references to them) prefixed, so that several
    drawings in one page never share an id (arrow markers, boxes)."""
    ids = set(_ID.findall(svg))
    if not ids:
        return svg
    svg = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return _REF.sub(lambda m: m.group(1) + (prefix + m.group(2) if m.group(2) in ids
                                            else m.group(2)), svg)


def _chart(block: vm.Chart) -> str:
    from gradcli.render.chart import loss_chart

    drawing = loss_chart(block.series, block.log, block.x_label, block.y_label, block.title)
    return (f'<figure class="chart"><figcaption>{escape(block.title)}</figcaption>'
            f'<div class="scroll">{drawing}</div></figure>')
