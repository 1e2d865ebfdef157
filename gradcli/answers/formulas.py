"""Formula answers in `expect`: a string in the expression language.

`grad.w3: "(yhat - y)*yhat*(1 - yhat)*a_h1"` is read at load time by the
whitelist parser into its own small graph over the file's names (inputs,
params, nodes, the loss's name), `lr` and `ᵀ`/`transpose(...)`; a name the
file does not define is exit 2 at its `file:line:col`.  A string with no
names (`"(-0.165)(0.137)(0.750)"`, a product as the notes write it) is the
number it evaluates to.  A formula with names is evaluated wherever the
grader needs it: at the file's point and at nearby points (`nearby`).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

from gradcli import engine
from gradcli.errors import GradcliError, NonFiniteError
from gradcli.graph import Graph
from gradcli.i18n import M
from gradcli.parse import caret_detail, parse

#: The name a formula uses for the learning rate (unless the file defines it).
LR = "lr"


@dataclass
class Formula:
    text: str
    graph: Graph
    root: int
    names: list[str]  # the file's names it uses (and `lr`)
    where: Callable[[int], str]  # column -> file:line:col
    value: Any = None  # a formula without names: its value, computed once
    uses_lr: bool = False  # `lr` is the learning rate here (the file has no value named lr)

    @property
    def constant(self) -> bool:
        return not self.names


def known_names(spec) -> list[str]:
    """What a formula may name: the file's values, the loss's name, `lr`."""
    names = list(spec.named)
    for extra in (spec.loss_name, LR):
        if extra not in names:
            names.append(extra)
    return names


def read(text: str, spec, where: Callable[[int], str]) -> Formula:
    """Parse a formula answer (exit 2 with its position on any problem)."""
    known = known_names(spec)
    allowed = set(known)
    graph = Graph()

    def resolve(name: str, col: int) -> int:
        if name in allowed:
            return graph.var(name, col)
        close = difflib.get_close_matches(name, known, n=1)
        what = M("unknown name '{name}' in the answer", name=name)
        if close:
            what = M("{what}; did you mean '{close}'?", what=what, close=close[0])
        raise GradcliError(what, where(col))

    parsed = parse(text, graph, resolve, where=where, bound=allowed)
    formula = Formula(text, graph, parsed.root, list(graph.variables), where,
                      uses_lr=LR in graph.variables and LR not in spec.named)
    if formula.constant:
        formula.value = evaluate(formula, lambda name: None)
    return formula


def evaluate(formula: Formula, lookup: Callable[[str], Any]) -> Any:
    """The formula's value with each name's value from `lookup` (exit 2 where the
    formula is undefined, at its operation's position)."""
    if formula.constant and formula.value is not None:
        return formula.value
    bindings = {nid: lookup(name) for name, nid in formula.graph.variables.items()}
    try:
        return engine.forward(formula.graph, bindings, formula.root)[formula.root]
    except engine.EngineError as exc:  # located in the answer (not as a node of the network)
        raise NonFiniteError(M("in the answer: {what}", what=exc.what),
                             formula.where(exc.col or 1),
                             caret_detail(formula.text, exc.col)) from None
