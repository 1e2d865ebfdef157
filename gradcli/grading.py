"""Grading hand answers (`expect`) and diagnosing the usual mistakes.

An answer passes when |expected - actual| <= max(rtol*|actual|, atol).
What an answer names is computed by `answers.points` (node values, the
loss, dL/dnode for any node, a parameter after one step, the loss after
it).  An update is graded on its step: `old - answer` against `lr·grad`,
so that a learning-rate mistake is never hidden by a tolerance relative to
the weight.  A formula answer is graded at the file's point and then at
nearby points (`answers.nearby`: right number, wrong formula).  A wrong
answer gets a diagnosis where one explains it to 1e-3
(`answers.expect_mistakes`).
"""
from __future__ import annotations

from typing import Any

from gradcli.errors import GradcliError
from gradcli.i18n import M
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
    """The answer in the value's shape: 0.5 for [[0.5]], [1, 2] for [[1, 2]] (one
    example written without its batch axis).  A matrix in the transposed shape stays
    as given (graded wrong, diagnosed "transposed"); other answers with a different
    number of entries, or the same entries in another shape, cannot be graded: exit 2.
    """
    if _scalar(expected) and _scalar(actual):
        return expected
    import numpy as np

    e, a = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    if e.shape == a.shape:
        return e
    if e.ndim == a.ndim == 2 and e.T.shape == a.shape:
        return e
    if e.size != a.size or (e.ndim == a.ndim and e.ndim > 1):
        raise GradcliError(M("expected {name} has shape {given}, but {name} has shape {shape}",
                             name=item.name, given=list(e.shape), shape=list(a.shape)),
                           item.where)
    return float(e.reshape(())) if _scalar(actual) else e.reshape(a.shape)


def _require_rate(spec: Spec, rate: float | None) -> None:
    """update.*, loss_after and formulas using lr need a learning rate: exit 2."""
    if rate is not None:
        return
    for item in spec.expect:
        if item.kind in ("update", "loss_after") or (item.formula is not None
                                                     and item.formula.uses_lr):
            raise GradcliError(M("{name} needs a learning rate: give --lr RATE or lr: in the "
                                 "file", name=item.name), item.where)


def grade(spec: Spec, values: list, report) -> None:
    from gradcli.answers.expect_mistakes import Context
    from gradcli.answers.points import GradingPoint

    rate = report.lr
    _require_rate(spec, rate)
    grads = {p.name: p.reverse for p in report.params}
    here = GradingPoint(spec, spec.bindings, values, rate, grads)
    source = "the file" if rate is not None and rate == spec.lr else "--lr"
    ctx = Context(spec, values, report, here, rate, source)
    graded = [(item, _grade_one(spec, here, item)) for item in spec.expect]
    _nearby(spec, rate, graded)
    for item, entry in graded:
        if not entry.ok and entry.diagnosis is None:
            if item.kind == "value":
                ctx.wrong_nodes[item.name] = entry.expected
            elif item.kind == "grad":
                ctx.wrong_grads[item.target] = entry.expected
    for item, entry in graded:
        report.expect.append(entry)
        if entry.ok or entry.diagnosis is not None:
            continue
        entry.diagnosis = _diagnose(ctx, item, entry)
        if item.kind == "grad":
            _ledger_line(ctx, entry, item.target)


def _grade_one(spec: Spec, here, item) -> ExpectResult:
    actual = here.actual(item)
    expected = item.value
    if item.formula is not None and not item.formula.constant:
        expected = here.formula(item.formula)
    expected = _conform(expected, actual, item)
    entry = ExpectResult(item.name, expected, actual, True, item.where,
                         formula=None if item.formula is None else item.formula.text)
    if item.kind == "update":  # graded on the step: old - answer against lr * grad
        old = here.old(item.target)
        entry.ok = passes(old - expected, old - actual, spec.rtol, spec.atol) \
            if _same_shape(expected, actual) else False
    else:
        entry.ok = passes(expected, actual, spec.rtol, spec.atol)
    return entry


def _same_shape(a: Any, b: Any) -> bool:
    return (_scalar(a) and _scalar(b)) or getattr(a, "shape", None) == getattr(b, "shape", None)


def _nearby(spec: Spec, rate, graded: list) -> None:
    """Formulas right at the file's point, checked at nearby points."""
    checks = [(item, entry) for item, entry in graded
              if entry.ok and item.formula is not None and not item.formula.constant]
    if not checks:
        return
    from gradcli.answers.nearby import wrong_elsewhere

    def same(given, actual) -> bool:
        return passes(given, actual, spec.rtol, spec.atol)

    for k, message in wrong_elsewhere(spec, rate, checks, same).items():
        entry = checks[k][1]
        entry.ok, entry.diagnosis = False, message


def _diagnose(ctx, item, entry):
    from gradcli.answers.expect_mistakes import diagnose

    try:
        return diagnose(ctx, item, entry.expected, entry.actual)
    except (ArithmeticError, ValueError):  # a candidate that cannot be computed: none
        return None


def _ledger_line(ctx, entry: ExpectResult, target: str) -> None:
    from gradcli.answers.expect_mistakes import chain_paths
    from gradcli.ledger import chain_line

    paths = chain_paths(ctx, target)
    if paths:
        entry.ledger = chain_line(paths, target, ctx.report.loss_name)
