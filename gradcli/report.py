"""Plain dataclasses of results: what the renderers print and `--json` serialises.

Tensors of more than JSON_FULL_MAX entries are written in JSON as a summary,
`{"shape", "size", "norm", "min", "max", "worst": [[index, value], ...]}`
(`summary`), unless `json_tensors(full=True)` is in effect (`--json-full`):
a 10-million-entry gradient as nested lists is ~200 MB of text and several
GB of Python objects on the way.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field
from math import isfinite as _isfinite
from typing import Any, Iterator

from gradcli.i18n import Msg, english

#: Tensors with more entries than this are summarised in JSON (unless --json-full).
JSON_FULL_MAX = 10_000
#: Entries listed under "worst" in a summary.
WORST_SHOWN = 5
_FULL_TENSORS = contextvars.ContextVar("gradcli_json_full_tensors", default=False)


@contextlib.contextmanager
def json_tensors(full: bool) -> Iterator[None]:
    """Inside the block, `to_json` writes every tensor in full (`--json-full`) or
    summarises the big ones (the default)."""
    token = _FULL_TENSORS.set(full)
    try:
        yield
    finally:
        _FULL_TENSORS.reset(token)


def summarised(value: Any) -> bool:
    """Is `value` a tensor that JSON writes as a summary?"""
    size = getattr(value, "size", None)
    return (getattr(value, "dtype", None) is not None and isinstance(size, int)
            and size > JSON_FULL_MAX and not _FULL_TENSORS.get())


def summary(a: Any, worst: Any = None) -> dict[str, Any]:
    """A big tensor in a few numbers: shape, size, norm, min and max over its finite
    entries (`computed` counts them when some are NaN: not computed), and "worst":
    [index, value] at the flat indices `worst` (default: the WORST_SHOWN entries of
    largest magnitude)."""
    import numpy as np

    flat = np.asarray(a, dtype=float).reshape(-1)
    finite = np.isfinite(flat)
    count = int(finite.sum())
    kept = flat if count == flat.size else flat[finite]
    out: dict[str, Any] = {"shape": list(a.shape), "size": int(flat.size),
                           "norm": float(np.linalg.norm(kept)) if count else None,
                           "min": float(kept.min()) if count else None,
                           "max": float(kept.max()) if count else None}
    if count != flat.size:
        out["computed"] = count
    if worst is None:
        worst = largest(np.where(finite, np.abs(flat), -1.0), WORST_SHOWN, count)
    out["worst"] = [[[int(i) for i in np.unravel_index(int(k), a.shape)],
                     _plain(float(flat[k]))] for k in worst]
    return out


def largest(score: Any, k: int, available: int | None = None) -> list[int]:
    """Flat indices of the `k` largest scores, largest first (linear time)."""
    import numpy as np

    k = min(k, score.size if available is None else available)
    if k <= 0:
        return []
    top = np.argpartition(score, score.size - k)[score.size - k:]
    return [int(i) for i in top[np.argsort(-score[top], kind="stable")]]


@dataclass
class DerivativeRow:
    """One variable's derivative, and its value three ways when at a point."""

    wrt: str
    derivative: str | None  # simplified symbolic derivative (None: skipped, time budget)
    simplified: bool  # False: simplification ran out of time, the form is unsimplified
    latex: str = ""
    value: float | None = None  # symbolic, evaluated at the point
    reverse: float | None = None  # the reverse-mode engine
    numeric: float | None = None  # central differences (Richardson)
    numeric_error: float | None = None  # estimated error of `numeric`
    rel_error: float | None = None  # worst pairwise relative error of the three
    band: str | None = None  # good / fine / suspicious / wrong / kink
    ok: bool = True
    kink: bool = False
    note: Any = None  # a message (i18n.Msg) or None
    raw: Any = field(default=None, repr=False)  # the unsimplified SymPy derivative
    verdict: Any = field(default=None, repr=False)  # verdict.Verdict, when at a point
    #: the derivative as a product beside the expanded form (18*x + 6 = 6*(3*x + 1))
    factored: str | None = None
    factored_latex: str | None = None
    expr: Any = field(default=None, repr=False)  # the shown derivative (SymPy), for printers
    factored_expr: Any = field(default=None, repr=False)
    evaluated: bool = False  # --at bound every variable: the values were asked for
    undefined: bool = False  # the derivative has no value at the point (the function has)
    answer: "AnswerResult | None" = None  # the student's --answer for this variable


