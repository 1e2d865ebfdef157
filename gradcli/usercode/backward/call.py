"""Parent side of `check --backward FILE.py:FUNC`: one call of the user's function.

The file is read and compiled first without running it (check-code's
`runner.validate`: a missing file, not Python, a syntax error are exit 2
before any process starts).  The parameters and inputs go to the child as
an `.npz` (read back without pickle), the child runs in its own session so
that past `--code-timeout` its whole process group is killed, and the
memory budget is its RLIMIT_AS.  This isolates mistakes, not malice.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from gradcli.errors import GradcliError
from gradcli.i18n import M, Msg
from gradcli.usercode.results import from_wire
from gradcli.usercode.runner import DEFAULT_MEMORY, _child_env, _wait, validate

DEFAULT_CODE_TIMEOUT = 60.0
#: statuses of the child that make the file unusable (exit 2)
UNUSABLE = ("import", "missing", "signature", "memory", "exit")


@dataclass
class Called:
    """What FUNC gave back: gradients by key, or why the call failed (exit 1)."""

    grads: dict[str, Any] = field(default_factory=dict)  # float64 arrays
    errors: dict[str, Msg] = field(default_factory=dict)  # keys whose value is no number
    keys: list[str] = field(default_factory=list)  # every returned key, in order
    error: Msg | None = None  # the call raised or returned no dict: "f.py:9: ZeroDivisionError"
    printed_lines: int = 0


def parse_target(target: str) -> tuple[str, str]:
    """FILE.py:FUNC -> (path, function name); exit 2 when it is not of that form."""
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name.isidentifier():
        raise GradcliError(M("expected FILE.py:FUNC (a Python file and the name of its "
                             "backward function), got {target}", target=repr(target)),
                           "--backward")
    return path, name


def check_timeout(seconds: float) -> None:
    if not (seconds > 0 and math.isfinite(seconds)):
        raise GradcliError(M("must be a positive number of seconds, got {value}",
                             value=seconds), "--code-timeout")


def call(target: str, params: dict[str, Any], inputs: dict[str, Any],
         timeout: float = DEFAULT_CODE_TIMEOUT, max_memory: str = DEFAULT_MEMORY) -> Called:
    """Run FUNC(params, inputs) in a child process.  GradcliError (exit 2) when the file
    or FUNC cannot be used or the time limit passed; a Called with `error` when the call
    itself raised (exit 1)."""
    from gradcli.usercode.make import parse_size

    check_timeout(timeout)
    path, name = parse_target(target)
    real = validate(path)
    budget = parse_size(max_memory)
    tmp = tempfile.mkdtemp(prefix="gradcli-backward-")
    try:
        req = _request(tmp, real, path, name, params, inputs, budget, max_memory)
        status = _run(req, timeout, path)
        return _collect(req, status, path, max_memory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _request(tmp: str, real: str, shown: str, name: str, params: dict, inputs: dict,
             budget: int, budget_text: str) -> dict[str, Any]:
    import numpy as np

    work = os.path.join(tmp, "work")
    os.mkdir(work)
    arrays = {**params, **inputs}
    req = {"path": real, "shown": shown, "function": name, "cwd": work,
           "output": os.path.join(tmp, "output"), "result": os.path.join(tmp, "result.json"),
           "arrays": os.path.join(tmp, "arrays.npz"), "grads": os.path.join(tmp, "grads.npz"),
           "params": list(params), "inputs": list(inputs),
           "scalars": [k for k, v in arrays.items() if isinstance(v, float)],
           "max_memory": budget, "max_memory_text": budget_text}
    np.savez(req["arrays"], **{k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()})
    return req


def _run(req: dict[str, Any], timeout: float, shown: str) -> int:
    req_path = os.path.join(os.path.dirname(req["result"]), "request.json")
    with open(req_path, "w", encoding="utf-8") as fh:
        json.dump(req, fh)
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradcli.usercode.backward.child", req_path],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=_child_env(), start_new_session=True)
    status = _wait(proc, timeout - (time.monotonic() - started))
    if status is None:
        raise GradcliError(M("ran past the time limit --code-timeout {seconds:g} s (an "
                             "endless loop at import or in the function?)", seconds=timeout),
                           shown)
    return status


def _collect(req: dict[str, Any], status: int, shown: str, budget: str) -> Called:
    import numpy as np

    try:
        with open(req["result"], encoding="utf-8") as fh:
            result = from_wire(json.load(fh))
    except (OSError, ValueError):
        raise GradcliError(_died(status, budget), shown) from None
    if result["status"] in UNUSABLE:
        raise GradcliError(result["what"], result.get("where") or shown)
    called = Called(printed_lines=_printed(req["output"]))
    if result["status"] != "called":  # raised, or returned no dict: every item fails
        called.error = M("{where}: {what}", where=result.get("where") or shown,
                         what=result["what"])
        return called
    called.keys, called.errors = result["keys"], result["errors"]
    if result["grad_names"]:
        with np.load(req["grads"], allow_pickle=False) as data:
            called.grads = {n: np.array(data[f"g{i}"])
                            for i, n in enumerate(result["grad_names"])}
    return called


def _printed(path: str) -> int:
    try:
        with open(path, "rb") as fh:
            return fh.read().count(b"\n")
    except OSError:
        return 0


def _died(status: int, budget: str) -> Msg:
    from types import SimpleNamespace

    from gradcli.usercode.runner import _died as died

    return died(status, SimpleNamespace(max_memory=budget))
