"""The human table of `check --backward`, printed after the check's own tables.

One row per parameter (ok, bad/total, worst index, expected and actual there,
diagnosis), then the returned keys that are no parameter, then the error of
a call that raised.  Text: a Rich table; markdown: a pipe table; LaTeX gets
nothing here (the JSON and the text form carry it).
"""
from __future__ import annotations

from typing import Any

from gradcli.i18n import M, _, text

#: Terminal columns from which the diagnoses stay in the table.
WIDE = 110


def rows(report: Any) -> list[list[str]]:
    """The table's cells, as strings (shared by the text and markdown forms)."""
    out = []
    for p in report.params:
        u = p.user
        if u is None:
            continue
        # the call's error is printed once below the table, not on every row
        why = u.diagnosis if u.diagnosis is not None else u.note if u.note is not None \
            else None if u.error is None else M("the call raised (see below)")
        out.append([p.name, _("ok") if u.ok else _("FAIL"),
                    "" if u.bad is None else "{}/{}".format(u.bad, u.count), _index(u),
                    "" if u.ok or u.bad is None else _num(u.expected),
                    "" if u.ok or u.bad is None else _num(u.actual),
                    "" if why is None else text(why)])
    for name, why in report.backward.extra:
        out.append([name, _("FAIL"), "", "", "", "", text(why)])
    return out


def _num(value: float | None) -> str:
    return "" if value is None else "{:.6g}".format(value)


def _index(u: Any) -> str:
    if u.ok or u.worst_index is None or u.bad is None:
        return ""
    return "(" + ", ".join(str(i) for i in u.worst_index) + ")"


def _headers() -> list[str]:
    return [_("parameter"), _("ok"), _("bad/total"), _("worst index"), _("expected"),
            _("actual"), _("diagnosis")]


def _footer(report: Any) -> list[tuple[str, str | None]]:
    """Lines under the table, with their style."""
    result = report.backward
    lines: list[tuple[str, str | None]] = []
    if result.error is not None:
        lines.append((_("{target} raised: {error}", target=result.target,
                        error=text(result.error)), "red"))
    if result.printed_lines:
        lines.append((_("the code printed {count} lines (captured, not shown)",
                        count=result.printed_lines), None))
    return lines


def show(report: Any, fmt: str = "text") -> None:
    if getattr(report, "backward", None) is None:
        return
    result = report.backward
    title = _("Your backward {target}: {verdict}", target=result.target,
              verdict=_("ok") if result.ok else _("FAILED"))
    if fmt == "markdown":
        print("\n**{}**\n".format(title))
        print("| " + " | ".join(_headers()) + " |")
        print("|" + "---|" * len(_headers()))
        for row in rows(report):
            print("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
        for line, _style in _footer(report):
            print("\n" + line)
        return
    if fmt != "text":
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=False, markup=False)
    # On a narrow terminal the diagnoses go under the table, one line each, rather
    # than folded a word per line in the last column.
    wide = console.width >= WIDE
    table = Table(title=title, title_justify="left", title_style="bold",
                  box=box.SIMPLE_HEAVY)
    headers = _headers() if wide else _headers()[:-1]
    for h in headers[:-1]:
        table.add_column(h, no_wrap=True)
    table.add_column(headers[-1], overflow="fold")
    below = []
    for row in rows(report):
        table.add_row(*row[:len(headers)], style=None if row[1] == _("ok") else "red")
        if not wide and row[-1]:
            below.append(_("{name}: {diagnosis}", name=row[0], diagnosis=row[-1]))
    console.print(table)
    for line in below:
        console.print(line, style="red")
    for line, style in _footer(report):
        console.print(line, style=style)
