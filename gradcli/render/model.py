"""The view model: what a report shows, decided once for every printer.

Builders (`check_view.py`, `derive_view.py`) turn a CheckReport or a
DeriveReport into a `Section` of blocks; the printers (`text.py`,
`markdown.py`, `latex.py`, `html.py`) only format blocks.  Every word here
is already translated (`gradcli.i18n`); numbers are already formatted.
A block's `kind` says what it holds (the forward table, the chain rule, ...),
for styling and for tests, never for deciding what to show.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from gradcli.render.equations import Equation
from gradcli.render.numbers import TensorView

#: levels of notes and cells: how a printer colours them
PLAIN, OK, INFO, WARN, ERROR = "plain", "ok", "info", "warn", "error"


@dataclass
class Note:
    text: str
    level: str = INFO  # info, warn, error, ok
    label: str | None = None  # what the note is about ("w1", "∂f/∂x"), printed before it
    math: Any = None  # an equation the note states (typeset where the format can)


@dataclass
class Cell:
    text: str  # the plain form (text and markdown reports)
    level: str = PLAIN  # ok / warn / error: verdict cells are coloured
    code: bool = False  # an expression in the expression language
    tensor: TensorView | None = None  # a value: typeset as a number or a matrix
    math: Any = None  # an equations record, typeset where the format can
    label: str | None = None  # a formula written before the typeset value ("(yhat - y)/4 =")


@dataclass
class Column:
    header: str
    left: bool = False  # names and words on the left, numbers on the right
    math: Any = None  # the header as math, where the format can typeset it


@dataclass
class Row:
    cells: list[Cell]
    notes: list[Note] = field(default_factory=list)  # verdict notes, kink notes


@dataclass
class Table:
    kind: str  # forward, gradients, layers, expect, update, values
    title: str
    columns: list[Column]
    rows: list[Row]

    @property
    def notes(self) -> list[Note]:
        """Every row's notes, in row order (printed under the table)."""
        return [n for r in self.rows for n in r.notes]


@dataclass
class Line:
    """One line of text, optionally with an equation after it."""

    text: str
    level: str = PLAIN
    math: Equation | None = None
    strong: bool = False
    indent: int = 0  # nesting: 1 under a derivative of `derive`
    kind: str = ""  # "derivative": the heading of one variable's derivative (derive)


@dataclass
class EquationGroup:
    """Equations under an optional caption (one ledger path, one recurrence)."""

    equations: list[Equation]
    caption: str | None = None
    indent: int = 1  # text report: levels of two spaces


@dataclass
class Equations:
    """A block of typeset math: the chain rule, the recurrence, the u-substitution."""

    kind: str  # chain, recurrence, substitution, derivative
    title: str | None
    groups: list[EquationGroup]
    notes: list[Note] = field(default_factory=list)  # after the equations
    gap: bool = False  # text report: an empty line between the first group and the rest
    indent: int = 0  # nesting: 1 under a derivative of `derive`


@dataclass
class StepLine:
    """One rule of a derivation: `[rule] d/dx expr = result    with u = ... / by ...`."""

    depth: int
    rule: str  # translated rule name
    var: str
    expr: Any = None  # equations.Expr (None: a skipped step, only the note)
    expr_text: str = ""  # the operand as printed after d/dx (parenthesised)
    result: Any = None  # equations.Expr
    chain: Equation | None = None  # u = inner
    identity: str | None = None  # a textbook identity, as a formula text
    note: str | None = None


@dataclass
class Steps:
    title: str
    lines: list[StepLine]
    indent: int = 1


@dataclass
class Figure:
    """The computation graph: a gradcli.pictures Picture, drawn by each format its way."""

    title: str
    picture: Any


@dataclass
class Ledger:
    """The per-layer ledger of a layer network: one entry per layer, from the top."""

    title: str
    table: Table  # the text/markdown layout
    entries: list[LayerEntry]
    notes: list[Note] = field(default_factory=list)


@dataclass
class LayerEntry:
    layer: str  # "layer 2"
    equations: list[Equation]  # delta_k = how = value, dW_k = ..., db_k = ...
    check: str | None = None  # "checked: max |diff| 0.0e+00"


@dataclass
class Chart:
    """Curves against the step number (train's losses): (label, values, marked end)."""

    title: str
    series: list[tuple[str, list[float], int | None]]
    log: bool
    x_label: str
    y_label: str


Block = Union[Table, Line, Equations, Steps, Figure, Ledger, Chart]


@dataclass
class Section:
    """One report: a file of `check` or an expression of `derive`."""

    title: str  # heading (text)
    blocks: list[Block]
    ok: bool
    verdict: Line | None = None  # the closing line (ok / FAILED / the methods agree)
    heading_math: Equation | None = None  # derive: f = expression, typeset
    kind: str = "check"  # check, derive, error
    subtitle: str | None = None


@dataclass
class Document:
    """What one run prints: one section per file (or the derivation)."""

    title: str
    sections: list[Section]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sections)


def figure(picture: Any) -> Figure | Line:
    """The graph picture, or why it was not drawn (too many boxes): the report itself
    never fails for its picture."""
    from gradcli.i18n import _, text

    if isinstance(picture, Exception):
        why = text(getattr(picture, "what", None) or picture)
        return Line(_("computation graph not drawn: {why}", why=why), WARN)
    return Figure(_("Computation graph"), picture)
