"""Where the loss and its gradient come from: the ONE adapter to the engine.

`from_expression(text, start)` (`gradcli train EXPR --from x=5`: the
expression's variables are the parameters) and `from_file(path)` (a YAML spec
in graph or layer form: its `params` and seeded weights are trained on its
inputs, full batch) both give a `Problem`.  The engine modules are imported
lazily in `_engine()` and `_spec()` only, so renaming them is a one-line change.

- `Problem.first()` evaluates the loss and gradient at the start with the
  engine's own `forward` and `backward`, exactly as `check` does: a NaN or
  infinity there is an exit-2 error naming the operation and the point.
- `Problem.evaluate(params)` evaluates them at every later point through a
  `Plan`: the same op table (each op's forward and VJP) and the same
  `unbroadcast`, walked in the same order, but with the walk (which nodes,
  which arguments need a gradient) decided once instead of at every step, and
  without the per-node NaN scan.  A non-finite loss there is not an error but
  a divergence, which the training loop reports.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from gradcli.errors import GradcliError, NonFiniteError
from gradcli.i18n import M

Value = Any  # float or numpy.ndarray

#: Through-the-network change of ‖dL/dW_k‖ that earns a warning.
FLOW_WARNING_RATIO = 1e3


def _engine():
    """The reverse-mode engine (forward, backward, unbroadcast)."""
    from gradcli import engine as reverse

    return reverse


def _spec():
    """The YAML loader: `load(path) -> Spec`."""
    from gradcli import spec

    return spec


def load_spec(path: str, budget=None):
    """A YAML file loaded as `check` loads it (a Spec), within `budget` (a
    gradcli.budget.Budget; default: check's)."""
    return _spec().load(path, budget)


def is_file(target: str) -> bool:
    """The contract's rule: ending in .yaml/.yml or containing '/' means a file."""
    return target.lower().endswith((".yaml", ".yml")) or "/" in target


@dataclass
class Problem:
    kind: str  # "expression", "graph" or "layers"
    label: str  # the expression's text or the file's path
    names: list[str]  # parameter names, in order
    start: list[Value]  # their starting values
    first: Callable[[], tuple[float, list[Value]]]
    evaluate: Callable[[list[Value]], tuple[float, list[Value]]]
    lr: float | None = None  # the file's `lr:`
    layer_weights: list[int] = field(default_factory=list)  # indices of W1..WL in names
    spec: Any = None  # the loaded Spec (files only), for --save

    def size(self) -> int:
        """Number of scalar parameters."""
        return sum(1 if isinstance(v, float) else int(v.size) for v in self.start)


# ------------------------------------------------------------- expression ---
def from_expression(text: str, start_items: list[str]) -> Problem:
    from gradcli.derive import natural_key, parse_bindings
    from gradcli.graph import VAR
    from gradcli.parse import parse

    parsed = parse(text)
    graph, root = parsed.graph, parsed.root
    i = graph.first_tensor_op(root)
    if i is not None:
        raise GradcliError(M("{op} needs tensors: train a YAML file to use it "
                             "(an expression's variables are numbers)", op=graph.nodes[i].op),
                           f"column {graph.nodes[i].col}")
    names = sorted((graph.nodes[i].name for i in graph.ancestors(root)
                    if graph.nodes[i].op == VAR), key=natural_key)
    if not names:
        raise GradcliError(M("the expression has no variables: there is nothing to train"),
                           "expression")
    if not start_items:
        raise GradcliError(M("an expression needs a start point: give --from with a value "
                             "for each of {names} (e.g. --from {example})",
                             names=", ".join(names),
                             example=",".join(f"{n}=1" for n in names)), "--from")
    at = parse_bindings(start_items, "--from")
    unknown = [n for n in at if n not in names]
    if unknown:
        raise GradcliError(M("'{name}' is not a variable of the expression (variables: "
                             "{names})", name=unknown[0], names=", ".join(names)), "--from")
    missing = [n for n in names if n not in at]
    if missing:
        raise GradcliError(M("no start value for {missing}: --from needs every variable of "
                             "the expression ({names})", missing=", ".join(missing),
                             names=", ".join(names)), "--from")
    ids = [graph.variables[n] for n in names]
    start = [float(at[n]) for n in names]
    point = ", ".join(f"{n}={at[n]:.10g}" for n in names)

    def first() -> tuple[float, list[Value]]:
        try:
            loss, grads, _ = _engine().gradient(graph, dict(zip(ids, start)), root, ids,
                                                point=point)
        except GradcliError as exc:  # point at the operation in the expression
            if (exc.where and str(exc.where).startswith("column ") and not exc.detail
                    and "\n" not in text and len(text) <= 200):
                col = int(str(exc.where).split()[1])
                exc.detail = f"  {text}\n  {' ' * (col - 1)}^"
            raise
        return loss, grads

    plan = Plan(graph, root, ids, {})
    return Problem("expression", " ".join(text.split()), names, start, first, plan)


# ------------------------------------------------------------------ files ---
def from_file(path: str, budget=None) -> Problem:
    if not path.lower().endswith((".yaml", ".yml")) and not os.path.exists(path):
        raise GradcliError(M("no such file (an argument containing / is read as a file; "
                             "an expression must avoid /, e.g. x*0.5 for x/2)"), path)
    spec = load_spec(path, budget)
    names = list(spec.params)
    ids = [spec.params[n] for n in names]
    start = [_copy(spec.bindings[i]) for i in ids]
    layer_weights: list[int] = []
    if spec.layers is not None:
        layer_weights = [names.index(f"W{k}") for k in range(1, len(spec.layers.layers) + 1)]

    def first() -> tuple[float, list[Value]]:
        return _first_of_spec(spec, ids)

    plan = Plan(spec.graph, spec.loss, ids, spec.bindings)
    return Problem(spec.form, path, names, start, first, plan, lr=spec.lr,
                   layer_weights=layer_weights, spec=spec)


def _copy(v: Value) -> Value:
    return v if isinstance(v, float) else v.copy()


def _first_of_spec(spec, ids: list[int]) -> tuple[float, list[Value]]:
    """Loss and gradient at the file's point, with `check`'s errors and locations."""
    from gradcli import check

    engine = _engine()
    try:
        values = engine.forward(spec.graph, spec.bindings, spec.loss, point=check._point(spec))
        loss = values[spec.loss]
        if not isinstance(loss, float):
            raise NonFiniteError(M("the loss must be a scalar, but it has shape {shape} "
                                   "(use sum() or mean())", shape=list(loss.shape)),
                                 spec.where("loss"))
        back = engine.backward(spec.graph, values, spec.loss, ids)
    except engine.EngineError as exc:  # the file, line and column, as check reports them
        exc.where = spec.locate(exc.node)
        raise
    grads = [back.adjoint[i] if back.adjoint[i] is not None else _zero(spec.bindings[i])
             for i in ids]
    return loss, grads


def _zero(v: Value) -> Value:
    return 0.0 if isinstance(v, float) else v * 0.0


# ------------------------------------------------------------------- plan ---
class Plan:
    """Loss and gradient for given parameter values, over a walk planned once.

    The forward list holds the loss's ancestors in construction (topological)
    order with each op's forward; the backward list holds, in reverse order,
    each node whose value depends on a parameter with the VJPs of the
    arguments that need a gradient (`Graph.depends_on`, as the engine's
    backward decides it at every call).  `unbroadcast` is called on every
    edge the first time and afterwards only on the edges where it changed
    something (every step has the same shapes).  Raises NonFiniteError when
    the loss is not finite or an operation fails (outside its domain, overflow).
    """

    def __init__(self, graph, root: int, param_ids: list[int], bindings: dict[int, Value]):
        from gradcli.graph import CONST, VAR
        from gradcli.ops import OPS

        self.unbroadcast = _engine().unbroadcast
        nodes = graph.nodes
        needed = graph.ancestors(root)
        self.root = root
        self.param_ids = param_ids
        self.template: list[Value] = [None] * (root + 1)
        self.forward: list[tuple[int, Callable, tuple[int, ...]]] = []
        for i in needed:
            node = nodes[i]
            if node.op == CONST:
                self.template[i] = node.value
            elif node.op == VAR:
                self.template[i] = bindings.get(i)
            else:
                self.forward.append((i, OPS[node.op].forward, node.args))
        needs = graph.depends_on(set(param_ids), root)
        self.backward: list[tuple[int, tuple[int, ...], list[tuple[int, Callable]]]] = []
        for i in reversed(needed):
            node = nodes[i]
            if node.args and needs[i]:
                vjps = OPS[node.op].vjp
                # [argument, its VJP, whether its result must be unbroadcast]: the
                # last is learnt on the first call (shapes never change between steps)
                self.backward.append((i, node.args, [[a, vjps[k], True]
                                                     for k, a in enumerate(node.args)
                                                     if needs[a]]))
        self.learnt = False
        self.arrays = any(v is not None and not isinstance(v, float) for v in self.template)

    def __call__(self, params: list[Value]) -> tuple[float, list[Value]]:
        values = list(self.template)
        root = self.root
        for pid, v in zip(self.param_ids, params):
            if pid <= root:
                values[pid] = v
        try:
            if self.arrays or any(not isinstance(p, float) for p in params):
                import numpy as np

                with np.errstate(all="ignore"):
                    return self._run(values, params)
            return self._run(values, params)
        except (ArithmeticError, ValueError):
            raise NonFiniteError(M("the loss is not finite")) from None

    def _run(self, values: list[Value], params: list[Value]) -> tuple[float, list[Value]]:
        for i, forward_fn, args in self.forward:
            values[i] = forward_fn(*[values[a] for a in args])
        loss = values[self.root]
        if not math.isfinite(loss):
            raise NonFiniteError(M("the loss is not finite"))
        adjoint: list[Value] = [None] * (self.root + 1)
        adjoint[self.root] = 1.0
        unbroadcast = self.unbroadcast
        for i, args, vjps in self.backward:
            g = adjoint[i]
            if g is None:
                continue
            out = values[i]
            arg_values = [values[a] for a in args]
            for edge in vjps:
                a, vjp, reshape = edge
                c = vjp(g, out, *arg_values)
                if reshape:
                    shaped = unbroadcast(c, values[a])
                    if not self.learnt and shaped is c:  # already the argument's shape
                        edge[2] = False
                    c = shaped
                adjoint[a] = c if adjoint[a] is None else adjoint[a] + c
        self.learnt = True
        grads = []
        for pid, p in zip(self.param_ids, params):
            g = adjoint[pid] if pid <= self.root else None
            grads.append(_zero(p) if g is None else g)
        return loss, grads


# ------------------------------------------------------------- layer flow ---
@dataclass
class LayerNorms:
    """‖dL/dW_k‖ for k = 1..L at one point."""

    norms: list[float]

    def warnings(self, step: int) -> list[tuple[str, Any]]:
        """(kind, message) when the gradient shrinks or grows over 1000-fold from the
        last layer (where it enters) back to the first; `step` names the point."""
        if len(self.norms) < 2:
            return []
        first, last = self.norms[0], self.norms[-1]
        if not (math.isfinite(first) and math.isfinite(last)) or first <= 0 or last <= 0:
            return []
        L = len(self.norms)
        ratio = first / last
        if ratio < 1.0 / FLOW_WARNING_RATIO:
            return [("vanishing", M(
                "vanishing gradients at step {step}: ‖dL/dW_1‖ is {factor} times smaller "
                "than ‖dL/dW_{L}‖ (the gradient shrinks on its way back through the "
                "network)", step=step, factor=f"{1.0 / ratio:.2g}", L=L))]
        if ratio > FLOW_WARNING_RATIO:
            return [("exploding", M(
                "exploding gradients at step {step}: ‖dL/dW_1‖ is {factor} times larger "
                "than ‖dL/dW_{L}‖ (the gradient grows on its way back through the "
                "network; --clip NORM limits the step)", step=step, factor=f"{ratio:.2g}",
                L=L))]
        return []


def layer_norms(problem: Problem, grads: list[Value]) -> LayerNorms | None:
    """Per-layer weight-gradient norms, for layer-form networks only."""
    if not problem.layer_weights:
        return None
    from gradcli.train.clipping import global_norm

    return LayerNorms([global_norm([grads[i]]) for i in problem.layer_weights])

