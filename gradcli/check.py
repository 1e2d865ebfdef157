"""`gradcli check` as a library call: a loaded Spec in, a CheckReport out.

Forward pass, then the gradient of the loss with respect to every parameter
three ways (reverse mode, central differences, SymPy where the size allows),
one verdict per parameter (`verdict.compare`: attribution when they
disagree), the chain-rule ledger, grading of hand answers and an optional
gradient-descent step.  The numeric paths only measure (a NumericResult);
this module alone decides what is ok.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

from gradcli import engine, numeric, verdict
from gradcli.errors import GradcliError, NonFiniteError
from gradcli.i18n import M, Msg
from gradcli.ops import OPS
from gradcli.report import CheckReport, ParamResult, UpdateRow
from gradcli.spec import Spec

SYMBOLIC_MAX_NODES = 3_000  # graph nodes: above this, symbolic is skipped
SYMBOLIC_MAX_ELEMENTS = 400  # scalar parameters: above this, symbolic is skipped
SYMBOLIC_MAX_DEPTH = 60  # nesting of the loss expression: SymPy's cost explodes beyond
NUMERIC_MAX_ELEMENTS = numeric.MAX_ENTRIES  # graph form: above this, entries are sampled


def _is_scalar(v: Any) -> bool:
    return isinstance(v, float)


def _shape(v: Any) -> list[int]:
    return [] if _is_scalar(v) else list(v.shape)


# ----------------------------------------------------------------- driver ---
def run(spec: Spec, rtol: float = 1e-5, atol: float = 1e-8, lr: float | None = None,
        symbolic_budget: float = 10.0, full: bool = False, paths_cap: int = 16,
        progress=None, symbolic: bool = True) -> CheckReport:
    """`symbolic=False` leaves SymPy out entirely (not even imported): the
    reverse-vs-numeric check and the grading still run (pictures use this)."""
    try:
        return _run(spec, rtol, atol, lr, symbolic_budget if symbolic else None, full,
                    paths_cap, progress)
    except engine.EngineError as exc:  # the engine names the node: say where it is
        exc.where = spec.locate(exc.node)
        raise


def _point(spec: Spec) -> str:
    """The scalar inputs and parameters, for error messages (tensors by shape)."""
    parts = []
    for name, nid in list(spec.inputs.items()) + list(spec.params.items()):
        v = spec.bindings[nid]
        parts.append(f"{name}={v:.6g}" if _is_scalar(v) else f"{name}: {list(v.shape)}")
    return ", ".join(parts[:8]) + (", ..." if len(parts) > 8 else "")


def _run(spec: Spec, rtol: float, atol: float, lr: float | None,
         symbolic_budget: float | None,
         full: bool, paths_cap: int, progress) -> CheckReport:
    t0 = time.perf_counter()
    # every named value (a node defined after the loss is still shown), then the loss
    last = max([spec.loss, *spec.named.values()])
    values = engine.forward(spec.graph, spec.bindings, last, point=lambda: _point(spec))
    loss = values[spec.loss]
    if not _is_scalar(loss):
        raise NonFiniteError(M("the loss must be a scalar, but it has shape {shape} (use "
                               "sum() or mean())", shape=_shape(loss)), spec.where("loss"))
    back = engine.backward(spec.graph, values, spec.loss, list(spec.params.values()))
    reverse = {name: back.adjoint[nid] if back.adjoint[nid] is not None else values[nid] * 0.0
               for name, nid in spec.params.items()}
    timings = {"forward+backward": time.perf_counter() - t0}

    t1 = time.perf_counter()
    found = _numeric(spec, values, reverse, full, progress)
    timings["numeric"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    if symbolic_budget is None:
        symbolic_grads, symbolic_note = {}, M("skipped: not requested")
    else:
        symbolic_grads, symbolic_note = _symbolic(spec, symbolic_budget)
    timings["symbolic"] = time.perf_counter() - t2

    report = CheckReport(spec.file, spec.form, loss, spec.loss_name,
                         {name: values[nid] for name, nid in spec.named.items()},
                         symbolic_note=symbolic_note, notes=list(found.notes), mode=found.mode,
                         timings=timings,
                         expressions={**spec.node_text, "__loss__": spec.loss_text})
    for name in spec.params:
        v = verdict.compare(reverse[name], found.grads[name], found.errors[name],
                            symbolic_grads.get(name), found.kinks.get(name, False), rtol, atol)
        if v.cause == verdict.BACKPROP_BUG:
            v = _name_the_op(v, spec, values)
        if found.failed_directions and v.ok:
            v = _directional_failure(v, found.failed_directions[0])
        report.params.append(ParamResult(name, _shape(reverse[name]), reverse[name],
                                         found.grads[name], symbolic_grads.get(name), v,
                                         found.errors[name],
                                         kinks=found.kinks.get(name, False)))
    _ledger(spec, values, back, report, paths_cap, symbolic_budget is not None)
    from gradcli import grading

    rate = lr if lr is not None else spec.lr
    report.lr = rate  # grading recognises answers that applied the learning rate
    grading.grade(spec, values, report)
    if rate is not None:
        _descent_step(spec, report, rate, "--lr" if lr is not None else spec.where("lr"))
    report.ok = (all(p.ok for p in report.params) and all(e.ok for e in report.expect)
                 and all(row.formula_ok for row in report.layers))
    report.timings["total"] = time.perf_counter() - t0
    return report


def _numeric(spec: Spec, values: list, reverse: dict, full: bool,
             progress) -> numeric.NumericResult:
    if spec.form == "layers":
        from gradcli.dense import numeric as dense_numeric

        return dense_numeric.numeric_gradients(spec, reverse, full, progress)
    return numeric.graph_gradients(spec.graph, values, spec.params, spec.loss, progress,
                                   NUMERIC_MAX_ELEMENTS)


def _ledger(spec: Spec, values: list, back, report: CheckReport, paths_cap: int,
            symbolic: bool = True) -> None:
    if spec.form == "graph":
        from gradcli import ledger

        ledger.attach(spec, values, back, report, paths_cap, symbolic=symbolic)
        return
    from gradcli.dense import ledger as dense_ledger

    report.weight_layout = spec.layers.layout
    report.layers = dense_ledger.layer_rows(spec, values, back.adjoint)
    for row in report.layers:
        if not row.formula_ok:  # a failed identity is a failed check, never "ok"
            report.notes.append(M("layer {k}: the shortcut {how} differs from the engine's "
                                  "delta_{k} by up to {diff:.1e}: the check fails", k=row.layer,
                                  how=row.how, diff=row.formula_max_diff))
    report.gradient_flow = dense_ledger.gradient_flow(spec, back.adjoint)
    report.flow_warnings = dense_ledger.flow_warnings(report.gradient_flow)


def _name_the_op(v: verdict.Verdict, spec: Spec, values: list) -> verdict.Verdict:
    """A backprop bug: name the op whose VJP disagrees with its own forward."""
    culprit = suspect_op(spec, values)
    if culprit is None:
        return v
    return dataclasses.replace(v, attribution=M(
        "backprop bug in {culprit}: SymPy and central differences agree, reverse mode does "
        "not", culprit=culprit))


def _directional_failure(v: verdict.Verdict, direction) -> verdict.Verdict:
    """Fast mode: a random direction disagreed, so no parameter can be called right."""
    return dataclasses.replace(v, ok=False, cause=verdict.INCONCLUSIVE, attribution=M(
        "the gradient disagrees along random direction seed {seed} (v·grad {reverse:.6g}, "
        "numeric {numeric:.6g}); see the notes", seed=direction.seed,
        reverse=direction.reverse, numeric=direction.numeric))


# --------------------------------------------------------------- symbolic ---
def _symbolic(spec: Spec, budget: float) -> tuple[dict, Msg | None]:
    g = spec.graph
    size, depth = _size_and_depth(g, spec.loss)
    elements = sum(1 if _is_scalar(spec.bindings[i]) else spec.bindings[i].size
                   for i in spec.params.values())
    if size > SYMBOLIC_MAX_NODES:
        return {}, M("skipped: the graph has {size:,} nodes (symbolic limit {limit:,})",
                     size=size, limit=SYMBOLIC_MAX_NODES)
    if depth > SYMBOLIC_MAX_DEPTH:
        return {}, M("skipped: the loss is nested {depth:,} operations deep (symbolic limit "
                     "{limit})", depth=depth, limit=SYMBOLIC_MAX_DEPTH)
    if elements > SYMBOLIC_MAX_ELEMENTS:
        return {}, M("skipped: {count:,} scalar parameters (symbolic limit {limit:,})",
                     count=elements, limit=SYMBOLIC_MAX_ELEMENTS)
    if budget <= 0:
        return {}, M("skipped: the time budget is 0 s (--timeout)")
    from gradcli import structure_cache

    cache = structure_cache.active()  # a batch: same-shaped files share the SymPy work
    if cache is not None:
        return cache.gradients(spec, budget)
    return symbolic_now(spec, budget)


def symbolic_now(spec: Spec, budget: float) -> tuple[dict, Msg | None]:
    """The SymPy gradients of this file alone (its inputs as numbers), within `budget`."""
    from gradcli import symbolic

    return symbolic_guarded(budget, lambda: _symbolic_gradients(spec, symbolic))


def symbolic_guarded(budget: float, work) -> tuple[Any, Msg | None]:
    """`work()` under the SymPy time limit; when it runs out, the reason it was skipped."""
    from gradcli import symbolic

    try:
        with symbolic.time_limit(budget):
            return work(), None
    except symbolic.SymbolicTooDeep as exc:
        return {}, M("skipped: {reason}", reason=exc.reason)
    except symbolic.SymbolicTimeout:
        return {}, M("skipped: SymPy took longer than the {budget:g} s budget", budget=budget)
    except (RecursionError, MemoryError):
        return {}, M("skipped: the expression is too deep for SymPy")


def _size_and_depth(g, root: int) -> tuple[int, int]:
    """The nodes `root` depends on, and `_depth`: once per structure within a batch."""
    from gradcli.structure_cache import memo_upto

    shared = memo_upto(g, root)
    if shared is None:
        return len(g.ancestors(root)), _depth(g, root)
    key = ("size-and-depth", root)
    if key not in shared:
        shared[key] = len(g.ancestors(root)), _depth(g, root)
    return shared[key]


def _depth(g, root: int) -> int:
    """Longest chain of operations from the leaves to `root`."""
    depth: dict[int, int] = {}
    for i in g.ancestors(root):
        args = g.nodes[i].args
        depth[i] = 1 + max((depth[a] for a in args), default=-1) if args else 0
    return depth[root]


def _symbolic_gradients(spec: Spec, symbolic) -> dict:
    """d loss / d parameter from SymPy, evaluated at the point (never simplified).

    Tensors become numpy object arrays of symbols; a scalar graph never needs
    numpy (it is not even imported).
    """
    leaves, param_symbols, point = {}, {}, {}
    for name, nid in spec.inputs.items():
        v = spec.bindings[nid]
        leaves[nid] = symbolic.number(v) if _is_scalar(v) else _object_array(v, symbolic.number)
    for name, nid in spec.params.items():
        v = spec.bindings[nid]
        if _is_scalar(v):
            sym = symbolic.symbol(name)
            point[sym] = v
        else:
            import numpy as np

            sym = np.empty(v.shape, dtype=object)
            for idx in np.ndindex(v.shape):
                sym[idx] = symbolic.symbol(f"{name}[{','.join(map(str, idx))}]")
                point[sym[idx]] = float(v[idx])
        leaves[nid] = param_symbols[name] = sym
    expr = symbolic.to_sympy(spec.graph, spec.loss, leaves)

    def gradient_at(s) -> float:
        value = symbolic.evaluate(expr.diff(s), point)
        return math.nan if value is None else value

    result = {}
    for name, syms in param_symbols.items():
        if _is_scalar(spec.bindings[spec.params[name]]):
            result[name] = gradient_at(syms)
        else:
            import numpy as np

            out = np.zeros(syms.shape)
            for idx in np.ndindex(syms.shape):
                out[idx] = gradient_at(syms[idx])
            result[name] = out
    return result


def _object_array(values, convert):
    import numpy as np

    return np.vectorize(convert, otypes=[object])(values)


# ------------------------------------------------------------ attribution ---
def suspect_op(spec: Spec, values: list) -> Msg | None:
    """The first op on the loss's path whose VJP disagrees with its own forward."""
    g = spec.graph
    for i in g.ancestors(spec.loss):
        node = g.nodes[i]
        if node.op not in OPS or not node.args:
            continue
        args = [values[a] for a in node.args]
        if not all(_is_scalar(a) for a in args):
            continue
        op = OPS[node.op]
        for k in range(len(args)):
            def f(t, k=k):
                moved = list(args)
                moved[k] = t
                return op.forward(*moved)
            try:
                local = op.vjp[k](1.0, values[i], *args)
                diff = numeric.central_difference(f, args[k])
            except (ArithmeticError, ValueError, GradcliError):
                continue
            if not verdict.agrees(local, diff.value, diff.error, 1e-5, 1e-8):
                return _op_named(node.op, g.labels.get(i), spec.locate(i))
    return None


