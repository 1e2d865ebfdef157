"""What a wrong user gradient most likely left out, for the network of the YAML.

In order, the first that explains the user's gradient (to `mistakes.EXPLAIN_RTOL`
relative to its largest entry) is named:

1. one chain factor or one path left out (graph-form scalars: the ledger's
   paths, through `grading`'s diagnosis of hand answers);
2. one activation derivative left out ("missing the activation derivative of
   layer 2"): the gradient the engine gives when that node's local derivative
   is replaced by 1.  By linearity of the backward pass that is the true
   gradient plus a backward seeded at the activation's argument with
   `adjoint - vjp(adjoint)` (what the true backward passes through the node,
   exchanged for what passes through unchanged), computed by the engine on a
   copy of the graph with one scalar root added: no derivative code here;
3. the 1/B (or 1/(B·K) for mse) in front of the loss left out (layer form);
4. `mistakes.diagnose`: transposed, shape mismatch, zero, a constant factor
   (the batch size, 2, -1), one row or column wrong.

A candidate that equals the right gradient (a node whose derivative is 1
there) explains nothing and is skipped.
"""
from __future__ import annotations

from typing import Any

from gradcli import engine, mistakes
from gradcli.graph import Graph
from gradcli.i18n import M, Msg
from gradcli.ops import OPS

#: Unary ops whose derivative a student may leave out (argument and result of one shape).
ACTIVATION_OPS = ("sigmoid", "tanh", "relu", "softplus", "exp", "log", "sqrt", "sin", "cos",
                  "tan", "abs", "softmax", "log_softmax")
#: At most this many candidate nodes are tried (each costs one backward pass).
MAX_CANDIDATES = 64


def explains(actual: Any, candidate: Any) -> bool:
    """`candidate` reproduces `actual` entry by entry, to EXPLAIN_RTOL of the largest entry."""
    import numpy as np

    a, c = np.asarray(actual, dtype=float), np.asarray(candidate, dtype=float)
    if a.shape != c.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(c))):
        return False
    scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(c).max(initial=0.0)))
    return bool(np.all(np.abs(a - c) <= max(mistakes.EXPLAIN_RTOL * scale, 1e-300)))


class Diagnoser:
    """Diagnoses for one network; the alternative gradients are computed once, on demand."""

    def __init__(self, spec: Any, report: Any, atol: float = 0.0):
        self.spec, self.report, self.atol = spec, report, atol
        self._alternatives: list[tuple[Msg, dict[str, Any]]] | None = None

    def explain(self, param: Any, user: Any, bad: Any = None) -> Msg | None:
        import numpy as np

        u = np.asarray(user, dtype=float)
        e = np.asarray(param.reverse, dtype=float)
        if u.shape == e.shape:
            found = self._chain(param, u) or self._left_out(param.name, u, e) \
                or self._loss_scale(u, e)
            if found is not None:
                return found
        return mistakes.diagnose(u, e, bad, self._batch(), self.atol)

    # ---------------------------------------------------------------- chain ---
    def _chain(self, param: Any, u: Any) -> Msg | None:
        if not param.chain or u.ndim != 0:
            return None
        from gradcli import grading
        from gradcli.answers.expect_mistakes import chain_diagnosis

        def near(x: Any, y: Any) -> bool:  # expect's one- and two-factor-missing diagnoses
            return grading.passes(x, y, mistakes.EXPLAIN_RTOL, 1e-300)

        return chain_diagnosis(self.report, param.name, float(u), near)

    # ------------------------------------------------- one derivative left out ---
    def _left_out(self, name: str, u: Any, e: Any) -> Msg | None:
        for why, grads in self.alternatives():
            alt = grads.get(name)
            if alt is not None and explains(u, alt) and not explains(e, alt):
                return why
        return None

    def alternatives(self) -> list[tuple[Msg, dict[str, Any]]]:
        if self._alternatives is None:
            self._alternatives = _alternatives(self.spec, self.report)
        return self._alternatives

    # ------------------------------------------------------------ the 1/B ---
    def _loss_scale(self, u: Any, e: Any) -> Msg | None:
        net = getattr(self.spec, "layers", None)
        if self.spec.form != "layers" or net is None:
            return None
        from gradcli.dense import table

        units = net.layers[-1].units
        loss = table.LOSSES[net.loss]
        factor = 1.0 / loss.scale(net.batch, units)
        if factor <= 1.0 or not explains(u, factor * e) or explains(u, e):
            return None
        if loss.per_element_mean:
            return M("missing the 1/(B·K) of the loss (the mean over B = {batch} examples "
                     "and K = {units} outputs): off by a factor of {factor:g}",
                     batch=net.batch, units=units, factor=factor)
        return M("missing the 1/B of the loss (B = {batch}): off by a factor of {batch}",
                 batch=net.batch)

    def _batch(self) -> int | None:
        net = getattr(self.spec, "layers", None)
        return net.batch if self.spec.form == "layers" and net is not None else None


