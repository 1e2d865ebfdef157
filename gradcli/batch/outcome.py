"""What one file's check hands back to the batch runner, from any process.

An Outcome is plain, picklable data: the exit code, the `--json` line (made
where the file was checked, so worker processes share the serialising), the
report itself when the parent prints tables, the error text of a file that
cannot be used, and its row of the closing summary.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gradcli.errors import GradcliError, escape
from gradcli.i18n import M


@dataclass
class Row:
    """One file in the closing summary (see `summary`).

    `gradcli check` fills `right`/`wrong` (expect answers) and `gradients_ok`;
    `gradcli check-code` fills `passed`/`failed` (components).  Counts are
    None for a file that could not be used.
    """

    file: str
    exit: int
    error: str | None = None  # the English `error:` line of an unusable file
    right: int | None = None
    wrong: int | None = None
    gradients_ok: bool | None = None
    passed: int | None = None
    failed: int | None = None
    error_shown: str | None = None  # the `error:` line in the reader's language (tables)

    @property
    def ok(self) -> bool:
        return self.exit == 0


@dataclass
class Outcome:
    file: str
    code: int  # 0 passed, 1 a check failed, 2 unusable
    row: Row
    json_lines: list[str] | None = None  # check: the file's --json line
    report: Any = None  # the result the parent prints (CheckReport, check-code FileResult)
    error: str | None = None  # stderr text of an unusable file (translated; may hold a caret)
    error_english: str | None = None  # the same as one English line, for JSON
    spec: Any = None  # the loaded Spec, when kept in this process (the report's picture)


def failure(path: str, exc: BaseException, debug: bool = False) -> Outcome:
    """The Outcome of a file whose check raised: exit 2, its `error:` line.

    A GradcliError says where itself; anything else is named after the file
    (a batch must say which student's file ran out of memory).
    """
    original = exc
    if not isinstance(exc, GradcliError):
        exc = _as_error(path, exc)
    shown = exc.line() + (f"\n{exc.detail}" if exc.detail else "")
    if debug:  # formatted here: a traceback does not travel between processes
        import traceback  # only for --debug

        shown += "\n" + "".join(traceback.format_exception(original)).rstrip()
    english = exc.english_line()
    row = Row(path, exc.exit_code, english, error_shown=exc.line())
    return Outcome(path, exc.exit_code, row, error=shown, error_english=english)


def unusable(path: str, what: Any, where: str | None = None) -> Outcome:
    """A file that could not be checked for a reason found outside its check."""
    return failure(path, GradcliError(what, where or path))


def _as_error(path: str, exc: BaseException) -> GradcliError:
    if isinstance(exc, RecursionError):
        error = GradcliError(M("nested too deeply for this machine"), path)
    elif isinstance(exc, MemoryError):
        error = GradcliError(M("too large (out of memory)"), path)
    else:
        error = GradcliError(M("{kind}: {what} (rerun with --debug for a traceback)",
                               kind=type(exc).__name__, what=escape(exc)), path)
    return error


def error_json(outcome: Outcome) -> str:
    """The --json line of a file that cannot be used (CONTRACT: never silently dropped)."""
    return json_line({"file": outcome.file, "ok": False, "exit": outcome.code,
                      "error": outcome.error_english})


def json_line(obj: Any) -> str:
    """`json.dumps(obj)`, refusing NaN and infinity (what JSON cannot hold)."""
    return _ENCODER.encode(obj)


def _json_default(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    raise TypeError(f"cannot serialise {type(value).__name__}")


#: One encoder for every line.  The objects are trees built by `to_json` methods, so the
#: check for reference cycles (an id per container, a tenth of the time) is left out.
_ENCODER = json.JSONEncoder(allow_nan=False, default=_json_default, check_circular=False)
