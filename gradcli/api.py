"""The Python API: check gradients from a script or a test, without the command line.

    import gradcli
    gradcli.gradcheck(f, x, w, grad=f_grad).assert_ok()
    gradcli.check_layer(Linear(3, 2), x).assert_ok()
    gradcli.check_value_class(Value).assert_ok()
    gradcli.check_file("specs/sigmoid_121.yaml").assert_ok()

Each returns a result with `.ok`, `.checks`, `.to_json()` (a dict), a readable
`str()` and `.assert_ok()` (AssertionError with that text).  The user's code
runs in this process (it is the caller's own code); `gradcli check-code` is the
one that runs files in a child process.  Nothing here imports SymPy; numpy is
imported when an array check runs.
"""
from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from gradcli.usercode.context import Context
from gradcli.usercode.results import ComponentResult


def _context(obj: Any, rtol: float, atol: float, seed: int) -> Context:
    """Exceptions are located in the file that defines `obj`."""
    try:
        path = inspect.getsourcefile(obj if inspect.isclass(obj) or callable(obj)
                                     else type(obj)) or ""
    except TypeError:
        path = ""
    return Context(path, os.path.basename(path) if path else "<python>", rtol, atol, seed)


def gradcheck(f: Callable[..., Any], *args: Any, grad: Callable[..., Any] | None = None,
              rtol: float = 1e-5, atol: float = 1e-8, seed: int = 0) -> ComponentResult:
    """Check `grad` (or, without it, `f` returning `(value, gradient)`) against central
    differences of `f` at `args`.  Float arrays and floats are perturbed; integers,
    integer arrays (labels) and other values (dicts) are passed through unchanged."""
    from gradcli.usercode import pairs

    try:
        names = [p.name for p in inspect.signature(f).parameters.values()][:len(args)]
    except (TypeError, ValueError):
        names = []
    names += ["arg{}".format(i) for i in range(len(names), len(args))]
    import numpy as np

    values = [np.array(a, dtype=np.float64) if isinstance(a, list) else a for a in args]
    ctx = _context(f, rtol, atol, seed)
    return pairs.check_function(f, grad, pairs.make_args(names, values), ctx,
                                getattr(f, "__name__", "f"))


def check_layer(layer: Any, x: Any, rtol: float = 1e-5, atol: float = 1e-8,
                seed: int = 0) -> ComponentResult:
    """Check `layer.backward(dout)` (dx and every parameter gradient) at input `x`."""
    from gradcli.usercode import layers

    ctx = _context(layer, rtol, atol, seed)
    return layers.check_layer(layer, x, ctx, type(layer).__name__)


def check_value_class(cls: type) -> ComponentResult:
    """Run the Value-class battery on a micrograd-style class."""
    from gradcli.usercode.value_battery import check_value_class as battery

    ctx = _context(cls, 1e-6, 1e-9, 0)
    return battery(cls, ctx.path, ctx.shown)


@dataclass
class SpecResult:
    """The result of `gradcli check` on one YAML spec."""

    path: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)  # what `check --json` prints
    report: str = ""  # the readable report
    error: str | None = None  # `error: <where>: <what>` when the spec cannot be used

    @property
    def checks(self) -> list[dict[str, Any]]:
        return list(self.data.get("params", [])) + list(self.data.get("expect", []))

    def to_json(self) -> dict[str, Any]:
        if self.error is not None:
            return {"file": self.path, "ok": False, "exit": 2, "error": self.error}
        return self.data

    def __str__(self) -> str:
        return self.error if self.error is not None else self.report

    def assert_ok(self) -> None:
        if not self.ok:
            raise AssertionError(str(self))


def check_file(path: str, rtol: float = 1e-5, atol: float = 1e-8) -> SpecResult:
    """Check a YAML network definition as `gradcli check PATH` does."""
    from gradcli.errors import GradcliError

    try:
        ok, data, report = _run_spec(str(path), rtol, atol)
    except GradcliError as exc:
        return SpecResult(str(path), False, error=exc.english_line())
    return SpecResult(str(path), ok, data, report)


def _run_spec(path: str, rtol: float, atol: float) -> tuple[bool, dict[str, Any], str]:
    """The one place that calls the YAML check pipeline (spec.load, check.run and the
    printers): (ok, the --json object, the readable report)."""
    from gradcli import check, render, spec

    report = check.run(spec.load(path), rtol=rtol, atol=atol)
    return bool(report.ok), render.check_json(report), render.check_markdown(report)
