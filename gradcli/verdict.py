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
atol, SLACK*numeric_error) (`agrees`, the one closeness rule), and with
symbolic when |r - s| <= max(rtol*max(|r|,|s|), atol).  The verdict, over all
entries:

| entries                                            | ok    | band / cause      |
| -------------------------------------------------- | ----- | ----------------- |
| all agree, rel error <= 1e-7                        | yes   | good              |
| all agree, rel error <= 1e-4                        | yes   | fine              |
| all agree, larger but every difference <= atol      | yes   | within atol       |
| all agree, larger (a loose rtol or the FD error)    | yes   | suspicious/wrong  |
| the others agree, some at a kink                    | yes   | kink              |
| the others agree, some reverse = symbolic != numeric| yes   | fd-artefact       |
| some reverse != symbolic = numeric (and no other)   | no    | backprop bug      |
| some disagree otherwise                             | no    | inconclusive      |

When the requested tolerance at an entry is below SLACK times the numeric
error estimate, the comparison there was made at the estimate, and the
verdict says so in `note` ("compared at the numeric error estimate 3e-10").

The relative-error bands are those of the CS231n notes on gradient checking
(good <= 1e-7 < fine <= 1e-4 < suspicious <= 1e-2 < wrong).

Scalars never import numpy (`gradcli derive` on a scalar expression does
not need it); arrays are compared entry by entry with numpy, NaN meaning
"not computed".
"""
from __future__ import annotations

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
    kinks: int = 0  # entries at or near a kink
    note: Msg | None = None  # the FD error estimate, not the requested tolerance, decided


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


def agrees(reverse: Any, numeric: Any, numeric_error: Any = 0.0, rtol: float = 1e-5,
           atol: float = 1e-8) -> Any:
    """The closeness rule of every check, per entry (a bool, or a bool array):
    |r - n| <= max(rtol*max(|r|, |n|), atol, SLACK*numeric_error)."""
    if _is_scalar(reverse) and _is_scalar(numeric) and _is_scalar(numeric_error or 0.0):
        return abs(reverse - numeric) <= max(rtol * max(abs(reverse), abs(numeric)), atol,
                                             SLACK * (numeric_error or 0.0))
    import numpy as np

    r, n = np.asarray(reverse, dtype=float), np.asarray(numeric, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        bound = np.maximum(np.maximum(rtol * np.maximum(np.abs(r), np.abs(n)), atol),
                           SLACK * np.asarray(numeric_error or 0.0, dtype=float))
        return np.abs(r - n) <= bound


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (float, int)) and not isinstance(v, bool)


def compare(reverse: Any, numeric: Any = None, numeric_error: Any = 0.0,
            symbolic: Any = None, kink: Any = False, rtol: float = 1e-5,
            atol: float = 1e-8) -> Verdict:
    """The verdict on `reverse` against the references (see the module docstring)."""
    if (reverse is None or _is_scalar(reverse)) and (numeric is None or _is_scalar(numeric)) \
            and (symbolic is None or _is_scalar(symbolic)) \
            and (numeric_error is None or _is_scalar(numeric_error)) \
            and isinstance(kink, (bool, int)):
        flags = _scalar_flags(float(reverse), numeric, float(numeric_error or 0.0),
                              symbolic, bool(kink), rtol, atol)
    else:
        flags = _array_flags(reverse, numeric, numeric_error, symbolic, kink, rtol, atol)
    return _decide(flags, atol)


# ------------------------------------------------------------- the table ---
@dataclass(slots=True)
class _Flags:
    """What the entries say, aggregated (the same for scalars and arrays)."""

    count: int
    rel_error: float
    max_abs_error: float
    worst_index: tuple[int, ...] | None
    expected: float | None
    actual: float | None
    bad: int  # disagree, not excused
    kinks: int  # flagged at a kink
    fd_artefacts: int  # reverse = symbolic != numeric, not at a kink
    bad_rel: float  # worst relative error among the bad entries
    has_numeric: bool  # among the bad entries (all entries when none is bad)
    has_symbolic: bool
    odd: str | None  # the one method the other two outvote at every bad entry
    symbolic_beyond_atol: bool
    slack: float | None  # the largest FD estimate that widened a requested tolerance


def _decide(f: _Flags, atol: float) -> Verdict:
    common = dict(rel_error=f.rel_error, max_abs_error=f.max_abs_error, count=f.count,
                  worst_index=f.worst_index, expected=f.expected, actual=f.actual,
                  kinks=f.kinks, note=_slack_note(f.slack))
    if f.bad:
        cause, text = _failure(f.has_numeric, f.has_symbolic, f.odd)
        return Verdict(False, _fail_band(f.bad_rel), cause, text, bad=f.bad, **common)
    if f.kinks:
        return Verdict(True, KINK, KINK, _KINK_TEXT, **common)
    if f.fd_artefacts:
        return Verdict(True, FD_ARTEFACT, FD_ARTEFACT, _FD_TEXT, **common)
    word = band(f.rel_error)
    if word not in ("good", "fine") and f.max_abs_error <= atol and not f.symbolic_beyond_atol:
        word = WITHIN_ATOL  # tiny values: the absolute tolerance decided
    return Verdict(True, word, **common)


def _fail_band(rel: float) -> str:
    word = band(rel)
    return word if word in ("suspicious", "wrong") else "wrong"


def _slack_note(slack: float | None) -> Msg | None:
    """Said on a row when the finite-difference error, not the tolerance, decided."""
    if slack is None:
        return None
    return M("compared at the numeric error estimate {error:.1e} (the requested tolerance "
             "is below what central differences can resolve here)", error=slack)


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


# ------------------------------------------------------------------ scalar ---
def _present(v: Any) -> bool:
    return v is not None and v == v  # None and NaN: not computed


def _scalar_flags(r: float, n: Any, err: float, s: Any, kink: bool, rtol: float,
                  atol: float) -> _Flags:
    has_n, has_s = _present(n), _present(s)
    slack = SLACK * err
    bound_rn = max(rtol * max(abs(r), abs(n)), atol) if has_n else 0.0
    rn = not has_n or abs(r - n) <= max(bound_rn, slack)
    rs = not has_s or abs(r - s) <= max(rtol * max(abs(r), abs(s)), atol)
    sn = has_n and has_s and abs(s - n) <= max(rtol * max(abs(s), abs(n)), atol, slack)
    if has_n:
        rel = max(rel_error(r, n), rel_error(r, s)) if has_s else rel_error(r, n)
    else:
        rel = rel_error(r, s) if has_s else 0.0
    ref = n if has_n else s if has_s else None
    agree = rn and rs
    fd = not agree and not kink and has_s and rs and not rn
    bad = not agree and not kink and not fd
    odd = "reverse" if (has_n and has_s and sn and not rs) else \
        "symbolic" if (has_n and has_s and rn and not rs) else None
    return _Flags(
        count=1, rel_error=rel, max_abs_error=abs(r - ref) if ref is not None else 0.0,
        worst_index=None, expected=None if ref is None else float(ref), actual=r,
        bad=int(bad), kinks=int(kink), fd_artefacts=int(fd), bad_rel=rel,
        has_numeric=has_n, has_symbolic=has_s, odd=odd,
        symbolic_beyond_atol=has_s and abs(r - s) > atol,
        slack=slack if has_n and slack > bound_rn else None)


# ------------------------------------------------------------------- array ---
@dataclass
class _Against:
    """Reverse mode against one reference, entry by entry (arrays of the same length)."""

    present: Any  # the reference was computed there (not NaN)
    diff: Any  # |r - ref| (NaN where absent)
    bound: Any  # max(rtol*max(|r|, |ref|), atol): the requested tolerance
    agree: Any  # absent, or within max(bound, slack)
    rel: Any  # relative error (0 where absent)


def _against(np, r: Any, ref: Any, rtol: float, atol: float, slack: Any = 0.0) -> _Against | None:
    if ref is None:
        return None
    present = ~np.isnan(ref)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(r - ref)
        scale = np.maximum(np.abs(r), np.abs(ref))
        bound = np.maximum(rtol * scale, atol)
        agree = ~present | (diff <= np.maximum(bound, slack))
        rel = diff / np.maximum(scale, TINY)
    rel[~present] = 0.0
    return _Against(present, diff, bound, agree, rel)


def _array_flags(reverse: Any, numeric: Any, numeric_error: Any, symbolic: Any,
                 kink: Any, rtol: float, atol: float) -> _Flags:
    import numpy as np

    r = np.asarray(reverse, dtype=float)
    shape = r.shape
    r = r.ravel()

    def entries(v: Any, dtype: Any) -> Any:
        return None if v is None else np.broadcast_to(np.asarray(v, dtype=dtype), shape).ravel()

    n, s = entries(numeric, float), entries(symbolic, float)
    err = np.asarray(0.0 if numeric_error is None else numeric_error, dtype=float)
    slack = SLACK * (err if err.ndim == 0 else np.broadcast_to(err, shape).ravel())
    kinks = entries(kink, bool)
    none, every = np.zeros(r.shape, dtype=bool), np.ones(r.shape, dtype=bool)
    vn, vs = _against(np, r, n, rtol, atol, slack), _against(np, r, s, rtol, atol)
    has_n, has_s = (vn.present if vn else none), (vs.present if vs else none)
    rn, rs = (vn.agree if vn else every), (vs.agree if vs else every)
    rels = [v.rel for v in (vn, vs) if v is not None]
    rel = np.zeros(r.shape) if not rels else rels[0] if len(rels) == 1 else np.maximum(*rels)
    compared = has_n | has_s
    ref = n if s is None else s if n is None else np.where(has_n, n, s)
    if ref is None:
        ref = np.full(r.shape, np.nan)
    abs_err = np.abs(r - ref)
    abs_err[~compared] = 0.0
    agree = rn & rs
    bad = ~agree & ~kinks if kinks is not None else ~agree
    fd = bad & has_s & rs & ~rn
    bad &= ~fd
    count = int(r.size)
    worst = _worst(bad if bad.any() else compared, rel, abs_err)
    odd = None
    if bad.any() and vn and vs:
        with np.errstate(invalid="ignore"):
            sn = has_n & has_s & (np.abs(s - n) <= np.maximum(np.maximum(
                rtol * np.maximum(np.abs(s), np.abs(n)), atol), slack))
        odd = "reverse" if bool((sn & ~rs)[bad].all()) else \
            "symbolic" if bool((has_n & has_s & rn & ~rs)[bad].all()) else None
    among = bad if bad.any() else every
    widened = has_n & (slack > vn.bound) if vn else none
    return _Flags(
        count=count, rel_error=float(rel.max(initial=0.0)),
        max_abs_error=float(abs_err.max(initial=0.0)),
        worst_index=tuple(int(i) for i in np.unravel_index(worst, shape)) if count else None,
        expected=float(ref[worst]) if count and compared[worst] else None,
        actual=float(r[worst]) if count else None,
        bad=int(bad.sum()),
        kinks=int((kinks & compared).sum()) if kinks is not None else 0,
        fd_artefacts=int(fd.sum()),
        bad_rel=float(rel[bad].max(initial=0.0)),
        has_numeric=bool(has_n[among].any()), has_symbolic=bool(has_s[among].any()),
        odd=odd, symbolic_beyond_atol=bool((has_s & (vs.diff > atol)).any()) if vs else False,
        slack=float(np.broadcast_to(slack, r.shape)[widened].max()) if widened.any() else None)


def _worst(mask: Any, rel: Any, abs_err: Any) -> int:
    """Flat index of the worst entry under `mask`: largest relative, then absolute error."""
    import numpy as np

    candidates = np.flatnonzero(mask)
    if candidates.size == 0:
        return 0
    rel_c = rel[candidates]
    tied = candidates[rel_c == rel_c.max()]  # linear time: no sort of a million entries
    return int(tied[np.argmax(abs_err[tied])])
