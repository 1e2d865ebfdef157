"""The one place the picture code touches the engine-level API.

Everything is imported lazily (inside functions), so importing
`gradcli.pictures` costs nothing on the `gradcli --help` path, and when the
core modules move, this file is the only one to change.  SymPy is never imported from here: the check runs
with `symbolic=False`.
"""
from __future__ import annotations

from typing import Any


def engine():
    """The reverse-mode engine module: forward, backward, unbroadcast, local_partials."""
    from gradcli import engine as engine_module

    return engine_module


def load_spec(path: str, budget=None):
    """A YAML network definition (graph or layer form) as a `Spec`, within `budget`
    (a gradcli.budget.Budget: memory and work; default: check's)."""
    from gradcli.spec import load

    return load(path, budget)


def run_check(spec: Any):
    """`gradcli check` on a loaded spec, SymPy left out: a CheckReport."""
    from gradcli import check

    return check.run(spec, symbolic=False)


def point_text(spec: Any) -> str:
    """The point as the check's error messages name it."""
    from gradcli import check

    return check._point(spec)


def locate_error(spec: Any, exc: Exception) -> None:
    """Give an evaluation error the file position `gradcli check` would give it."""
    from gradcli import engine as engine_module

    if isinstance(exc, engine_module.EngineError):  # the engine names the node
        exc.where = spec.locate(exc.node)


def parse_expression(text: str, bound=()):
    """Expression text -> `Parsed` (graph, root); `bound` names multiply before '('."""
    from gradcli.parse import parse

    return parse(text, bound=bound)


def parse_bindings(items: list[str]) -> dict[str, float]:
    """`--at` values, read exactly as `derive` reads them."""
    from gradcli.derive import parse_bindings as parse_at

    return parse_at(items)


def refuse_tensor_ops(graph: Any, root: int) -> None:
    """Tensor functions in a command-line expression are refused as `derive` refuses them."""
    from gradcli.derive import _check_tensor_free

    _check_tensor_free(graph, root)


def natural_key(name: str) -> list:
    from gradcli.derive import natural_key as key

    return key(name)
