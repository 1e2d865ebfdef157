"""A CheckReport as a Section of the view model: what `gradcli check` shows.

The forward pass, the gradients three ways with each row's verdict notes
(kinks, attributions, the tolerance note), the chain rule (or the backprop
recurrence when the paths are too many or the values are tensors), the
per-layer ledger of a layer network, the graded `expect` answers (the chain
rule under a wrong gradient), the gradient-descent step, the computation
graph where the format draws one, and the verdict.
"""
from __future__ import annotations

from typing import Any

from gradcli.i18n import N_, _, text
from gradcli.render import ledger_view
from gradcli.render.equations import Equation, Name, Number
from gradcli.render.model import (ERROR, OK, PLAIN, WARN, Cell, Column, Line, Note, Row,
                                  Section, Table, figure)
from gradcli.render.numbers import err, num, tensor_view

FORMS = {"graph": N_("graph"), "layers": N_("layers")}


def _value_cell(value: Any, digits: int = 6) -> Cell:
    view = tensor_view(value, digits)
    return Cell(view.text, tensor=view)


def forward_table(report) -> Table:
    texts = report.expressions
    columns = [Column(_("name"), left=True), Column(_("expression"), left=True),
               Column(_("value"))]
    rows = [Row([Cell(name), Cell(texts.get(name, ""), code=True), _value_cell(value)])
            for name, value in report.nodes.items()]
    if report.loss_name not in report.nodes:
        rows.append(Row([Cell(report.loss_name), Cell(texts.get("__loss__", ""), code=True),
                         _value_cell(report.loss)]))
    return Table("forward", _("Forward pass"), columns, rows)


def _check_cell(p) -> Cell:
    if p.ok and p.band == "kink":
        return Cell(_("kink"), WARN)
    if p.ok and p.band == "fd-artefact":
        return Cell(_("fd-artefact"), PLAIN)
    return Cell(_("ok"), OK) if p.ok else Cell(_("FAIL"), ERROR)


def gradient_table(report) -> Table:
    columns = [Column(_("name"), left=True), Column(_("reverse")), Column(_("numeric")),
               Column(_("symbolic")), Column(_("rel error")), Column(_("check"))]
    rows = []
    for p in report.params:
        symbolic = _value_cell(p.symbolic) if p.symbolic is not None else Cell(_("skipped"))
        notes = []
        if p.attribution:  # why the methods disagree, or why that is fine (a kink)
            notes.append(Note(text(p.attribution), WARN if p.ok else ERROR, p.name))
        if p.note:  # compared at the numeric error estimate
            notes.append(Note(text(p.note), WARN, p.name))
        rows.append(Row([Cell(p.name), _value_cell(p.reverse), _value_cell(p.numeric),
                         symbolic, Cell(err(p.rel_error)), _check_cell(p)], notes))
    return Table("gradients", _("Gradients of {loss}", loss=report.loss_name), columns, rows)


def expect_table(report) -> Table:
    columns = [Column(_("name"), left=True), Column(_("expected")), Column(_("actual")),
               Column(_("check")), Column(_("diagnosis"), left=True)]
    rows = []
    for e in report.expect:
        mark = Cell(_("ok"), OK) if e.ok else Cell(_("WRONG"), ERROR)
        expected = _value_cell(e.expected)
        if getattr(e, "formula", None) is not None:  # the formula as written, and its value
            expected = Cell(f"{e.formula} = {expected.text}", tensor=expected.tensor,
                            label=e.formula)
        rows.append(Row([Cell(e.name), expected, _value_cell(e.actual), mark,
                         Cell(text(e.diagnosis))], ledger_view.wrong_gradient_notes(report, e)))
    return Table("expect", _("Hand answers (expect)"), columns, rows)


def update_table(report) -> Table:
    columns = [Column(_("name"), left=True), Column(_("old")), Column(_("gradient")),
               Column(_("new"))]
    rows = [Row([Cell(u.name), _value_cell(u.old), _value_cell(u.grad), _value_cell(u.new)])
            for u in report.update]
    return Table("update", _("One gradient-descent step (lr = {lr})", lr=f"{report.lr:g}"),
                 columns, rows)


def check_section(report, show_paths: bool = False, show_recurrence: bool = False,
                  picture: Any = None) -> Section:
    """Everything the reports of `report` show, in order; `picture` (a gradcli.pictures
    Picture) is the computation graph, for the formats that draw it."""
    blocks: list[Any] = [forward_table(report)]
    loss = num(report.loss)
    blocks.append(Line(f"{report.loss_name} = {loss}", strong=True,
                       math=Equation(Name(report.loss_name), Number(loss))))
    blocks.append(gradient_table(report))
    if report.symbolic_note:
        blocks.append(Line(_("symbolic: {note}", note=text(report.symbolic_note)), WARN))
    blocks += [Line(_("note: {note}", note=text(n)), WARN) for n in report.notes]
    chain = ledger_view.chain_block(report, show_paths)
    if chain is not None:
        blocks.append(chain)
    capped, tensors = ledger_view.unlisted(report)
    blocks += ledger_view.unlisted_lines(capped, tensors)
    if report.recurrence and (show_recurrence or capped or tensors or chain is None):
        blocks.append(ledger_view.recurrence_block(report))
    layers = ledger_view.layer_ledger(report)
    if layers is not None:
        blocks.append(layers)
    if report.expect:
        blocks.append(expect_table(report))
    if report.update:
        blocks.append(update_table(report))
        blocks.append(Line(f"{report.loss_name}: {num(report.loss)} -> "
                           f"{num(report.loss_after)}"))
    if picture is not None:
        blocks.append(figure(picture))
    verdict = Line(_("ok"), OK, strong=True) if report.ok else \
        Line(_("FAILED"), ERROR, strong=True)
    title = _("{file}  ({form} form)", file=report.file, form=_(FORMS.get(report.form,
                                                                          report.form)))
    return Section(title, blocks, report.ok, verdict, kind="check", subtitle=report.file)


def error_section(path: str, message: str) -> Section:
    """A file that could not be used, in a document of several files."""
    return Section(path, [Line(message, ERROR)], False,
                   Line(_("not checked: the file could not be used"), ERROR, strong=True),
                   kind="error", subtitle=path)
