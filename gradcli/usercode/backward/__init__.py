"""`gradcli check NET.yaml --backward FILE.py:FUNC`: the user's backward for a network.

call.py     parent side: FILE.py:FUNC, the arrays out, the child, the gradients back
child.py    the child process: import under its own name, call FUNC(params, inputs)
compare.py  each returned gradient against gradcli's reference (`verdict.compare`)
diagnose.py what a wrong gradient left out: an activation derivative (engine backward
            with that node's derivative replaced by 1), the 1/B of the loss, one chain
            factor (graph-form scalars), then `mistakes.diagnose`
view.py     the human table printed after the check's own tables

The integrator calls `attach(report, spec, target, ...)` after `check.run` and
`show(report, fmt)` after the check's own printing.
"""
from __future__ import annotations

from typing import Any

# Nothing is imported here: the child process (`python -m ...backward.child`) loads
# this package too, and must not load numpy's engine users or Rich before the user's code.


def attach(report: Any, spec: Any, target: str, **options: Any) -> Any:
    """Run FUNC in a child process and add its comparison to `report` (see compare.attach)."""
    from gradcli.usercode.backward.compare import attach as run

    return run(report, spec, target, **options)


def show(report: Any, fmt: str = "text") -> None:
    """Print the --backward table (nothing when the report has none)."""
    from gradcli.usercode.backward.view import show as run

    run(report, fmt)


__all__ = ["attach", "show"]
