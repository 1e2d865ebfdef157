"""`gradcli check` as a library call: a loaded Spec in, a CheckReport out.

Forward pass, then the gradient of the loss with respect to every parameter
three ways (reverse mode, central differences, SymPy where the size allows),
three-way attribution when they disagree, the chain-rule ledger, grading of
hand answers and an optional gradient-descent step.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from gradcli import engine, numeric
from gradcli.errors import GradcliError, NonFiniteError
from gradcli.ops import OPS
from gradcli.spec import Spec

SYMBOLIC_MAX_NODES = 3_000  # graph nodes: above this, symbolic is skipped
SYMBOLIC_MAX_ELEMENTS = 400  # scalar parameters: above this, symbolic is skipped
SYMBOLIC_MAX_DEPTH = 60  # nesting of the loss expression: SymPy's cost explodes beyond
NUMERIC_MAX_ELEMENTS = 20_000  # graph form: above this, entries are sampled


@dataclass
class ParamResult:
    name: str
    shape: list[int]
    reverse: Any
    numeric: Any
    symbolic: Any  # None when skipped
    rel_error: float
    ok: bool
    band: str
    numeric_error: float = 0.0
    attribution: str | None = None
    kink: bool = False
    chain: list[dict] = field(default_factory=list)  # ledger paths (scalar graphs)
    paths_total: int = 0  # number of paths from the loss (ledger may cap the list)


@dataclass
class CheckReport:
    file: str
    form: str
    loss: float
    loss_name: str
    nodes: dict[str, Any]  # named values in order (inputs, params, nodes)
    params: list[ParamResult]
    ok: bool = True
    expect: list[dict] = field(default_factory=list)
    symbolic_note: str | None = None
    recurrence: list[dict] = field(default_factory=list)
    update: list[dict] = field(default_factory=list)
    lr: float | None = None
    loss_after: float | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # layer form: per-layer ledger etc.
    timings: dict[str, float] = field(default_factory=dict)
    expressions: dict[str, str] = field(default_factory=dict)  # name -> text, "__loss__"


def _is_scalar(v: Any) -> bool:
    return isinstance(v, float)


def _shape(v: Any) -> list[int]:
    return [] if _is_scalar(v) else list(v.shape)


def _errstate():
    import numpy as np

    return np.errstate(all="ignore")


# ----------------------------------------------------------------- driver ---
def run(spec: Spec, rtol: float = 1e-5, atol: float = 1e-8, lr: float | None = None,
        symbolic_budget: float = 10.0, full: bool = False, paths_cap: int = 16,
        progress=None) -> CheckReport:
    try:
        return _run(spec, rtol, atol, lr, symbolic_budget, full, paths_cap, progress)
    except GradcliError as exc:
        try:
            _locate(spec, exc)
        except Exception:  # noqa: BLE001 - locating is best effort; the error stands
            pass
        raise


def _point(spec: Spec) -> str:
    """The scalar inputs and parameters, for error messages (tensors by shape)."""
    parts = []
    for name, nid in list(spec.inputs.items()) + list(spec.params.items()):
        v = spec.bindings[nid]
        parts.append(f"{name}={v:.6g}" if _is_scalar(v) else f"{name}: {list(v.shape)}")
    return ", ".join(parts[:8]) + (", ..." if len(parts) > 8 else "")


def _locate(spec: Spec, exc: GradcliError) -> None:
    """Give an evaluation error (located by the engine as `column N` or not at all)
    the file, line and column of the expression it happened in."""
    if exc.where and str(exc.where).startswith(spec.file):
        return
    col = None
    if exc.where and str(exc.where).startswith("column "):
        col = str(exc.where)[len("column "):]
    where, failed = None, None
    order = [(name, spec.named[name]) for name in spec.node_names
             if name in spec.named] + [("__loss__", spec.loss)]
    order.sort(key=lambda item: item[1])
    values = None
    for name, nid in order:  # the first expression whose forward pass fails
        try:
            values = engine.forward(spec.graph, spec.bindings, nid)
        except GradcliError:
            where, failed = _node_where(spec, name), name
            break
    if where is None and values is not None:  # else the first whose backward pass fails
        params = list(spec.params.values())
        for name, nid in order:
            if not _is_scalar(values[nid]):
                continue
            try:
                engine.backward(spec.graph, values, nid, params)
            except GradcliError:
                where, failed = _node_where(spec, name), name
                break
    if where is None or where == spec.file:
        exc.where = spec.file if col is None else f"{spec.file} (column {col})"
        return
    # a column counts in the file's own expression text (not in generated layer text)
    if col is not None and col.isdigit() and spec.form == "graph" and spec._loaded:
        path = ("loss",) if where == spec.where("loss") else ("nodes", failed)
        exc.where = spec._loaded.text_where(path, int(col))
    else:
        exc.where = where


def _node_where(spec: Spec, name: str) -> str:
    if name == "__loss__" or name == spec.loss_name and spec.form == "layers":
        return spec.where("loss")
    if spec.form == "layers":
        k = name[1:]
        if name[:1] in ("z", "a") and k.isdigit():
            return spec.where("layers", int(k) - 1)
        return spec.file
    return spec.where("nodes", name)


def _run(spec: Spec, rtol: float, atol: float, lr: float | None, symbolic_budget: float,
         full: bool, paths_cap: int, progress) -> CheckReport:
    t0 = time.perf_counter()
    g = spec.graph
    # every named value (a node defined after the loss is still shown), then the loss
    last = max([spec.loss, *spec.named.values()])
    values = engine.forward(g, spec.bindings, last, point=_point(spec))
    loss = values[spec.loss]
    if not _is_scalar(loss):
        raise NonFiniteError(f"the loss must be a scalar, but it has shape {_shape(loss)} "
                             f"(use sum() or mean())", spec.where("loss"))
    param_ids = list(spec.params.values())
    back = engine.backward(g, values, spec.loss, param_ids)
    timings = {"forward+backward": time.perf_counter() - t0}

    t1 = time.perf_counter()
    if spec.form == "layers":
        from gradcli import layers

        numeric_grads, numeric_errors, kinks, notes = layers.numeric_gradients(
            spec, back, rtol, atol, full, progress)
    else:
        numeric_grads, numeric_errors, kinks, notes = _numeric_graph(spec, values, progress)
    timings["numeric"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    symbolic_grads, symbolic_note = _symbolic(spec, symbolic_budget)
    timings["symbolic"] = time.perf_counter() - t2

    nodes = {name: values[nid] for name, nid in spec.named.items()}
    report = CheckReport(spec.file, spec.form, loss, spec.loss_name, nodes, [],
                         symbolic_note=symbolic_note, notes=notes, timings=timings,
                         expressions={**spec.node_text, "__loss__": spec.loss_text})
    exact_kinks = set(back.kinks)  # relu/abs evaluated exactly at 0
    for name, nid in spec.params.items():
        if exact_kinks and not kinks.get(name):
            flags = g.depends_on({nid}, spec.loss)
            kinks[name] = any(flags[k] for k in exact_kinks)
        rev = back.adjoint[nid] if back.adjoint[nid] is not None else values[nid] * 0.0
        report.params.append(_compare(name, rev, numeric_grads[name], numeric_errors[name],
                                      symbolic_grads.get(name), kinks.get(name, False),
                                      rtol, atol, spec, values))
    if spec.form == "graph":
        from gradcli import ledger

        ledger.attach(spec, values, back, report, paths_cap)
    else:
        from gradcli import layers

        layers.attach_ledger(spec, values, back, report)
    from gradcli import grading

    rate = lr if lr is not None else spec.lr
    report.lr = rate  # grading recognises answers that applied the learning rate
    grading.grade(spec, values, report)
    if rate is not None:
        _descent_step(spec, report, rate)
    report.ok = all(p.ok for p in report.params) and all(e["ok"] for e in report.expect)
    report.timings["total"] = time.perf_counter() - t0
    return report


# ---------------------------------------------------------------- numeric ---
def _numeric_graph(spec: Spec, values: list, progress) -> tuple[dict, dict, dict, list]:
    """Central differences for every parameter entry, re-evaluating only dependents."""
    g = spec.graph
    grads, errors, kinks, notes = {}, {}, {}, []
    total = sum(1 if _is_scalar(spec.bindings[i]) else spec.bindings[i].size
                for i in spec.params.values())
    done = 0
    for name, nid in spec.params.items():
        flags = g.depends_on({nid}, spec.loss)
        dependents = [i for i in range(spec.loss + 1) if flags[i] and i != nid]
        kink_nodes = [i for i in dependents if OPS[g.nodes[i].op].kink is not None]
        base = values[nid]

        replay = engine.replayer(g, dependents, spec.loss)

        def loss_at(v, nid=nid, replay=replay):
            return replay(values, {nid: v})[spec.loss]

        if _is_scalar(base):
            try:
                diff = numeric.central_difference(loss_at, base, f0=values[spec.loss])
            except NonFiniteError as exc:  # the point is fine; the FD step is not
                grads[name], errors[name], kinks[name] = math.nan, 0.0, False
                notes.append(f"{name}: numeric skipped, every finite-difference step "
                             f"leaves the domain ({exc.what})")
                continue
            grads[name], errors[name] = diff.value, diff.error
            kinks[name] = _near_kink(g, values, nid, base, diff.step, dependents, kink_nodes)
            done += 1
        else:
            import numpy as np

            grad = np.zeros_like(base)
            err = 0.0
            kink = False
            indices = list(np.ndindex(base.shape))
            if total > NUMERIC_MAX_ELEMENTS and not spec.form == "layers":
                rng = np.random.default_rng(0)
                keep = max(1, int(len(indices) * NUMERIC_MAX_ELEMENTS / total))
                chosen = rng.choice(len(indices), size=min(keep, len(indices)), replace=False)
                indices = [indices[k] for k in sorted(chosen)]
                grad[...] = np.nan
                notes.append(f"{name}: {len(indices)} sampled entries checked numerically")
            with _errstate():
                for idx in indices:
                    def entry_loss(t, idx=idx):
                        moved = base.copy()
                        moved[idx] = t
                        return loss_at(moved)

                    try:
                        diff = numeric.central_difference(entry_loss, float(base[idx]),
                                                          f0=values[spec.loss])
                    except NonFiniteError:
                        grad[idx] = np.nan  # reported below; compared entries skip NaN
                        notes.append(f"{name}{list(idx)}: numeric skipped, the "
                                     f"finite-difference step leaves the domain")
                        continue
                    grad[idx] = diff.value
                    err = max(err, diff.error)
                    done += 1
                    if progress and done % 200 == 0:
                        progress(done, total)
            grads[name], errors[name], kinks[name] = grad, err, kink
    return grads, errors, kinks, notes


def _near_kink(g, values, nid, base, h, dependents, kink_nodes) -> bool:
    """Does a relu/abs argument sit at 0, or change sign within the step?"""
    if not kink_nodes:
        return False
    for i in kink_nodes:
        a = values[g.nodes[i].args[0]]
        if _is_scalar(a) and a == 0.0:
            return True
    for t in (base - h, base + h):
        moved = engine.reforward(g, values, {nid: t}, max(kink_nodes), dependents)
        for i in kink_nodes:
            a, b = values[g.nodes[i].args[0]], moved[g.nodes[i].args[0]]
            if _is_scalar(a) and ((a > 0) != (b > 0) or (a < 0) != (b < 0)):
                return True
    return False


# --------------------------------------------------------------- symbolic ---
def _symbolic(spec: Spec, budget: float) -> tuple[dict, str | None]:
    g = spec.graph
    size = len(g.ancestors(spec.loss))
    elements = sum(1 if _is_scalar(spec.bindings[i]) else spec.bindings[i].size
                   for i in spec.params.values())
    if size > SYMBOLIC_MAX_NODES:
        return {}, f"skipped: the graph has {size:,} nodes (symbolic limit {SYMBOLIC_MAX_NODES:,})"
    depth = _depth(g, spec.loss)
    if depth > SYMBOLIC_MAX_DEPTH:
        return {}, (f"skipped: the loss is nested {depth:,} operations deep "
                    f"(symbolic limit {SYMBOLIC_MAX_DEPTH})")
    if elements > SYMBOLIC_MAX_ELEMENTS:
        return {}, (f"skipped: {elements:,} scalar parameters "
                    f"(symbolic limit {SYMBOLIC_MAX_ELEMENTS:,})")
    from gradcli import symbolic

    try:
        with symbolic.time_limit(budget):
            return _symbolic_gradients(spec, symbolic), None
    except symbolic.SymbolicTooDeep as exc:
        return {}, f"skipped: {exc.reason}"
    except symbolic.SymbolicTimeout:
        return {}, f"skipped: SymPy took longer than the {budget:g} s budget"
    except (RecursionError, MemoryError):
        return {}, "skipped: the expression is too deep for SymPy"


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


# ------------------------------------------------------------- comparison ---
def _max_rel(a: Any, b: Any) -> float:
    if _is_scalar(a) and _is_scalar(b):
        return numeric.rel_error(a, b)
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    mask = ~(np.isnan(a) | np.isnan(b))
    if not mask.any():
        return 0.0
    diff = np.abs(a - b)[mask]
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b))[mask], numeric.TINY)
    rel = np.where(diff == 0, 0.0, diff / scale)
    return float(rel.max())


def _all_close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    if _is_scalar(a) and _is_scalar(b):
        if math.isnan(a) or math.isnan(b):
            return True
        return numeric.close(a, b, rtol, atol)
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    mask = ~(np.isnan(a) | np.isnan(b))
    diff = np.abs(a - b)[mask]
    scale = np.maximum(np.abs(a), np.abs(b))[mask]
    return bool((diff <= np.maximum(rtol * scale, atol)).all())


def _compare(name, rev, num, num_err, sym, kink, rtol, atol, spec, values) -> ParamResult:
    slack = max(atol, 4.0 * float(num_err))
    rn = _all_close(rev, num, rtol, slack)
    rs = sym is None or _all_close(rev, sym, rtol, atol)
    sn = sym is None or _all_close(sym, num, rtol, slack)
    rel = _max_rel(rev, num)
    if sym is not None:
        rel = max(rel, _max_rel(rev, sym))
    result = ParamResult(name, _shape(rev), rev, num, sym, rel, True, numeric.band(rel),
                         float(num_err), kink=kink)
    if rn and rs:
        if result.band in ("suspicious", "wrong"):
            result.band = "within atol"  # tiny values: the absolute tolerance decided
        return result
    if kink:
        # Not a failure: at the corner the derivative does not exist; reverse
        # mode uses the subgradient 0, SymPy's Heaviside(0) is 1/2 and central
        # differences average the two sides.
        result.band = "kink"
        result.attribution = ("kink: a relu/abs argument is at or near 0, where the "
                              "derivative does not exist; reverse mode uses the "
                              "subgradient 0")
        return result
    if sym is not None and rs and not rn:
        result.band = "fd-artefact"
        result.attribution = ("finite-difference artefact (step, precision or kink): "
                              "reverse mode and SymPy agree")
        return result
    result.ok = False
    if sym is not None and sn and not rs:
        culprit = suspect_op(spec, values)
        result.attribution = "backprop bug" + (f" in {culprit}" if culprit else "") + \
            ": SymPy and central differences agree, reverse mode does not"
    elif sym is None:
        result.attribution = ("reverse mode and central differences disagree "
                              "(symbolic skipped): inconclusive")
    else:
        result.attribution = "inconclusive: all three methods disagree"
    return result


def suspect_op(spec: Spec, values: list) -> str | None:
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
            except (ArithmeticError, ValueError):
                continue
            if not numeric.close(local, diff.value, 1e-5, max(1e-8, 4 * diff.error)):
                label = g.labels.get(i)
                return f"op '{node.op}'" + (f" (node '{label}')" if label else "") + \
                    (f" at column {node.col}" if node.col else "")
    return None


# ---------------------------------------------------------------- descent ---
def _descent_step(spec: Spec, report: CheckReport, rate: float) -> None:
    bindings = dict(spec.bindings)
    for p in report.params:
        nid = spec.params[p.name]
        old = spec.bindings[nid]
        new = old - rate * p.reverse
        bindings[nid] = new
        report.update.append({"name": p.name, "old": old, "grad": p.reverse, "new": new})
    report.lr = rate
    # engine.forward suppresses numpy warnings itself where arrays are involved
    report.loss_after = engine.forward(spec.graph, bindings, spec.loss)[spec.loss]
