"""The one truth table of a gradient check: `compare(...) -> Verdict`.

Every place that decides whether a gradient is right (`derive`, both forms of
`check`, the dense-network check, checks of the user's own code) calls
`compare` with what it has:

- `reverse`: the gradient under test (gradcli's reverse mode, or the user's);
- `numeric`: central differences (None, or NaN entries, where not computed);
- `numeric_error`: the finite differences' own error estimate (scalar or
  per entry); the numeric value is trusted only to SLACK times that;
- `symbolic`: SymPy's value (None, or NaN entries, where skipped);
- `kink`: True (or a per-entry mask) where a relu/abs argument is at 0 or
  crosses 0 within the finite-difference step: there the derivative does not
  exist and a disagreement is not a failure.

Per entry, reverse agrees with numeric when |r - n| <= max(rtol*max(|r|,|n|),
atol, SLACK*numeric_error), and with symbolic when |r - s| <=
max(rtol*max(|r|,|s|), atol).  The verdict, over all entries:

| disagreeing entries                                | ok    | band / cause      |
| -------------------------------------------------- | ----- | ----------------- |
| none, rel error <= 1e-7                             | yes   | good              |
| none, rel error <= 1e-4                             | yes   | fine              |
| none, larger but every difference <= atol           | yes   | within atol       |
| none, larger (a loose rtol or the FD error decided) | yes   | suspicious/wrong  |
| only at kinks                                       | yes   | kink              |
| reverse = symbolic != numeric                       | yes   | fd-artefact       |
| reverse != symbolic = numeric                       | no    | backprop bug      |
| otherwise                                           | no    | inconclusive      |

The relative-error bands are those of the CS231n notes on gradient checking
(good <= 1e-7 < fine <= 1e-4 < suspicious <= 1e-2 < wrong).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gradcli.i18n import M, Msg

#: The numeric value is trusted to this many times its own error estimate.
SLACK = 4.0
GOOD = 1e-7
FINE = 1e-4
WRONG = 1e-2
TINY = 1e-300

BACKPROP_BUG = "backprop bug"
INCONCLUSIVE = "inconclusive"
FD_ARTEFACT = "fd-artefact"
KINK = "kink"
WITHIN_ATOL = "within atol"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    band: str  # good, fine, suspicious, wrong, within atol, kink, fd-artefact
    cause: str | None = None  # backprop bug, inconclusive, fd-artefact, kink (or None)
    attribution: Msg | None = None  # the cause in a sentence
    rel_error: float = 0.0  # worst relative error, reverse vs numeric and vs symbolic
    max_abs_error: float = 0.0  # worst |reverse - reference|
    count: int = 1  # entries compared
    bad: int = 0  # entries beyond tolerance (not excused by a kink or an FD artefact)
    worst_index: tuple[int, ...] | None = None  # None for a scalar
    expected: float | None = None  # the reference (numeric, else symbolic) at the worst entry
    actual: float | None = None  # the gradient under test at the worst entry
    kinks: int = 0  # entries excused by a kink
    note: Msg | None = None  # e.g. the FD error estimate, not the rtol, decided


def band(rel: float) -> str:
    """A word for a relative error, from 'good' to 'wrong'."""
    if rel <= GOOD:
        return "good"
    if rel <= FINE:
        return "fine"
    if rel <= WRONG:
        return "suspicious"
    return "wrong"


def rel_error(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|, tiny): 0 when both are 0."""
    diff = abs(a - b)
    if diff == 0.0:
        return 0.0
    return diff / max(abs(a), abs(b), TINY)


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (float, int)) and not isinstance(v, bool)


def compare(reverse: Any, numeric: Any = None, numeric_error: Any = 0.0,
            symbolic: Any = None, kink: Any = False, rtol: float = 1e-5,
            atol: float = 1e-8) -> Verdict:
    """The verdict on `reverse` against the references (see the module docstring)."""
    if all(v is None or _is_scalar(v) for v in (reverse, numeric, symbolic)) \
            and _is_scalar(numeric_error or 0.0) and isinstance(kink, (bool, int)):
        return _compare_scalar(float(reverse), numeric, float(numeric_error or 0.0),
                               symbolic, bool(kink), rtol, atol)
    return _compare_array(reverse, numeric, numeric_error, symbolic, kink, rtol, atol)


