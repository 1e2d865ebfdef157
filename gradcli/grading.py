"""Grading hand answers (`expect`) and diagnosing the usual mistakes.

An answer passes when |expected - actual| <= max(rtol*|actual|, atol).  A
wrong one gets a diagnosis where one fits: sign flipped, off by a factor of
2 (the 1/2 in the loss), one chain factor or one path left out, the learning
rate applied, the updated value given instead of the gradient, or a wrong
forward value that explains a wrong gradient.
"""
from __future__ import annotations

from typing import Any

from gradcli import engine
from gradcli.errors import GradcliError
from gradcli.i18n import M, Msg
from gradcli.report import ExpectResult
from gradcli.spec import Spec


def _scalar(v: Any) -> bool:
    return isinstance(v, float)


def passes(expected: Any, actual: Any, rtol: float, atol: float) -> bool:
    if _scalar(expected) and _scalar(actual):
        return abs(expected - actual) <= max(rtol * abs(actual), atol)
    import numpy as np

    e, a = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    if e.shape != a.shape:
        return False
    return bool((np.abs(e - a) <= np.maximum(rtol * np.abs(a), atol)).all())


def _conform(expected: Any, actual: Any, item) -> Any:
    """The answer in the value's shape: 0.5 for [[0.5]], [1, 2] for [[1, 2]].

    Answers with a different number of entries cannot be graded: exit 2.
    """
    if _scalar(expected) and _scalar(actual):
        return expected
    import numpy as np

    e, a = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    if e.size != a.size:
        raise GradcliError(M("expected {name} has shape {given}, but {name} has shape {shape}",
                             name=item.name, given=list(e.shape), shape=list(a.shape)),
                           item.where)
    return float(e.reshape(())) if _scalar(actual) else e.reshape(a.shape)


def grade(spec: Spec, values: list, report) -> None:
    params = {p.name: p for p in report.params}
    wrong_nodes: dict[str, Any] = {}
    for item in spec.expect:
        if item.name == "loss":
            actual = report.loss
        elif item.name.startswith("grad."):
            actual = params[item.name[5:]].reverse
        else:
            actual = values[spec.named[item.name]]
        expected = _conform(item.value, actual, item)
        entry = ExpectResult(item.name, expected, actual, True, item.where)
        if not passes(expected, actual, spec.rtol, spec.atol):
            entry.ok = False
            if not item.name.startswith("grad.") and item.name != "loss":
                wrong_nodes[item.name] = expected
        report.expect.append(entry)
    for entry in report.expect:
        if entry.ok or entry.diagnosis:
            continue
        entry.diagnosis = diagnose(spec, values, report, entry, wrong_nodes)
        if entry.name.startswith("grad."):
            from gradcli.ledger import chain_line

            p = params[entry.name[5:]]
            if p.chain:
                entry.ledger = chain_line(p.chain, p.name, report.loss_name)


def diagnose(spec: Spec, values: list, report, entry: ExpectResult,
             wrong_nodes: dict) -> Msg | None:
    e, a = entry.expected, entry.actual
    rtol, atol = spec.rtol, spec.atol

    def near(x: Any, y: Any) -> bool:
        return passes(x, y, rtol, atol)

    name = entry.name
    rate = report.lr if report.lr is not None else spec.lr
    if near(e, -a) and not near(a, 0.0 * a):
        return M("sign flipped")
    if name.startswith("grad.") and rate is not None and near(e, rate * a):
        if rate in (0.5, 2.0):
            return M("this is lr × gradient (lr = {rate:g}), not the gradient (here that is "
                     "also {what} the gradient)", rate=rate,
                     what=M("half") if rate == 0.5 else M("twice"))
        return M("this is lr × gradient (lr = {rate:g}), not the gradient", rate=rate)
    if near(e, 2 * a):
        return M("off by a factor of 2 (twice the true value: the 1/2 of the loss left out?)")
    if near(e, a / 2):
        return M("off by a factor of 1/2 (half the true value: the 2 from the square left "
                 "out?)")
    if name.startswith("grad."):
        found = _gradient_diagnosis(spec, values, report, name[5:], e, a, rate,
                                    wrong_nodes, near)
        if found:
            return found
    elif wrong_nodes:
        found = _forward_value_diagnosis(spec, values, name, e, wrong_nodes, near)
        if found:
            return found
    if _scalar(e) and _scalar(a) and abs(e - a) <= 0.05 * max(abs(a), 1e-12):
        return M("close but outside the tolerance: intermediate values rounded too early?")
    return None


