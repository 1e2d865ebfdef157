"""Central differences of a black-box scalar objective with respect to arrays.

The user's forward is a black box: gradcli can only perturb an input or a
parameter array in place and evaluate again.  The objective is given per
batch row (`evaluate() -> array of shape (B,)`, or 0-d), e.g. for a layer
`sum(forward(x) * dout)` summed over every axis but the first.

Full mode (up to FULL_MAX entries per gradient): every entry, a central
difference with h = EPS**(1/3) * max(1, |x_i|) (2 evaluations; its truncation
error, about h**2 times the third derivative, is far below any tolerance).
Entries beyond tolerance (every entry when there are few) get a second step
h/2: Richardson's value, an error estimate from the two, and the kink test.
An input whose rows are independent (row b of the output depends on row b of
x only; tested with one probe) is perturbed one entry per row at a time, so
the cost is per column, not per entry; each difference is read from its own
row, which also keeps the other rows' rounding out of it.

Fast mode (above FULL_MAX): 3 random Gaussian directions over the whole
array and 32 sampled entries; when one disagrees, the flat index range is
bisected with block-restricted directional probes (largest disagreement
first) and blocks of at most 16 entries are checked entry by entry, which
finds the worst entries in about 2 log2(n/16) probes each.

Kinks: an entry whose second differences at h and h/2 do not scale like h**2
(second(h) != 4 * second(h/2)) crosses a non-smooth point; it is excused (a kink) when the
user's value equals the left or the right one-sided slope there.

Every decision is `verdict.compare`; the diagnosis comes from `gradcli.mistakes`.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gradcli import mistakes
from gradcli.i18n import M, Msg
from gradcli.numeric import central_difference
from gradcli.usercode.results import GradCheck
from gradcli.verdict import compare

FULL_MAX = 20_000
DIRECTIONS = 3
SAMPLES = 32
LEAF = 16
MAX_PROBES = 400
EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)

Evaluate = Callable[[], np.ndarray]


@dataclass
class Precision:
    """Step and tolerances for float64 code, or float32-sized ones for float32 code."""

    eps: float = EPS64
    rtol: float = 1e-5
    atol: float = 1e-8

    @property
    def rel_step(self) -> float:
        return self.eps ** (1.0 / 3.0)


def float32_precision(rtol: float, atol: float) -> Precision:
    return Precision(EPS32, max(rtol, 1e-2), max(atol, 1e-4))


@dataclass
class Target:
    """An array the objective reads, perturbed in place, and the user's gradient of it."""

    name: str
    array: np.ndarray  # float64, contiguous; the object the user's code reads
    user: Any
    rowwise: bool = False  # perturb one entry per batch row at once


def tolerance_rule(prec: Precision) -> str:
    return "|actual - expected| <= max({:g}*max(|actual|, |expected|), {:g}, 4*fd_error)".format(
        prec.rtol, prec.atol)


def as_gradient(value: Any) -> np.ndarray | None:
    """The user's gradient as a float array, or None when it is not numbers."""
    if value is None:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr


def check_target(target: Target, evaluate: Evaluate, prec: Precision, rng: np.random.Generator,
                 batch: int | None = None) -> GradCheck:
    """The user's gradient of `target` against central differences of `evaluate`."""
    user = as_gradient(target.user)
    shape = list(target.array.shape)
    if user is None:
        return GradCheck(target.name, False, count=target.array.size, bad=target.array.size,
                         diagnosis=M("no gradient: got {value}", value=type(target.user).__name__),
                         expected_shape=shape)
    if user.shape != target.array.shape:
        return _shape_mismatch(target, user, evaluate, prec, rng, batch)
    if target.array.size <= FULL_MAX:
        return _full(target, user, evaluate, prec, batch)
    return _fast(target, user, evaluate, prec, rng, batch)


def _shape_mismatch(target: Target, user: np.ndarray, evaluate: Evaluate, prec: Precision,
                    rng: np.random.Generator, batch: int | None) -> GradCheck:
    shape = list(target.array.shape)
    check = GradCheck(target.name, False, count=target.array.size, bad=target.array.size,
                      shape=list(user.shape), expected_shape=shape,
                      tolerance=tolerance_rule(prec))
    check.diagnosis = mistakes.diagnose(user, np.zeros(target.array.shape))  # shapes only
    if user.ndim == 2 and user.T.shape == target.array.shape:
        as_if = check_target(Target(target.name, target.array, user.T, target.rowwise),
                             evaluate, prec, rng, batch)
        if as_if.ok:
            check.diagnosis = M("transposed: shape {actual} where {expected} is expected; "
                                "its transpose is right", actual=mistakes.shape_text(user.shape),
                                expected=mistakes.shape_text(target.array.shape))
    return check


