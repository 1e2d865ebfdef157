"""Parent side of check-code: read and compile each file, run its child, collect the result.

The file is read and compiled here first (never executed): a missing file,
a file that is not Python text, a syntax error (file:line:col) are reported
without starting a process.  Then one child per file
(`python -m gradcli.usercode.child`) in its own session, so that on
`--timeout` the whole process group is killed; the memory budget is the
child's RLIMIT_AS.  This isolates mistakes, not malice.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from gradcli.errors import GradcliError
from gradcli.i18n import M
from gradcli.usercode.results import FileResult, from_wire

MAX_FILE_BYTES = 5 * 2**20
DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY = "2G"


@dataclass
class Options:
    makes: list[str] = field(default_factory=list)
    inputs: dict[str, list[tuple[int, ...]]] = field(default_factory=dict)
    only: list[str] = field(default_factory=list)
    rtol: float = 1e-5
    atol: float = 1e-8
    timeout: float = DEFAULT_TIMEOUT
    seed: int = 0
    max_memory: str = DEFAULT_MEMORY


def validate(path: str) -> str:
    """Read and compile the file (no execution); its real path, or a GradcliError."""
    if not os.path.exists(path):
        raise GradcliError(M("no such file"), path)
    if os.path.isdir(path):
        raise GradcliError(M("is a directory, not a Python file"), path)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise GradcliError(M("file too large ({size} bytes; at most {limit})", size=size,
                                 limit=MAX_FILE_BYTES), path)
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise GradcliError(M("cannot read: {why}", why=exc.strerror or str(exc)), path) from None
    if path.endswith((".yaml", ".yml")):
        raise GradcliError(M("a YAML network definition, not Python: use gradcli check"), path)
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        raise GradcliError(M("not a Python file (not UTF-8 text)"), path) from None
    if "\x00" in source:
        raise GradcliError(M("not a Python file (binary content)"), path)
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = "{}:{}:{}".format(path, exc.lineno or 1, exc.offset or 1)
        raise GradcliError(M("SyntaxError: {msg}", msg=exc.msg), where) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise GradcliError(M("not a Python file: {why}", why=str(exc)), path) from None
    return os.path.realpath(path)


class Pending:
    """A file being checked in its child process; `finish()` waits and collects."""

    def __init__(self, path: str, options: Options):
        self.path, self.options = path, options
        self.result: FileResult | None = None
        self.proc: subprocess.Popen | None = None
        try:
            real = validate(path)
        except GradcliError as exc:
            self.result = FileResult(path, where=exc.where, error=exc.what, seed=options.seed)
            return
        from gradcli.usercode.make import parse_size

        self.tmp = tempfile.mkdtemp(prefix="gradcli-code-")
        work = os.path.join(self.tmp, "work")
        os.mkdir(work)
        self.req = {"path": real, "shown": path, "cwd": work,
                    "output": os.path.join(self.tmp, "output"),
                    "result": os.path.join(self.tmp, "result.json"), "makes": options.makes,
                    "inputs": {k: [list(s) for s in v] for k, v in options.inputs.items()},
                    "only": options.only, "rtol": options.rtol, "atol": options.atol,
                    "seed": options.seed, "max_memory": parse_size(options.max_memory),
                    "max_memory_text": options.max_memory}
        req_path = os.path.join(self.tmp, "request.json")
        with open(req_path, "w", encoding="utf-8") as fh:
            json.dump(self.req, fh)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gradcli.usercode.child", req_path],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=_child_env(), start_new_session=True)

    def finish(self) -> FileResult:
        if self.result is not None:
            return self.result
        assert self.proc is not None
        try:
            status = _wait(self.proc, self.options.timeout - (time.monotonic() - self.started))
            result = _collect(self.req, status, self.path, self.options)
            try:
                with open(self.req["output"], "rb") as fh:
                    result.printed_lines = fh.read().count(b"\n")
            except OSError:
                pass
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.result = result
        return result

    def running(self) -> bool:
        """Is the child still at work (and within its time limit)?"""
        if self.result is not None or self.proc is None or self.proc.poll() is not None:
            return False
        return time.monotonic() - self.started < self.options.timeout

    def cancel(self) -> None:
        """Stop the child (Ctrl-C, or the batch ended early) and remove its files."""
        if self.result is None and self.proc is not None:
            _kill(self.proc)
            shutil.rmtree(self.tmp, ignore_errors=True)


def run_file(path: str, options: Options) -> FileResult:
    """Check one file in a child process.  Bad input is a FileResult with `error` (exit 2)."""
    return Pending(path, options).finish()


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env.pop("PYTHONSTARTUP", None)
    # the child imports gradcli from where this process found it
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _wait(proc: subprocess.Popen, timeout: float) -> int | None:
    """The child's exit status, or None when it ran past the timeout (then killed)."""
    try:
        return proc.wait(timeout=max(timeout, 0.0))
    except subprocess.TimeoutExpired:
        _kill(proc)
        return None
    except BaseException:  # Ctrl-C: the child is in its own session, end it too
        _kill(proc)
        raise


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _collect(req: dict[str, Any], status: int | None, path: str, options: Options) -> FileResult:
    if status is None:
        return FileResult(path, where=path, seed=options.seed, error=M(
            "ran past the time limit --timeout {seconds:g} s (an endless loop, or a check too "
            "slow for the limit)", seconds=options.timeout))
    try:
        with open(req["result"], encoding="utf-8") as fh:
            result = from_wire(json.load(fh))
    except (OSError, ValueError):
        return FileResult(path, where=path, seed=options.seed, error=_died(status, options))
    assert isinstance(result, FileResult)
    return result


def _died(status: int, options: Options):
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = str(-status)
        return M("the process was killed by {signal} (over the memory budget --max-memory "
                 "{budget}?)", signal=name, budget=options.max_memory)
    return M("the code ended the process (exit status {status}) before it could be checked",
             status=status)