# ------------------------------------------------------------ alternatives ---
def _alternatives(spec: Any, report: Any) -> list[tuple[Msg, dict[str, Any]]]:
    """For each activation node: the gradients with its local derivative replaced by 1."""
    params = list(spec.params.values())
    g = spec.graph
    values = engine.forward(g, spec.bindings, spec.loss)
    back = engine.backward(g, values, spec.loss, params)
    full = {p.name: p.reverse for p in report.params}
    out = []
    for node, why in _candidates(spec, values, back.adjoint)[:MAX_CANDIDATES]:
        arg = g.nodes[node].args[0]
        upstream = back.adjoint[node]
        through = OPS[g.nodes[node].op].vjp[0](upstream, values[node], values[arg])
        try:
            change = seeded_backward(g, values, arg, upstream - through, params)
        except (engine.EngineError, ArithmeticError, ValueError):
            continue
        grads = {}
        for name, nid in spec.params.items():
            if change.get(nid) is not None:
                grads[name] = full[name] + change[nid]
        out.append((why, grads))
    return out


def _candidates(spec: Any, values: list, adjoint: list) -> list[tuple[int, Msg]]:
    """Activation nodes on the loss's path, named for the message, from the loss down."""
    g = spec.graph
    named: dict[int, str] = {}
    for name, nid in spec.named.items():  # the first name of a node: a2 before yhat
        named.setdefault(nid, name)
    out = []
    for i in range(spec.loss, -1, -1):
        node = g.nodes[i]
        if node.op not in ACTIVATION_OPS or adjoint[i] is None:
            continue
        arg = node.args[0]
        if _shape(values[i]) != _shape(values[arg]):
            continue
        out.append((i, _name(spec, i, arg, named)))
    return out


def _name(spec: Any, i: int, arg: int, named: dict[int, str]) -> Msg:
    op = spec.graph.nodes[i].op
    label, inner = named.get(i), named.get(arg)
    if spec.form == "layers" and label and label[0] == "a" and label[1:].isdigit():
        return M("missing the activation derivative of layer {layer}: {op}'(z{layer}) "
                 "left out", layer=int(label[1:]), op=op)
    if label and inner:
        return M("missing the derivative of {op} at {node}: {op}'({arg}) left out", op=op,
                 node=label, arg=inner)
    if label:
        return M("missing the derivative of {op} at {node}", op=op, node=label)
    return M("missing the derivative of {op} at {where}", op=op, where=spec.locate(i))


def _shape(value: Any) -> tuple:
    return () if isinstance(value, float) else tuple(value.shape)


def seeded_backward(graph: Graph, values: list, node: int, seed: Any,
                    wrt: list[int]) -> dict[int, Any]:
    """d<node, seed>/d(each of `wrt`): the engine's backward from `node` with upstream
    `seed`, on a copy of the graph with the scalar root sum(node * seed) added."""
    g = Graph(list(graph.nodes), dict(graph.variables), dict(graph.labels))
    padded = list(values) + [None] * (len(graph.nodes) - len(values))
    s = g.var("<seed>")
    prod = g.apply("mul", node, s)
    padded += [seed, OPS["mul"].forward(values[node], seed)]
    root = prod
    if not isinstance(seed, float):
        root = g.apply("sum", prod)
        padded.append(float(OPS["sum"].forward(padded[prod])))
    back = engine.backward(g, padded, root, wrt)
    return {w: back.adjoint[w] if w < len(back.adjoint) else None for w in wrt}