@dataclass
class AnswerResult:
    """A student's derivative (`derive --answer`) checked against the true one."""

    given: str  # the answer as written (VAR= and a dy/dx = prefix removed)
    equivalent: bool
    method: str  # "symbolic" (the difference simplified to 0) or "numeric" (points)
    diagnosis: Any = None  # Msg, where one explains the answer at every point
    #: {"at": {var: value}, "expected": float, "given": float} for a wrong answer
    counterexample: dict[str, Any] | None = None
    seed: int = 0  # of the random points
    points: int = 0  # random points compared (0: decided symbolically)

    def to_json(self) -> dict[str, Any]:
        return {"given": self.given, "equivalent": self.equivalent, "method": self.method,
                "diagnosis": english(self.diagnosis), "counterexample": self.counterexample,
                "seed": self.seed, "points": self.points}


@dataclass
class DeriveReport:
    expression: str
    variables: list[str]
    at: dict[str, float]
    gradient: list[DerivativeRow]
    #: per variable: a gradcli.steps.Explanation (rule tree and u-substitution)
    steps: list[Any] = field(default_factory=list)
    ok: bool = True
    notes: list[Any] = field(default_factory=list)  # messages (i18n.Msg)
    #: variable -> reading position: sums print in the order the user wrote
    order: dict[str, int] = field(default_factory=dict, repr=False)
    #: the expression in SymPy (None: symbolic work skipped), for typesetting
    function: Any = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        rows = []
        for row in self.gradient:
            item: dict[str, Any] = {"wrt": row.wrt, "derivative": row.derivative,
                                    "factored": row.factored, "simplified": row.simplified}
            if row.evaluated:
                item.update(value=row.value, reverse=row.reverse, numeric=row.numeric,
                            numeric_error=row.numeric_error, rel_error=row.rel_error,
                            band=row.band)
            item.update(ok=row.ok, kink=row.kink, note=english(row.note))
            if row.answer is not None:
                item["answer"] = row.answer.to_json()
            rows.append(item)
        return {"expression": self.expression, "at": self.at, "gradient": rows,
                "steps": [_explanation_json(e) for e in self.steps], "ok": self.ok,
                "notes": [english(n) for n in self.notes]}


def _explanation_json(explanation: Any) -> dict[str, Any]:
    from gradcli import steps

    order, sub = explanation.order, explanation.substitution
    tree = explanation.tree
    return {"wrt": explanation.wrt,
            "tree": None if tree is None else steps.to_json(tree, order),
            "substitution": steps.substitution_view(sub, order),
            "substitution_values": None if sub is None else sub.values}


# ------------------------------------------------------------------- check ---
def _plain(value: Any) -> Any:
    """JSON-ready: arrays -> nested lists, NaN and infinity -> None, messages -> English."""
    kind = type(value)
    if kind is float:  # the common case first
        return value if _isfinite(value) else None
    if value is None or kind is str or kind is bool or kind is int:
        return value
    if isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if _isfinite(value) else None
    if isinstance(value, Msg):
        return english(value)  # JSON is English in every language
    if getattr(value, "dtype", None) is not None and value.dtype.kind in "fb":
        if summarised(value):
            return summary(value)
        return _plain_array(value)
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return _plain(tolist())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _plain_array(a: Any) -> Any:
    """A float or bool array as nested lists, NaN and infinity as None (vectorised: a
    million entries must not cost a Python call each)."""
    import numpy as np

    if a.dtype.kind == "b":
        return a.tolist()
    finite = np.isfinite(a)
    if finite.all():
        return a.tolist()
    shown = a.astype(object)
    shown[~finite] = None
    return shown.tolist()


