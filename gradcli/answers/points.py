"""Everything an `expect` answer can name, at one point of a network file.

A `GradingPoint` holds the forward values at some bindings (the file's own,
or a nearby point's) and computes on demand what the answers name: a node's
value, the loss, dL/dnode for any node (the "error signal": one backward
pass with respect to every variable, so that inputs have one too), a
parameter after one gradient-descent step, and the loss after that step.
"""
from __future__ import annotations

from typing import Any

from gradcli import engine
from gradcli.answers.formulas import LR, Formula, evaluate


def _zero_like(v: Any) -> Any:
    return 0.0 if isinstance(v, float) else v * 0.0


class GradingPoint:
    def __init__(self, spec, bindings: dict[int, Any], values: list, rate: float | None,
                 grads: dict[str, Any] | None = None):
        self.spec, self.bindings, self.values, self.rate = spec, bindings, values, rate
        self._grads = dict(grads or {})  # parameter gradients already known (the check's)
        self._adjoint: list | None = None
        self._loss_after: float | None = None

    # ------------------------------------------------------------- values ---
    def value(self, name: str) -> Any:
        spec = self.spec
        if name in ("loss", spec.loss_name) and name not in spec.named:
            return self.values[spec.loss]
        return self.values[spec.named[name]]

    def grad(self, name: str) -> Any:
        """dL/dname (0 where the loss does not depend on it)."""
        if name in self._grads:
            return self._grads[name]
        nid = self.spec.named[name]
        if self._adjoint is None:
            spec = self.spec
            wrt = list(spec.inputs.values()) + list(spec.params.values())
            self._adjoint = engine.backward(spec.graph, self.values, spec.loss, wrt).adjoint
        g = self._adjoint[nid] if nid < len(self._adjoint) else None
        return _zero_like(self.values[nid]) if g is None else g

    def old(self, param: str) -> Any:
        return self.bindings[self.spec.params[param]]

    def updated(self, param: str) -> Any:
        return self.old(param) - self.rate * self.grad(param)

    def loss_after(self) -> float:
        if self._loss_after is None:
            spec = self.spec
            moved = dict(self.bindings)
            for name, nid in spec.params.items():
                moved[nid] = self.updated(name)
            self._loss_after = engine.forward(spec.graph, moved, spec.loss)[spec.loss]
        return self._loss_after

    def actual(self, item) -> Any:
        """The true value of what `item` (an ExpectItem) names, here."""
        kind = item.kind
        if kind == "loss":
            return self.values[self.spec.loss]
        if kind == "loss_after":
            return self.loss_after()
        if kind == "grad":
            return self.grad(item.target)
        if kind == "update":
            return self.updated(item.target)
        return self.value(item.name)

    # ----------------------------------------------------------- formulas ---
    def lookup(self, name: str) -> Any:
        if name == LR and name not in self.spec.named:
            return self.rate
        return self.value(name)

    def formula(self, formula: Formula) -> Any:
        return evaluate(formula, self.lookup)