def _gradient_diagnosis(spec: Spec, values: list, report, param: str, e: Any, a: Any,
                        rate: float | None, wrong_nodes: dict, near) -> Msg | None:
    found = _chain_diagnosis(report, param, e, near)
    if found:
        return found
    if rate is not None:
        old = spec.bindings[spec.params[param]]
        if near(e, old - rate * a):
            return M("this is the updated value (old - lr × gradient, lr = {rate:g}), not the "
                     "gradient", rate=rate)
    return _forward_diagnosis(spec, values, param, e, wrong_nodes, near)


def _chain_diagnosis(report, param: str, expected: float, near) -> Msg | None:
    p = next(p for p in report.params if p.name == param)
    if not p.chain or not _scalar(expected):
        return None
    total = sum(path.product for path in p.chain)
    for path in p.chain:
        for k, f in enumerate(path.factors):
            if abs(f.value) in (0.0, 1.0):
                continue
            others = 1.0
            for j, g in enumerate(path.factors):
                if j != k:
                    others *= g.value
            partial = total - path.product + others
            if near(expected, partial):
                edge = f"{f.edge} = {f.expr}" if f.expr else f.edge
                return M("matches the chain with one factor left out: missing {edge} "
                         "({value:.4g})", edge=edge, value=f.value)
    if len(p.chain) > 1:
        for path in p.chain:
            if near(expected, total - path.product):
                via = " -> ".join(path.path[1:-1])
                if not via:
                    return M("one path left out: the direct edge ({product:.4g})",
                             product=path.product)
                return M("one path left out: the path through {via} ({product:.4g})",
                         via=via, product=path.product)
    return None


def _forward_diagnosis(spec: Spec, values: list, param: str, expected: Any,
                       wrong_nodes: dict, near) -> str | None:
    """Does the student's wrong forward value explain the wrong gradient?"""
    pid = spec.params[param]
    for node, given in wrong_nodes.items():
        nid = spec.named[node]
        flags = spec.graph.depends_on({nid}, spec.loss)
        dependents = [i for i in range(spec.loss + 1) if flags[i] and i != nid]
        try:
            moved = engine.reforward(spec.graph, values, {nid: given}, spec.loss, dependents)
            back = engine.backward(spec.graph, moved, spec.loss, [pid])
        except Exception:  # a student's value may leave the domain: no diagnosis then
            continue
        grad = back.adjoint[pid]
        if grad is not None and near(expected, grad):
            actual = values[nid]
            if _scalar(actual) and _scalar(given):
                return M("follows from your wrong forward value of {node} ({given} instead "
                         "of {actual:.4g})", node=node, given=given, actual=actual)
            return M("follows from your wrong forward value of {node} (not the true value)",
                     node=node)
    return None


def _forward_value_diagnosis(spec: Spec, values: list, name: str, expected: Any,
                             wrong_nodes: dict, near) -> str | None:
    """Does a wrong earlier value (e.g. yhat) explain this wrong value (e.g. the loss)?"""
    target = spec.loss if name == "loss" else spec.named[name]
    for node, given in wrong_nodes.items():
        nid = spec.named[node]
        if node == name or nid >= target:
            continue
        flags = spec.graph.depends_on({nid}, target)
        if not flags[target]:
            continue
        dependents = [i for i in range(target + 1) if flags[i] and i != nid]
        try:
            moved = engine.reforward(spec.graph, values, {nid: given}, target, dependents)
        except Exception:  # a student's value may leave the domain: no diagnosis then
            continue
        if near(expected, moved[target]):
            return M("follows from your wrong forward value of {node} (the rest of the "
                     "computation is right)", node=node)
    return None