@dataclass
class LedgerFactor:
    """One edge of a chain-rule path: the local derivative ∂consumer/∂producer."""

    edge: str  # "∂yhat/∂z_out"
    expr: str | None  # the local derivative in the file's names, where SymPy gave it
    value: float
    consumer: str = ""
    producer: str = ""
    #: the SymPy form of `expr` and the term order it prints in (for typesetting)
    sym: Any = field(default=None, repr=False, compare=False)
    order: Any = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"edge": self.edge, "expr": self.expr, "value": _plain(self.value),
                "consumer": self.consumer, "producer": self.producer}


@dataclass
class LedgerPath:
    """One path back from the loss to a parameter, and the product of its factors."""

    path: list[str]
    factors: list[LedgerFactor]
    product: float

    def to_json(self) -> dict[str, Any]:
        return {"path": list(self.path), "factors": [f.to_json() for f in self.factors],
                "product": _plain(self.product)}


@dataclass
class RecurrenceTerm:
    """dL/dconsumer · ∂consumer/∂node, one consumer of a node."""

    consumer: str
    upstream: Any  # dL/dconsumer
    local: Any  # ∂consumer/∂node (None for tensors: a Jacobian)
    expr: str | None
    sym: Any = field(default=None, repr=False, compare=False)  # SymPy form of `expr`
    order: Any = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"consumer": self.consumer, "upstream": _plain(self.upstream),
                "local": _plain(self.local), "expr": self.expr}


@dataclass
class RecurrenceRow:
    """dL/dnode = Σ over consumers of dL/dconsumer · ∂consumer/∂node."""

    node: str
    value: Any
    terms: list[RecurrenceTerm]

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "value": _plain(self.value),
                "terms": [t.to_json() for t in self.terms]}


@dataclass
class ParamResult:
    """One parameter's gradient three ways, and the verdict on it."""

    name: str
    shape: list[int]
    reverse: Any
    numeric: Any  # NaN entries: not computed
    symbolic: Any  # None when skipped
    verdict: Any  # verdict.Verdict
    numeric_error: Any = 0.0
    chain: list[LedgerPath] = field(default_factory=list)  # ledger paths (scalar graphs)
    paths_total: int = 0  # number of paths from the loss (ledger may cap the list)
    #: True where a relu/abs kink was crossed (a bool, or a mask like the gradient)
    kinks: Any = field(default=False, repr=False)
    user: UserGradient | None = None  # `check --backward`: the user's gradient, compared

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    @property
    def band(self) -> str:
        return self.verdict.band

    @property
    def rel_error(self) -> float:
        return self.verdict.rel_error

    @property
    def attribution(self) -> Any:
        return self.verdict.attribution

    @property
    def note(self) -> Any:
        return self.verdict.note

    @property
    def kink(self) -> bool:
        return self.verdict.kinks > 0

    def to_json(self) -> dict[str, Any]:
        v = self.verdict
        if summarised(self.reverse):  # the entries where the methods disagree most
            worst = _disagreement(self.reverse, self.numeric)
            shown = {k: None if a is None else summary(a, worst) for k, a in
                     (("reverse", self.reverse), ("numeric", self.numeric),
                      ("symbolic", self.symbolic))}
        else:
            shown = {k: _plain(a) for k, a in (("reverse", self.reverse),
                                                ("numeric", self.numeric),
                                                ("symbolic", self.symbolic))}
        return {"name": self.name, "shape": self.shape, **shown,
                "rel_error": _plain(v.rel_error), "ok": v.ok, "band": v.band,
                "cause": v.cause, "attribution": _plain(v.attribution), "note": _plain(v.note),
                "kink": self.kink, "worst_index": _plain(v.worst_index),
                "chain": [p.to_json() for p in self.chain], "paths": self.paths_total,
                **({"user": self.user.to_json()} if self.user is not None else {})}


