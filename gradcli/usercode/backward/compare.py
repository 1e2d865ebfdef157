"""Each gradient the user's FUNC returned, against gradcli's reference for the network.

Per parameter the user's gradient takes the place of the gradient under test
in `verdict.compare`, with central differences as the numeric reference and
gradcli's reverse mode (already checked by `check`) as the exact one: an
entry is right when it agrees with the reverse mode; where the two references
disagree because the finite-difference step crossed a kink, the check's kink
mask excuses it, as it does for gradcli's own gradient.  The result goes into
each `ParamResult.user` and `CheckReport.backward`; `report.ok` includes it.
"""
from __future__ import annotations

from typing import Any

from gradcli import verdict
from gradcli.i18n import M, Msg
from gradcli.report import BackwardResult, UserGradient
from gradcli.usercode.backward.call import DEFAULT_CODE_TIMEOUT, Called, call
from gradcli.usercode.backward.diagnose import Diagnoser
from gradcli.usercode.runner import DEFAULT_MEMORY

#: Names students give a parameter's gradient instead of the parameter's own name.
GRADIENT_NAMES = ("d{}", "d_{}", "grad_{}", "{}_grad", "dL_d{}", "dL/d{}")


def attach(report: Any, spec: Any, target: str, timeout: float = DEFAULT_CODE_TIMEOUT,
           max_memory: str = DEFAULT_MEMORY, rtol: float = 1e-5,
           atol: float = 1e-8) -> BackwardResult:
    """Call FUNC(params, inputs) for `spec` and compare its gradients with `report`'s.

    GradcliError (exit 2) when the file or FUNC cannot be used or the time ran out.
    """
    params = {name: spec.bindings[nid] for name, nid in spec.params.items()}
    inputs = {name: spec.bindings[nid] for name, nid in spec.inputs.items()}
    called = call(target, params, inputs, timeout, max_memory)
    return compare(report, spec, target, called, rtol, atol)


def compare(report: Any, spec: Any, target: str, called: Called, rtol: float = 1e-5,
            atol: float = 1e-8) -> BackwardResult:
    result = BackwardResult(target, error=called.error, printed_lines=called.printed_lines)
    diagnoser = Diagnoser(spec, report, atol)
    function = target.rpartition(":")[2]
    for p in report.params:
        p.user = _item(p, called, function, diagnoser, rtol, atol)
    if called.error is None:
        names = list(spec.params)
        for key in called.keys:
            if key not in spec.params:
                result.extra.append((key, M("not a parameter of this network (its "
                                            "parameters: {names})", names=", ".join(names))))
    result.ok = result.error is None and not result.extra \
        and all(p.user.ok for p in report.params)
    report.backward = result
    report.ok = report.ok and result.ok
    return result


def _item(p: Any, called: Called, function: str, diagnoser: Diagnoser, rtol: float,
          atol: float) -> UserGradient:
    import numpy as np

    count = int(np.size(p.reverse))
    if called.error is not None:
        return UserGradient(None, False, count=count, error=called.error)
    if p.name in called.errors:
        return UserGradient(None, False, count=count, diagnosis=called.errors[p.name])
    if p.name not in called.grads:
        return UserGradient(None, False, count=count,
                            diagnosis=_missing(p.name, called.keys, function))
    user = called.grads[p.name]
    scalar = isinstance(p.reverse, float)
    if scalar and user.size == 1:
        user = float(user.reshape(()))
    elif np.shape(user) != np.shape(p.reverse):
        return UserGradient(user, False, bad=count, count=count,
                            diagnosis=diagnoser.explain(p, user))
    kinks = bool(np.any(p.kinks)) if scalar else p.kinks
    v = verdict.compare(user, p.numeric, p.numeric_error, p.reverse, kinks, rtol, atol)
    item = UserGradient(user, v.ok, bad=v.bad, count=v.count, worst_index=v.worst_index,
                        actual=v.actual, expected=_at(p.reverse, v.worst_index))
    differs = ~np.asarray(verdict.agrees(user, p.reverse, 0.0, rtol, atol))
    if not v.ok:
        item.diagnosis = diagnoser.explain(p, user, None if scalar else differs)
    elif v.kinks and differs.any():
        item.note = M("right except at {count} entries at a relu/abs kink, where the "
                      "derivative does not exist (either subgradient passes)",
                      count=int(differs.sum()))
    return item


def _at(value: Any, index: tuple[int, ...] | None) -> float:
    """The reference at the worst entry (the exact one, not the finite difference)."""
    if index is None or isinstance(value, float):
        return float(value)
    return float(value[index])


def _missing(name: str, keys: list[str], function: str) -> Msg:
    for pattern in GRADIENT_NAMES:
        if pattern.format(name) in keys:
            return M("missing: {function} returned no gradient for {name} (it returned "
                     "{key}: the keys must be the parameter names)", function=function,
                     name=name, key=pattern.format(name))
    return M("missing: {function} returned no gradient for {name} (returned keys: {keys})",
             function=function, name=name, keys=", ".join(keys) or "none")
