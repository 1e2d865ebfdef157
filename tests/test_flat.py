"""The compiled derivative evaluator (symbolic/flat.py): the same values as
`symbolic.evaluate` (SymPy, 30 digits) to 1e-11, or None where float64 cannot
promise that, so the caller asks SymPy."""
from __future__ import annotations

import inspect
import math
import random
import sys

import pytest
import sympy as sp

from gradcli.symbolic import evaluate, heaviside, relu, sigmoid, softplus, symbol
from gradcli.symbolic.flat import REL_TOL, NotCompilable, compile_exprs

x, y, w = symbol("x"), symbol("y"), symbol("w")
SYMBOLS = [x, y, w]

#: expressions with a domain each variable is drawn from
CASES = [
    ("sigmoid chain", sigmoid(w * x + y) * (1 - sigmoid(w * x + y)) * x, (-3, 3)),
    ("half squared error", (y - sigmoid(w * x)) ** 2 / 2, (-3, 3)),
    ("tanh", 1 - sp.tanh(w * x) ** 2, (-2, 2)),
    ("exp log", sp.exp(-x * w) * sp.log(y ** 2 + 1), (-2, 2)),
    ("powers", x ** -2 + sp.sqrt(y ** 2 + 1) + (w ** 2 + 1) ** sp.Rational(3, 2), (0.5, 3)),
    ("general power", (x ** 2 + 1) ** w * sp.log(x ** 2 + 1), (-2, 2)),
    ("trig", sp.sin(x) * sp.cos(w) + sp.tan(y / 3), (-1, 1)),
    ("relu", relu(w * x - y) + heaviside(w * x - y) * x, (-2, 2)),
    ("softplus", softplus(x * w) * sigmoid(y), (-5, 5)),
    ("abs sign", sp.Abs(x - w) + sp.sign(y), (-2, 2)),
    ("max min", sp.Max(x, y) - sp.Min(w, 0), (-2, 2)),
    ("constants", sp.pi * x + sp.E ** w + sp.Rational(1, 3) * y, (-2, 2)),
    ("long product", sp.Mul(*[(x + k) for k in range(1, 9)]) * w, (-1, 1)),
]


@pytest.mark.parametrize("name, expr, domain", CASES, ids=[c[0] for c in CASES])
def test_values_agree_with_sympy(name, expr, domain):
    program = compile_exprs([expr], SYMBOLS)
    rng = random.Random(name)
    answered = 0
    for _ in range(25):
        point = [rng.uniform(*domain) for _ in SYMBOLS]
        [value] = program.run(point)
        exact = evaluate(expr, dict(zip(SYMBOLS, point)))
        if value is None:
            continue
        answered += 1
        assert exact is not None
        assert abs(value - exact) <= REL_TOL * abs(exact) + 1e-300, (point, value, exact)
    assert answered >= 20  # an evaluator that always declines would pass the loop


def test_several_outputs_share_their_parts():
    s = sigmoid(w * x + y)
    exprs = [s * (1 - s) * x, s * (1 - s), s]
    program = compile_exprs(exprs, SYMBOLS)
    # s is computed once: w*x, w*x + y, s, -s, 1 - s, s*(1-s), s*(1-s)*x, and 3 leaves
    assert len([ins for ins in program.code if ins[0] != 0]) <= 10
    values = program.run([0.5, -0.25, 2.0])
    expected = 1 / (1 + math.exp(-(2.0 * 0.5 - 0.25)))
    assert values[2] == pytest.approx(expected, rel=1e-15)
    assert values[1] == pytest.approx(expected * (1 - expected), rel=1e-14)
    assert values[0] == pytest.approx(expected * (1 - expected) * 0.5, rel=1e-14)


@pytest.mark.parametrize("expr, point", [
    (sp.log(x), [-1.0, 0, 0]),          # complex for SymPy
    (sp.sqrt(x), [-4.0, 0, 0]),         # complex
    (1 / x, [0.0, 0, 0]),               # zoo
    (x ** y, [-2.0, 0.5, 0]),           # complex
    (sp.log(x), [0.0, 0, 0]),           # zoo
    (sp.exp(x), [1000.0, 0, 0]),        # overflow
])
def test_undefined_points_are_left_to_sympy(expr, point):
    [value] = compile_exprs([expr], SYMBOLS).run(point)
    assert value is None
    assert evaluate(expr, dict(zip(SYMBOLS, point))) is None


def test_kinks_follow_the_project_convention():
    program = compile_exprs([heaviside(x), sp.sign(x), relu(x), heaviside(x) * y], SYMBOLS)
    assert program.run([0.0, 3.0, 0.0]) == [0.0, 0.0, 0.0, 0.0]  # H(0) = sign(0) = 0
    assert program.run([2.0, 3.0, 0.0]) == [1.0, 1.0, 2.0, 3.0]
    assert program.run([-2.0, 3.0, 0.0]) == [0.0, -1.0, 0.0, 0.0]


def test_a_kink_within_the_rounding_error_is_left_to_sympy():
    # x - 1/10 at x = 0.1: exactly 0 in floats, but 0.1 is not 1/10; SymPy decides
    [value] = compile_exprs([heaviside(x - sp.Rational(1, 10)) * y], SYMBOLS).run([0.1, 2, 0])
    assert value is None
    assert evaluate(heaviside(x - sp.Rational(1, 10)) * y, {x: 0.1, y: 2.0}) == 0.0


def test_cancellation_is_left_to_sympy():
    # exp(x) - 1 at x = 1e-12: floats keep about 4 digits, SymPy all of them
    expr = sp.exp(x) - 1
    [value] = compile_exprs([expr], SYMBOLS).run([1e-12, 0, 0])
    assert value is None
    assert evaluate(expr, {x: 1e-12}) == pytest.approx(1e-12, rel=1e-11)
    # a saturated sigmoid's slope written s*(1 - s): 1 - s cancels
    s = sigmoid(x)
    [slope] = compile_exprs([s * (1 - s)], SYMBOLS).run([40.0, 0, 0])
    assert slope is None
    assert evaluate(s * (1 - s), {x: 40.0}) == pytest.approx(math.exp(-40), rel=1e-9)


def test_an_exact_zero_factor_gives_an_exact_zero():
    [value] = compile_exprs([heaviside(x) * sp.exp(y) * w], SYMBOLS).run([-1.0, 3.0, 2.0])
    assert value == 0.0 and math.copysign(1, value) == 1


@pytest.mark.parametrize("expr", [sp.DiracDelta(x), sp.Piecewise((x, y > 0), (w, True)),
                                  sp.I * x, sp.zoo * x, sp.asin(x), symbol("q") * x])
def test_what_it_does_not_know_is_refused(expr):
    with pytest.raises(NotCompilable):
        compile_exprs([expr], SYMBOLS)


def test_deep_expressions_compile_without_recursion():
    expr = x
    for _ in range(300):  # SymPy itself recurses while building deeper ones
        expr = sp.sin(expr)
    # the walk must not recurse: it runs with a few dozen frames to spare
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 40)
    try:
        program = compile_exprs([expr], SYMBOLS)
    finally:
        sys.setrecursionlimit(limit)
    assert len(program.code) == 301
    value = 0.5
    for _ in range(300):
        value = math.sin(value)
    assert program.run([0.5, 0, 0])[0] == pytest.approx(value, rel=1e-12)
