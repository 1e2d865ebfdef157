"""`gradcli check-code FILE...` as a library call: options in, lines out, an exit code back.

stdout: one JSON line per component (`--json`) or the Rich report; stderr: one
`error: <where>: <what>` line per file or component that cannot be used.
Exit code: the worst over files (2 over 1 over 0).
"""
from __future__ import annotations

import json
import math
import sys
from typing import Any

from gradcli.errors import GradcliError, escape
from gradcli.i18n import M, text
from gradcli.usercode.results import FileResult
from gradcli.usercode.runner import Options, Pending


def options(makes: list[str], inputs: list[str], only: list[str], rtol: float, atol: float,
            timeout: float, seed: int, max_memory: str) -> Options:
    """Validated options (GradcliError, exit 2, for any bad one; nothing is evaluated)."""
    from gradcli.usercode.make import parse_input, parse_make, parse_size

    for name, value in (("--rtol", rtol), ("--atol", atol)):
        if not (value >= 0 and math.isfinite(value)):
            raise GradcliError(M("must be a finite number >= 0, got {value}", value=value), name)
    if not (timeout > 0 and math.isfinite(timeout)):
        raise GradcliError(M("must be a positive number of seconds, got {value}",
                             value=timeout), "--timeout")
    if seed < 0:
        raise GradcliError(M("must be >= 0, got {value}", value=seed), "--seed")
    for m in makes:
        parse_make(m)
    parsed: dict[str, list[tuple[int, ...]]] = {}
    for item in inputs:
        name, shapes = parse_input(item)
        parsed[name] = shapes
    parse_size(max_memory)
    return Options(list(makes), parsed, list(only), rtol, atol, timeout, seed, max_memory)


def _error_line(where: str | None, what: Any) -> str:
    return GradcliError(what, where).line()


def _english_line(where: str | None, what: Any) -> str:
    return GradcliError(what, where).english_line()


def report(result: FileResult, as_json: bool, console: Any) -> None:
    """Print one file's result; error lines to stderr."""
    if result.error is not None:
        print(_error_line(result.where or result.file, result.error), file=sys.stderr)
        if as_json:
            _emit({"file": result.file, "ok": False, "exit": 2,
                   "error": _english_line(result.where or result.file, result.error)})
        return
    for comp in result.components:
        where = comp.where or result.file
        if comp.error is not None:
            # located in the user's file (a constructor raised): `file.py:14: ValueError: ...`
            # as the contract writes it; otherwise the component is named
            what = comp.error if where != result.file else M(
                "{target}: {why}", target=comp.target, why=comp.error)
            print(_error_line(where, what), file=sys.stderr)
        if as_json:
            data = comp.to_json()
            if comp.error is not None:
                data["error"] = _english_line(where, what)
            _emit(data)
    if not as_json:
        from gradcli.usercode.render import file_report

        file_report(result, console)


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, allow_nan=False) + "\n")
    sys.stdout.flush()


def run(files: list[str], opts: Options, as_json: bool) -> int:
    console = None
    worst = 0
    for path in files:
        pending = Pending(path, opts)  # the child starts now ...
        if console is None and not as_json:  # ... while Rich is imported here
            from rich.console import Console

            console = Console(highlight=False, soft_wrap=False, markup=False)
            import gradcli.usercode.render  # noqa: F401
        result = pending.finish()
        report(result, as_json, console)
        worst = max(worst, result.exit_code)
    return worst


__all__ = ["options", "run", "report", "escape", "text"]
