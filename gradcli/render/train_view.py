"""`gradcli train --format html`: the runs as a Section of the view model (the
tables of the text report and the loss curves as a chart), printed in the
shared HTML page shell."""
from __future__ import annotations

from typing import Any

from gradcli.i18n import _, text
from gradcli.render import model as vm


def train_section(problem: Any, results: list, opts: Any, saved: str | None = None
                  ) -> vm.Section:
    from gradcli.train import show
    from gradcli.train.loop import CONVERGED, DIVERGED, INTERRUPTED
    from gradcli.train.plot import use_log

    first = results[0]
    clip = _(", gradients clipped to norm {norm}", norm=f"{opts.clip:g}") \
        if opts.clip is not None else ""
    title = _("gradcli train {target}: {optimizer}, up to {steps} steps{clip}",
              target=problem.label, optimizer=first.optimizer, steps=f"{opts.steps:,}",
              clip=clip)
    blocks: list[Any] = []
    if problem.kind == "expression":
        start = ", ".join(f"{n} = {show.num(v, 10)}" for n, v in zip(problem.names,
                                                                       problem.start))
        blocks.append(vm.Line(_("start: {point}, loss {loss}", point=start,
                                loss=show.num(first.loss[0], 10))))
    levels = {CONVERGED: vm.OK, DIVERGED: vm.ERROR, INTERRUPTED: vm.WARN}
    scalars = problem.kind == "expression" or all(isinstance(v, float) for v in problem.start)
    shown = problem.names if scalars and len(problem.names) <= show.MAX_PARAM_COLUMNS else []
    columns = [vm.Column(_("lr"), left=True), vm.Column(_("final loss")),
               vm.Column(_("status")), vm.Column(_("steps")), vm.Column(_("diverged at"))]
    columns += [vm.Column(_("final {name}", name=n)) for n in shown]
    rows = []
    for r in results:
        values = dict(zip(r.names, r.params))
        rows.append(vm.Row([vm.Cell(f"{r.lr:g}"), vm.Cell(show.num(r.final_loss)),
                            vm.Cell(_(r.status), levels.get(r.status, vm.PLAIN)),
                            vm.Cell(f"{r.steps:,}"),
                            vm.Cell("—" if r.diverged_at is None else f"{r.diverged_at:,}"),
                            *[vm.Cell(show.num(values[n])) for n in shown]]))
    blocks.append(vm.Table("runs", _("Runs"), columns, rows))
    losses = [v for r in results for v in r.loss]
    log = use_log([min(losses), max(losses)]) if losses else False
    blocks.append(vm.Chart(_("loss (log scale)") if log else _("loss"),
                           [(show.lr_label(r.lr), list(r.loss), r.diverged_at)
                            for r in results], log, _("step"), _("loss")))
    blocks.append(_steps_table(results, opts.every or max(1, opts.steps // 10)))
    blocks += _layers(results)
    for r in results:
        if r.status == INTERRUPTED:
            blocks.append(vm.Line(_("interrupted (Ctrl-C) after {steps} steps of the run with "
                                    "{lr}: the results so far are shown",
                                    steps=f"{r.steps:,}", lr=show.lr_label(r.lr)), vm.WARN))
    if saved:
        blocks.append(vm.Line(_("saved the trained params to {path} (check it with: gradcli "
                                "check {path})", path=saved)))
    return vm.Section(title, blocks, True, kind="train", subtitle=problem.label)


def _steps_table(results: list, every: int) -> vm.Table:
    from gradcli.train import show

    norms = len(results) <= show.MAX_NORM_RUNS
    columns = [vm.Column(_("step"))]
    for r in results:
        label = show.lr_label(r.lr)
        columns.append(vm.Column(_("loss ({lr})", lr=label) if norms else label))
        if norms:
            columns.append(vm.Column(_("‖∇L‖ ({lr})", lr=label)))
    title = _("Loss every {every} steps", every=f"{every:,}") if norms else \
        _("Loss every {every} steps, one column per run", every=f"{every:,}")
    rows = []
    for k in show.step_rows(results, every):
        cells = [vm.Cell(f"{k:,}")]
        for r in results:
            cells.append(vm.Cell(show.num(r.loss[k]) if k < len(r.loss) else ""))
            if norms:
                cells.append(vm.Cell(show.num(r.grad_norm[k], 3) if k < len(r.grad_norm)
                                     else ""))
        rows.append(vm.Row(cells))
    return vm.Table("steps", title, columns, rows)


def _layers(results: list) -> list[Any]:
    from gradcli.train import show

    first = results[0].first_layers
    if first is None:
        return []
    columns = [vm.Column(_("layer"), left=True), vm.Column(_("‖dL/dW_k‖ at step 0"))]
    columns += [vm.Column(_("at step {step} ({lr})", step=f"{len(r.loss) - 1:,}",
                            lr=show.lr_label(r.lr))) for r in results]
    rows = [vm.Row([vm.Cell(f"W{k + 1}"), vm.Cell(show.num(first.norms[k], 3)),
                    *[vm.Cell(show.num(r.last_layers.norms[k], 3) if r.last_layers else "—")
                      for r in results]]) for k in range(len(first.norms))]
    out: list[Any] = [vm.Table("layers", _("Gradient norms per layer"), columns, rows)]
    at_start = first.warnings(0)
    out += [vm.Line(_("warning: {what}", what=text(w)), vm.WARN) for _kind, w in at_start]
    for r in results:
        for kind, w in (r.last_layers.warnings(len(r.loss) - 1) if r.last_layers else []):
            if kind not in {k for k, _w in at_start}:
                out.append(vm.Line(_("warning: {what} ({lr})", what=text(w),
                                     lr=show.lr_label(r.lr)), vm.WARN))
    return out


def train_html(problem: Any, results: list, opts: Any, saved: str | None = None) -> str:
    from gradcli.render import html

    section = train_section(problem, results, opts, saved)
    return html.document(vm.Document(section.title, [section]))
