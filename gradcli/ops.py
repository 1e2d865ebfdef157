"""The table of primitive operations, and nothing else.

Every operation gradcli knows is one `Op` row here: its forward (on Python
floats through `math`, on numpy arrays through numpy), its vector-Jacobian
product (one function per argument), its SymPy counterpart, and how it is
explained (rule name and textbook identity).  The parser, the reverse-mode
engine, the SymPy conversion and the step explanations all read this table,
so they cannot drift apart; adding an operation is adding one row.

Conventions
- `forward(*args)` takes floats or arrays and returns a float or an array.
- `vjp[i](g, out, *args)` returns the gradient for argument i in the
  *broadcast* shape of the output; the engine sums it back to the argument's
  own shape (one place for broadcasting, see `engine.unbroadcast`).
- `sympy(S, *args)` builds the SymPy counterpart; `S` is the namespace from
  `symbolic.sympy_namespace()` (SymPy plus gradcli's sigmoid/relu/softplus),
  so this module never imports SymPy.
- `piece(*args)` names, per element, the smooth piece of a piecewise op
  (relu, abs and the steps): a sign-like array, 0 exactly at the kink.
  At a kink (`piece == 0`) the op is not differentiable and the engine uses
  the subgradient 0; a finite difference whose step changes the piece has
  crossed a kink (`numeric.KinkWatch`).  `kink(*args)`, derived from it, says
  whether any element is at a kink.
- numpy is imported lazily: a scalar-only run (`gradcli derive`) never
  needs it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

Value = Any  # a float or a numpy.ndarray


def _np():
    import numpy

    return numpy


def _is_scalar(a: Value) -> bool:
    return isinstance(a, float)


# ---------------------------------------------------------------- helpers ---
def _sigmoid(a: Value) -> Value:
    if _is_scalar(a):
        if a >= 0:
            return 1.0 / (1.0 + math.exp(-a))
        ea = math.exp(a)
        return ea / (1.0 + ea)
    np = _np()
    # Stable for both signs: exp of a non-positive number never overflows.
    ea = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + ea), ea / (1.0 + ea))


def _softplus(a: Value) -> Value:
    if _is_scalar(a):
        return max(a, 0.0) + math.log1p(math.exp(-abs(a)))
    np = _np()
    return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))


def _relu(a: Value) -> Value:
    if _is_scalar(a):
        return a if a > 0 else 0.0
    return _np().maximum(a, 0.0)


def _step(a: Value) -> Value:
    """Heaviside step with value 0 at 0: the relu subgradient we use."""
    if _is_scalar(a):
        return 1.0 if a > 0 else 0.0
    return (a > 0).astype(float)


def _sign(a: Value) -> Value:
    if _is_scalar(a):
        return (a > 0) - (a < 0) + 0.0
    return _np().sign(a)


def _softmax(a: Value) -> Value:
    if _is_scalar(a):
        return 1.0
    np = _np()
    shifted = a - a.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(a: Value) -> Value:
    if _is_scalar(a):
        return 0.0
    np = _np()
    m = a.max(axis=-1, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(axis=-1, keepdims=True))


def _sum_all(a: Value) -> Value:
    return a if _is_scalar(a) else float(a.sum())


def _mean_all(a: Value) -> Value:
    return a if _is_scalar(a) else float(a.mean())


def _like(g: Value, a: Value) -> Value:
    """g (a scalar) spread over the shape of a."""
    if _is_scalar(a):
        return g
    return _np().full(a.shape, g)


def _transpose(a: Value) -> Value:
    return a if _is_scalar(a) else _np().swapaxes(a, -1, -2) if a.ndim >= 2 else a


def _matmul(a: Value, b: Value) -> Value:
    out = _np().matmul(a, b)
    return float(out) if _np().ndim(out) == 0 else out


def _matmul_vjp_a(g, out, a, b):
    np = _np()
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if a.ndim == 1:  # (k,) @ (k, n) -> (n,)
        return b @ g
    if b.ndim == 1:  # (m, k) @ (k,) -> (m,)
        return np.multiply.outer(g, b)
    return g @ np.swapaxes(b, -1, -2)


def _matmul_vjp_b(g, out, a, b):
    np = _np()
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:
        return np.multiply.outer(a, g)
    return np.swapaxes(a, -1, -2) @ g  # (m, k) @ (k,) and (m, k) @ (k, n) alike


def _pow(a: Value, b: Value) -> Value:
    if _is_scalar(a) and _is_scalar(b):
        return math.pow(a, b)  # raises ValueError/OverflowError, never complex
    return _np().power(a, b)


def _log(a: Value) -> Value:
    if _is_scalar(a):
        return math.log(a)  # ValueError at a <= 0, reported by the engine
    return _np().log(a)


def _elementwise(scalar_fn: Callable, numpy_name: str) -> Callable:
    def forward(a: Value) -> Value:
        if _is_scalar(a):
            return scalar_fn(a)
        return getattr(_np(), numpy_name)(a)

    return forward


def _sign_piece(a: Value) -> Value:
    """The smooth piece of relu, abs and the steps: -1, 0 (the kink) or +1 per element."""
    return _sign(a)


def _elementwise_sympy(fn_name: str) -> Callable:
    """SymPy counterpart of an elementwise function, mapped over object arrays."""

    def build(S, a):
        fn = getattr(S, fn_name)
        return S.elementwise(fn, a)

    return build


# ------------------------------------------------------------------ table ---
@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    forward: Callable[..., Value]
    vjp: tuple[Callable[..., Value], ...]
    sympy: Callable[..., Any]
    rule: str  # the differentiation rule a student would name
    identity: str  # the textbook identity, in the expression language
    symbol: str | None = None  # infix symbol (+ - * / ** @) or None for a call
    #: per element, which smooth piece the arguments are on (0 at the kink);
    #: None for ops that are smooth everywhere they are defined
    piece: Callable[..., Value] | None = None
    elementwise: bool = True  # broadcasting elementwise (vs a tensor op)
    aliases: tuple[str, ...] = field(default=())
    #: finite arguments always give a finite result (bounded or structural ops),
    #: so the engine need not scan the output for NaN and infinity
    keeps_finite: bool = False

    @property
    def kink(self) -> Callable[..., bool] | None:
        """`kink(*args)`: is any element exactly at a kink? (None: the op has none)"""
        if self.piece is None:
            return None
        return self.at_kink

    def at_kink(self, *args: Value) -> bool:
        p = self.piece(*args)
        if _is_scalar(p):
            return p == 0.0
        return bool((p == 0).any())


OPS: dict[str, Op] = {}


def _row(op: Op) -> None:
    OPS[op.name] = op


_row(Op("add", 2, lambda a, b: a + b,
        (lambda g, o, a, b: g, lambda g, o, a, b: g),
        lambda S, a, b: a + b,
        "sum", "d(u + v) = du + dv", symbol="+"))
_row(Op("sub", 2, lambda a, b: a - b,
        (lambda g, o, a, b: g, lambda g, o, a, b: -g),
        lambda S, a, b: a - b,
        "difference", "d(u - v) = du - dv", symbol="-"))
_row(Op("mul", 2, lambda a, b: a * b,
        (lambda g, o, a, b: g * b, lambda g, o, a, b: g * a),
        lambda S, a, b: a * b,
        "product", "d(u*v) = v*du + u*dv", symbol="*"))
_row(Op("div", 2, lambda a, b: a / b,
        (lambda g, o, a, b: g / b, lambda g, o, a, b: -g * a / (b * b)),
        lambda S, a, b: a / b,
        "quotient", "d(u/v) = (v*du - u*dv)/v**2", symbol="/"))
_row(Op("neg", 1, lambda a: -a,
        (lambda g, o, a: -g,),
        lambda S, a: -a,
        "constant multiple", "d(-u) = -du", symbol="-",
        keeps_finite=True))
def _pow_vjp_base(g, o, a, b):
    """d(a**b)/da = b*a**(b - 1), which is 0 when b == 0 (even at a == 0)."""
    if _is_scalar(a) and _is_scalar(b):
        return 0.0 * g if b == 0.0 else g * b * _pow(a, b - 1.0)
    np = _np()
    return g * np.where(b == 0, 0.0, b * np.power(a, b - 1.0))


_row(Op("pow", 2, _pow,
        (_pow_vjp_base,
         lambda g, o, a, b: g * o * _log(a)),
        lambda S, a, b: S.power(a, b),
        "power", "d(u**n) = n*u**(n - 1)*du", symbol="**"))
_row(Op("exp", 1, _elementwise(math.exp, "exp"),
        (lambda g, o, a: g * o,),
        _elementwise_sympy("exp"),
        "exp", "d exp(u) = exp(u)*du"))
_row(Op("log", 1, _log,
        (lambda g, o, a: g / a,),
        _elementwise_sympy("log"),
        "log", "d log(u) = du/u", aliases=("ln",)))
_row(Op("sqrt", 1, _elementwise(math.sqrt, "sqrt"),
        (lambda g, o, a: g / (2.0 * o),),
        _elementwise_sympy("sqrt"),
        "sqrt", "d sqrt(u) = du/(2*sqrt(u))"))
_row(Op("sin", 1, _elementwise(math.sin, "sin"),
        (lambda g, o, a: g * _elementwise(math.cos, "cos")(a),),
        _elementwise_sympy("sin"),
        "trig", "d sin(u) = cos(u)*du",
        keeps_finite=True))
_row(Op("cos", 1, _elementwise(math.cos, "cos"),
        (lambda g, o, a: -g * _elementwise(math.sin, "sin")(a),),
        _elementwise_sympy("cos"),
        "trig", "d cos(u) = -sin(u)*du",
        keeps_finite=True))
_row(Op("tan", 1, _elementwise(math.tan, "tan"),
        (lambda g, o, a: g * (1.0 + o * o),),
        _elementwise_sympy("tan"),
        "trig", "d tan(u) = (1 + tan(u)**2)*du"))
_row(Op("tanh", 1, _elementwise(math.tanh, "tanh"),
        (lambda g, o, a: g * (1.0 - o * o),),
        _elementwise_sympy("tanh"),
        "tanh", "d tanh(u) = (1 - tanh(u)**2)*du",
        keeps_finite=True))
_row(Op("sigmoid", 1, _sigmoid,
        (lambda g, o, a: g * o * (1.0 - o),),
        _elementwise_sympy("sigmoid"),
        "sigmoid", "d sigmoid(u) = sigmoid(u)*(1 - sigmoid(u))*du",
        keeps_finite=True))
_row(Op("relu", 1, _relu,
        (lambda g, o, a: g * _step(a),),
        _elementwise_sympy("relu"),
        "relu", "d relu(u) = Heaviside(u)*du  (0 at u = 0)",
        piece=_sign_piece,
        keeps_finite=True))
_row(Op("softplus", 1, _softplus,
        (lambda g, o, a: g * _sigmoid(a),),
        _elementwise_sympy("softplus"),
        "softplus", "d softplus(u) = sigmoid(u)*du"))
_row(Op("abs", 1, _elementwise(abs, "abs"),
        (lambda g, o, a: g * _sign(a),),
        _elementwise_sympy("Abs"),
        "abs", "d abs(u) = sign(u)*du  (0 at u = 0)",
        piece=_sign_piece,
        keeps_finite=True))
# Step functions appear in derivatives of relu and abs, so the language can
# read back every derivative it prints.  Their derivative is 0 (almost
# everywhere); at 0 they are kinks.
_row(Op("heaviside", 1, _step,
        (lambda g, o, a: g * 0.0 * a,),
        _elementwise_sympy("Heaviside"),
        "step", "d Heaviside(u) = 0  (undefined at u = 0)",
        piece=_sign_piece, aliases=("Heaviside",),
        keeps_finite=True))
_row(Op("sign", 1, _sign,
        (lambda g, o, a: g * 0.0 * a,),
        _elementwise_sympy("sign"),
        "step", "d sign(u) = 0  (undefined at u = 0)",
        piece=_sign_piece,
        keeps_finite=True))

# Tensor operations.
_row(Op("matmul", 2, _matmul,
        (_matmul_vjp_a, _matmul_vjp_b),
        lambda S, a, b: S.matmul(a, b),
        "matrix product", "d(A @ B) = dA @ B + A @ dB", symbol="@",
        elementwise=False))
_row(Op("sum", 1, _sum_all,
        (lambda g, o, a: _like(g, a),),
        lambda S, a: S.total(a),
        "sum", "d sum(u) = sum(du)", elementwise=False))
_row(Op("mean", 1, _mean_all,
        (lambda g, o, a: _like(g / (1 if _is_scalar(a) else a.size), a),),
        lambda S, a: S.mean(a),
        "constant multiple", "d mean(u) = sum(du)/n", elementwise=False))
_row(Op("transpose", 1, _transpose,
        (lambda g, o, a: _transpose(g),),
        lambda S, a: S.transpose(a),
        "transpose", "d transpose(A) = transpose(dA)", elementwise=False,
        keeps_finite=True))
_row(Op("softmax", 1, _softmax,
        (lambda g, o, a: 0.0 * g if _is_scalar(a)
         else o * (g - (g * o).sum(axis=-1, keepdims=True)),),
        lambda S, a: S.softmax(a),
        "softmax", "d softmax(u)_i = softmax_i*(du_i - sum_j softmax_j*du_j)",
        elementwise=False,
        keeps_finite=True))
_row(Op("log_softmax", 1, _log_softmax,
        (lambda g, o, a: 0.0 * g if _is_scalar(a)
         else g - _softmax(a) * g.sum(axis=-1, keepdims=True),),
        lambda S, a: S.log_softmax(a),
        "log-softmax", "d log_softmax(u)_i = du_i - sum_j softmax_j*du_j",
        elementwise=False))


# Function names as written in expressions (aliases included) -> op name.
FUNCTIONS: dict[str, str] = {}
for _op in OPS.values():
    if _op.symbol is None:
        FUNCTIONS[_op.name] = _op.name
        for _alias in _op.aliases:
            FUNCTIONS[_alias] = _op.name

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def function_names() -> list[str]:
    """The function names a user may call, for help and error messages."""
    return sorted(FUNCTIONS, key=str.lower)
