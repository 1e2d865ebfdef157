"""Plain dataclasses of results: what the renderers print and `--json` serialises."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
    note: str | None = None
    raw: Any = field(default=None, repr=False)  # the unsimplified SymPy derivative


@dataclass
class DeriveReport:
    expression: str
    variables: list[str]
    at: dict[str, float]
    gradient: list[DerivativeRow]
    steps: list[dict[str, Any]] = field(default_factory=list)
    ok: bool = True
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        rows = []
        for row in self.gradient:
            item: dict[str, Any] = {"wrt": row.wrt, "derivative": row.derivative,
                                    "simplified": row.simplified}
            if row.reverse is not None:
                item.update(value=row.value, reverse=row.reverse, numeric=row.numeric,
                            numeric_error=row.numeric_error, rel_error=row.rel_error,
                            band=row.band)
            item.update(ok=row.ok, kink=row.kink, note=row.note)
            rows.append(item)
        steps = [{"wrt": s["wrt"], "tree": asdict(s["tree"]),
                  "substitution": s["substitution"]} for s in self.steps]
        return {"expression": self.expression, "at": self.at, "gradient": rows,
                "steps": steps, "ok": self.ok, "notes": self.notes}
