"""Graph -> SymPy: time limits, gradcli's SymPy functions, conversion,
differentiation, bounded simplification and evaluation.

The SymPy form of every operation comes from the op table (`Op.sympy`);
this module supplies the namespace those rows use (SymPy plus gradcli's
sigmoid, relu and softplus as SymPy functions) and the helpers around it.
Tensors are numpy object arrays of SymPy expressions, so broadcasting and
`@` behave exactly as in the numeric engine.

SymPy can be slow, so every potentially long call runs under `time_limit`:
when it runs out, callers report the symbolic part as skipped and the
numbers still come.
"""
from __future__ import annotations

import math
import signal
import threading
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, Iterator

import sympy as sp

from gradcli.graph import CONST, VAR, Graph
from gradcli.i18n import M
from gradcli.ops import OPS


class SymbolicTimeout(Exception):
    """SymPy work was cut off: the symbolic part is skipped, the numbers still come."""

    reason = M("SymPy took longer than the time budget")


class SymbolicTooDeep(SymbolicTimeout):
    """SymPy recursed too deeply (it recurses on the expression tree)."""

    reason = M("the expression is nested too deeply for SymPy")


#: SymPy recurses several frames per level of nesting; depth-100 expressions
#: need more than Python's default 1,000 frames.
SYMPY_RECURSION_LIMIT = 12_000


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Bound the SymPy work in the block: SymbolicTimeout after `seconds`
    (main thread, Unix; elsewhere unbounded) and SymbolicTooDeep instead of a
    RecursionError.

    Limits nest: an inner block gets at most what the outer one has left,
    and the outer limit is re-armed (minus the time spent) when it ends.
    """
    import sys
    import time

    usable = (seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, SYMPY_RECURSION_LIMIT))

    def on_alarm(signum, frame):
        raise SymbolicTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm) if usable else None
    outer_left = signal.getitimer(signal.ITIMER_REAL)[0] if usable else 0.0
    start = time.monotonic()
    if usable:
        signal.setitimer(signal.ITIMER_REAL,
                         min(seconds, outer_left) if outer_left > 0 else seconds)
    try:
        yield
    except RecursionError:
        raise SymbolicTooDeep() from None
    finally:
        if usable:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if outer_left > 0:  # the enclosing limit keeps running
                spent = time.monotonic() - start
                signal.setitimer(signal.ITIMER_REAL, max(outer_left - spent, 1e-4))
        sys.setrecursionlimit(old_limit)


# --------------------------------------------------- gradcli's functions ---
class sigmoid(sp.Function):
    """sigmoid(x) = 1/(1 + exp(-x)), with sigmoid' = sigmoid*(1 - sigmoid)."""

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return 1 / (1 + sp.exp(-x))
        return None

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _eval_evalf(self, prec):  # sigmoid(pi) has a value too, not only sigmoid(1.0)
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real


class relu(sp.Function):
    """relu(x) = max(0, x), with relu' = Heaviside(x) and Heaviside(0) = 0."""

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.Max(0, x)
        if x.is_nonnegative:
            return x
        if x.is_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        # The subgradient 0 at 0, as the engine uses: Heaviside(0) = 0, not SymPy's 1/2.
        return heaviside(self.args[0])

    def _eval_rewrite_as_Max(self, x, **kwargs):
        return sp.Max(0, x)

    def _eval_evalf(self, prec):
        return sp.Max(0, self.args[0])._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real


class softplus(sp.Function):
    """softplus(x) = log(1 + exp(x)), with softplus' = sigmoid."""

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.log(1 + sp.exp(x))
        return None

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))

    def _eval_evalf(self, prec):
        return sp.log(1 + sp.exp(self.args[0]))._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real


def heaviside(x: Any) -> sp.Expr:
    """The step function with the subgradient convention Heaviside(0) = 0."""
    return sp.Heaviside(x, 0)


# ------------------------------------------------- namespace for the ops ---
def _np():
    import numpy

    return numpy


