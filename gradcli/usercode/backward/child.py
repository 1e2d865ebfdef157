"""The child process of `check --backward` (`python -m gradcli.usercode.backward.child REQ`).

Like check-code's child (whose pieces it reuses): the memory budget, a
temporary working directory, the user's prints captured, the file imported
under its own module name.  Then it calls FUNC(params, inputs) once, with
the arrays the parent saved (`arrays.npz`, read without pickle; scalars
passed as floats), and writes what came back: the gradients as float64
arrays (`grads.npz`) and a JSON status.  The parent compares; nothing here
decides whether a gradient is right.

Status: "called" (a dict came back); "raised" / "returned" (the call raised,
or returned no dict: exit 1, every item fails); "import", "missing",
"signature", "memory", "exit" (the file or FUNC cannot be used, or the call
ended the process with sys.exit, as check-code treats it: exit 2).
"""
from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from gradcli.i18n import M
from gradcli.usercode.results import to_wire


def load_arrays(path: str, scalars: list[str], order: list[str]) -> dict[str, Any]:
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        return {name: float(data[name]) if name in scalars else np.array(data[name])
                for name in order}


def _function(module: Any, name: str, shown: str) -> tuple[Any, dict | None]:
    """FUNC from the module, or the status of why it cannot be called."""
    missing = object()
    func = getattr(module, name, missing)
    if func is missing:
        defined = sorted(n for n, v in vars(module).items()
                         if inspect.isfunction(v) and v.__module__ == module.__name__)
        return None, {"status": "missing", "where": shown, "what": M(
            "{file} defines no function {name} (functions defined: {found})", file=shown,
            name=name, found=", ".join(defined) or "none")}
    if not callable(func):
        return None, {"status": "missing", "where": shown, "what": M(
            "{name} in {file} is not callable (it is a {type})", name=name, file=shown,
            type=type(func).__name__)}
    try:
        inspect.signature(func).bind({}, {})
    except TypeError as exc:
        return None, {"status": "signature", "where": shown, "what": M(
            "{name} must take two arguments, (params, inputs): {why}", name=name,
            why=str(exc))}
    except ValueError:  # a builtin without a signature: let the call decide
        pass
    return func, None


def _gradients(value: Any, name: str) -> tuple[dict, dict[str, Any]]:
    """The returned dict as float64 arrays by key, with a status."""
    import numpy as np

    if not isinstance(value, Mapping):
        return {"status": "returned", "what": M(
            "{name} returned {type}, not a dict of gradients by parameter name", name=name,
            type=type(value).__name__)}, {}
    keys, errors, grads = [], {}, {}
    for key, grad in value.items():
        key = key if isinstance(key, str) else repr(key)
        keys.append(key)
        if grad is None or isinstance(grad, (str, bytes, bool)):  # numpy would take them
            errors[key] = M("not a number or an array of numbers ({type})",
                            type=type(grad).__name__)
            continue
        try:
            array = np.asarray(grad, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            why = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            errors[key] = M("not a number or an array of numbers ({type}: {why})",
                            type=type(grad).__name__, why=why)
            continue
        grads[key] = array
    return {"status": "called", "keys": keys, "errors": errors}, grads


def call(req: dict[str, Any]) -> tuple[dict, dict[str, Any]]:
    """Import, find FUNC, call it: (status, gradients).  Testable in-process."""
    from gradcli.usercode.child import _import_error, import_user
    from gradcli.usercode.trace import what, where

    path, shown, name = req["path"], req["shown"], req["function"]
    try:
        module = import_user(path)
    except BaseException as exc:  # noqa: BLE001 - everything the user's import can raise
        place, message = _import_error(exc, path, shown, req["max_memory_text"])
        return {"status": "import", "where": place, "what": message}, {}
    func, failed = _function(module, name, shown)
    if failed is not None:
        return failed, {}
    params = load_arrays(req["arrays"], req["scalars"], req["params"])
    inputs = load_arrays(req["arrays"], req["scalars"], req["inputs"])
    try:
        value = func(params, inputs)
    except MemoryError as exc:
        return {"status": "memory", "where": where(exc, path, shown), "what": M(
            "out of memory in {name}: the memory budget --max-memory {budget} was exceeded",
            name=name, budget=req["max_memory_text"])}, {}
    except SystemExit as exc:
        return {"status": "exit", "where": where(exc, path, shown), "what": M(
            "{name} called sys.exit({code}) instead of returning its gradients", name=name,
            code=repr(exc.code))}, {}
    except Exception as exc:  # noqa: BLE001 - a mistake inside FUNC fails the items
        return {"status": "raised", "where": where(exc, path, shown), "what": what(exc)}, {}
    status, grads = _gradients(value, name)
    status.setdefault("where", shown)
    return status, grads


def _write(req: dict[str, Any], status: dict, grads: dict[str, Any]) -> None:
    import numpy as np

    names = list(grads)
    if names:
        np.savez(req["grads"], **{f"g{i}": grads[n] for i, n in enumerate(names)})
    status["grad_names"] = names
    tmp = req["result"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(to_wire(status), fh)
    os.replace(tmp, req["result"])


def main(argv: list[str]) -> None:
    from gradcli.usercode.child import prepare

    req = prepare(argv[1])
    try:
        status, grads = call(req)
    except MemoryError:
        status, grads = {"status": "memory", "where": req["shown"], "what": M(
            "out of memory: the memory budget --max-memory {budget} was exceeded",
            budget=req["max_memory_text"])}, {}
    try:
        _write(req, status, grads)
    except MemoryError:
        pass  # no result: the parent reports the memory budget
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