# -------------------------------------------------------------------- full ---
def _steps(base: np.ndarray, prec: Precision) -> np.ndarray:
    return prec.rel_step * np.maximum(1.0, np.abs(base))


def _rows_independent(array: np.ndarray, evaluate: Evaluate, base_rows: np.ndarray) -> bool:
    """Row b of the objective depends on row b of `array` only (one probe on row 0)."""
    if array.ndim < 2 or array.shape[0] < 2 or base_rows.ndim != 1 \
            or base_rows.shape[0] != array.shape[0]:
        return False
    saved = array[0].copy()
    array[0] += 0.5 + np.abs(array[0])
    try:
        rows = evaluate()
    except Exception:  # noqa: BLE001 - the probe point is not usable: no batching
        return False
    finally:
        array[0] = saved
    return bool(np.shape(rows) == np.shape(base_rows)
                and np.array_equal(rows[1:], base_rows[1:]))


def _groups(arr: np.ndarray, rowwise: bool) -> list[np.ndarray]:
    """Flat indices perturbed together: one entry per row (rowwise), else one entry."""
    n = arr.size
    if rowwise:
        per_row = n // arr.shape[0]
        return [np.arange(j, n, per_row) for j in range(per_row)]
    return [np.array([i]) for i in range(n)]


def _one_sided(target: Target, evaluate: Evaluate, base_rows: np.ndarray, rowwise: bool,
               groups: list[np.ndarray], scale: float, h_all: np.ndarray,
               out: dict[str, np.ndarray], suffix: str) -> None:
    """f(x + s e_i) - f(x) and f(x - s e_i) - f(x) for s = scale * h_i, per entry of `groups`,
    and the steps actually taken (the representable ones)."""
    flat = target.array.reshape(-1)
    base = flat.copy()
    for key in ("p", "m", "hp", "hm"):
        out.setdefault(key + suffix, np.full(flat.size, np.nan))
    for idx in groups:
        h = scale * h_all[idx]
        for key, sign in (("p", 1.0), ("m", -1.0)):
            moved = base[idx] + sign * h
            flat[idx] = moved
            try:
                rows = evaluate()
            finally:
                flat[idx] = base[idx]
            delta = rows - base_rows
            out[key + suffix][idx] = delta[np.arange(len(idx))] if rowwise else delta.sum()
            out["h" + key + suffix][idx] = np.abs(moved - base[idx])


#: Below this many groups, every entry gets the second step (h/2) at once.
ALWAYS_RICHARDSON = 64


