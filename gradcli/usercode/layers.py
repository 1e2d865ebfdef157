"""Layer and loss classes: the user's backward against central differences.

Layer (seed note 002, CS231n style): `forward(x)` and `backward(dout)`
returning dx.  Parameters are float array attributes with a gradient
attribute of the same shape named `d<name>`, `grad_<name>` or `<name>_grad`
(or dict pairs `params[k]` / `grads[k]`).  The objective is
`sum(forward(x) * dout)` for a drawn `dout`, per batch row.

Loss: `forward(pred, target)` returning a number and `backward()` returning
dL/dpred.  A backward that returns the gradient with respect to the logits z
of a softmax before it (pred = softmax(z): `(pred - target)/B`, seed note
002's CrossEntropyLoss) is recognised by checking it against central
differences of L(softmax(z)), and passes with a note.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gradcli.i18n import M, Msg
from gradcli.usercode import arrays
from gradcli.usercode.arrays import Precision, Target
from gradcli.usercode.context import Context
from gradcli.usercode.results import ComponentResult, GradCheck, Skipped

GRAD_NAMES = ("d{}", "grad_{}", "{}_grad")


class Unusable(Exception):
    """The component cannot be checked at all (exit 2 for it): dropout, not an array..."""

    def __init__(self, what: Msg):
        super().__init__(str(what))
        self.what = what


# ---------------------------------------------------------------- helpers ---
def as_output(value: Any, what: str) -> np.ndarray:
    arr = arrays.as_gradient(value)
    if arr is None or arr.dtype.kind not in "fiu":
        raise Unusable(M("{what} returned {type}, not an array of numbers", what=what,
                         type=type(value).__name__))
    return arr


def output_dtype(value: Any) -> Any:
    return getattr(value, "dtype", np.dtype(np.float64))


def per_row(out: np.ndarray, dout: np.ndarray, batch: int | None) -> np.ndarray:
    """sum(out * dout) per batch row (the whole sum, 0-d, when there is no batch axis)."""
    prod = np.asarray(out, dtype=np.float64) * dout
    if batch is not None and prod.ndim >= 1 and prod.shape[0] == batch:
        return prod.reshape(batch, -1).sum(axis=1)
    return np.asarray(prod.sum())


def same_twice(first: Any, second: Any) -> bool:
    a, b = np.asarray(first), np.asarray(second)
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def nondeterministic(kind: Any) -> Msg:
    return M("{kind} gives different outputs for the same input (dropout or other "
             "randomness): finite differences cannot check it; fix the randomness (a seed "
             "or a test mode) to check it", kind=kind)


def float32_warning() -> Msg:
    return M("the code computes in float32 even from float64 inputs: checked with "
             "float32-sized steps and tolerances (rtol 1e-2)")


def run_target(ctx: Context, target: Target, evaluate: Callable[[], np.ndarray],
               prec: Precision, batch: int | None, salt: str) -> GradCheck:
    """One gradient checked; an exception inside is that check's failure, located."""
    try:
        warning = None
        if prec.eps == arrays.EPS64 and arrays.as_gradient(target.user) is not None \
                and arrays.rounds_to_float32(target, evaluate, ctx.rng(salt + "p")):
            prec = arrays.float32_precision(ctx.rtol, ctx.atol)
            shown = target.name[1:] if target.name[:1] == "d" else target.name
            warning = M("the code rounds {name} to float32 inside: checked with float32-sized "
                        "steps and tolerances (rtol 1e-2)", name=shown)
        check = arrays.check_target(target, evaluate, prec, ctx.rng(salt), batch)
        check.warning = check.warning or warning
        if not check.ok and prec.eps > arrays.EPS64 and check.bad and check.diagnosis is None:
            user = arrays.as_gradient(target.user)
            if user is not None and user.shape == target.array.shape:
                taylor = arrays.taylor_confirms(target, user, evaluate, ctx.rng(salt + "t"))
                if taylor is not None and taylor.ok:
                    check.ok = True
                    check.note = M("finite differences too noisy in float32; the Taylor test "
                                   "decides: the remainder shrinks like h^{order:.2f}",
                                   order=taylor.order)
        return check
    except Unusable as exc:
        return GradCheck(target.name, False, error=exc.what)
    except Exception as exc:  # noqa: BLE001 - the user's code failed inside this check
        return GradCheck(target.name, False, error=ctx.error(exc))


