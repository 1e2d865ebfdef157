"""SymPy expressions compiled once into a flat op list, evaluated in float64 many times.

`gradcli check` over a class of same-shaped files differentiates each
structure once (`structure_cache`) and evaluates the derivatives at every
file's own point here, instead of `symbolic.evaluate` (xreplace + 30-digit
evalf, milliseconds per entry).  Nothing is generated or executed: the
SymPy tree is walked (iteratively, shared subexpressions once) into a list
of instructions over slots, and `Program.run` interprets them with `math`.

Same semantics as `symbolic.evaluate`, or no answer: every slot carries a
first-order bound on its distance from the exact value at the decimal point
`evaluate` uses (inputs are read as `Float(repr(v))`, so each carries half
an ulp), propagated through every instruction.  An output is returned only
when it is finite and its bound is within REL_TOL of it (or it is an exact
zero); anything else (undefined, not real, overflow, a kink of Heaviside
or sign within the error, cancellation too large) is `None`, and the caller
asks SymPy as before.  So an answer is `evaluate`'s to 1e-11 relative, and
where float64 cannot promise that, SymPy decides, at its usual cost.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

#: an answer must be within this relative distance of SymPy's 30-digit value
REL_TOL = 1e-11
#: rounding of one basic operation (2 ulp: a margin over IEEE's half ulp)
_U = 2.3e-16
#: rounding of one libm function (glibc: under 1 ulp; 4 ulp of margin)
_UF = 4.5e-16
_INF = math.inf

# opcodes
SYM, NUM, ADD, MUL, POWC, POW, FN, HEAVISIDE, SIGN, MAX, MIN = range(11)


class NotCompilable(Exception):
    """The expression uses something this evaluator does not know: ask SymPy."""


class Program:
    """Instructions over slots; slot k holds the value of instruction k."""

    def __init__(self, code: list[tuple], outputs: list[int]):
        self.code = code
        self.outputs = outputs  # the slot of each compiled expression, in order
        # Leaves are placed before the run; only operations are stepped through.
        self._base = [ins[1] if ins[0] == NUM else 0.0 for ins in code]
        self._base_errs = [ins[2] if ins[0] == NUM else 0.0 for ins in code]
        self._symbols = [(k, ins[1]) for k, ins in enumerate(code) if ins[0] == SYM]
        self._ops = [(k, ins) for k, ins in enumerate(code) if ins[0] not in (SYM, NUM)]

    def run(self, point: Sequence[float]) -> list[float | None]:
        """Each output's value at `point` (floats in the order of the compiled
        symbols), or None where float64 cannot give SymPy's answer."""
        vals, errs = list(self._base), list(self._base_errs)
        for k, i in self._symbols:
            v = point[i]
            vals[k] = v
            errs[k] = 0.5 * _U * abs(v)  # the binary float vs its shortest decimal repr
        try:  # one guard for the whole run; an exception reruns with one per step
            for k, ins in self._ops:
                vals[k], errs[k] = _step(ins, vals, errs)
        except (ArithmeticError, ValueError):
            for k, ins in self._ops:
                try:
                    vals[k], errs[k] = _step(ins, vals, errs)
                except (ArithmeticError, ValueError):  # overflow, log(-1), 0**-1, ...
                    vals[k], errs[k] = math.nan, _INF
        out: list[float | None] = []
        for k in self.outputs:
            v, e = vals[k], errs[k]
            if not math.isfinite(v) or not e <= REL_TOL * abs(v):
                out.append(None)
            else:
                out.append(v + 0.0)  # no -0.0: SymPy's zero has no sign
        return out


