"""What both YAML forms share: the Spec they build, values, names, sections, locations."""
from __future__ import annotations

import bisect
import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from gradcli.errors import GradcliError, NonFiniteError
from gradcli.graph import Graph
from gradcli.i18n import M, Msg
from gradcli.ops import CONSTANTS, FUNCTIONS
from gradcli.yamlio import KEY, Loaded

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
MAX_PARAMS = 100_000_000


@dataclass
class ExpectItem:
    name: str  # "loss", "loss_after", a node name, "grad.<node>" or "update.<param>"
    value: Any  # float or ndarray (a formula's value once evaluated)
    where: str
    formula: Any = None  # answers.formulas.Formula: the answer was a string

    @property
    def kind(self) -> str:
        """loss, loss_after, grad, update or value (a node's value)."""
        if self.name in ("loss", "loss_after"):
            return self.name
        head = self.name.split(".", 1)[0]
        return head if head in ("grad", "update") and "." in self.name else "value"

    @property
    def target(self) -> str:
        """The node or parameter the answer is about (w3 in update.w3)."""
        return self.name.split(".", 1)[1] if self.kind in ("grad", "update") else self.name


class Locations:
    """Where each graph node came from: node id -> `file:line:col`.

    The loader records, as it builds the graph, the first node id of each
    piece of the file (an input or parameter, a node's expression, the loss,
    a layer) with that piece's YAML path; nodes are numbered in construction
    order, so a node belongs to the last piece that started at or before it.
    In an expression the user wrote, the node's own column gives the exact
    position (`Loaded.text_where`); in generated text (the layer form) the
    piece's position is used.
    """

    def __init__(self, loaded: Loaded):
        self.loaded = loaded
        self._starts: list[int] = []
        self._pieces: list[tuple[tuple, bool]] = []  # (YAML path, written by the user)

    def add(self, first: int, path: tuple, written: bool) -> None:
        """Nodes from id `first` on (until the next piece) come from `path`."""
        if self._starts and first <= self._starts[-1]:
            self._starts[-1], self._pieces[-1] = first, (path, written)
            return
        self._starts.append(first)
        self._pieces.append((path, written))

    def where(self, node_id: int, col: int | None = None) -> str:
        k = bisect.bisect_right(self._starts, node_id) - 1
        if k < 0:
            return self.loaded.path
        path, written = self._pieces[k]
        if written and col:
            return self.loaded.text_where(path, col)
        return self.loaded.where(*path)


@dataclass
class Spec:
    file: str
    form: str  # "graph" or "layers"
    graph: Graph
    inputs: dict[str, int] = field(default_factory=dict)  # name -> var node id
    params: dict[str, int] = field(default_factory=dict)
    bindings: dict[int, Any] = field(default_factory=dict)  # var node id -> value
    named: dict[str, int] = field(default_factory=dict)  # every name -> node id
    node_names: list[str] = field(default_factory=list)  # named nodes, in order
    node_text: dict[str, str] = field(default_factory=dict)  # name -> expression text
    uses: dict[str, list[str]] = field(default_factory=dict)  # name -> names it uses
    loss: int = -1
    loss_name: str = "L"  # how the ledger calls the loss
    loss_text: str = ""
    expect: list[ExpectItem] = field(default_factory=list)
    rtol: float = 0.01
    atol: float = 1e-8
    lr: float | None = None
    layers: Any = None  # dense.table.Network for the layer form
    loaded: Loaded | None = None
    locations: Locations | None = None
    budget: Any = None  # gradcli.budget.Budget: what loading and checking may cost

    def where(self, *path) -> str:
        """`file:line:col` of a YAML path (the file name when unknown)."""
        return self.loaded.where(*path) if self.loaded else self.file

    def locate(self, node_id: int) -> str:
        """`file:line:col` of graph node `node_id` (the operation itself where known)."""
        if self.locations is None:
            return self.file
        return self.locations.where(node_id, self.graph.nodes[node_id].col)


def unknown(name: Any, known, what: Msg) -> Msg:
    """'unknown <what> NAME', with the closest known name or the list of them."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    if close:
        return M("unknown {what} '{name}'; did you mean '{close}'?", what=what, name=name,
                 close=close[0])
    return M("unknown {what} '{name}' (known: {known})", what=what, name=name,
             known=", ".join(map(str, known)))


def check_name(name: Any, loaded: Loaded, *path) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise GradcliError(M("'{name}' is not a valid name (letters, digits and _, starting "
                             "with a letter)", name=name), loaded.where(*path, KEY))
    if name in FUNCTIONS:
        raise GradcliError(M("'{name}' is a function name and cannot name a value",
                             name=name), loaded.where(*path, KEY))
    if name in CONSTANTS:
        raise GradcliError(M("'{name}' is a constant ({name} = {value:.6g}) and cannot name "
                             "a value", name=name, value=CONSTANTS[name]),
                           loaded.where(*path, KEY))
    return name


def section(loaded: Loaded, key: str, required: bool = True) -> dict:
    data = loaded.data.get(key)
    if data is None:
        if required:
            raise GradcliError(M("missing section '{key}'", key=key), loaded.path)
        return {}
    if not isinstance(data, dict):
        raise GradcliError(M("'{key}' must be a mapping of names to values", key=key),
                           loaded.where(key))
    return data


def to_value(raw: Any, where: str | Callable[[], str], what: Any = "value") -> Any:
    """A YAML scalar or nested list -> float or float ndarray (finite, rectangular).

    `where` may be a function giving the place: asked only when the value is refused."""
    if type(raw) is float and math.isfinite(raw):  # the common case
        return raw
    if callable(where):
        where = where()
    if isinstance(raw, bool) or raw is None or isinstance(raw, (str, dict)):
        if isinstance(raw, str):
            raise GradcliError(M("{what} must be a number or a nested list of numbers, not "
                                 "a string", what=what), where)
        raise GradcliError(M("{what} must be a number or a nested list of numbers, not "
                             "{shown}", what=what, shown=repr(raw)), where)
    if isinstance(raw, (int, float)):
        value = float(raw)
        if not math.isfinite(value):
            raise NonFiniteError(M("{what} must be finite, got {raw}", what=what, raw=raw),
                                 where)
        return value
    import numpy as np

    _check_nested(raw, where, what)
    try:
        array = np.array(raw, dtype=float)
    except (ValueError, TypeError):
        raise GradcliError(M("{what} is not a rectangular nested list of numbers (rows of "
                             "different lengths?)", what=what), where) from None
    if array.dtype == object or array.size == 0:
        raise GradcliError(M("{what} must be a non-empty rectangular list of numbers",
                             what=what), where)
    if not np.isfinite(array).all():
        raise NonFiniteError(M("{what} must be finite (found NaN or infinity)", what=what),
                             where)
    return array


def _check_nested(raw: Any, where: str, what: Any) -> None:
    stack = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            raise GradcliError(M("{what} must contain only numbers, found {item}", what=what,
                                 item=repr(item)), where)
