"""Driving a batch: files in, per-file output in order, the summary, one exit code.

Where files are checked is the caller's choice of Outcome source: in this
process one after another, in worker processes (`pool`), or, for
check-code, in its per-file child processes several at a time.  Whatever
the source, this module prints: per file in the order given (or as they
finish, `--unordered`), error lines on stderr, with `--json` one complete
line for an unusable file too; then the summary and the CSV; and returns
the worst exit code (2 over 1 over 0).  Ctrl-C prints what was computed,
the summary of it, and exits 130; a closed stdout ends quietly.
"""
from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from gradcli import streams
from gradcli.batch import summary as summaries
from gradcli.batch.outcome import Outcome, error_json, json_line
from gradcli.batch.progress import ProgressBar
from gradcli.batch.summary import Summary
from gradcli.errors import GradcliError
from gradcli.i18n import M, _

MAX_JOBS = 256  # worker processes: more is a typo, not a machine


@dataclass(frozen=True)
class BatchSettings:
    jobs: int = 1
    ordered: bool = True  # False: --unordered, each file as it finishes
    summary: bool = False
    summary_only: bool = False
    summary_csv: str | None = None
    as_json: bool = False
    fmt: str = "text"  # the summary table: "markdown" or anything else as text

    @property
    def summarise(self) -> bool:
        return self.summary or self.summary_only


def validate(batch: BatchSettings) -> None:
    """Refuse bad batch options before any file is checked (exit 2)."""
    if batch.jobs < 1:
        raise GradcliError(M("must be at least 1, got {value}", value=batch.jobs), "--jobs")
    if batch.jobs > MAX_JOBS:
        raise GradcliError(M("at most {limit} worker processes, got {value}",
                             limit=MAX_JOBS, value=batch.jobs), "--jobs")
    if batch.summary_csv is not None:
        summaries.check_csv_path(batch.summary_csv)


# ------------------------------------------------------------------ check ---
def run_check(files: list[str], settings, batch: BatchSettings,
              render_report: Callable[[Any, Any], None],
              on_error: Callable[[Outcome], None] | None = None,
              finish: Callable[[], None] | None = None) -> int:
    """`gradcli check FILE...`: `settings` are tasks.CheckSettings; `render_report`
    prints one CheckReport (text and markdown at once; LaTeX and HTML collect the
    reports and `finish` prints the one document), given the loaded Spec too when the
    file was checked in this process and the format draws its graph (else None);
    `on_error` sees an unusable file."""
    import dataclasses

    from gradcli.batch import tasks

    validate(batch)
    keep_report = not batch.as_json and not batch.summary_only
    in_process = batch.jobs == 1 or len(files) == 1
    settings = dataclasses.replace(
        settings, as_json=batch.as_json, keep_report=keep_report,
        keep_spec=keep_report and in_process and batch.fmt in ("html", "markdown"),
        progress=len(files) == 1 and not batch.as_json)
    if not in_process:
        _warm_up()
        from gradcli.batch import pool

        outcomes = pool.run(files, batch.jobs, tasks.check_file, settings)
    else:
        outcomes = _in_process(files, tasks.check_file, settings)

    def emit(outcome: Outcome) -> None:
        if outcome.error is not None:
            streams.err(outcome.error)
            if batch.as_json and not batch.summary_only:
                _write(error_json(outcome) + "\n")
            elif on_error is not None and not batch.summary_only:
                on_error(outcome)
        elif batch.summary_only:
            return
        elif batch.as_json:
            _write("".join(line + "\n" for line in outcome.json_lines or ()))
        else:
            render_report(outcome.report, outcome.spec)

    done = finish if not (batch.as_json or batch.summary_only) else None
    return drive(outcomes, len(files), emit, Summary("check"), batch, done)


def _in_process(files: list[str], task, settings) -> Iterator[tuple[int, Outcome]]:
    from gradcli import structure_cache

    with structure_cache.scope():
        for index, path in enumerate(files):
            yield index, task(path, settings)


def _warm_up() -> None:
    """Import the checking code before forking, so workers start ready."""
    import gradcli.check  # noqa: F401
    import gradcli.grading  # noqa: F401
    import gradcli.ledger  # noqa: F401
    import gradcli.render  # noqa: F401
    import gradcli.spec  # noqa: F401
    import gradcli.symbolic  # noqa: F401


