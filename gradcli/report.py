"""Plain dataclasses of results: what the renderers print and `--json` serialises."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcli.i18n import english


@dataclass
class DerivativeRow:
    """One variable's derivative, and its value three ways when at a point."""

    wrt: str
    derivative: str | None  # simplified symbolic derivative (None: skipped, time budget)
    simplified: bool  # False: simplification ran out of time, the form is unsimplified
    latex: str = ""
    value: float | None = None  # symbolic, evaluated at the point
    reverse: float | None = None  # the reverse-mode engine
    numeric: float | None = None  # central differences (Richardson)
    numeric_error: float | None = None  # estimated error of `numeric`
    rel_error: float | None = None  # worst pairwise relative error of the three
    band: str | None = None  # good / fine / suspicious / wrong / kink
    ok: bool = True
    kink: bool = False
    note: Any = None  # a message (i18n.Msg) or None
    raw: Any = field(default=None, repr=False)  # the unsimplified SymPy derivative
    #: the derivative as a product beside the expanded form (18*x + 6 = 6*(3*x + 1))
    factored: str | None = None
    factored_latex: str | None = None
    expr: Any = field(default=None, repr=False)  # the shown derivative (SymPy), for printers
    factored_expr: Any = field(default=None, repr=False)
    evaluated: bool = False  # --at bound every variable: the values were asked for
    undefined: bool = False  # the derivative has no value at the point (the function has)


@dataclass
class DeriveReport:
    expression: str
    variables: list[str]
    at: dict[str, float]
    gradient: list[DerivativeRow]
    #: per variable: a gradcli.steps.Explanation (rule tree and u-substitution)
    steps: list[Any] = field(default_factory=list)
    ok: bool = True
    notes: list[Any] = field(default_factory=list)  # messages (i18n.Msg)
    #: variable -> reading position: sums print in the order the user wrote
    order: dict[str, int] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        rows = []
        for row in self.gradient:
            item: dict[str, Any] = {"wrt": row.wrt, "derivative": row.derivative,
                                    "factored": row.factored, "simplified": row.simplified}
            if row.evaluated:
                item.update(value=row.value, reverse=row.reverse, numeric=row.numeric,
                            numeric_error=row.numeric_error, rel_error=row.rel_error,
                            band=row.band)
            item.update(ok=row.ok, kink=row.kink, note=english(row.note))
            rows.append(item)
        return {"expression": self.expression, "at": self.at, "gradient": rows,
                "steps": [_explanation_json(e) for e in self.steps], "ok": self.ok,
                "notes": [english(n) for n in self.notes]}


def _explanation_json(explanation: Any) -> dict[str, Any]:
    from gradcli import steps

    order, sub = explanation.order, explanation.substitution
    tree = explanation.tree
    return {"wrt": explanation.wrt,
            "tree": None if tree is None else steps.to_json(tree, order),
            "substitution": steps.substitution_view(sub, order),
            "substitution_values": None if sub is None else sub.values}
