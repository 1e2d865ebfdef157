"""Human output of check-code: a Rich table per component, what was not checked and why."""
from __future__ import annotations

from typing import Any

from gradcli.i18n import _, text
from gradcli.usercode.results import ComponentResult, FileResult, GradCheck, kind_word


def _num(value: float | None) -> str:
    return "" if value is None else "{:.5g}".format(value)


def _index(check: GradCheck) -> str:
    if check.worst_index is None:
        return ""
    return "(" + ", ".join(str(i) for i in check.worst_index) + ")"


def component_table(comp: ComponentResult) -> Any:
    from rich.table import Table

    verdict = _("ok") if comp.ok else _("FAILED")
    from rich import box

    table = Table(title=_("{kind} {target}: {verdict}", kind=kind_word(comp.kind),
                          target=comp.target, verdict=verdict),
                  box=box.SIMPLE_HEAVY, title_justify="left", title_style="bold")
    for header, left in ((_("check"), True), (_("ok"), True), (_("bad/total"), False),
                         (_("worst at"), False), (_("expected"), False), (_("actual"), False),
                         (_("rel err"), False)):
        table.add_column(header, justify="left" if left else "right", overflow="fold")
    for c in comp.checks:
        compared = c.expected is not None or c.actual is not None or c.ok
        table.add_row(c.name, "✓" if c.ok else "✗", "{}/{}".format(c.bad, c.count), _index(c),
                      _num(c.expected), _num(c.actual),
                      "{:.1e}".format(c.max_rel_error) if compared else "—")
    return table


def file_report(result: FileResult, console: Any) -> None:
    console.print(_("{file}  (seed {seed})", file=result.file, seed=result.seed))
    if result.printed_lines:
        console.print(_("  the file printed {count} lines while being checked (captured, not "
                        "shown)", count=result.printed_lines))
    if result.components:
        console.print(_("  found: {items}", items=", ".join(
            "{} {}".format(kind_word(c.kind), c.target) for c in result.components)))
    for comp in result.components:
        if comp.error is not None:
            console.print(_("{kind} {target}: cannot be checked: {why}", kind=kind_word(comp.kind),
                            target=comp.target, why=text(comp.error)))
            continue
        console.print(component_table(comp))
        for c in comp.checks:
            for key, label in (("diagnosis", _("diagnosis")), ("error", _("error")),
                               ("warning", _("warning")),
                               ("note", _("note")), ("method", _("checked"))):
                value = getattr(c, key)
                if value is not None:
                    console.print(_("  {name}: {label}: {text}", name=c.name, label=label,
                                    text=text(value)))
        for msg in comp.notes:
            console.print(_("  note: {text}", text=text(msg)))
        for msg in comp.warnings:
            console.print(_("  warning: {text}", text=text(msg)))
        for s in comp.skipped:
            console.print(_("  not checked: {name}: {why}", name=s.name, why=text(s.reason)))
    if result.skipped:
        console.print(_("Not checked in {file}:", file=result.file))
        for s in result.skipped:
            console.print(_("  {name}: {why}", name=s.name, why=text(s.reason)))
    console.print("")