@dataclass
class UserGradient:
    """`check --backward`: one gradient the user's code returned, against the reference."""

    value: Any  # what the user's function returned (None: missing, or not a number)
    ok: bool
    bad: int | None = None  # entries beyond tolerance (None: nothing to compare)
    count: int = 1
    worst_index: tuple[int, ...] | None = None
    expected: float | None = None  # the reference at the worst entry
    actual: float | None = None  # the user's value there
    diagnosis: Any = None  # Msg
    error: Any = None  # Msg: "mybackprop.py:12: ValueError: ..." (the call raised)
    note: Any = None  # Msg: e.g. right except at kinks, where either subgradient passes

    def to_json(self) -> dict[str, Any]:
        out = {"value": _plain(self.value), "ok": self.ok, "bad": self.bad,
               "count": self.count, "worst_index": _plain(self.worst_index),
               "expected": _plain(self.expected), "actual": _plain(self.actual),
               "diagnosis": _plain(self.diagnosis)}
        for key in ("error", "note"):
            if getattr(self, key) is not None:
                out[key] = _plain(getattr(self, key))
        return out


@dataclass
class BackwardResult:
    """`check --backward FILE.py:FUNC`: what the call gave beyond the per-parameter items."""

    target: str  # FILE.py:FUNC as given
    ok: bool = True
    error: Any = None  # Msg: the call raised or returned no dict (every item failed)
    extra: list[Any] = field(default_factory=list)  # (key, Msg): keys that are no parameter
    printed_lines: int = 0  # lines the user's code printed (captured, not shown)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "ok": self.ok, "error": _plain(self.error),
                "extra": [{"name": name, "ok": False, "diagnosis": _plain(why)}
                          for name, why in self.extra],
                "printed_lines": self.printed_lines}


def _disagreement(reverse: Any, numeric: Any) -> list[int]:
    """Flat indices where reverse and numeric differ most (computed entries only);
    the largest gradients where nothing was computed numerically."""
    import numpy as np

    r = np.asarray(reverse, dtype=float).reshape(-1)
    n = np.asarray(numeric, dtype=float).reshape(-1) if numeric is not None else None
    if n is None or n.shape != r.shape or not np.isfinite(n).any():
        return largest(np.where(np.isfinite(r), np.abs(r), -1.0), WORST_SHOWN)
    ok = np.isfinite(n) & np.isfinite(r)
    with np.errstate(invalid="ignore"):
        gap = np.where(ok, np.abs(r - n), -1.0)
    return largest(gap, WORST_SHOWN, int(ok.sum()))


@dataclass
class ExpectResult:
    """One graded hand answer."""

    name: str  # "loss", a node name, "grad.<param>"
    expected: Any
    actual: Any
    ok: bool
    where: str  # the answer's place in the file
    diagnosis: Any = None  # Msg: what went wrong, where one fits
    ledger: str | None = None  # the chain rule written out, for a wrong gradient
    formula: str | None = None  # the answer as a formula string (`expected` is its value)

    def to_json(self) -> dict[str, Any]:
        out = {"name": self.name, "expected": _plain(self.expected),
               "actual": _plain(self.actual), "ok": self.ok,
               "diagnosis": _plain(self.diagnosis), "ledger": self.ledger}
        if self.formula is not None:  # the string as written, and what it evaluates to
            out.update(expected=self.formula, expected_value=_plain(self.expected))
        return out


@dataclass
class UpdateRow:
    """One parameter before and after a gradient-descent step."""

    name: str
    old: Any
    grad: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "old": _plain(self.old), "grad": _plain(self.grad),
                "new": _plain(self.new)}


