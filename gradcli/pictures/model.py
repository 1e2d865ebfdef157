"""The neutral picture model: boxes and edges, all text already formatted.

Builders (`build.py`) fill it from the engine; printers (`dot.py`,
`mermaid.py`, `svg.py`) only draw it, so every format shows the same
information.  A box is one value of the computation: a parameter, an input,
an operation's result (named or not) or the loss; an edge carries the local
derivative d(target)/d(source) at the point, the factor the chain rule
multiplies along it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcli.i18n import N_

PARAM = "param"
INPUT = "input"
NODE = "node"
LOSS = "loss"
CONSTANT = "constant"
KINDS = (PARAM, INPUT, NODE, LOSS, CONSTANT)

#: legend text per kind (translated by the printers with `_()`)
KIND_LEGEND = {
    PARAM: N_("parameter (differentiated)"),
    INPUT: N_("input (held fixed)"),
    NODE: N_("operation"),
    LOSS: N_("loss / output"),
    CONSTANT: N_("constant (no parameter upstream)"),
}
MARKED_LEGEND = N_("marked: wrong expect answer or failed gradient check")


@dataclass
class Box:
    id: str  # unique and safe in every format: "n12"
    name: str  # the file's name(s) for the value, or its sub-expression
    operation: str  # "+", "×", "** 2", "sigmoid", "param", "input"
    value: str  # formatted value ("" when there is no point)
    gradient: str  # formatted d(output)/d(this value); "" when not differentiated
    kind: str  # one of KINDS
    shape: str = ""  # tensors: "[1, 3]"
    marked: bool = False
    reasons: list[Any] = field(default_factory=list)  # Msg or str, why marked


@dataclass
class Edge:
    source: str  # box id of the argument
    target: str  # box id of the operation using it
    label: str  # the local derivative d(target)/d(source), formatted


@dataclass
class Picture:
    title: str  # the file or the expression
    output: str  # the differentiated value's name: "L", "loss", "f"
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    notes: list[Any] = field(default_factory=list)  # Msg or str, shown under the title

    def box(self, box_id: str) -> Box:
        for b in self.boxes:
            if b.id == box_id:
                return b
        raise KeyError(box_id)

    def by_name(self, name: str) -> Box:
        """The box whose name (or one of its `a = b` names) is `name`."""
        for b in self.boxes:
            if name in b.name.split(" = "):
                return b
        raise KeyError(name)

    def kinds(self) -> list[str]:
        """The kinds present, in legend order."""
        present = {b.kind for b in self.boxes}
        return [k for k in KINDS if k in present]