# ------------------------------------------------------------------ scalar ---
def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def _compare_scalar(r: float, n: Any, err: float, s: Any, kink: bool, rtol: float,
                    atol: float) -> Verdict:
    has_n, has_s = _present(n), _present(s)
    slack = max(atol, SLACK * err)
    rn = not has_n or abs(r - n) <= max(rtol * max(abs(r), abs(n)), slack)
    rs = not has_s or abs(r - s) <= max(rtol * max(abs(r), abs(s)), atol)
    sn = not (has_n and has_s) or abs(s - n) <= max(rtol * max(abs(s), abs(n)), slack)
    rel = max(([rel_error(r, n)] if has_n else []) + ([rel_error(r, s)] if has_s else []),
              default=0.0)
    ref = n if has_n else s if has_s else None
    abs_err = abs(r - ref) if ref is not None else 0.0
    bound = max(rtol * max(abs(r), abs(ref)), atol) if ref is not None else 0.0
    note = _slack_note(err, bound) if has_n and rn and abs(r - n) > bound else None
    common = dict(rel_error=rel, max_abs_error=abs_err, count=1,
                  expected=None if ref is None else float(ref), actual=r)
    if rn and rs:
        return Verdict(True, _ok_band(rel, abs_err, atol, has_s and abs(r - s) > atol),
                       note=note, **common)
    if kink:
        return Verdict(True, KINK, KINK, _KINK_TEXT, kinks=1, **common)
    if has_s and rs and not rn:
        return Verdict(True, FD_ARTEFACT, FD_ARTEFACT, _FD_TEXT, **common)
    odd = "reverse" if (has_n and has_s and sn and not rs) else \
        "symbolic" if (has_n and has_s and rn and not rs) else None
    cause, text = _failure(has_n, has_s, odd)
    return Verdict(False, _fail_band(rel), cause, text, bad=1, **common)


def _ok_band(rel: float, abs_err: float, atol: float, symbolic_beyond_atol: bool) -> str:
    word = band(rel)
    if word in ("good", "fine"):
        return word
    if abs_err <= atol and not symbolic_beyond_atol:
        return WITHIN_ATOL  # tiny values: the absolute tolerance decided
    return word


def _fail_band(rel: float) -> str:
    word = band(rel)
    return word if word in ("suspicious", "wrong") else "wrong"


def _slack_note(err: float, bound: float) -> Msg | None:
    """Said on a row when the finite-difference error, not the tolerance, decided."""
    if SLACK * err <= bound:
        return None
    return M("compared at the numeric error estimate {error:.1e}", error=SLACK * err)


_KINK_TEXT = M("kink: a relu/abs argument is at or near 0, where the derivative does not "
               "exist; reverse mode uses the subgradient 0")
_FD_TEXT = M("finite-difference artefact (step, precision or kink): reverse mode and "
             "SymPy agree")


def _failure(has_n: bool, has_s: bool, odd: str | None) -> tuple[str, Msg]:
    """Why the check failed; `odd` names the one method that disagrees with the other two."""
    if odd == "reverse":
        return BACKPROP_BUG, M("backprop bug: SymPy and central differences agree, "
                               "reverse mode does not")
    if odd == "symbolic":
        return INCONCLUSIVE, M("reverse mode and central differences agree, SymPy does "
                               "not: inconclusive")
    if not has_s:
        return INCONCLUSIVE, M("reverse mode and central differences disagree "
                               "(symbolic skipped): inconclusive")
    if not has_n:
        return INCONCLUSIVE, M("reverse mode and SymPy disagree (numeric skipped): "
                               "inconclusive")
    return INCONCLUSIVE, M("inconclusive: all three methods disagree")


