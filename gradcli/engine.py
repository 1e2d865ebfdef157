"""Reverse mode: the forward pass and the backward pass over a graph.

The forward pass evaluates each node with its op's `forward`, refusing NaN
and infinity with the op and point named.  The backward pass walks the
nodes in reverse construction order (a plain loop: no recursion limit),
applies each op's VJP and sums the result back to the argument's shape in
`unbroadcast` (the one place broadcasting is undone).  It can record every
edge's contribution, which the chain-rule ledger prints.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Iterable

from gradcli.errors import NonFiniteError
from gradcli.graph import CONST, VAR, Graph
from gradcli.i18n import M, Msg, N_
from gradcli.ops import OPS, Value


class EngineError(NonFiniteError):
    """A value or derivative that cannot be computed, at graph node `node`.

    `where` is the node's column in its expression ("column 5") until a caller
    that knows where the node came from (a spec's location map) replaces it.
    """

    def __init__(self, what: str | Msg, node: int, col: int | None = None):
        super().__init__(what, f"column {col}" if col else None)
        self.node = node
        self.col = col


@dataclass
class Backward:
    adjoint: list[Any]  # dL/dnode per node id (None where L does not depend on it)
    kinks: list[int] = field(default_factory=list)  # nodes evaluated at a kink
    #: (node, arg position) -> that edge's contribution to the argument's adjoint
    edges: dict[tuple[int, int], Any] = field(default_factory=dict)


def _finite(v: Value) -> bool:
    if isinstance(v, float):
        return math.isfinite(v)
    import numpy as np

    return bool(np.isfinite(v).all())


def _describe(graph: Graph, node_id: int, args: Iterable[Value]) -> str | Msg:
    """The failing call as written, e.g. `log(-2)`, with the named value it is in."""
    node = graph.nodes[node_id]
    shown = []
    for a in args:
        shown.append(f"{a:.6g}" if isinstance(a, float)
                     else f"array{list(getattr(a, 'shape', ()))}")
    call = f"{node.op}({', '.join(shown)})"
    label = graph.labels.get(node_id)
    return M("{call} (in '{label}')", call=call, label=label) if label else call


#: What went wrong, by kind, for a value and for a derivative.
_PROBLEMS = {
    "shapes": (N_("{call} has incompatible shapes"),
               N_("the derivative of {call} has incompatible shapes")),
    "overflow": (N_("{call} overflows (too large for a float)"),
                 N_("the derivative of {call} overflows (too large for a float)")),
    "zero": (N_("{call} divides by zero"), N_("the derivative of {call} divides by zero")),
    "domain": (N_("{call} is undefined (outside the function's domain)"),
               N_("the derivative of {call} is undefined (outside the function's domain)")),
    "nonfinite": (N_("{call} gives a non-finite value"),
                  N_("the derivative of {call} is not finite")),
}


def _error(graph: Graph, node_id: int, args: list[Value], kind: str,
           point: str | Callable[[], str], derivative: bool = False) -> EngineError:
    """`point` (where the failure happened, for the message) may be a function that
    writes it: a check spells its point out only when something fails."""
    problem = M(_PROBLEMS[kind][derivative], call=_describe(graph, node_id, args))
    point = point() if callable(point) else point
    what = M("{problem} at {point}", problem=problem, point=point) if point else problem
    return EngineError(what, node_id, graph.nodes[node_id].col)


def _uses_arrays(values: Iterable[Value]) -> bool:
    return any(not isinstance(v, float) for v in values)


def forward(graph: Graph, bindings: dict[int, Value], upto: int | None = None,
            point: str | Callable[[], str] = "") -> list[Value]:
    """Values of nodes 0..upto, given values for the variable nodes."""
    last = len(graph.nodes) - 1 if upto is None else upto
    if _uses_arrays(bindings.values()) or any(
            not isinstance(n.value, float) for n in graph.nodes if n.op == CONST):
        import numpy as np

        with np.errstate(all="ignore"):
            return _forward(graph, bindings, last, point)
    return _forward(graph, bindings, last, point)


def _forward(graph: Graph, bindings: dict[int, Value], last: int, point: str) -> list[Value]:
    values: list[Value] = [None] * (last + 1)
    nodes = graph.nodes
    for i in range(last + 1):
        node = nodes[i]
        if node.op == CONST:
            values[i] = node.value
        elif node.op == VAR:
            if i not in bindings:
                raise EngineError(M("no value given for '{name}'", name=node.name), i, node.col)
            values[i] = bindings[i]
        else:
            values[i] = _apply(graph, i, [values[a] for a in node.args], point)
    return values


def _apply(graph: Graph, i: int, args: list[Value], point: str) -> Value:
    """One node's forward value, refusing NaN and infinity with the op named."""
    op = OPS[graph.nodes[i].op]
    try:
        out = op.forward(*args)
    except (ArithmeticError, ValueError) as exc:
        raise _error(graph, i, args, _failure(exc), point) from None
    if not op.keeps_finite and not _finite(out):
        raise _error(graph, i, args, "nonfinite", point)
    return out


def _failure(exc: BaseException) -> str:
    """The kind of failure: math raises these instead of returning inf/NaN."""
    text = str(exc)
    if isinstance(exc, ValueError) and any(w in text for w in ("shape", "dimension",
                                                               "broadcast", "aligned")):
        return "shapes"
    if isinstance(exc, OverflowError):
        return "overflow"
    if isinstance(exc, ZeroDivisionError):
        return "zero"
    return "domain"


def reforward(graph: Graph, values: list[Value], changed: dict[int, Value], root: int,
              dependents: list[int], point: str = "") -> list[Value]:
    """Values after replacing some nodes' values: only `dependents` are recomputed.

    `dependents` lists, in order, the nodes that depend on the changed ones
    (see Graph.depends_on); everything else is reused from `values`.
    """
    new = list(values)
    for i, v in changed.items():
        new[i] = v
    nodes = graph.nodes
    for i in dependents:
        if i not in changed and i <= root:
            new[i] = _apply(graph, i, [new[a] for a in nodes[i].args], point)
    return new


class Replay:
    """A fast `reforward` for finite differences: in place, dependents only.

    `work` starts as a copy of the forward `values` and is shared by every
    parameter: `use(dependents)` selects the nodes that depend on the node
    about to change (in order), and each call `replay(changed)` recomputes
    those in `work` and returns it (valid until the next call).  Nothing else
    is copied or touched, so a difference costs the size of the dependents,
    never of the whole graph (a copy of the value list per evaluation made
    thousands of scalar parameters quadratic).

    The loop checks only the root's value; on any failure it replays carefully
    with `reforward`, so the error names the op exactly as the forward pass would.
    """

    def __init__(self, graph: Graph, values: list[Value], root: int, point: str = ""):
        self.graph, self.values, self.root, self.point = graph, values, root, point
        self.work = list(values)
        self.dependents: list[int] = []
        self.changed: tuple[int, ...] = ()
        self.plan: list[tuple[int, Any, int, int]] = []
        #: node evaluations done so far (the work, counted for tests and estimates)
        self.evaluations = 0

    def use(self, dependents: list[int], shared: dict | None = None, key: Any = None) -> None:
        """The nodes to recompute from now on: those depending on the node that the
        next calls change (that node itself is not among them).

        `shared` (a structure's memo) keeps the plan under `key`, which must name
        `dependents` (e.g. the changed node): same-shaped files reuse it."""
        self.restore()
        if shared is not None:
            found = shared.get(("replay", key, self.root))
            if found is None:
                found = shared[("replay", key, self.root)] = self._plan(dependents)
            self.dependents, self.plan = found
        else:
            self.dependents, self.plan = self._plan(dependents)

    def _plan(self, dependents: list[int]) -> tuple[list[int], list[tuple]]:
        nodes = self.graph.nodes
        kept = [i for i in dependents if i <= self.root]
        # (node, forward, first argument, second argument or -1): no list per call
        return kept, [(i, OPS[nodes[i].op].forward, nodes[i].args[0],
                       nodes[i].args[1] if len(nodes[i].args) > 1 else -1) for i in kept]

    def restore(self) -> None:
        """Put the forward values back where the last replays wrote."""
        work, values = self.work, self.values
        for i in self.dependents:
            work[i] = values[i]
        for i in self.changed:
            work[i] = values[i]
        self.changed = ()

    def __call__(self, changed: dict[int, Value]) -> list[Value]:
        work = self.work
        for i, v in changed.items():
            work[i] = v
        self.changed = tuple(changed)
        self.evaluations += len(self.plan)
        try:
            for i, forward_fn, a, b in self.plan:
                work[i] = forward_fn(work[a]) if b < 0 else forward_fn(work[a], work[b])
            if _finite(work[self.root]):
                return work
        except (ArithmeticError, ValueError):
            pass
        new = reforward(self.graph, self.values, changed, self.root, self.dependents,
                        self.point)  # raises, naming the op
        for i in self.dependents:
            work[i] = new[i]
        return work


def local_partials(graph: Graph, values: list[Value], root: int,
                   leaves: Collection[int], plan: list | None = None) -> dict[int, Value]:
    """d root / d leaf for each leaf reached from `root`, other leaves held fixed
    (`root` itself is never a leaf of its own expression).

    Only the nodes between `root` and the leaves are visited, so the cost is
    the size of that one expression, not of the whole graph: the ledger asks
    this for every named node with the same set of leaves (all named nodes),
    and the total stays linear in the graph.  `plan` is `local_plan(graph,
    root, leaves)`, when the caller keeps it (it depends on the graph only).
    """
    if plan is None:
        plan = local_plan(graph, root, leaves)
    adjoint: dict[int, Value] = {root: 1.0}
    for i, op, args, edges in plan:
        g = adjoint.get(i)
        if g is None:
            continue
        arg_values = [values[a] for a in args]
        for k, a in edges:
            c = unbroadcast(op.vjp[k](g, values[i], *arg_values), values[a])
            adjoint[a] = c if a not in adjoint else adjoint[a] + c
    return {a: g for a, g in adjoint.items() if a != root and a in leaves}


def local_plan(graph: Graph, root: int, leaves: Collection[int]) -> list[tuple]:
    """The steps of `local_partials`: per node from `root` down to the leaves (in
    reverse order), its op, arguments and the arguments that get a contribution."""
    inside, stack = {root}, [root]
    while stack:
        i = stack.pop()
        for a in graph.nodes[i].args:
            if a not in inside:
                inside.add(a)
                if a not in leaves:
                    stack.append(a)
    plan = []
    for i in sorted(inside, reverse=True):
        node = graph.nodes[i]
        if not node.args or (i in leaves and i != root):
            continue
        edges = [(k, a) for k, a in enumerate(node.args)
                 if not (graph.nodes[a].op == CONST and a not in leaves)]
        plan.append((i, OPS[node.op], node.args, edges))
    return plan


def unbroadcast(grad: Value, like: Value) -> Value:
    """Sum `grad` back to the shape of `like` (undoing numpy broadcasting)."""
    if isinstance(like, float):
        if isinstance(grad, float):
            return grad
        return float(grad.sum())
    import numpy as np

    grad = np.asarray(grad, dtype=float)
    if grad.shape == like.shape:
        return grad
    extra = grad.ndim - like.ndim
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(like.shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != like.shape:
        grad = np.broadcast_to(grad, like.shape).copy()
    return grad


def backward(graph: Graph, values: list[Value], root: int, wrt: Iterable[int],
             record: bool = False, point: str = "") -> Backward:
    """dL/dnode for every node between `wrt` and `root` (L = node `root`)."""
    wrt = set(wrt)
    if _uses_arrays(values[: root + 1]):
        import numpy as np

        with np.errstate(all="ignore"):
            # NaN and infinity propagate through every VJP (sums and products
            # with g), so scanning the results is enough; only if one is not
            # finite does a careful pass find the op that produced it.
            result = _backward(graph, values, root, wrt, record, point, careful=False)
            if all(result.adjoint[w] is None or _finite(result.adjoint[w])
                   for w in wrt if w <= root):
                return result
            return _backward(graph, values, root, wrt, record, point, careful=True)
    return _backward(graph, values, root, wrt, record, point, careful=True)


def _backward(graph: Graph, values: list[Value], root: int, wrt: set[int],
              record: bool, point: str, careful: bool) -> Backward:
    nodes = graph.nodes
    needs = graph.depends_on(wrt, root)
    adjoint: list[Any] = [None] * (root + 1)
    seed = values[root]
    if not isinstance(seed, float):
        raise EngineError(M("the differentiated value must be a scalar, not a tensor of "
                            "shape {shape}", shape=list(seed.shape)), root, nodes[root].col)
    adjoint[root] = 1.0
    result = Backward(adjoint)
    for i in range(root, -1, -1):
        g = adjoint[i]
        node = nodes[i]
        if g is None or not node.args:
            continue
        op = OPS[node.op]
        args = [values[a] for a in node.args]
        if op.piece is not None and op.at_kink(*args):
            result.kinks.append(i)
        for k, a in enumerate(node.args):
            if not needs[a]:
                continue
            try:
                contribution = unbroadcast(op.vjp[k](g, values[i], *args), values[a])
            except (ArithmeticError, ValueError) as exc:
                raise _error(graph, i, args, _failure(exc), point, derivative=True) from None
            if careful and not _finite(contribution):
                raise _error(graph, i, args, "nonfinite", point, derivative=True)
            if record:
                result.edges[(i, k)] = contribution
            adjoint[a] = contribution if adjoint[a] is None else adjoint[a] + contribution
    return result


def gradient(graph: Graph, bindings: dict[int, Value], root: int, wrt: list[int],
             point: str = "") -> tuple[Value, list[Value], Backward]:
    """Value of `root` and its gradient with respect to each node of `wrt`."""
    values = forward(graph, bindings, root, point)
    back = backward(graph, values, root, wrt, point=point)
    zero = [0.0 if isinstance(values[w], float) else values[w] * 0.0 for w in wrt]
    grads = [back.adjoint[w] if w <= root and back.adjoint[w] is not None else z
             for w, z in zip(wrt, zero)]
    return values[root], grads, back