def _is_array(a: Any) -> bool:
    return type(a).__name__ == "ndarray"


def _elementwise(fn, a):
    if _is_array(a):
        return _np().frompyfunc(fn, 1, 1)(a)
    return fn(a)


def _total(a):
    return sp.Add(*a.flat) if _is_array(a) else a


def _softmax(a):
    if not _is_array(a):
        return sp.S.One
    e = _elementwise(sp.exp, a)
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(a):
    if not _is_array(a):
        return sp.S.Zero
    e = _elementwise(sp.exp, a)
    return a - _elementwise(sp.log, e.sum(axis=-1, keepdims=True))


NAMESPACE = SimpleNamespace(
    exp=sp.exp, log=sp.log, sqrt=sp.sqrt, sin=sp.sin, cos=sp.cos, tan=sp.tan,
    tanh=sp.tanh, Abs=sp.Abs, sign=sp.sign, Heaviside=heaviside,
    sigmoid=sigmoid, relu=relu, softplus=softplus,
    elementwise=_elementwise,
    power=lambda a, b: a ** b,
    matmul=lambda a, b: _np().matmul(a, b),
    total=_total,
    mean=lambda a: _total(a) / a.size if _is_array(a) else a,
    transpose=lambda a: _np().swapaxes(a, -1, -2) if _is_array(a) and a.ndim >= 2 else a,
    softmax=_softmax,
    log_softmax=_log_softmax,
)


def number(value: float) -> sp.Expr:
    """A literal as an exact SymPy number: 2.0 -> 2, 0.1 -> 1/10."""
    if value == int(value) and abs(value) < 1e15:
        return sp.Integer(int(value))
    return sp.Rational(repr(value))


def symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def to_sympy(graph: Graph, root: int, leaves: dict[int, Any] | None = None) -> Any:
    """The SymPy expression of node `root` (iterative, any depth).

    Variable nodes become real symbols named as in the text, unless `leaves`
    gives them an expression (a symbol, a number or an object array).
    """
    leaves = leaves or {}
    ids = graph.ancestors(root)
    uses: dict[int, int] = {}
    for i in ids:
        for a in graph.nodes[i].args:
            uses[a] = uses.get(a, 0) + 1
    exprs: dict[int, Any] = {}
    # Long sums (x + x + ... + x) and products are collected as operand lists
    # and built with one Add or Mul: combining one operand at a time would
    # copy (and re-sort) the whole sum or product each time (O(n^2)).
    sums: dict[int, list] = {}
    products: dict[int, list] = {}

    def get(i: int) -> Any:
        if i in sums:
            exprs[i] = sp.Add(*sums.pop(i))
        elif i in products:
            exprs[i] = sp.Mul(*products.pop(i))
        return exprs[i]

    for i in ids:
        node = graph.nodes[i]
        if i in leaves:
            exprs[i] = leaves[i]
        elif node.op == CONST:
            if node.name == "pi":
                exprs[i] = sp.pi
            elif node.name == "e":
                exprs[i] = sp.E
            elif isinstance(node.value, float):
                exprs[i] = number(node.value)
            else:
                exprs[i] = _np().vectorize(number, otypes=[object])(node.value)
        elif node.op == VAR:
            exprs[i] = symbol(node.name)
        elif node.op in ("add", "sub") and _scalar_terms(node, exprs, sums, products):
            left, right = node.args
            terms = sums.pop(left) if left in sums and uses.get(left) == 1 else [get(left)]
            term = get(right)
            terms.append(term if node.op == "add" else -term)
            sums[i] = terms
        elif node.op == "mul" and _scalar_terms(node, exprs, sums, products):
            left, right = node.args
            factors = (products.pop(left) if left in products and uses.get(left) == 1
                       else [get(left)])
            factors.append(get(right))
            products[i] = factors
        else:
            exprs[i] = OPS[node.op].sympy(NAMESPACE, *(get(a) for a in node.args))
    return get(root)


