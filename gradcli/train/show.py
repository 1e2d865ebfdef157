"""The human-readable report of `gradcli train` (Rich tables and a text plot).

Runs sit side by side: one summary table (lr, final loss, status, steps,
where it diverged, and the final value of up to four scalar parameters), one
table of the loss every K steps with a column per run, the per-layer gradient
norms of a layer network at the first and last step with any vanishing or
exploding warning, and the plot of every run's loss curve.
"""
from __future__ import annotations

import math
import sys
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gradcli.i18n import _, text
from gradcli.train.loop import CONVERGED, DIVERGED, INTERRUPTED, RunResult

MAX_PARAM_COLUMNS = 4  # scalar parameters shown in the summary table
MAX_NORM_RUNS = 2  # with more runs the step table shows only the loss


def _console() -> Console:
    console = Console(highlight=False, soft_wrap=False, markup=False)
    if not console.is_terminal:  # files and pipes: numbers never truncated
        console.width = 200
    return console


def num(v: float | None, digits: int = 6) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:.{digits}g}"


def lr_label(lr: float) -> str:
    return _("lr {lr}", lr=f"{lr:g}")


def _table(title: str, headers: list[str], left: int = 1) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left",
                  title_style="bold")
    for i, h in enumerate(headers):
        table.add_column(h, justify="left" if i < left else "right", no_wrap=True)
    return table


STATUS_STYLE = {CONVERGED: "green", DIVERGED: "bold red", INTERRUPTED: "yellow"}


def report(problem, results: list[RunResult], opts, saved: str | None = None) -> None:
    console = _console()
    if not results:
        return
    first = results[0]
    console.print(Text(_("gradcli train {target}: {optimizer}, up to {steps} steps{clip}",
                         target=problem.label, optimizer=first.optimizer,
                         steps=f"{opts.steps:,}",
                         clip=_(", gradients clipped to norm {norm}", norm=f"{opts.clip:g}")
                         if opts.clip is not None else ""), style="bold"))
    if problem.kind == "expression":
        start = ", ".join(f"{n} = {num(v, 10)}" for n, v in zip(problem.names, problem.start))
        console.print(Text(_("start: {point}, loss {loss}", point=start,
                             loss=num(first.loss[0], 10))))
    console.print()
    console.print(_summary(problem, results))
    console.print(_steps_table(results, opts.every or max(1, opts.steps // 10)))
    _layers(console, results)
    for r in results:
        if r.status == INTERRUPTED:
            console.print(Text(_("interrupted (Ctrl-C) after {steps} steps of the run with "
                                 "{lr}: the results so far are shown",
                                 steps=f"{r.steps:,}", lr=lr_label(r.lr)), style="yellow"))
    if saved:
        console.print(Text(_("saved the trained params to {path} (check it with: gradcli "
                             "check {path})", path=saved)))
    if _plot_wanted(opts):
        _plot(console, results)


def progress_line(lr: float):
    """A one-line progress note on stderr (a terminal), redrawn at most twice a second;
    `done` < 0 clears it."""
    import time

    from gradcli.train.plot import display_width

    state = {"shown": time.monotonic(), "width": 0}

    def update(done: int, total: int) -> None:
        if done < 0:
            if state["width"]:
                sys.stderr.write("\r" + " " * state["width"] + "\r")
                sys.stderr.flush()
            return
        now = time.monotonic()
        if now - state["shown"] < 0.5:
            return
        state["shown"] = now
        line = _("training with {lr}: step {done} of {total}", lr=lr_label(lr),
                 done=f"{done:,}", total=f"{total:,}")
        state["width"] = max(state["width"], display_width(line))
        sys.stderr.write("\r" + line)
        sys.stderr.flush()

    return update


def saved_note(path: str) -> None:
    """Under --json (stdout is JSON only), the save note goes to stderr."""
    print(_("saved the trained params to {path}", path=path), file=sys.stderr)


def _plot_wanted(opts) -> bool:
    if opts.plot is not None:
        return opts.plot
    return sys.stdout.isatty()


def _summary(problem, results: list[RunResult]) -> Table:
    scalars = (problem.kind == "expression" or all(isinstance(v, float) for v in problem.start))
    shown = problem.names if scalars and len(problem.names) <= MAX_PARAM_COLUMNS else []
    table = _table(_("Runs"), [_("lr"), _("final loss"), _("status"), _("steps"),
                               _("diverged at")] + [_("final {name}", name=n) for n in shown])
    for r in results:
        values = dict(zip(r.names, r.params))
        table.add_row(f"{r.lr:g}", num(r.final_loss),
                      Text(_(r.status), style=STATUS_STYLE.get(r.status, "")),
                      f"{r.steps:,}", "—" if r.diverged_at is None else f"{r.diverged_at:,}",
                      *[num(values[n]) for n in shown])
    return table


def step_rows(results: list[RunResult], every: int) -> list[int]:
    """Steps 0, K, 2K, ... up to the longest run, plus each run's last step."""
    longest = max(len(r.loss) for r in results) - 1
    rows = set(range(0, longest + 1, every)) | {len(r.loss) - 1 for r in results}
    return sorted(rows)


def _steps_table(results: list[RunResult], every: int) -> Table:
    norms = len(results) <= MAX_NORM_RUNS
    headers = [_("step")]
    for r in results:
        headers.append(_("loss ({lr})", lr=lr_label(r.lr)) if norms else lr_label(r.lr))
        if norms:
            headers.append(_("‖∇L‖ ({lr})", lr=lr_label(r.lr)))
    title = _("Loss every {every} steps", every=f"{every:,}") if norms else \
        _("Loss every {every} steps, one column per run", every=f"{every:,}")
    table = _table(title, headers, left=0)
    for k in step_rows(results, every):
        row = [f"{k:,}"]
        for r in results:
            row.append(num(r.loss[k]) if k < len(r.loss) else "")
            if norms:
                row.append(num(r.grad_norm[k], 3) if k < len(r.grad_norm) else "")
        table.add_row(*row)
    return table


def _layers(console: Console, results: list[RunResult]) -> None:
    first = results[0].first_layers
    if first is None:
        return
    headers = [_("layer"), _("‖dL/dW_k‖ at step 0")]
    headers += [_("at step {step} ({lr})", step=f"{len(r.loss) - 1:,}", lr=lr_label(r.lr))
                for r in results]  # the last point whose gradient is known
    table = _table(_("Gradient norms per layer"), headers)
    for k in range(len(first.norms)):
        table.add_row(f"W{k + 1}", num(first.norms[k], 3),
                      *[num(r.last_layers.norms[k], 3) if r.last_layers else "—"
                        for r in results])
    console.print(table)
    at_start = first.warnings(0)
    for _kind, w in at_start:  # the same start for every run: said once
        console.print(Text(_("warning: {what}", what=text(w)), style="yellow"))
    for r in results:
        for kind, w in (r.last_layers.warnings(len(r.loss) - 1) if r.last_layers else []):
            if kind not in {k for k, _w in at_start}:
                console.print(Text(_("warning: {what} ({lr})", what=text(w),
                                     lr=lr_label(r.lr)), style="yellow"))


def _plot(console: Console, results: list[RunResult]) -> None:
    from gradcli.train.plot import loss_plot

    width = min(80, console.width if console.is_terminal else 80)
    lines = loss_plot([(lr_label(r.lr), r.loss) for r in results], _("loss"),
                      _("loss (log scale)"), width=max(40, width))
    console.print()
    for line in lines:
        console.print(Text(line))