# ------------------------------------------------------------- compiling ---
def compile_exprs(exprs: Sequence[Any], symbols: Sequence[Any]) -> Program:
    """One program computing every expression (shared parts once).

    `symbols[i]` is read from `point[i]`; any other free symbol, or a SymPy
    object outside the expression language (DiracDelta, zoo, I, Piecewise,
    ...) raises NotCompilable.
    """
    import sympy as sp

    from gradcli.symbolic.core import relu, sigmoid, softplus

    functions = {sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos",
                 sp.tan: "tan", sp.tanh: "tanh", sigmoid: "sigmoid", relu: "relu",
                 softplus: "softplus", sp.Abs: "abs"}
    index = {s: i for i, s in enumerate(symbols)}
    slots: dict[Any, int] = {}
    code: list[tuple] = []

    def leaf(e) -> tuple | None:
        if e.is_Symbol:
            if e not in index:
                raise NotCompilable(f"free symbol {e}")
            return (SYM, index[e])
        if e.is_Integer:
            n = int(e)
            return (NUM, float(n), 0.0 if abs(n) < 2 ** 53 else _U * abs(float(n)))
        if e.is_Rational or e.is_Float or e in (sp.pi, sp.E):
            v = float(e)
            if not math.isfinite(v):
                raise NotCompilable(f"number {e}")
            return (NUM, v, _U * abs(v))
        if e.is_Number or e.is_NumberSymbol or e is sp.S.ImaginaryUnit:
            raise NotCompilable(f"number {e}")  # zoo, nan, oo, I, EulerGamma, ...
        return None

    def node(e, args: list[int]) -> tuple:
        if e.is_Add:
            return (ADD, tuple(args))
        if e.is_Mul:
            return (MUL, tuple(args))
        if e.is_Pow:
            exponent = e.args[1]
            if exponent.is_Integer or exponent.is_Rational or exponent.is_Float:
                c = float(exponent)
                return (POWC, args[0], c, c.is_integer())
            return (POW, args[0], args[1])
        f = e.func
        if f in functions and len(args) == 1:
            return (FN, functions[f], args[0])
        if f is sp.Heaviside and len(args) == 2 and e.args[1] == 0:
            return (HEAVISIDE, args[0])  # H(0) = 0, the subgradient convention
        if f is sp.sign and len(args) == 1:
            return (SIGN, args[0])
        if f is sp.Max:
            return (MAX, tuple(args))
        if f is sp.Min:
            return (MIN, tuple(args))
        raise NotCompilable(f"function {f}")

    outputs = []
    for root in exprs:
        if not isinstance(root, sp.Basic):  # a plain number (never text: no sympify)
            if isinstance(root, bool) or not isinstance(root, (int, float)):
                raise NotCompilable(f"not an expression: {type(root).__name__}")
            root = sp.Integer(root) if isinstance(root, int) else sp.Float(root)
        stack = [(root, False)]  # iterative post-order: derivatives can be deep
        while stack:
            e, expanded = stack.pop()
            if e in slots:
                continue
            simple = leaf(e)
            if simple is not None:
                slots[e] = len(code)
                code.append(simple)
                continue
            if not expanded:
                stack.append((e, True))
                stack.extend((a, False) for a in reversed(e.args) if a not in slots)
                continue
            slots[e] = len(code)
            code.append(node(e, [slots[a] for a in e.args]))
        outputs.append(slots[root])
    return Program(code, outputs)


# ------------------------------------------------------------- evaluation ---
def _step(ins: tuple, vals: list[float], errs: list[float]) -> tuple[float, float]:
    """The value of one operation and the bound on its error."""
    op = ins[0]
    if op == MUL:
        return _mul(ins[1], vals, errs)
    if op == ADD:
        terms = [vals[k] for k in ins[1]]
        v = math.fsum(terms)  # correctly rounded: cancellation costs only the inputs' errors
        return v, sum([errs[k] for k in ins[1]]) + _U * abs(v)
    if op == POWC:
        return _powc(vals[ins[1]], errs[ins[1]], ins[2], ins[3])
    if op == FN:
        return _FUNCTIONS[ins[1]](vals[ins[2]], errs[ins[2]])
    if op == POW:
        return _pow(vals[ins[1]], errs[ins[1]], vals[ins[2]], errs[ins[2]])
    if op == HEAVISIDE or op == SIGN:
        a, e = vals[ins[1]], errs[ins[1]]
        if a == 0.0 and e == 0.0:
            return 0.0, 0.0
        if a > e:
            return 1.0, 0.0
        if a < -e:
            return (0.0 if op == HEAVISIDE else -1.0), 0.0
        return math.nan, _INF  # the kink is within the error: SymPy decides
    if op == MAX or op == MIN:
        pick = max if op == MAX else min
        return pick(vals[k] for k in ins[1]), max(errs[k] for k in ins[1])
    raise ValueError(f"unknown instruction {ins!r}")


