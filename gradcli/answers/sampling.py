"""Random points for `derive --answer`, and the engine's values there (no SymPy).

At each point the expression's forward and backward passes give the true
derivative (and dL/dnode of every node: the adjoint), the answer's own graph
gives the student's value, and on demand a forward-mode pass gives d node /
d var of every node (the tangent).  Adjoints, tangents and the local partial
derivatives of each edge are what the diagnoses build their candidates from:
the contribution of one edge (i <- arg k) to the derivative is
`adjoint[i] * partial(i, k) * tangent[arg]`.

Points are drawn with Python's `random.Random(seed)` (numpy is not needed
for a scalar expression): uniform in [-3, 3] for each variable, or within
±50% of its `--at` value (±0.5 around a value of 0).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from gradcli import engine
from gradcli.errors import GradcliError
from gradcli.graph import CONST, VAR, Graph
from gradcli.ops import OPS

#: How many points must be valid, and how many draws are allowed to find them.
POINTS = 20
TRIES = 200
#: Equal means a relative difference at most this.
EQUAL_RTOL = 1e-8
#: The default sampling box, [-BOX, BOX] per variable.
BOX = 3.0


def same(a: float, b: float, scale: float = 0.0) -> bool:
    """Equal to EQUAL_RTOL relative to the larger of |a|, |b| and `scale`."""
    return a == b or abs(a - b) <= EQUAL_RTOL * max(abs(a), abs(b), scale)


@dataclass
class Point:
    """The expression, its derivative and the answer at one point."""

    at: dict[str, float]
    values: list[float]  # every node of the expression's graph
    adjoint: list[Any]  # d f / d node (None: f does not depend on it)
    truth: float  # d f / d var
    given: float  # the answer's value
    _tangent: list[float] | None = field(default=None, repr=False)

    def grad(self, var_id: int) -> float:
        g = self.adjoint[var_id] if var_id < len(self.adjoint) else None
        return 0.0 if g is None else float(g)


class Sampler:
    """Evaluates the expression and one answer at points (see the module doc)."""

    def __init__(self, graph: Graph, root: int, answer_graph: Graph, answer_root: int,
                 var: str):
        self.graph, self.root = graph, root
        self.answer_graph, self.answer_root = answer_graph, answer_root
        self.var = var
        self.var_id = graph.variables[var]
        self.ids = dict(graph.variables)
        self.answer_nodes = answer_graph.ancestors(answer_root)
        self.function_failures = 0  # points where f or its derivative is undefined
        self.answer_failures = 0  # points where only the answer is undefined

    def draw(self, rng: random.Random, at: dict[str, float]) -> dict[str, float]:
        point = {}
        for name in self.ids:
            if name in at:
                half = 0.5 * abs(at[name]) if at[name] != 0 else 0.5
                point[name] = rng.uniform(at[name] - half, at[name] + half)
            else:
                point[name] = rng.uniform(-BOX, BOX)
        return point

    def evaluate(self, at: dict[str, float]) -> Point | None:
        """The point, or None where the function, its derivative or the answer is
        undefined (or not finite)."""
        bindings = {self.ids[n]: float(v) for n, v in at.items() if n in self.ids}
        try:
            values = engine.forward(self.graph, bindings, self.root)
            back = engine.backward(self.graph, values, self.root, list(self.ids.values()))
        except (GradcliError, ArithmeticError, ValueError):
            self.function_failures += 1
            return None
        truth = back.adjoint[self.var_id]
        given = self.answer_value(at)
        if given is None:
            self.answer_failures += 1
            return None
        return Point(dict(at), values, back.adjoint, 0.0 if truth is None else float(truth),
                     given)

    def answer_value(self, at: dict[str, float]) -> float | None:
        """The answer at `at` (only the nodes it needs), None where undefined."""
        g = self.answer_graph
        vals: dict[int, float] = {}
        try:
            for i in self.answer_nodes:
                node = g.nodes[i]
                if node.op == CONST:
                    vals[i] = node.value
                elif node.op == VAR:
                    vals[i] = float(at[node.name])
                else:
                    vals[i] = OPS[node.op].forward(*(vals[a] for a in node.args))
            out = vals[self.answer_root]
        except (ArithmeticError, ValueError, KeyError):
            return None
        if not isinstance(out, float) or not math.isfinite(out):
            return None
        return out

    # ---------------------------------------------------------- for diagnoses ---
    def partial(self, point: Point, i: int, k: int) -> float:
        """d node_i / d arg_k, the other arguments held fixed."""
        node = self.graph.nodes[i]
        args = [point.values[a] for a in node.args]
        return float(OPS[node.op].vjp[k](1.0, point.values[i], *args))

    def tangent(self, point: Point) -> list[float]:
        """d node / d var for every node (forward mode; raises where undefined)."""
        if point._tangent is None:
            nodes = self.graph.nodes
            t = [0.0] * (self.root + 1)
            if self.var_id <= self.root:
                t[self.var_id] = 1.0
            for i in range(self.root + 1):
                args = nodes[i].args
                if not args:
                    continue
                total = 0.0
                for k, a in enumerate(args):
                    if t[a] != 0.0:
                        total += self.partial(point, i, k) * t[a]
                t[i] = total
            point._tangent = t
        return point._tangent

    def edge(self, point: Point, i: int, k: int) -> float:
        """The contribution of edge (node i <- its argument k) to the derivative."""
        a = point.adjoint[i]
        if a is None:
            return 0.0
        t = self.tangent(point)[self.graph.nodes[i].args[k]]
        return 0.0 if t == 0.0 else float(a) * self.partial(point, i, k) * t
