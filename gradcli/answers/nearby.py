"""Formula answers at points near the file's: the right number from a wrong formula.

A formula that gives the right number at the file's point is evaluated
again at NEARBY_POINTS points where every parameter and input is moved by
up to MOVE * max(|v|, 1) (uniform, per entry, fixed seed).  Where it no
longer matches the true value there, the answer is wrong: "right number,
wrong formula".  Inputs that are probability rows (one-hot targets) stay
as they are: the softmax + cross-entropy shortcut (yhat - y) holds only for
rows that sum to 1.  A point where the network (or the formula) cannot be
evaluated is skipped and another drawn, up to MAX_DRAWS.
"""
from __future__ import annotations

import random
from typing import Any

from gradcli import engine
from gradcli.answers.points import GradingPoint
from gradcli.errors import GradcliError
from gradcli.i18n import M, Msg

NEARBY_POINTS = 5
NEARBY_SEED = 0
MOVE = 0.1
MAX_DRAWS = 20


def wrong_elsewhere(spec, rate: float | None, checks: list[tuple[Any, Any]],
                    passes) -> dict[int, Msg]:
    """For each (item, entry) whose formula passed at the file's point: index into
    `checks` -> the diagnosis, where it fails at a nearby point."""
    found: dict[int, Msg] = {}
    if not checks:
        return found
    rng = random.Random(NEARBY_SEED)
    last = max([spec.loss, *spec.named.values()])
    done = draws = 0
    while done < NEARBY_POINTS and draws < MAX_DRAWS and len(found) < len(checks):
        draws += 1
        bindings = _moved(spec, rng, draws)
        try:
            values = engine.forward(spec.graph, bindings, last)
        except (GradcliError, ArithmeticError, ValueError):
            continue
        done += 1
        point = GradingPoint(spec, bindings, values, rate)
        for k, (item, _entry) in enumerate(checks):
            if k in found:
                continue
            try:
                actual = point.actual(item)
                given = point.formula(item.formula)
            except (GradcliError, ArithmeticError, ValueError):
                continue  # undefined there: this point says nothing about the formula
            if not _same_here(item, given, actual, point, passes):
                found[k] = _message(item, given, actual, done)
    return found


def _same_here(item, given: Any, actual: Any, point: GradingPoint, passes) -> bool:
    if not (isinstance(given, float) and isinstance(actual, float)):
        import numpy as np

        if np.size(given) != np.size(actual):
            return False
        given = float(np.reshape(given, ())) if isinstance(actual, float) else \
            np.reshape(given, np.shape(actual))
    if item.kind == "update":  # graded on the step, as at the file's point
        old = point.old(item.target)
        return passes(old - given, old - actual)
    return passes(given, actual)


def _message(item, given: Any, actual: Any, k: int) -> Msg:
    if isinstance(given, float) and isinstance(actual, float):
        return M("right number, wrong formula: at nearby point {k} (parameters and inputs "
                 "moved by up to 10%, seed {seed}) it gives {given:.6g}, but {name} is "
                 "{actual:.6g} there", k=k, seed=NEARBY_SEED, given=given, name=item.name,
                 actual=actual)
    return M("right number, wrong formula: at nearby point {k} (parameters and inputs moved "
             "by up to 10%, seed {seed}) it no longer matches {name}", k=k, seed=NEARBY_SEED,
             name=item.name)


def _moved(spec, rng: random.Random, draw: int) -> dict[int, Any]:
    bindings = dict(spec.bindings)
    for name, nid in list(spec.inputs.items()) + list(spec.params.items()):
        v = spec.bindings[nid]
        if isinstance(v, float):
            bindings[nid] = v + rng.uniform(-MOVE, MOVE) * max(abs(v), 1.0)
        elif not _probability_rows(v):
            import numpy as np

            r = np.random.default_rng([NEARBY_SEED, draw, nid])
            bindings[nid] = v + r.uniform(-MOVE, MOVE, v.shape) * np.maximum(np.abs(v), 1.0)
    return bindings


def _probability_rows(v: Any) -> bool:
    """Rows of probabilities summing to 1 (one-hot targets), last axis longer than 1."""
    import numpy as np

    if v.ndim == 0 or v.shape[-1] < 2 or (v < 0).any() or (v > 1).any():
        return False
    return bool(np.allclose(v.sum(axis=-1), 1.0))
