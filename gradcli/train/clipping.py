"""The global gradient norm, and clipping by it (torch.nn.utils.clip_grad_norm_).

total = sqrt(sum over every parameter of sum(g**2)); with max_norm given,
coef = max_norm / (total + 1e-6) and every gradient is multiplied by coef
when coef < 1 (seed note 002, section 7.3, writes the same function).
"""
from __future__ import annotations

import math
from typing import Any

Value = Any  # float or numpy.ndarray

CLIP_EPS = 1e-6  # torch's clip_grad_norm_ adds this to the norm


def _norm(v: Value) -> float:
    """L2 norm of one value, without overflow for huge entries (numpy's
    floating-point warnings are silenced by the caller)."""
    if isinstance(v, float):
        return abs(v)
    import numpy as np

    if v.size == 0:
        return 0.0
    flat = v.ravel(order="K")  # memory order: no copy of a transposed gradient
    sq = float(np.dot(flat, flat))
    if math.isfinite(sq) and sq > 1e-280:
        return math.sqrt(sq)
    big = float(np.max(np.abs(flat)))  # rescale: squares overflowed or underflowed
    if big == 0.0 or not math.isfinite(big):  # zero, infinity or NaN
        return big
    scaled = flat / big
    return big * math.sqrt(float(np.dot(scaled, scaled)))


def global_norm(grads: list[Value]) -> float:
    """sqrt of the sum of squares of every entry of every gradient (NaN stays NaN)."""
    if all(isinstance(g, float) for g in grads):
        norms = [abs(g) for g in grads]
    else:
        import numpy as np

        with np.errstate(all="ignore"):  # squares of huge entries overflow: rescaled
            norms = [_norm(g) for g in grads]
    if any(n != n for n in norms):
        return math.nan
    return math.hypot(*norms) if norms else 0.0


def clip(grads: list[Value], total: float, max_norm: float | None) -> list[Value]:
    """The gradients scaled so their global norm is at most `max_norm` (new values:
    the engine's adjoints may share arrays, so nothing is scaled in place)."""
    if max_norm is None:
        return grads
    coef = max_norm / (total + CLIP_EPS)
    if not coef < 1.0:
        return grads
    return [g * coef for g in grads]