@dataclass
class LayerRow:
    """One dense layer of the per-layer ledger: delta_k = dL/dz_k and its products."""

    layer: int
    how: str  # how delta_k is obtained, in the file's names
    delta: Any
    dW: Any
    db: Any
    dW_shape: list[int]
    dW_how: str
    db_how: str
    #: the textbook shortcut (e.g. (yhat - y)/B) checked against the engine
    formula_max_diff: float | None = None
    da_prev: Any = None  # dL/da_{k-1}: the error signal passed down (layers above the first)
    da_how: str | None = None  # its matrix formula in the file's layout
    formula_ok: bool = True  # the shortcut matched (False makes the check fail)

    @property
    def delta_shape(self) -> list[int]:
        return list(getattr(self.delta, "shape", ()))

    def to_json(self) -> dict[str, Any]:
        out = {"layer": self.layer, "how": self.how, "delta": _plain(self.delta),
               "delta_shape": self.delta_shape, "dW": _plain(self.dW), "db": _plain(self.db),
               "dW_shape": self.dW_shape, "dW_how": self.dW_how, "db_how": self.db_how}
        if self.formula_max_diff is not None:
            out["formula_max_diff"] = self.formula_max_diff
            out["formula_ok"] = self.formula_ok
        if self.da_how is not None:
            out.update(da_prev=_plain(self.da_prev), da_how=self.da_how)
        return out


@dataclass
class FlowRow:
    """‖dL/da_k‖ of one layer: how the gradient flows back through the net."""

    layer: int
    norm: float

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "norm": _plain(self.norm)}


@dataclass
class CheckReport:
    """Everything `gradcli check` found for one file."""

    file: str
    form: str  # "graph" or "layers"
    loss: float
    loss_name: str
    nodes: dict[str, Any]  # named values in order (inputs, params, nodes)
    params: list[ParamResult] = field(default_factory=list)
    ok: bool = True
    expect: list[ExpectResult] = field(default_factory=list)
    symbolic_note: Any = None  # Msg: why symbolic was skipped
    recurrence: list[RecurrenceRow] = field(default_factory=list)
    ledger_root: str | None = None  # graph form: the loss's name in the ledger
    update: list[UpdateRow] = field(default_factory=list)
    lr: float | None = None
    loss_after: float | None = None
    notes: list[Any] = field(default_factory=list)  # Msg
    mode: str = "full"  # numeric: "full", "sampled" (graph form) or "fast" (layer form)
    layers: list[LayerRow] = field(default_factory=list)  # layer form, top layer first
    gradient_flow: list[FlowRow] = field(default_factory=list)
    flow_warnings: list[Any] = field(default_factory=list)  # Msg: vanishing / exploding
    timings: dict[str, float] = field(default_factory=dict)
    expressions: dict[str, str] = field(default_factory=dict)  # name -> text, "__loss__"
    backward: BackwardResult | None = None  # `check --backward`
    weight_layout: str | None = None  # layer form: "out_in" or "in_out"

    @property
    def flow_lines(self) -> list[str]:
        """‖dL/da_k‖ = ..., then the warnings (as printed)."""
        from gradcli.i18n import text

        return [f"‖dL/da_{f.layer}‖ = {f.norm:.4g}" for f in self.gradient_flow] + \
            [text(w) for w in self.flow_warnings]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file, "ok": self.ok, "form": self.form, "loss": _plain(self.loss),
            "nodes": _plain(self.nodes), "params": [p.to_json() for p in self.params],
            "expect": [e.to_json() for e in self.expect],
            "symbolic": _plain(self.symbolic_note),
            "recurrence": [r.to_json() for r in self.recurrence],
            "notes": [_plain(n) for n in self.notes], "mode": self.mode}
        if self.backward is not None:
            out["backward"] = self.backward.to_json()
        if self.update:
            out.update(lr=self.lr, update=[u.to_json() for u in self.update],
                       loss_after=_plain(self.loss_after))
        if self.form == "graph":
            out["ledger_root"] = self.ledger_root
        else:
            out.update(weight_layout=self.weight_layout,
                       layers=[r.to_json() for r in self.layers],
                       gradient_flow=[f.to_json() for f in self.gradient_flow],
                       flow_lines=[f"‖dL/da_{f.layer}‖ = {f.norm:.4g}"
                                   for f in self.gradient_flow]
                       + [_plain(w) for w in self.flow_warnings])
        return out
