"""One file's work, as the batch runner asks for it: in this process or a worker.

`check_file` is what `gradcli check` does for each file (load, check, the
--json line, the summary row); it never raises for a bad file: the failure
is its Outcome.  `check_code_outcome` turns a check-code FileResult (made by
its own child process) into the same shape.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from gradcli.batch.outcome import Outcome, Row, failure, json_line
from gradcli.errors import GradcliError
from gradcli.i18n import M


@dataclass(frozen=True)
class CheckSettings:
    """The `gradcli check` options a file's check needs (picklable, for workers)."""

    rtol: float = 1e-5
    atol: float = 1e-8
    lr: float | None = None
    timeout: float = 10.0  # SymPy seconds per file
    full: bool = False
    as_json: bool = False
    keep_report: bool = True  # the parent prints the report's tables
    keep_spec: bool = False  # ... and draws the graph from the loaded file (in this process)
    debug: bool = False
    progress: bool = False  # a per-file numeric progress bar (one file, in this process)
    backward: str | None = None  # --backward FILE.py:FUNC: the user's backward, compared
    code_timeout: float = 60.0  # seconds for that file
    budget: Any = None  # gradcli.budget.Budget (--max-memory); None: the default budget
    json_full: bool = False  # --json-full: every tensor in full, not summarised


def check_file(path: str, settings: CheckSettings) -> Outcome:
    try:
        from gradcli import check, spec as specs

        loaded = specs.load(path, settings.budget)
        report = check.run(loaded, rtol=settings.rtol, atol=settings.atol, lr=settings.lr,
                           symbolic_budget=settings.timeout, full=settings.full,
                           progress=_progress() if settings.progress else None)
        if settings.backward is not None:
            from gradcli.usercode import backward as user_backward

            user_backward.attach(report, loaded, settings.backward,
                                 timeout=settings.code_timeout, rtol=settings.rtol,
                                 atol=settings.atol)
        code = 0 if report.ok else 1
        lines = None
        if settings.as_json:
            from gradcli.render import check_json
            from gradcli.report import json_tensors

            with json_tensors(full=settings.json_full):
                lines = [json_line(check_json(report))]
        right = sum(1 for e in report.expect if e.ok)
        row = Row(path, code, right=right, wrong=len(report.expect) - right,
                  gradients_ok=all(p.ok for p in report.params))
        return Outcome(path, code, row, lines, report if settings.keep_report else None,
                       spec=loaded if settings.keep_spec else None)
    except Exception as exc:  # noqa: BLE001 - a bad file is an outcome, not a crash
        return failure(path, exc, settings.debug)


def _progress():
    """The numeric check's progress bar (stderr, only on a terminal)."""
    if sys.stderr is None or not sys.stderr.isatty():
        return None
    from gradcli.render import progress_callback

    return progress_callback()


def check_code_outcome(result) -> Outcome:
    """A check-code FileResult as an Outcome (components passed / failed)."""
    code = result.exit_code
    problem = None
    if result.error is not None:
        problem = GradcliError(result.error, result.where or result.file)
    elif not result.components:
        problem = GradcliError(M("nothing checkable"), result.file)
    error = problem.english_line() if problem else None
    passed = sum(1 for c in result.components if c.ok)
    row = Row(result.file, code, error, passed=None if error else passed,
              failed=None if error else len(result.components) - passed,
              error_shown=problem.line() if problem else None)
    return Outcome(result.file, code, row, report=result, error_english=error)
