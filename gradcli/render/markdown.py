"""Markdown (GitHub flavoured) of the view model: tables with every cell
escaped, equations in text blocks, the rule steps as a nested list, row
notes under their table, and the computation graph as a ```mermaid block."""
from __future__ import annotations

from gradcli.render import model as vm
from gradcli.render.equations import plain
from gradcli.render.markup import md_cell, md_code, md_code_cell, md_text

QUOTED = (vm.WARN, vm.ERROR)


def document(doc: vm.Document) -> str:
    out: list[str] = []
    for section in doc.sections:
        out += _section(section)
    return "\n".join(out).rstrip() + "\n"


def _section(section: vm.Section) -> list[str]:
    out = ["## " + md_code(section.subtitle or section.title), ""]
    for block in section.blocks:
        out += _block(block)
    if section.verdict is not None:
        out += [_line(section.verdict), ""]
    return out


def _block(block) -> list[str]:
    if isinstance(block, vm.Table):
        return table(block)
    if isinstance(block, vm.Line):
        return _derivative(block) if block.kind == "derivative" else [_line(block), ""]
    if isinstance(block, vm.Equations):
        return _equations(block)
    if isinstance(block, vm.Steps):
        return _steps(block)
    if isinstance(block, vm.Ledger):
        return table(block.table) + _notes(block.notes)
    if isinstance(block, vm.Figure):
        return _figure(block)
    return []


def _line(line: vm.Line) -> str:
    shown = md_text(line.text)
    if line.strong:
        shown = f"**{shown}**"
    return f"> {shown}" if line.level in QUOTED else shown


def _derivative(line: vm.Line) -> list[str]:
    return ["### " + md_code(line.text), ""]


def table(t: vm.Table) -> list[str]:
    headers = [md_cell(c.header) for c in t.columns]
    lines = ["### " + md_text(t.title), "", "| " + " | ".join(headers) + " |",
             "|" + "|".join(" :--- " if c.left else " ---: " for c in t.columns) + "|"]
    for row in t.rows:
        cells = [md_code_cell(c.text) if c.code and c.text else md_cell(c.text)
                 for c in row.cells]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""] + _notes(t.notes)


def _notes(notes: list[vm.Note]) -> list[str]:
    if not notes:
        return []
    out = []
    for note in notes:
        label = f"**{md_text(note.label)}**: " if note.label else ""
        body = md_code(note.text) if note.math is not None else md_text(note.text)
        out.append(f"- {label}{body}")
    return out + [""]


def _equations(block: vm.Equations) -> list[str]:
    out = []
    if block.title:
        out += ["### " + md_text(block.title) if block.indent == 0
                else f"**{md_text(block.title)}**", ""]
    out.append("```text")
    for k, group in enumerate(block.groups):
        if group.caption:
            out.append(group.caption)
        pad = " " * (group.indent - 2 if group.caption is None else group.indent - 4)
        out += [pad + plain(e) for e in group.equations]
        if block.gap and k == 0:
            out.append("")
    out += ["```", ""]
    if block.notes:
        out += [md_text(n.text) for n in block.notes] + [""]
    return out


def _steps(block: vm.Steps) -> list[str]:
    out = [f"**{md_text(block.title)}**", ""]
    out += ["  " * line.depth + _step(line) for line in block.lines]
    return out + [""]


def _step(line: vm.StepLine) -> str:
    """`- **rule**: `d/dx ... = ...`    with `u = ...``"""
    head = f"- **{md_text(line.rule)}**:"
    if line.expr is None:
        return f"{head} {md_text(line.note or '')}"
    from gradcli.i18n import _

    out = f"{head} " + md_code(f"d/d{line.var} {line.expr_text} = {plain(line.result)}")
    if line.chain is not None:
        out += "    " + _("with {substitution}", substitution=md_code(plain(line.chain)))
    elif line.identity:
        out += "    " + _("by {identity}", identity=md_code(line.identity))
    if line.note:
        out += f"    ({md_text(line.note)})"
    return out


def _figure(block: vm.Figure) -> list[str]:
    from gradcli.pictures import mermaid

    return ["### " + md_text(block.title), "", "```mermaid",
            mermaid.render(block.picture).rstrip("\n"), "```", ""]