# ------------------------------------------------------------- check-code ---
def run_check_code(files: list[str], options, batch: BatchSettings) -> int:
    """`gradcli check-code FILE...`: each file already runs in its own child
    process; `--jobs N` keeps N of them running at once."""
    from gradcli.batch.tasks import check_code_outcome
    from gradcli.usercode import command

    validate(batch)
    console: list[Any] = []

    def emit(outcome: Outcome) -> None:
        if not console and not batch.as_json:
            from rich.console import Console

            console.append(Console(highlight=False, soft_wrap=False, markup=False))
        shown = console[0] if console else None
        if batch.summary_only:  # the error lines still go to stderr
            with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
                command.report(outcome.report, batch.as_json, shown)
        else:
            command.report(outcome.report, batch.as_json, shown)

    outcomes = ((i, check_code_outcome(result)) for i, result in
                _children(files, options, batch.jobs))
    return drive(outcomes, len(files), emit, Summary("check-code"), batch)


def _children(files: list[str], options, jobs: int) -> Iterator[tuple[int, Any]]:
    """(index, FileResult) as the children finish, at most `jobs` running at once."""
    import time

    from gradcli.usercode.runner import Pending

    running: dict[int, Pending] = {}
    following = 0
    try:
        while following < len(files) or running:
            while len(running) < jobs and following < len(files):
                running[following] = Pending(files[following], options)
                following += 1
            done = [i for i, p in running.items() if not p.running()]
            if not done:
                time.sleep(0.01)
                continue
            for index in done:
                yield index, running.pop(index).finish()
    finally:
        for pending in running.values():
            pending.cancel()


# ------------------------------------------------------------------ drive ---
def drive(outcomes: Iterator[tuple[int, Outcome]], total: int,
          emit: Callable[[Outcome], None], summary: Summary, batch: BatchSettings,
          finish: Callable[[], None] | None = None) -> int:
    """Print every outcome (in order unless --unordered), `finish()`, then the summary."""
    bar = ProgressBar(total)
    stdout_tty = _isatty(sys.stdout)
    rows: dict[int, Any] = {}
    waiting: dict[int, Outcome] = {}
    state = {"worst": 0, "next": 0}

    def show(index: int, outcome: Outcome) -> None:
        if bar.shown and (stdout_tty or outcome.error is not None):
            bar.clear()
        rows[index] = outcome.row  # counted before printing: a closed pipe keeps the code
        state["worst"] = max(state["worst"], outcome.code)
        if sys.stdout is None:  # stdout closed (`>&-`): only the error lines are said
            if outcome.error is not None:
                streams.err(outcome.error)
        else:
            emit(outcome)
            sys.stdout.flush()
        bar.update(len(rows))

    interrupted, closed = False, sys.stdout is None
    try:
        for index, outcome in outcomes:
            if not batch.ordered:
                show(index, outcome)
                continue
            waiting[index] = outcome
            while state["next"] in waiting:
                show(state["next"], waiting.pop(state["next"]))
                state["next"] += 1
    except KeyboardInterrupt:
        interrupted = True
    except (BrokenPipeError, SystemExit) as exc:  # SystemExit: Rich's closed pipe
        if not streams.pipe_closed(exc):
            raise
        closed = True
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()  # stops the workers
    bar.clear()
    try:
        if interrupted:  # what was computed is shown, even out of order
            for index in sorted(waiting):
                show(index, waiting[index])
        summary.rows = [rows[i] for i in sorted(rows)]
        if not closed and finish is not None:
            try:
                finish()
            except GradcliError as exc:
                streams.err(exc.line())
                state["worst"] = max(state["worst"], 2)
        if not closed:
            _print_summary(summary, batch)
    except (BrokenPipeError, SystemExit) as exc:
        if not streams.pipe_closed(exc):
            raise
        closed = True
    if closed:
        _quiet_stdout()
    code = state["worst"]
    if batch.summary_csv is not None:
        try:
            summaries.write_csv(summary, batch.summary_csv)
        except GradcliError as exc:
            streams.err(exc.line())
            code = 2
    if interrupted:
        streams.err("error: gradcli: " + _("interrupted"))
        return 130
    return code


def _print_summary(summary: Summary, batch: BatchSettings) -> None:
    if not batch.summarise:
        return
    if batch.as_json:
        _write(json_line(summary.to_json()) + "\n")
    elif batch.fmt == "markdown":
        if not batch.summary_only:
            _write("\n")
        _write(summaries.markdown(summary))
    else:
        from rich.console import Console

        summaries.print_text(summary, Console(highlight=False, markup=False))
    sys.stdout.flush()


def _write(text: str) -> None:
    sys.stdout.write(text)


def _isatty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _quiet_stdout() -> None:
    """stdout was closed by the reader (`| head`): drop whatever is still buffered."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
