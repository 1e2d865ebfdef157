"""What a wrong `expect` answer most likely got wrong.

Every diagnosis is a candidate value computed from the network: the true
value with one mistake made (the sign, a factor of 2, one or two chain
factors or one path left out, the learning rate, the step's direction, a
wrong forward value carried along, ...).  A candidate is named only when it
explains the answer to EXPLAIN_RTOL relative (1e-3: tighter than the pass
tolerance, so that "close" is never a diagnosis); otherwise there is none.

Updates are judged on the step, as they are graded: the learning rate the
student used is (old - answer)/gradient, named only when it has at most two
significant digits ("used lr 0.1; the file says 0.5") -- any wrong update
has *some* implied rate, so only a plain number is evidence of one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from gradcli import engine
from gradcli.i18n import M, Msg

#: A diagnosis must explain the answer to this relative tolerance.
EXPLAIN_RTOL = 1e-3
#: Chains with more paths than this are not searched for missing factors.
MAX_PATHS = 16


@dataclass
class Context:
    spec: Any
    values: list
    report: Any
    here: Any  # answers.points.GradingPoint at the file's point
    rate: float | None
    rate_source: str  # "the file" or "--lr"
    wrong_nodes: dict[str, Any] = field(default_factory=dict)  # node -> student's value
    wrong_grads: dict[str, Any] = field(default_factory=dict)  # target -> student's value
    _chains: dict[str, list] = field(default_factory=dict)


def _scalar(v: Any) -> bool:
    return isinstance(v, float)


def explains(expected: Any, candidate: Any, scale: Any, atol: float) -> bool:
    """|expected - candidate| <= EXPLAIN_RTOL * |scale| (for tensors, of its largest
    entry), and at least atol."""
    if _scalar(expected) and _scalar(candidate):
        return abs(expected - candidate) <= max(EXPLAIN_RTOL * abs(scale), atol)
    import numpy as np

    e, c = np.asarray(expected, dtype=float), np.asarray(candidate, dtype=float)
    if e.shape != c.shape:
        return False
    limit = max(EXPLAIN_RTOL * float(np.abs(np.asarray(scale, dtype=float)).max(initial=0.0)),
                atol)
    return bool(np.all(np.abs(e - c) <= limit))


Candidate = tuple[Callable[[], Msg], Any, Any]  # (message, value, scale)


def diagnose(ctx: Context, item, expected: Any, actual: Any) -> Msg | None:
    """The first candidate that explains `expected` (the student's answer)."""
    if not _scalar(expected):
        found = _shape(ctx, expected, actual)
        if found is not None:
            return found
    kind = item.kind
    if kind == "update":
        candidates = _update(ctx, item.target, expected)
    elif kind == "grad":
        candidates = _gradient(ctx, item.target, ctx.here.grad(item.target))
    else:
        candidates = _value(ctx, item, actual)
    for message, value, scale in candidates:
        if explains(expected, value, scale, ctx.spec.atol):
            return message()
    return None


def _shape(ctx: Context, expected: Any, actual: Any) -> Msg | None:
    """The transpose of the true value (the other layout), or another shape; None when
    the shapes agree and the answer is not the transpose."""
    import numpy as np

    e, a = np.asarray(expected), np.asarray(actual)
    transposed = e.ndim == 2 and e.T.shape == a.shape and explains(e.T, a, a, ctx.spec.atol)
    if e.shape == a.shape:
        return M("transposed") if transposed and e.shape[0] > 1 else None
    if transposed:
        layout = getattr(ctx.spec.layers, "layout", None)
        if layout:
            return M("transposed: shape {given} where this file's layout ({layout}) has "
                     "{shape}", given=list(e.shape), layout=layout, shape=list(a.shape))
        return M("transposed: shape {given} where {shape} is expected", given=list(e.shape),
                 shape=list(a.shape))
    return M("shape {given} where {shape} is expected", given=list(e.shape),
             shape=list(a.shape))


# -------------------------------------------------------------- gradients ---
def _gradient(ctx: Context, target: str, g: Any, lr_forms: bool = True
              ) -> Iterator[Candidate]:
    rate = ctx.rate
    yield (lambda: M("sign flipped")), -g, g
    if lr_forms and rate is not None:
        yield _lr_times(rate), rate * g, rate * g
        if target in ctx.spec.params:
            old = ctx.here.old(target)
            yield (lambda: M("this is the updated value (old - lr × gradient, lr = {rate:g}), "
                             "not the gradient", rate=rate)), old - rate * g, old - rate * g
    yield (lambda: M("off by a factor of 2 (twice the true value: the 1/2 of the loss left "
                     "out?)")), 2 * g, 2 * g
    yield (lambda: M("off by a factor of 1/2 (half the true value: the 2 from the square "
                     "left out?)")), g / 2, g / 2
    yield from _chain(ctx, target)
    if not _scalar(g):
        yield from _factors(ctx, g)
    yield from _forward(ctx, target)


def _lr_times(rate: float) -> Callable[[], Msg]:
    if rate in (0.5, 2.0):
        return lambda: M("this is lr × gradient (lr = {rate:g}), not the gradient (here that "
                         "is also {what} the gradient)", rate=rate,
                         what=M("half") if rate == 0.5 else M("twice"))
    return lambda: M("this is lr × gradient (lr = {rate:g}), not the gradient", rate=rate)


def _factors(ctx: Context, g: Any) -> Iterator[Candidate]:
    """Tensor gradients: the batch size and other simple factors (mistakes.simple_factors)."""
    from gradcli.mistakes import factor_message, simple_factors

    batch = getattr(ctx.spec.layers, "batch", None)
    for factor, why in simple_factors(batch):
        if factor not in (-1, 2) and factor != 0.5:
            yield (lambda factor=factor, why=why: factor_message(factor, why)), \
                float(factor) * g, float(factor) * g


def _chain(ctx: Context, target: str) -> Iterator[Candidate]:
    """One factor (an edge, wherever it occurs), one path, or two factors left out."""
    paths = _chain_paths(ctx, target)
    if not paths:
        return
    total = sum(p.product for p in paths)
    edges: dict[str, Any] = {}
    for path in paths:
        for f in path.factors:
            if f.value not in (0.0, 1.0, -1.0):
                edges.setdefault(f.edge, f)

    def without(names: set[str]) -> float:
        out = 0.0
        for path in paths:
            product = 1.0
            for f in path.factors:
                if f.edge not in names:
                    product *= f.value
            out += product
        return out

    for f in edges.values():
        value = without({f.edge})
        yield (lambda f=f: M("matches the chain with one factor left out: missing {edge} "
                             "({value:.4g})", edge=_named(f), value=f.value)), value, value
    if len(paths) > 1:
        for path in paths:
            value = total - path.product
            yield (lambda path=path: _path_message(path)), value, value
    factors = list(edges.values())
    for i, f1 in enumerate(factors):
        for f2 in factors[i + 1:]:
            value = without({f1.edge, f2.edge})
            yield (lambda f1=f1, f2=f2: M(
                "matches the chain with two factors left out: missing {first} ({v1:.4g}) and "
                "{second} ({v2:.4g})", first=_named(f1), v1=f1.value, second=_named(f2),
                v2=f2.value)), value, value


def _named(factor) -> str:
    return f"{factor.edge} = {factor.expr}" if factor.expr else factor.edge


def _path_message(path) -> Msg:
    via = " -> ".join(path.path[1:-1])
    if not via:
        return M("one path left out: the direct edge ({product:.4g})", product=path.product)
    return M("one path left out: the path through {via} ({product:.4g})", via=via,
             product=path.product)


def chain_paths(ctx: Context, target: str) -> list:
    return _chain_paths(ctx, target)


def chain_diagnosis(report: Any, param: str, given: float, explains) -> Msg | None:
    """The one- or two-factor-missing diagnosis of a parameter's gradient `given` (from
    the check's own ledger paths), where `explains(given, candidate)` holds; None else.
    `check --backward` names the same chain mistakes as `expect` this way."""
    p = next((q for q in report.params if q.name == param), None)
    if p is None or not p.chain:
        return None
    ctx = Context(None, [], report, None, None, "", _chains={param: list(p.chain)})
    for message, value, _shown in _chain(ctx, param):
        if explains(given, value):
            return message()
    return None


def _chain_paths(ctx: Context, target: str) -> list:
    """The chain-rule paths from the loss to `target` (graph form, scalar values)."""
    if target in ctx._chains:
        return ctx._chains[target]
    found: list = []
    param = next((p for p in ctx.report.params if p.name == target), None)
    if param is not None:
        found = list(param.chain)
    elif ctx.spec.form == "graph" and _scalar(ctx.values[ctx.spec.named[target]]):
        found = _node_chain(ctx, target)
    ctx._chains[target] = found
    return found


def _node_chain(ctx: Context, target: str) -> list:
    from gradcli import ledger
    from gradcli.report import LedgerFactor, LedgerPath

    spec, values = ctx.spec, ctx.values
    root, ids, uses = ledger.graph_names(spec)
    if not all(_scalar(values[i]) for i in ids.values()):
        return []
    if ledger.count_paths(root, uses).get(target, 0) > MAX_PATHS:
        return []
    numbers = ledger.edge_values(spec, values, ids, uses)
    texts = {f.edge: f.expr for p in ctx.report.params for path in p.chain
             for f in path.factors if f.expr}
    out = []
    for path in ledger.paths(root, target, uses):
        factors, product = [], 1.0
        for consumer, producer in zip(path, path[1:]):
            value = numbers.get((consumer, producer), 0.0)
            edge = ledger.local(consumer, producer)
            factors.append(LedgerFactor(edge, texts.get(edge), value, consumer, producer))
            product *= value
        out.append(LedgerPath(path, factors, product))
    return out


def _forward(ctx: Context, target: str) -> Iterator[Candidate]:
    """A wrong forward value of the student's, carried into this gradient."""
    spec = ctx.spec
    tid = spec.named[target]
    for node, given in ctx.wrong_nodes.items():
        nid = spec.named[node]
        flags = spec.graph.depends_on({nid}, spec.loss)
        dependents = [i for i in range(spec.loss + 1) if flags[i] and i != nid]
        try:
            moved = engine.reforward(spec.graph, ctx.values, {nid: given}, spec.loss,
                                     dependents)
            grad = engine.backward(spec.graph, moved, spec.loss, [tid]).adjoint[tid]
        except Exception:  # noqa: BLE001 - a student's value may leave the domain
            continue
        if grad is None:
            continue
        actual = ctx.values[nid]
        if _scalar(actual) and _scalar(given):
            yield (lambda node=node, given=given, actual=actual: M(
                "follows from your wrong forward value of {node} ({given} instead of "
                "{actual:.4g})", node=node, given=given, actual=actual)), grad, grad
        else:
            yield (lambda node=node: M("follows from your wrong forward value of {node} (not "
                                       "the true value)", node=node)), grad, grad


# ----------------------------------------------------------------- values ---
def _value(ctx: Context, item, actual: Any) -> Iterator[Candidate]:
    loss_like = item.kind in ("loss", "loss_after")
    yield (lambda: M("sign flipped")), -actual, actual
    if item.kind == "loss_after":
        before = ctx.values[ctx.spec.loss]
        yield (lambda: M("the loss before the step, not after it")), before, before
    if loss_like:
        yield (lambda: M("off by a factor of 2 (twice the true value: the 1/2 of the loss "
                         "left out?)")), 2 * actual, 2 * actual
        yield (lambda: M("off by a factor of 1/2 (half the true value: the 2 from the square "
                         "left out?)")), actual / 2, actual / 2
    else:
        yield (lambda: M("off by a factor of 2")), 2 * actual, 2 * actual
        yield (lambda: M("off by a factor of 1/2")), actual / 2, actual / 2
    if item.kind != "loss_after":
        yield from _forward_value(ctx, item)


def _forward_value(ctx: Context, item) -> Iterator[Candidate]:
    """A wrong earlier value (e.g. yhat) carried into this one (e.g. the loss)."""
    spec = ctx.spec
    name = item.name
    target = spec.loss if item.kind == "loss" else spec.named[name]
    for node, given in ctx.wrong_nodes.items():
        nid = spec.named[node]
        if node == name or nid >= target:
            continue
        flags = spec.graph.depends_on({nid}, target)
        if not flags[target]:
            continue
        dependents = [i for i in range(target + 1) if flags[i] and i != nid]
        try:
            moved = engine.reforward(spec.graph, ctx.values, {nid: given}, target, dependents)
        except Exception:  # noqa: BLE001 - a student's value may leave the domain
            continue
        yield (lambda node=node: M("follows from your wrong forward value of {node} (the rest "
                                   "of the computation is right)", node=node)), \
            moved[target], moved[target]


# ---------------------------------------------------------------- updates ---
def _update(ctx: Context, param: str, expected: Any) -> Iterator[Candidate]:
    rate, here = ctx.rate, ctx.here
    old, g = here.old(param), here.grad(param)
    step = rate * g
    if param in ctx.wrong_grads:  # the student's own (wrong) gradient, rightly applied
        given = ctx.wrong_grads[param]
        yield (lambda: M("follows from your gradient answer for {param}: the update is "
                         "right for that gradient", param=param)), old - rate * given, \
            rate * given
    yield (lambda: M("gradient added instead of subtracted (old + lr × gradient)")), \
        old + step, step
    used = _used_rate(old, g, expected)
    if used is not None and not abs(used - rate) <= 1e-9 * rate:
        yield (lambda: M("used lr {used:g}; {source} says {rate:g}", used=used,
                         source=M("the file") if ctx.rate_source == "the file" else "--lr",
                         rate=rate)), old - used * g, used * g
    yield (lambda: M("this is the gradient, not the updated value (the update is old - lr × "
                     "gradient)")), g, g
    yield (lambda: M("this is the step lr × gradient, not the updated value (old - lr × "
                     "gradient)")), step, step
    yield (lambda: M("this is minus the step (-lr × gradient), not the updated value (old - lr "
                     "× gradient)")), -step, step
    for message, value, _scale in _gradient(ctx, param, g, lr_forms=False):
        yield (lambda message=message: M("the step uses a wrong gradient: {what}",
                                         what=message())), old - rate * value, rate * value


def _used_rate(old: Any, g: Any, expected: Any) -> float | None:
    """(old - answer)/gradient, rounded to two significant digits; None when it is not
    positive or the gradient is 0."""
    if _scalar(g):
        if g == 0.0:
            return None
        implied = (old - expected) / g
    else:
        import numpy as np

        gg = float(np.vdot(g, g))
        if gg == 0.0:
            return None
        implied = float(np.vdot(old - np.asarray(expected, dtype=float), g)) / gg
    if not implied > 0:
        return None
    return float(f"{implied:.2g}")