def _mul(args: tuple, vals: list[float], errs: list[float]) -> tuple[float, float]:
    if len(args) == 2:  # the common case, written out
        a, b = args
        va, vb, ea, eb = vals[a], vals[b], errs[a], errs[b]
        v = va * vb
        if v == 0.0 and ((va == 0.0 and ea == 0.0) or (vb == 0.0 and eb == 0.0)) \
                and _finite(va, ea) and _finite(vb, eb):
            return 0.0, 0.0
        return v, ea * abs(vb) + eb * abs(va) + _U * abs(v)
    v = 1.0
    for k in args:
        v *= vals[k]
    if v == 0.0 and any(vals[k] == 0.0 and errs[k] == 0.0 for k in args) \
            and all(_finite(vals[k], errs[k]) for k in args):
        return 0.0, 0.0  # 0 times finite values is exactly 0
    # first order: each factor's error times the product of the others
    # (prefix and suffix products: linear in the number of factors)
    sizes = [abs(vals[k]) for k in args]
    after = [1.0] * (len(sizes) + 1)
    for i in range(len(sizes) - 1, -1, -1):
        after[i] = after[i + 1] * sizes[i]
    e, before = 0.0, 1.0
    for i, k in enumerate(args):
        if errs[k]:
            e += errs[k] * before * after[i + 1]
        before *= sizes[i]
    return v, e + _U * (len(args) - 1) * abs(v)


def _finite(v: float, e: float) -> bool:
    """A finite value with a finite error (a pole within the error is not finite)."""
    return math.isfinite(v) and math.isfinite(e)


def _powc(b: float, eb: float, c: float, integer: bool) -> tuple[float, float]:
    """b**c for a constant c: a mean-value bound of |c| |x|^(c-1) over b ± eb."""
    if not integer and b - eb <= 0.0:
        if b == 0.0 and eb == 0.0 and c > 0:
            return 0.0, 0.0
        return math.nan, _INF  # negative base (complex for SymPy) or too close to 0
    if c < 0 and abs(b) - eb <= 0.0:
        return math.nan, _INF  # a pole within the error
    v = b ** c if integer else math.pow(b, c)
    if isinstance(v, complex):
        return math.nan, _INF
    if eb == 0.0:
        return v, _UF * abs(v)
    hi, lo = abs(b) + eb, abs(b) - eb
    slope = abs(c) * (hi ** (c - 1) if c >= 1 else lo ** (c - 1))
    return v, slope * eb + _UF * abs(v)


def _pow(b: float, eb: float, x: float, ex: float) -> tuple[float, float]:
    """b**x for a variable exponent: defined (for SymPy, real) only for b > 0 here."""
    if b - eb <= 0.0:
        return math.nan, _INF
    v = math.pow(b, x)
    e = abs(v) * (abs(math.log(b)) * ex + abs(x) * eb / (b - eb)) * 1.01
    return v, e + _UF * abs(v)


def _sigmoid(a: float) -> float:
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    z = math.exp(a)
    return z / (1.0 + z)


def _fn_exp(a: float, e: float) -> tuple[float, float]:
    v = math.exp(a)
    if e > 1e-3:
        return v, _INF
    return v, v * e * 1.01 + _UF * v


def _fn_log(a: float, e: float) -> tuple[float, float]:
    if a - e <= 0.0:
        return math.nan, _INF  # log of a non-positive number (zoo or complex for SymPy)
    v = math.log(a)
    return v, e / (a - e) + _UF * abs(v)


def _fn_tan(a: float, e: float) -> tuple[float, float]:
    v = math.tan(a)
    growth = e * (1.0 + v * v)
    if growth > 1e-3:
        return v, _INF  # too near a pole
    return v, growth * 1.01 + _UF * abs(v)


def _fn_tanh(a: float, e: float) -> tuple[float, float]:
    v = math.tanh(a)
    near = max(abs(a) - e, 0.0)  # the slope 1 - tanh**2 is largest nearest 0
    return v, e * (1.0 / math.cosh(min(near, 700.0))) ** 2 + _UF * abs(v)


def _fn_sigmoid(a: float, e: float) -> tuple[float, float]:
    v = _sigmoid(a)
    near = max(abs(a) - e, 0.0)  # the slope s(1 - s) is largest nearest 0
    return v, e * _sigmoid(near) * _sigmoid(-near) + _UF * v


def _fn_softplus(a: float, e: float) -> tuple[float, float]:
    v = math.log1p(math.exp(-abs(a))) + max(a, 0.0)
    return v, e * _sigmoid(a + e) + _UF * v


def _fn_sin_cos(f):
    def run(a: float, e: float) -> tuple[float, float]:
        v = f(a)
        return v, e + _UF * abs(v)
    return run


_FUNCTIONS = {
    "exp": _fn_exp, "log": _fn_log, "sin": _fn_sin_cos(math.sin),
    "cos": _fn_sin_cos(math.cos), "tan": _fn_tan, "tanh": _fn_tanh,
    "sigmoid": _fn_sigmoid, "softplus": _fn_softplus,
    "relu": lambda a, e: (0.0, 0.0) if a < -e else (max(a, 0.0) + 0.0, e),
    "abs": lambda a, e: (abs(a), e),
}