def _op_named(op: str, label: str | None, where: str) -> Msg:
    if label:
        return M("op '{op}' (node '{label}') at {where}", op=op, label=label, where=where)
    return M("op '{op}' at {where}", op=op, where=where)


# ---------------------------------------------------------------- descent ---
def _quiet_numpy(value: Any):
    """numpy's overflow warnings off (the result is checked instead); nothing for floats."""
    if _is_scalar(value):
        import contextlib

        return contextlib.nullcontext()
    import numpy as np

    return np.errstate(all="ignore")


def _descent_step(spec: Spec, report: CheckReport, rate: float, lr_where: str) -> None:
    """One gradient-descent step; an update that overflows is refused, naming the
    step and the learning rate (`lr_where`: --lr or the file's lr:)."""
    bindings = dict(spec.bindings)
    for p in report.params:
        nid = spec.params[p.name]
        old = spec.bindings[nid]
        with _quiet_numpy(old):
            new = old - rate * p.reverse
        if not engine._finite(new):
            raise NonFiniteError(M("the gradient-descent update {name} - lr·grad overflows "
                                   "with lr {lr:g} (the new value is not a finite number); "
                                   "use a smaller learning rate", name=p.name, lr=rate),
                                 lr_where)
        bindings[nid] = new
        report.update.append(UpdateRow(p.name, old, p.reverse, new))
    report.lr = rate
    # engine.forward suppresses numpy warnings itself where arrays are involved
    try:
        report.loss_after = engine.forward(spec.graph, bindings, spec.loss)[spec.loss]
    except NonFiniteError as exc:
        raise NonFiniteError(M("the loss after the gradient-descent update with lr {lr:g} "
                               "is not a finite number ({reason}); use a smaller learning "
                               "rate", lr=rate, reason=exc.what), lr_where) from None
    if report.loss_after > report.loss:
        report.notes.append(M("the step increased the loss ({before:.6g} -> {after:.6g}): "
                              "the learning rate {lr:g} overshoots; try a smaller one",
                              before=report.loss, after=report.loss_after, lr=rate))