def _full(target: Target, user: np.ndarray, evaluate: Evaluate, prec: Precision,
          batch: int | None) -> GradCheck:
    """Every entry: a central difference with step h; entries beyond tolerance (or all,
    when few) also with h/2, for Richardson's value, its error estimate and kinks."""
    shape, n = target.array.shape, target.array.size
    base_rows = np.asarray(evaluate(), dtype=np.float64)
    rowwise = target.rowwise and _rows_independent(target.array, evaluate, base_rows)
    groups = _groups(target.array, rowwise)
    h_all = _steps(target.array.reshape(-1).copy(), prec)
    d: dict[str, np.ndarray] = {}
    _one_sided(target, evaluate, base_rows, rowwise, groups, 1.0, h_all, d, "1")
    if rowwise:
        mag = np.repeat(np.abs(base_rows), n // target.array.shape[0])  # row-major entries
    else:
        mag = np.full(n, float(np.abs(base_rows).sum()))
    rounding = 8.0 * prec.eps * (mag + 1e-300) / h_all
    u = user.reshape(-1)
    d1 = (d["p1"] - d["m1"]) / (d["hp1"] + d["hm1"])
    first_bad = _bad_mask(u, d1, rounding, False, prec)
    again = groups if len(groups) <= ALWAYS_RICHARDSON else \
        [g for g in groups if first_bad[g].any()]
    _one_sided(target, evaluate, base_rows, rowwise, again, 0.5, h_all, d, "2")
    d2 = (d["p2"] - d["m2"]) / (d["hp2"] + d["hm2"])
    second = ~np.isnan(d2)
    numeric = np.where(second, (4.0 * d2 - d1) / 3.0, d1)
    error = np.where(second, np.abs(d2 - d1) / 3.0, 0.0) + rounding
    # second differences: h**2 scaling when smooth, not when a kink is crossed
    s1, s2 = d["p1"] + d["m1"], d["p2"] + d["m2"]
    with np.errstate(invalid="ignore"):
        nonsmooth = second & (np.abs(s1 - 4.0 * s2) > np.maximum(0.1 * np.abs(s1),
                                                                  50.0 * prec.eps * mag))
        right, left = d["p2"] / d["hp2"], -d["m2"] / d["hm2"]
        one_side = np.minimum(np.abs(u - right), np.abs(u - left)) <= np.maximum(
            1e-3 * np.maximum(np.abs(u), np.maximum(np.abs(right), np.abs(left))), prec.atol)
    kink = (nonsmooth & one_side).reshape(shape)
    check = from_verdict(target.name, user, numeric.reshape(shape), error.reshape(shape), kink,
                         prec, batch)
    check.method = M("full: {count} of {count} entries, central differences with step h "
                     "({again} entries also with h/2: Richardson and an error estimate)",
                     count=n, again=int(second.sum()))
    return check


def from_verdict(name: str, user: np.ndarray, numeric: np.ndarray, error: Any, kink: Any,
                 prec: Precision, batch: int | None) -> GradCheck:
    """A GradCheck from `verdict.compare`, with the diagnosis of a failure."""
    v = compare(reverse=user, numeric=numeric, numeric_error=error, kink=kink,
                rtol=prec.rtol, atol=prec.atol)
    check = GradCheck(name, v.ok, count=v.count, bad=v.bad,
                      worst_index=None if v.worst_index is None else list(v.worst_index),
                      expected=v.expected, actual=v.actual, max_abs_error=v.max_abs_error,
                      max_rel_error=v.rel_error, tolerance=tolerance_rule(prec),
                      shape=list(user.shape), kinks=v.kinks)
    if v.kinks:
        check.note = M("right except at {count} kinks (a relu/abs argument within the step "
                       "of 0, where the derivative jumps); the gradient there is one of the "
                       "one-sided slopes", count=v.kinks)
    elif v.note is not None:
        check.note = v.note
    if not v.ok:
        bad = _bad_mask(user, numeric, error, kink, prec)
        check.diagnosis = mistakes.diagnose(user, numeric, bad, batch, prec.atol)
    return check


def _bad_mask(user: np.ndarray, numeric: np.ndarray, error: Any, kink: Any,
              prec: Precision) -> np.ndarray:
    """The entries beyond tolerance, by the same rule as verdict.compare."""
    bound = np.maximum(np.maximum(prec.rtol * np.maximum(np.abs(user), np.abs(numeric)),
                                  prec.atol), 4.0 * np.asarray(error))
    return (np.abs(user - numeric) > bound) & ~np.asarray(kink, dtype=bool)


# -------------------------------------------------------------------- fast ---
@dataclass
class _Probe:
    user: float
    numeric: float
    error: float


def _direction(target: Target, user: np.ndarray, evaluate: Evaluate, prec: Precision,
               v: np.ndarray, lo: int, hi: int, f0: float) -> _Probe:
    """<user, v> against the central difference of t -> f(x + t v) on entries [lo, hi)."""
    flat = target.array.reshape(-1)
    base = flat[lo:hi].copy()
    h = prec.rel_step * max(1.0, float(np.abs(base).max()))

    def f(t: float) -> float:
        flat[lo:hi] = base + t * v
        try:
            return float(np.sum(evaluate()))
        finally:
            flat[lo:hi] = base

    diff = central_difference(f, 0.0, step=h, f0=f0)
    rounding = 8.0 * prec.eps * max(abs(f0), 1e-300) / h
    return _Probe(float(np.dot(v, user.reshape(-1)[lo:hi])), diff.value,
                  diff.error + rounding)


def _probe_ok(p: _Probe, prec: Precision) -> bool:
    return compare(reverse=p.user, numeric=p.numeric, numeric_error=p.error,
                   rtol=prec.rtol, atol=prec.atol).ok


def _entries(target: Target, user: np.ndarray, evaluate: Evaluate, prec: Precision,
             idx: np.ndarray, f0: float) -> tuple[np.ndarray, np.ndarray]:
    """Central differences (Richardson) of single entries `idx`: values and errors."""
    flat = target.array.reshape(-1)
    values, errors = np.empty(len(idx)), np.empty(len(idx))
    for k, i in enumerate(idx):
        base = float(flat[i])

        def f(t: float, i: int = int(i), base: float = base) -> float:
            flat[i] = base + t
            try:
                return float(np.sum(evaluate()))
            finally:
                flat[i] = base

        h = prec.rel_step * max(1.0, abs(base))
        diff = central_difference(f, 0.0, step=h, f0=f0)
        values[k] = diff.value
        errors[k] = diff.error + 8.0 * prec.eps * max(abs(f0), 1e-300) / h
    return values, errors


def _fast(target: Target, user: np.ndarray, evaluate: Evaluate, prec: Precision,
          rng: np.random.Generator, batch: int | None) -> GradCheck:
    n = target.array.size
    f0 = float(np.sum(evaluate()))
    directions = [_direction(target, user, evaluate, prec, rng.standard_normal(n), 0, n, f0)
                  for _ in range(DIRECTIONS)]
    sample = np.sort(rng.choice(n, size=min(SAMPLES, n), replace=False))
    values, errors = _entries(target, user, evaluate, prec, sample, f0)
    u = user.reshape(-1)
    dir_ok = [_probe_ok(p, prec) for p in directions]
    sample_verdict = compare(reverse=u[sample], numeric=values, numeric_error=errors,
                             rtol=prec.rtol, atol=prec.atol)
    found_idx, found_val, found_err = sample, values, errors
    probes = 0
    if not all(dir_ok) or not sample_verdict.ok:
        factor = _whole_factor(directions, u[sample], values, batch)
        if factor is None:
            idx, vals, errs, probes = _localize(target, user, evaluate, prec, rng, f0)
            found_idx = np.concatenate([sample, idx])
            found_val = np.concatenate([values, vals])
            found_err = np.concatenate([errors, errs])
    check = _sparse_check(target, user, found_idx, found_val, found_err, prec, batch)
    if all(dir_ok) and sample_verdict.ok:
        check.ok = True
    elif check.ok:  # a direction failed but no single entry was found: still wrong
        check.ok = False
        check.bad = max(check.bad, 1)
    if not check.ok and check.diagnosis is None:
        check.diagnosis = _whole_factor(directions, u[sample], values, batch)
    check.method = M("fast: {directions} random directions over all {total} entries, "
                     "{count} single entries checked ({sampled} sampled, the rest found by "
                     "bisection in {probes} probes)", directions=DIRECTIONS, total=n,
                     count=len(np.unique(found_idx)), sampled=len(sample), probes=probes)
    return check


def _whole_factor(directions: list[_Probe], sampled_user: np.ndarray, sampled_numeric: np.ndarray,
                  batch: int | None) -> Msg | None:
    """A simple factor that explains every direction and every sampled entry."""
    pairs = [(p.user, p.numeric) for p in directions] + list(zip(sampled_user, sampled_numeric))
    nums = np.array([b for _, b in pairs])
    users = np.array([a for a, _ in pairs])
    if not np.any(nums):
        return None
    if not np.any(users):
        return M("zero where it should not be: the gradient is all zeros")
    c = float(np.dot(users, nums) / np.dot(nums, nums))
    for factor, why in mistakes.simple_factors(batch):
        f = float(factor)
        if abs(c - f) <= 1e-3 * abs(f) and np.allclose(users, f * nums, rtol=1e-4,
                                                        atol=1e-8 * np.abs(nums).max()):
            return mistakes.factor_message(factor, why)
    return None


def _localize(target: Target, user: np.ndarray, evaluate: Evaluate, prec: Precision,
              rng: np.random.Generator,
              f0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Bisect the flat index range to the wrong entries (see the module docstring)."""
    n = target.array.size
    probes = 0
    heap: list[tuple[float, int, int]] = []

    def probe(lo: int, hi: int) -> None:
        nonlocal probes
        probes += 1
        p = _direction(target, user, evaluate, prec, rng.standard_normal(hi - lo), lo, hi, f0)
        if not _probe_ok(p, prec):
            heapq.heappush(heap, (-abs(p.user - p.numeric), lo, hi))

    probe(0, n)
    idx, vals, errs = [], [], []
    scanned = 0
    while heap and scanned < FULL_MAX:
        _, lo, hi = heapq.heappop(heap)
        if hi - lo <= LEAF or probes >= MAX_PROBES:
            block = np.arange(lo, hi)
            v, e = _entries(target, user, evaluate, prec, block, f0)
            idx.append(block)
            vals.append(v)
            errs.append(e)
            scanned += hi - lo
            continue
        mid = (lo + hi) // 2
        probe(lo, mid)
        probe(mid, hi)
    if not idx:
        return np.array([], dtype=int), np.array([]), np.array([]), probes
    return np.concatenate(idx), np.concatenate(vals), np.concatenate(errs), probes


def _sparse_check(target: Target, user: np.ndarray, idx: np.ndarray, values: np.ndarray,
                  errors: np.ndarray, prec: Precision, batch: int | None) -> GradCheck:
    """A verdict over the entries checked one by one, indices in the array's shape."""
    idx, first = np.unique(idx, return_index=True)
    values, errors = values[first], errors[first]
    u = user.reshape(-1)[idx]
    v = compare(reverse=u, numeric=values, numeric_error=errors, rtol=prec.rtol,
                atol=prec.atol)
    worst = None
    if v.worst_index is not None and len(idx):
        flat = int(idx[v.worst_index[0]])
        worst = [int(i) for i in np.unravel_index(flat, target.array.shape)]
    check = GradCheck(target.name, v.ok, count=v.count, bad=v.bad, worst_index=worst,
                      expected=v.expected, actual=v.actual, max_abs_error=v.max_abs_error,
                      max_rel_error=v.rel_error, tolerance=tolerance_rule(prec),
                      shape=list(user.shape))
    if not v.ok and target.array.ndim == 2:
        bad = _bad_mask(u, values, errors, False, prec)
        rows = {int(np.unravel_index(int(i), target.array.shape)[0]) for i in idx[bad]}
        cols = {int(np.unravel_index(int(i), target.array.shape)[1]) for i in idx[bad]}
        if len(rows) == 1 and bad.sum() > 1:
            check.diagnosis = M("one row wrong: row {row} (of the entries checked)",
                                row=rows.pop())
        elif len(cols) == 1 and bad.sum() > 1:
            check.diagnosis = M("one column wrong: column {col} (of the entries checked)",
                                col=cols.pop())
    return check


def taylor_confirms(target: Target, user: np.ndarray, evaluate: Evaluate,
                    rng: np.random.Generator) -> mistakes.Taylor | None:
    """The Taylor test along a random direction: decides when differences are noisy."""
    flat = target.array.reshape(-1)
    base = flat.copy()
    v = rng.standard_normal(flat.size)
    slope = float(np.dot(v, user.reshape(-1)))
    f0 = float(np.sum(evaluate()))
    scale = max(1.0, float(np.abs(base).max()))

    def f(t: float) -> float:
        flat[:] = base + t * v
        try:
            return float(np.sum(evaluate()))
        finally:
            flat[:] = base

    h0 = 1e-1 * scale / math.sqrt(flat.size)
    return mistakes.taylor_order(f, f0, slope, [h0 / 2 ** k for k in range(5)],
                                 floor=1e3 * EPS32 * max(abs(f0), 1e-30))


def rounds_to_float32(target: Target, evaluate: Evaluate, rng: np.random.Generator) -> bool:
    """True when the code rounds this array to lower precision inside (x.astype(float32)).

    Along a random direction v, the central difference over a relative step of 1e-9
    must be 1e-6 times the one over 1e-3 (the function is smooth at that scale);
    float64 arithmetic gives that to ~1e-6, rounding to float32 (resolution 6e-8)
    gives 0 or a multiple of its resolution.  A function flat along v decides nothing.
    """
    flat = target.array.reshape(-1)
    base = flat.copy()
    v = rng.standard_normal(flat.size) * np.maximum(1.0, np.abs(base))

    def diff(step: float) -> float:
        values = []
        for sign in (1.0, -1.0):
            flat[:] = base + sign * step * v
            try:
                values.append(float(np.sum(evaluate())))
            finally:
                flat[:] = base
        return values[0] - values[1]

    coarse = diff(1e-3)
    if coarse == 0.0 or not math.isfinite(coarse):
        return False
    fine = diff(1e-9)
    return abs(fine / (coarse * 1e-6) - 1.0) > 0.1