# ------------------------------------------------------------------- array ---
def _compare_array(reverse: Any, numeric: Any, numeric_error: Any, symbolic: Any,
                   kink: Any, rtol: float, atol: float) -> Verdict:
    import numpy as np

    r = np.asarray(reverse, dtype=float)
    shape = r.shape
    r = r.ravel()

    def entries(v: Any) -> Any:
        if v is None:
            return np.full(r.shape, np.nan)
        return np.broadcast_to(np.asarray(v, dtype=float), shape).ravel()

    n, s = entries(numeric), entries(symbolic)
    err = np.broadcast_to(np.asarray(0.0 if numeric_error is None else numeric_error,
                                     dtype=float), shape).ravel()
    kinks = np.broadcast_to(np.asarray(kink, dtype=bool), shape).ravel()
    has_n, has_s = ~np.isnan(n), ~np.isnan(s)
    with np.errstate(invalid="ignore", over="ignore"):
        d_rn, d_rs, d_sn = np.abs(r - n), np.abs(r - s), np.abs(s - n)
        slack = np.maximum(atol, SLACK * err)
        bound_rn = np.maximum(rtol * np.maximum(np.abs(r), np.abs(n)), atol)
        rn = ~has_n | (d_rn <= np.maximum(bound_rn, slack))
        rs = ~has_s | (d_rs <= np.maximum(rtol * np.maximum(np.abs(r), np.abs(s)), atol))
        sn = has_n & has_s & (d_sn <= np.maximum(rtol * np.maximum(np.abs(s), np.abs(n)),
                                                 slack))
        rel_rn = np.where(has_n & (d_rn > 0), d_rn / np.maximum(
            np.maximum(np.abs(r), np.abs(n)), TINY), 0.0)
        rel_rs = np.where(has_s & (d_rs > 0), d_rs / np.maximum(
            np.maximum(np.abs(r), np.abs(s)), TINY), 0.0)
    rel = np.maximum(rel_rn, rel_rs)
    ref = np.where(has_n, n, s)
    abs_err = np.where(has_n | has_s, np.abs(r - np.where(has_n | has_s, ref, 0.0)), 0.0)
    agree = rn & rs
    excused_kink = ~agree & kinks
    fd_artefact = ~agree & ~kinks & has_s & rs & ~rn
    bad = ~agree & ~excused_kink & ~fd_artefact
    count = int(r.size)
    worst = _worst(bad if bad.any() else np.ones(r.shape, dtype=bool), rel, abs_err)
    index = tuple(int(i) for i in np.unravel_index(worst, shape)) if count else None
    compared = has_n | has_s
    common = dict(
        rel_error=float(rel.max(initial=0.0)),
        max_abs_error=float(abs_err.max(initial=0.0)),
        count=count, worst_index=index,
        expected=float(ref[worst]) if count and compared[worst] else None,
        actual=float(r[worst]) if count else None,
        kinks=int(excused_kink.sum()))
    if bad.any():
        both = has_n & has_s
        odd = "reverse" if bool((both & sn & ~rs)[bad].all()) else \
            "symbolic" if bool((both & rn & ~rs)[bad].all()) else None
        cause, text = _failure(bool(has_n[bad].any()), bool(has_s[bad].any()), odd)
        return Verdict(False, _fail_band(float(rel[bad].max())), cause, text,
                       bad=int(bad.sum()), **common)
    if excused_kink.any():
        return Verdict(True, KINK, KINK, _KINK_TEXT, **common)
    if fd_artefact.any():
        return Verdict(True, FD_ARTEFACT, FD_ARTEFACT, _FD_TEXT, **common)
    rel_max = common["rel_error"]
    beyond = has_n & (d_rn > bound_rn)
    note = _slack_note(float(err[beyond].max()), float(bound_rn[beyond].min())) \
        if beyond.any() else None
    symbolic_beyond = bool((has_s & (d_rs > atol)).any())
    return Verdict(True, _ok_band(rel_max, common["max_abs_error"], atol, symbolic_beyond),
                   note=note, **common)


def _worst(mask: Any, rel: Any, abs_err: Any) -> int:
    """Flat index of the worst entry under `mask`: largest relative, then absolute error."""
    import numpy as np

    candidates = np.flatnonzero(mask)
    if candidates.size == 0:
        return 0
    order = np.lexsort((-abs_err[candidates], -rel[candidates]))
    return int(candidates[order[0]])
