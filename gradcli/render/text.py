"""The terminal report: the view model printed with Rich (the only place Rich
tables are built for `derive` and `check`)."""
from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from gradcli.render import model as vm
from gradcli.render.equations import plain, step_plain

console = Console(highlight=False, soft_wrap=True, markup=False)
if not console.is_terminal:  # files and pipes: wide enough that numbers never truncate
    console.width = 200

STYLES = {vm.OK: "green", vm.WARN: "yellow", vm.ERROR: "bold red", vm.INFO: "",
          vm.PLAIN: ""}
#: the closing verdict and a failed check stand out more than a note
STRONG = {vm.OK: "bold green", vm.ERROR: "bold red"}
NOTE_STYLES = {vm.ERROR: "red", vm.WARN: "yellow", vm.INFO: "", vm.OK: "green",
               vm.PLAIN: ""}


def _style(level: str, strong: bool = False) -> str:
    if strong:
        return STRONG.get(level, "")
    return STYLES.get(level, "")


def print_section(section: vm.Section) -> None:
    if section.kind == "derive":
        console.print(Text(section.title, style="bold"))
    else:
        console.print(Text(section.title, style="bold underline"))
    for block in section.blocks:
        _print_block(block)
    if section.verdict is not None:
        v = section.verdict
        console.print(Text(v.text, style=_style(v.level, v.strong)))


def print_document(document: vm.Document) -> None:
    for section in document.sections:
        print_section(section)


def _print_block(block) -> None:
    if isinstance(block, vm.Table):
        print_table(block)
    elif isinstance(block, vm.Line):
        _print_line(block)
    elif isinstance(block, vm.Equations):
        _print_equations(block)
    elif isinstance(block, vm.Steps):
        _print_steps(block)
    elif isinstance(block, vm.Ledger):
        print_table(block.table, notes=False)
        for note in block.notes:
            console.print(Text(f"  {note.text}", style=NOTE_STYLES.get(note.level, "")))
    # figures are drawn by the formats that can (html, markdown)


def _print_line(line: vm.Line) -> None:
    if line.kind == "derivative":  # derive: each variable's derivative opens a part
        console.print()
        console.print(Text(line.text, style="bold cyan"))
        return
    console.print(Text("  " * line.indent + line.text, style=_style(line.level, line.strong)))


def print_table(table: vm.Table, notes: bool = True) -> None:
    if table.kind == "values":
        console.print()
    rich = RichTable(title=table.title, box=box.SIMPLE_HEAVY, title_justify="left",
                     title_style="bold")
    for column in table.columns:
        rich.add_column(column.header, justify="left" if column.left else "right",
                        overflow="fold")
    for row in table.rows:
        rich.add_row(*[_cell(c) for c in row.cells])
    console.print(rich)
    if notes:
        for note in table.notes:
            label = f"{note.label}: " if note.label else ""
            indent = "  " if table.kind == "expect" else ""
            console.print(Text(f"{indent}{label}{note.text}",
                               style=NOTE_STYLES.get(note.level, "")))


def _cell(cell: vm.Cell):
    if cell.level == vm.PLAIN:
        return cell.text
    return Text(cell.text, style=_style(cell.level))


def _print_equations(block: vm.Equations) -> None:
    pad = "  " * block.indent
    if block.title:
        console.print(Text(pad + block.title, style="bold"))
    for k, group in enumerate(block.groups):
        if group.caption:
            console.print(f"{pad}  {group.caption}")
        for equation in group.equations:
            console.print(" " * group.indent + plain(equation))
        if block.gap and k == 0:
            console.print()
    for note in block.notes:
        console.print(Text(" " * (len(pad) + 2) + note.text,
                           style=NOTE_STYLES.get(note.level, "")))


def _print_steps(block: vm.Steps) -> None:
    pad = "  " * block.indent
    console.print(Text(pad + block.title, style="bold"))
    for line in block.lines:
        console.print(Text(pad + "  " + "  " * line.depth + step_plain(line)))
