"""The child process that imports and checks one user file (`python -m gradcli.usercode.child REQ`).

It runs with the memory budget (RLIMIT_AS), in a temporary working
directory, with file descriptors 1 and 2 sent to a capture file (so the
user's prints, even from C code, never reach gradcli's output), imports the
file under its own module name (never `__main__`) and writes a FileResult
(wire form, JSON) to the result path of the request.  It ends with
`os._exit` so that the user's threads and atexit handlers cannot hold it.
"""
from __future__ import annotations

import importlib.util
import json
import os
import sys
from typing import Any

from gradcli.i18n import M, Msg
from gradcli.usercode.results import FileResult, to_wire


def _limit_memory(budget: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
    except (ImportError, ValueError, OSError):  # not on this platform: the timeout remains
        pass


def _capture(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


def module_name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    name = stem if stem.isidentifier() else "_gradcli_user_" + "".join(
        c if c.isalnum() else "_" for c in stem)
    if name in sys.modules or name == "__main__":
        name = "_gradcli_user_" + name
    return name


def import_user(path: str) -> Any:
    name = module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load " + path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, os.path.dirname(path))
    # no __pycache__ beside the user's files; gradcli's own modules, imported later,
    # may still be cached
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = False
    return module


def _import_error(exc: BaseException, path: str, shown: str, budget: str) -> tuple[str, Msg]:
    from gradcli.usercode.trace import what, where

    if isinstance(exc, SystemExit):
        return where(exc, path, shown), M("the file calls sys.exit({code}) at import; put "
                                          "that code under if __name__ == \"__main__\":",
                                          code=repr(exc.code))
    if isinstance(exc, MemoryError):
        return where(exc, path, shown), M("out of memory at import: the memory budget "
                                          "--max-memory {budget} was exceeded", budget=budget)
    if isinstance(exc, KeyboardInterrupt):
        return shown, M("interrupted")
    return where(exc, path, shown), what(exc)


def check_file(req: dict[str, Any]) -> FileResult:
    """Import the file and check what it holds (the child's whole job, testable in-process)."""
    from gradcli.usercode.make import parse_make

    path, shown = req["path"], req["shown"]
    result = FileResult(shown, seed=req["seed"])
    try:
        module = import_user(path)
    except BaseException as exc:  # noqa: BLE001 - everything the user's import can raise
        result.where, result.error = _import_error(exc, path, shown, req["max_memory_text"])
        return result
    from gradcli.usercode import discover
    from gradcli.usercode.context import Context

    _seed_global_generators(req["seed"])
    ctx = Context(path, shown, req["rtol"], req["atol"], req["seed"])
    makes = [parse_make(m) for m in req["makes"]]
    inputs = {k: [tuple(s) for s in v] for k, v in req["inputs"].items()}
    found = discover.plan(module, ctx, makes, inputs, req["only"])
    result.skipped = found.skipped
    missing = [m.text for m in makes if m.name not in vars(module)]
    if missing:
        result.where = "--make"
        result.error = M("{file} defines no class {name}", file=shown,
                         name=missing[0].split("(")[0])
        return result
    known = {f.name for f in found.found} | {s.name for s in found.skipped}
    unknown = [name for name in req["only"] if name not in known]
    if unknown:
        result.where = "--only"
        result.error = M("{file} has no component named {name} (found: {found})", file=shown,
                         name=unknown[0], found=", ".join(sorted(known)) or "nothing")
        return result
    for item in found.found:
        try:
            result.components.append(item.run())
        except MemoryError:
            result.where, result.error = shown, M(
                "out of memory while checking {name}: the memory budget --max-memory {budget} "
                "was exceeded", name=item.name, budget=req["max_memory_text"])
            return result
        except SystemExit as exc:
            result.where, result.error = shown, M("{name} called sys.exit({code}) while being "
                                                  "checked", name=item.name, code=repr(exc.code))
            return result
    if not result.components:
        result.where, result.error = shown, nothing_checkable(result)
    return result


def _seed_global_generators(seed: int) -> None:
    """Constructors that draw from `random` or `np.random` (seed note 002's Linear) build
    the same weights on every run with the same --seed.  numpy is seeded only when the
    user's code imported it."""
    import random

    random.seed(seed)
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(seed)


def nothing_checkable(result: FileResult) -> Msg:
    if result.skipped:
        first = result.skipped[0]
        return M("nothing checkable ({count} found but not checkable; first: {name}: {why})",
                 count=len(result.skipped), name=first.name, why=first.reason)
    return M("nothing checkable: no Value class, layer or loss class (forward/backward), "
             "f with f_grad, or NAME_forward with NAME_backward")


def prepare(request_path: str) -> dict:
    """The child's request, and the process set up for the user's file: the memory
    limit, the working directory, captured output, and sys.argv as the file's own."""
    with open(request_path, encoding="utf-8") as fh:
        req = json.load(fh)
    _limit_memory(req["max_memory"])
    os.chdir(req["cwd"])
    _capture(req["output"])
    sys.argv = [req["path"]]
    return req


def main(argv: list[str]) -> None:
    req = prepare(argv[1])
    try:
        result = check_file(req)
    except MemoryError:
        result = FileResult(req["shown"], seed=req["seed"], where=req["shown"], error=M(
            "out of memory: the memory budget --max-memory {budget} was exceeded",
            budget=req["max_memory_text"]))
    data = json.dumps(to_wire(result))
    tmp = req["result"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(data)
    os.replace(tmp, req["result"])
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