# ------------------------------------------------------------- parameters ---
@dataclass
class Param:
    label: str  # "W", "params['W1']"
    holder: Any  # the object or dict holding it
    key: str
    grad_holder: Any = None
    grad_keys: tuple[str, ...] = ()

    def get(self) -> Any:
        return self.holder[self.key] if isinstance(self.holder, dict) else getattr(
            self.holder, self.key)

    def set(self, value: Any) -> None:
        if isinstance(self.holder, dict):
            self.holder[self.key] = value
        else:
            setattr(self.holder, self.key, value)

    def grad(self) -> tuple[bool, Any]:
        """(found, value) of the gradient after backward()."""
        for k in self.grad_keys:
            if isinstance(self.grad_holder, dict):
                if k in self.grad_holder:
                    return True, self.grad_holder[k]
            elif hasattr(self.grad_holder, k):
                return True, getattr(self.grad_holder, k)
        return False, None


def find_params(obj: Any, known: set[str] | None = None) -> list[Param]:
    """Float array attributes (and params[k] dict entries); `known`: the attribute names
    present at construction (arrays that forward caches later are not parameters)."""
    attrs = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
    if known is not None:
        attrs = {k: v for k, v in attrs.items() if k in known}
    arrays_ = [k for k, v in attrs.items() if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    grad_like = {pattern.format(k) for k in arrays_ for pattern in GRAD_NAMES}
    out = []
    for k in arrays_:
        if k in grad_like:
            continue
        keys = tuple(p.format(k) for p in GRAD_NAMES)
        out.append(Param(k, obj, k, obj, keys))
    params, grads = attrs.get("params"), attrs.get("grads")
    if isinstance(params, dict):
        for k, v in params.items():
            if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                holder = grads if isinstance(grads, dict) else obj
                out.append(Param("params[{!r}]".format(k), params, k, holder, (k,)))
    return out


def to_float64(params: list[Param]) -> bool:
    """Cast every parameter to a float64 array (in place of the old); True if one was float32."""
    narrowed = False
    for p in params:
        value = p.get()
        if value.dtype != np.float64:
            narrowed = True
            p.set(np.array(value, dtype=np.float64))
        elif not value.flags.c_contiguous or not value.flags.writeable:
            p.set(np.ascontiguousarray(value).copy())
    return narrowed


# ------------------------------------------------------------------ layers ---
def check_layer(layer: Any, x: Any, ctx: Context, target: str,
                known: set[str] | None = None) -> ComponentResult:
    """Check dx and every parameter gradient of `layer` at input `x` (see module doc).

    `known`: attribute names present at construction; without it, arrays with no
    gradient attribute are passed over silently (they may be forward's caches)."""
    comp = ComponentResult(ctx.shown, target, "layer", seed=ctx.seed)
    try:
        _check_layer(layer, np.array(x, dtype=np.float64), ctx, comp, known)
    except Unusable as exc:
        comp.error = exc.what
    except Exception as exc:  # noqa: BLE001 - forward/backward raised at the drawn point
        comp.checks.append(GradCheck("forward/backward", False, error=ctx.error(exc)))
    return comp


def _check_layer(layer: Any, x: np.ndarray, ctx: Context, comp: ComponentResult,
                 known: set[str] | None) -> None:
    params = find_params(layer, known)
    if to_float64(params):
        comp.notes.append(M("float32 parameters were cast to float64 for the check"))
    first = layer.forward(x.copy())
    second = layer.forward(x.copy())
    if not same_twice(first, second):
        raise Unusable(nondeterministic("forward"))
    out = as_output(first, "forward")
    prec = ctx.precision()
    if output_dtype(first) == np.float32:
        prec = arrays.float32_precision(ctx.rtol, ctx.atol)
        comp.warnings.append(float32_warning())
    batch = x.shape[0] if x.ndim >= 1 else None
    dout = ctx.rng("dout").standard_normal(out.shape)
    comp.shapes = {"x": list(x.shape), "out": list(out.shape)}
    dx = layer.backward(dout.copy())
    grads = {}
    for p in params:
        found, value = p.grad()
        if not found:
            if known is None:
                continue
            comp.skipped.append(Skipped(p.label, M(
                "an array attribute without a gradient attribute ({names}): not checked",
                names=", ".join(p.grad_keys))))
            continue
        grads[p.label] = None if value is None else np.array(value, copy=True)
    xbuf = x.copy()

    def evaluate() -> np.ndarray:
        return per_row(layer.forward(xbuf.copy()), dout, batch)

    comp.checks.append(run_target(ctx, Target("dx", xbuf, dx, rowwise=True), evaluate, prec,
                                  batch, "dx"))
    for p in params:
        if p.label in grads:
            name = p.label if p.label.startswith("params[") else "d" + p.label
            comp.checks.append(run_target(ctx, Target(name, p.get(), grads[p.label]),
                                          evaluate, prec, batch, name))


def layer_inputs(layer: Any, given: tuple[int, ...] | None) -> list[tuple[int, ...]]:
    """Input shapes to try: the given one, else from the parameters' shapes, else defaults."""
    if given is not None:
        return [given]
    shapes: list[tuple[int, ...]] = []
    for p in find_params(layer):
        s = p.get().shape
        if len(s) == 2:
            shapes += [(4, s[0]), (4, s[1])]
        elif len(s) == 1:
            shapes.append((4, s[0]))
    shapes += [(4, 3), (4, 5), (2, 3, 4, 4)]
    return list(dict.fromkeys(shapes))


def draw(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(shape)


def infer_input(layer: Any, shapes: list[tuple[int, ...]], ctx: Context) -> np.ndarray | None:
    """The first drawn input on which forward runs and gives finite numbers."""
    rng = ctx.rng("x")
    for shape in shapes:
        x = draw(shape, rng)
        try:
            out = np.asarray(layer.forward(x.copy()))
        except Exception:  # noqa: BLE001 - a wrong guess of the shape: try the next
            continue
        if out.dtype.kind in "fiu" and out.size and np.all(np.isfinite(out)):
            return x
    return None


# ------------------------------------------------------------------ losses ---
def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _targets(shape: tuple[int, ...], rng: np.random.Generator) -> list[Any]:
    if len(shape) != 2:
        return [rng.standard_normal(shape)]
    labels = rng.integers(0, shape[1], size=shape[0])
    onehot = np.eye(shape[1])[labels]
    return [onehot, labels]


def check_loss(loss: Any, shape: tuple[int, ...], ctx: Context, target: str) -> ComponentResult:
    comp = ComponentResult(ctx.shown, target, "loss", seed=ctx.seed)
    try:
        _check_loss(loss, shape, ctx, comp)
    except Unusable as exc:
        comp.error = exc.what
    except Exception as exc:  # noqa: BLE001
        comp.checks.append(GradCheck("forward/backward", False, error=ctx.error(exc)))
    return comp


def _scalar(value: Any) -> float:
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "fiu":
        raise Unusable(M("forward(pred, target) returned {type} of shape {shape}, not a "
                         "number", type=type(value).__name__, shape=tuple(arr.shape)))
    return float(arr.reshape(()))


def _check_loss(loss: Any, shape: tuple[int, ...], ctx: Context, comp: ComponentResult) -> None:
    rng = ctx.rng("pred")
    logits = rng.standard_normal(shape)
    pred = softmax(logits) if len(shape) == 2 else logits
    target, first, last_exc = None, None, None
    for candidate in _targets(shape, rng):
        try:
            first = _scalar(loss.forward(pred.copy(), candidate))
        except Unusable:
            raise
        except Exception as exc:  # noqa: BLE001 - try the other target form
            last_exc = exc
            continue
        target = candidate
        break
    if target is None:
        assert last_exc is not None
        raise last_exc
    if not same_twice(first, _scalar(loss.forward(pred.copy(), target))):
        raise Unusable(nondeterministic("forward"))
    comp.shapes = {"pred": list(pred.shape), "target": list(np.shape(target))}
    loss.forward(pred.copy(), target)
    grad = loss.backward()
    prec = ctx.precision()
    if output_dtype(grad) == np.float32:
        prec = arrays.float32_precision(ctx.rtol, ctx.atol)
        comp.warnings.append(float32_warning())
    pbuf = pred.copy()
    batch = shape[0] if shape else None

    def evaluate() -> np.ndarray:
        return np.asarray(_scalar(loss.forward(pbuf.copy(), target)))

    check = run_target(ctx, Target("dpred", pbuf, grad), evaluate, prec, batch, "dpred")
    if not check.ok and check.error is None and len(shape) == 2:
        zbuf = np.log(pred)

        def evaluate_logits() -> np.ndarray:
            return np.asarray(_scalar(loss.forward(softmax(zbuf), target)))

        as_logits = run_target(ctx, Target("dpred", zbuf, grad), evaluate_logits, prec,
                               batch, "dz")
        if as_logits.ok:
            as_logits.note = LOGITS_NOTE
            check = as_logits
        elif check.diagnosis is None and as_logits.diagnosis is not None:
            as_logits.note = LOGITS_WRONG_NOTE
            check = as_logits
    comp.checks.append(check)


LOGITS_NOTE = M("backward() returns the gradient with respect to the logits z of a softmax "
                "before the loss (pred = softmax(z)), such as (pred - target)/B: right for "
                "softmax and cross-entropy differentiated as one step (skip the softmax's "
                "own backward); checked against central differences of L(softmax(z))")
LOGITS_WRONG_NOTE = M("diagnosed as the gradient with respect to the logits z of a softmax "
                      "before the loss (pred = softmax(z)), the form seed note 002's "
                      "CrossEntropyLoss returns; as dL/dpred it is wrong too")