def _scalar_terms(node, exprs: dict, sums: dict, products: dict) -> bool:
    """Are both operands scalar SymPy expressions (not object arrays)?"""
    return all(a in sums or a in products or isinstance(exprs.get(a), sp.Basic)
               for a in node.args)


def differentiate(expr: Any, x: sp.Symbol) -> Any:
    """sympy.diff, with a long product differentiated in one pass.

    SymPy's product rule multiplies the factors back one at a time for every
    term (quadratic in the number of factors: 25 s for 800 factors); here
    each term is one Mul of the other factors and the factor's derivative.
    """
    if not isinstance(expr, sp.Mul) or len(expr.args) <= 8:
        return expr.diff(x)
    args = expr.args
    terms = []
    for i, a in enumerate(args):
        if a.has(x):
            d = a.diff(x)
            if d != 0:
                terms.append(sp.Mul(*args[:i], d, *args[i + 1:]))
    return sp.Add(*terms)


# ------------------------------------------------------- simplification ---
#: Below this many operations a non-rational derivative is already as simple
#: as a student writes it; sp.simplify would only cost time (and its first call
#: imports sympy.physics, ~0.2 s).
SIMPLIFY_MIN_OPS = 12


def simplify_bounded(expr: sp.Expr, seconds: float) -> tuple[sp.Expr, bool]:
    """The simplest form found within `seconds`, and whether simplification finished.

    Rational functions go through factor/cancel (fast, canonical); other
    expressions through sp.simplify when they are large enough to gain from it.
    Keeps the unsimplified form when nothing is shorter (students recognise
    `x**2 + 2*x*y` more easily than a rearranged variant) or when a candidate
    uses a function the expression language cannot read back.
    """
    if seconds <= 0:
        return expr, False
    try:
        with time_limit(seconds):
            if expr.is_rational_function(*expr.free_symbols):
                candidates = [sp.factor(expr), sp.cancel(expr)]
            elif sp.count_ops(expr) >= SIMPLIFY_MIN_OPS:
                candidates = [sp.simplify(expr)]
            else:
                candidates = [sp.factor_terms(expr)]
    except SymbolicTimeout:
        return expr, False
    except Exception:  # SymPy internals can fail on odd inputs: keep raw
        return expr, False
    best = expr
    for candidate in candidates:
        if _foreign_functions(candidate) - _foreign_functions(expr):
            continue  # e.g. 1 - tanh(u)**2 -> cosh(u)**-2: not readable back
        if sp.count_ops(candidate) < sp.count_ops(best):
            best = candidate
    return best, True


_LANGUAGE_FUNCTIONS: set[str] = set()


def _foreign_functions(expr: Any) -> set[str]:
    """Names of the SymPy functions in `expr` that the expression language lacks."""
    if not _LANGUAGE_FUNCTIONS:
        s = sp.Symbol("s")
        for op in OPS.values():
            if op.elementwise and op.symbol is None:
                built = sp.S.Zero + op.sympy(NAMESPACE, s)  # SymPy objects only
                _LANGUAGE_FUNCTIONS.update(type(f).__name__ for f in built.atoms(sp.Function))
    found = {type(f).__name__ for f in (sp.S.Zero + expr).atoms(sp.Function)}
    return found - _LANGUAGE_FUNCTIONS


# ------------------------------------------------------------ evaluation ---
def exact_float(v: float) -> Any:
    """`v` as the 30-digit SymPy Float that `evaluate` substitutes (exact: from repr)."""
    return sp.Float(repr(float(v)), 30)


def evaluate(expr: Any, values: dict[sp.Symbol, Any]) -> float | None:
    """A float value of `expr` at the point, or None if not real and finite.
    Values may be floats or already `exact_float`s (made once for many calls)."""
    subs = {s: v if isinstance(v, sp.Float) else exact_float(v) for s, v in values.items()}
    try:
        result = (sp.S.Zero + expr).xreplace(subs).evalf(30)
        value = complex(result)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if value.imag != 0 or not math.isfinite(value.real):
        return None
    return value.real
