"""The SymPy bridge: printer, round trips (gradcli and SymPy reading printed
derivatives back), time limits, evaluation and gradcli's SymPy functions."""
from __future__ import annotations

import math
import signal
import time

import numpy as np
import pytest
import sympy as sp
from sympy.parsing.sympy_parser import parse_expr

from gradcli import symbolic
from gradcli.graph import Graph
from gradcli.parse import parse
from gradcli.engine import forward
from gradcli.symbolic import (SymbolicTimeout, evaluate, number, relu, sigmoid,
                              simplify_bounded, softplus, symbol, time_limit, to_sympy,
                              to_text)

x, y = symbol("x"), symbol("y")


def _sympy_of(text: str):
    p = parse(text)
    return to_sympy(p.graph, p.root), sorted(p.graph.variables)


def _gradcli_value(text: str, at: dict[str, float]) -> float:
    p = parse(text)
    bindings = {i: at[n] for n, i in p.graph.variables.items()}
    return forward(p.graph, bindings, p.root)[p.root]


# ---------------------------------------------------------------- printer ---
@pytest.mark.parametrize("expr, text", [
    (sp.E, "e"),
    (sp.E * x, "e*x"),
    (sp.exp(x), "exp(x)"),
    (sp.exp(1), "e"),
    (sp.Abs(x), "abs(x)"),
    (sp.Abs(x - y), "abs(x - y)"),
    (sp.Heaviside(x), "Heaviside(x)"),
    (sp.sign(x), "sign(x)"),
    (sp.Float(0.1) * x, "0.1*x"),
    (sp.Float(2.5), "2.5"),
    (sp.Rational(1, 2) * x, "x/2"),
    (sp.pi * x, "pi*x"),
    (sigmoid(x), "sigmoid(x)"),
    (relu(x), "relu(x)"),
    (softplus(x), "softplus(x)"),
    (x ** -2, "x**(-2)"),
    (symbol("E") * sp.E, "e*E"),          # the variable E and the constant e stay apart
])
def test_printer(expr, text):
    assert to_text(expr) == text


def test_floats_print_short():
    out = to_text(sp.Float(1 / 3) * x)
    assert len(out) < 20 and out.startswith("0.333333")
    assert to_text(sp.Float(1e-20) * x) in {"1.0e-20*x", "1e-20*x"}
    assert "e" in to_text(sp.Float(1e-20) * x).split("*")[0]  # exponent form, parseable


def test_to_latex():
    assert symbolic.to_latex(x ** 2) == "x^{2}"
    # The contract's LaTeX writes sigma for sigmoid (and H for the step function).
    assert symbolic.to_latex(sigmoid(x)) == r"\sigma\left(x\right)"
    assert symbolic.to_latex(sigmoid(x) ** 2) == r"\sigma^{2}\left(x\right)"
    assert symbolic.to_latex(symbolic.heaviside(x)) == r"H\left(x\right)"
    assert symbolic.to_latex(relu(x)) == r"\operatorname{relu}\left(x\right)"


# ------------------------------------------------- the user's term order ---
@pytest.mark.parametrize("text, sympy_text, written", [
    ("yhat - y", "-y + yhat", "yhat - y"),
    ("0.5*(sigmoid(w*x+b)-y)**2", "(-y + sigmoid(b + w*x))**2/2",
     "(sigmoid(w*x + b) - y)**2/2"),
    ("x**2 + 1", "x**2 + 1", "x**2 + 1"),           # numbers keep their place
    ("1 - sigmoid(z)", "1 - sigmoid(z)", "1 - sigmoid(z)"),
    ("b + a", "a + b", "b + a"),
    ("x**2 + x", "x**2 + x", "x**2 + x"),           # ties keep SymPy's order
])
def test_sums_print_in_the_order_written(text, sympy_text, written):
    p = parse(text)
    expr = to_sympy(p.graph, p.root)
    order = symbolic.term_order(p.graph, p.root)
    assert to_text(expr) == sympy_text
    assert to_text(expr, order) == written
    # the same order in LaTeX
    if text == "yhat - y":
        assert symbolic.to_latex(expr, order) == r"\hat{y} - y"


def test_term_order_is_reading_order_and_iterative():
    p = parse("sigmoid(w*x + b) - y + w")
    assert symbolic.term_order(p.graph, p.root) == {"w": 0, "x": 1, "b": 2, "y": 3}
    g = Graph()
    node = g.var("x")
    for k in range(5000):  # deeper than Python's recursion limit
        node = g.apply("add", node, g.var(f"v{k}"))
    assert len(symbolic.term_order(g, node)) == 5001


@pytest.mark.parametrize("expr, factored", [
    (18 * x + 6, "6*(3*x + 1)"),
    (8 * x + 4, "4*(2*x + 1)"),
    (3 * x ** 2 + 2 * x, "x*(3*x + 2)"),
    (x ** 2 - 1, None),                      # (x - 1)*(x + 1) is longer
    (sp.cos(x) - sp.sin(x), None),           # nothing to pull out
    (6 * x * (x ** 2 + 1) ** 2, None),       # already a product
])
def test_factored_form(expr, factored):
    got = symbolic.factored_form(expr, 5.0)
    assert (None if got is None else to_text(got)) == factored
    if got is not None:
        assert sp.expand(got - expr) == 0


def test_drop_deltas_and_non_real():
    d = sp.diff(symbolic.heaviside(x) + sp.sign(x ** 2 - 1) + x, x)
    zeroed, where = symbolic.drop_deltas(d)
    assert zeroed == 1 and set(where) == {x, x ** 2 - 1}
    assert symbolic.drop_deltas(x ** 2) == (x ** 2, [])
    assert symbolic.non_real(sp.I * x) and symbolic.non_real(sp.zoo + x)
    assert symbolic.non_real(sp.nan) and symbolic.non_real(-sp.oo * x)
    assert not symbolic.non_real(sp.sqrt(x) + sp.log(x) + sp.pi)
    assert symbolic.non_real(sp.Integer(-8) ** sp.Rational(1, 3) * x)  # 2*(-1)**(1/3)*x
    assert not symbolic.non_real(sp.Integer(-8) ** 2 * x + sp.sqrt(2) + (-1) ** x)


# ------------------------------------------------------------- to_sympy ---
def test_to_sympy_constants_and_names():
    expr, names = _sympy_of("beta*gamma + I*N + E + e + pi + 0.5*x")
    assert names == ["E", "I", "N", "beta", "gamma", "x"]
    syms = {s.name: s for s in expr.free_symbols}
    assert set(syms) == set(names)
    assert all(s.is_real for s in syms.values())
    # I is a plain variable, not the imaginary unit; E is not Euler's number.
    assert sp.diff(expr, syms["I"]) == syms["N"]
    assert sp.diff(expr, syms["E"]) == 1
    assert sp.diff(expr, syms["x"]) == sp.Rational(1, 2)
    assert expr.has(sp.E) and expr.has(sp.pi)


def test_to_sympy_exact_numbers():
    assert number(2.0) == sp.Integer(2) and isinstance(number(2.0), sp.Integer)
    assert number(-3.0) == -3
    assert number(0.1) == sp.Rational(1, 10)
    assert number(0.5) == sp.Rational(1, 2)
    assert number(1e20) == sp.Integer(10) ** 20
    expr, _ = _sympy_of("0.1*x + 2.0")
    assert expr == x / 10 + 2


def test_to_sympy_with_tensor_leaves():
    g = Graph()
    a = g.var("A")
    root = g.apply("sum", g.apply("mul", a, a))
    syms = np.array([sp.Symbol(f"a{i}", real=True) for i in range(3)], dtype=object)
    expr = to_sympy(g, root, leaves={a: syms})
    assert sp.expand(expr - sum(s ** 2 for s in syms)) == 0


def test_to_sympy_long_products_are_built_once():
    """800 factors: one Mul, not 800 growing ones (each re-sorting the product)."""
    p = parse("*".join(f"sin(v{i})" for i in range(800)))
    calls = []
    original = sp.Mul.__new__

    def counting(cls, *args, **kw):
        # a product grown one factor at a time passes the partial product back in
        calls.append((len(args), any(isinstance(a, sp.Mul) and len(a.args) > 2
                                     for a in args)))
        return original(cls, *args, **kw)

    import unittest.mock

    with unittest.mock.patch.object(sp.Mul, "__new__", counting):
        expr = to_sympy(p.graph, p.root)
    assert len(expr.args) == 800
    assert max(n for n, _ in calls) == 800
    assert not any(grown for _, grown in calls)


def test_to_sympy_deep_graph_is_iterative():
    g = Graph()
    node = g.var("x")
    for _ in range(3000):
        node = g.apply("add", node, g.const(1.0))
    assert to_sympy(g, node) == x + 3000


# ------------------------------------------------------------ round trips ---
ROUND_TRIP = [
    ("(x**2 + 1)**3", {"x": 2.0}),
    ("x**2*y + x*y**2", {"x": 1.0, "y": 2.0}),
    ("(sigmoid(w*x) - 1)**2", {"w": 0.5, "x": 2.0}),
    ("0.5*(sigmoid(w*x + b) - y)**2", {"w": 0.5, "x": 2.0, "b": 0.1, "y": 1.0}),
    ("softplus(x**2) + tanh(x*y)", {"x": 0.7, "y": -1.1}),
    ("relu(x - y)*abs(y)", {"x": 2.0, "y": -1.5}),
    ("sqrt(x) + x**-2 - log(x)/ln(2)", {"x": 1.7}),
    ("exp(-x**2/2)/sqrt(2*pi)", {"x": 0.3}),
    ("sin(x)*cos(y) - tan(x/y)", {"x": 0.4, "y": 1.3}),
    ("x**x + 2**y", {"x": 1.2, "y": 0.6}),
    ("beta*gamma**2 + I*N", {"beta": 1.5, "gamma": -2.0, "I": 3.0, "N": 0.25}),
]


@pytest.mark.parametrize("text, at", ROUND_TRIP)
def test_derivative_text_reads_back_in_gradcli(text, at):
    expr, names = _sympy_of(text)
    for name in names:
        d = sp.diff(expr, symbol(name))
        for candidate in (d, simplify_bounded(d, 5.0)[0]):
            printed = to_text(candidate)
            exact = evaluate(d, {symbol(n): v for n, v in at.items()})
            assert exact is not None
            got = _gradcli_value(printed, at)
            assert got == pytest.approx(exact, rel=1e-12, abs=1e-14), (name, printed)


def _sympy_locals(names):
    """The contract's declarations for reading a printed derivative back."""
    local = {n: sp.Symbol(n, real=True) for n in names}
    local.update(sigmoid=sigmoid, relu=relu, softplus=softplus,
                 Heaviside=lambda a: sp.Heaviside(a, 0))
    return local


@pytest.mark.parametrize("text, at", ROUND_TRIP)
def test_derivative_text_reads_back_in_sympy(text, at):
    expr, names = _sympy_of(text)
    local = _sympy_locals(names)
    for name in names:
        truth = sp.diff(expr, local[name])
        printed = to_text(simplify_bounded(truth, 5.0)[0])
        back = parse_expr(printed, local_dict=dict(local))
        assert back.free_symbols <= set(local.values()), printed
        assert sp.simplify(back - truth) == 0, (name, printed)


def test_constant_e_reads_back_when_mapped():
    """`e` is gradcli's constant; for SymPy it must be mapped to E."""
    expr, names = _sympy_of("e*x**2 + E")
    local = _sympy_locals(names)
    truth = sp.diff(expr, local["x"])
    printed = to_text(truth)
    assert printed == "2*e*x"
    assert parse_expr(printed, local_dict=dict(local, e=sp.E)) == truth
    assert _gradcli_value(printed, {"x": 1.5}) == pytest.approx(3 * math.e)


# ------------------------------------------------------------- time limit ---
def test_time_limit_interrupts_slow_work():
    start = time.perf_counter()
    with pytest.raises(SymbolicTimeout):
        with time_limit(0.2):
            while time.perf_counter() - start < 10:
                pass
    assert time.perf_counter() - start < 2.0


def test_time_limit_interrupts_slow_sympy():
    a, b, c, d = sp.symbols("a b c d")
    start = time.perf_counter()
    with pytest.raises(SymbolicTimeout):
        with time_limit(0.3):
            sp.factor(sp.expand((a + b + c + d + 1) ** 40) - 1)
    assert time.perf_counter() - start < 3.0


def test_time_limit_restores_handler_and_allows_fast_work():
    before = signal.getsignal(signal.SIGALRM)
    with time_limit(2.0):
        assert sp.diff(x ** 3, x) == 3 * x ** 2
    assert signal.getsignal(signal.SIGALRM) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    with time_limit(None):
        pass
    with time_limit(0):
        pass


def test_simplify_bounded():
    messy = (x ** 2 - 1) / (x - 1)
    simple, finished = simplify_bounded(messy, 5.0)
    assert finished and simple == x + 1
    same, finished = simplify_bounded(messy, 0)
    assert same is messy and not finished
    # Keeps the unsimplified form when simplify does not shorten it.
    plain = x * y + 1
    assert simplify_bounded(plain, 5.0) == (plain, True)
    assert simplify_bounded(2 * x * y + y ** 2, 5.0) == (y * (2 * x + y), True)


def test_simplify_never_introduces_functions_the_language_lacks():
    # SymPy turns 1 - tanh(u)**2 into cosh(u)**-2, which gradcli cannot read.
    d = sp.diff(sp.tanh(x * y), x)
    simple, finished = simplify_bounded(d, 5.0)
    assert finished
    assert not simple.has(sp.cosh)
    assert _gradcli_value(to_text(simple), {"x": 0.3, "y": 2.0}) == pytest.approx(
        2.0 / math.cosh(0.6) ** 2, rel=1e-14)


# ------------------------------------------------------------- evaluation ---
@pytest.mark.parametrize("expr, at, expected", [
    (sp.log(x), {x: -1.0}, None),
    (sp.sqrt(x), {x: -4.0}, None),
    (1 / x, {x: 0.0}, None),
    (sp.log(x), {x: 0.0}, None),
    (x ** 2, {x: 3.0}, 9.0),
    (sigmoid(x), {x: 0.0}, 0.5),
    (relu(x) + softplus(x), {x: -2.0}, math.log1p(math.exp(-2.0))),
    (sp.Heaviside(x), {x: 0.0}, 0.5),             # SymPy's own convention ...
    (symbolic.heaviside(x), {x: 0.0}, 0.0),       # ... and gradcli's: H(0) = 0
    (sp.diff(relu(x), x), {x: 0.0}, 0.0),         # relu'(0) is the subgradient 0
    (sp.diff(sp.Abs(x), x), {x: 0.0}, 0.0),       # abs'(0) = sign(0) = 0
    (sp.E ** x, {x: 1.0}, math.e),
    (sp.Integer(7), {}, 7.0),
])
def test_evaluate(expr, at, expected):
    got = evaluate(expr, at)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, rel=1e-15)


def test_evaluate_uses_high_precision():
    # (1 + 1e-20) - 1 is 0 in floats but 1e-20 with 30 digits.
    expr = (x + 1) ** 2 - x ** 2 - 2 * x - 1 + y
    assert evaluate(expr, {x: 1e8, y: 1e-12}) == pytest.approx(1e-12, rel=1e-10)


# ------------------------------------------------------ gradcli functions ---
def test_sigmoid_relu_softplus_functions():
    z = sp.Symbol("z")
    assert sigmoid(0) == sp.Rational(1, 2)
    assert sp.diff(sigmoid(z), z) == sigmoid(z) * (1 - sigmoid(z))
    assert sp.simplify(sigmoid(z).rewrite(sp.exp) - 1 / (1 + sp.exp(-z))) == 0
    assert relu(-2) == 0 and relu(3) == 3
    assert relu(sp.Symbol("p", positive=True)) == sp.Symbol("p", positive=True)
    assert relu(-sp.Symbol("p", positive=True)) == 0
    assert sp.diff(relu(z), z) == sp.Heaviside(z, 0)  # subgradient 0 at 0, as the engine
    assert sp.diff(relu(z), z).subs(z, 0) == 0
    assert sp.diff(softplus(z), z) == sigmoid(z)
    assert softplus(0) == sp.log(2)
    assert sigmoid(x).is_real and relu(x).is_real and softplus(x).is_real


def test_time_limits_nest():
    """An inner limit cannot outlast the outer one, and ending it re-arms the outer."""
    start = time.perf_counter()
    with pytest.raises(SymbolicTimeout):
        with time_limit(0.3):
            with time_limit(5.0):  # capped at what the outer block has left
                while time.perf_counter() - start < 10:
                    pass
    assert time.perf_counter() - start < 2.0
    start = time.perf_counter()
    with pytest.raises(SymbolicTimeout):
        with time_limit(0.3):
            with time_limit(0.05):
                pass  # ends at once: the outer limit must still fire
            while time.perf_counter() - start < 10:
                pass
    assert time.perf_counter() - start < 2.0
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def _graph(build):
    """A graph built directly (the parser may refuse constant parts like log(0))."""
    g = Graph()
    root = build(g, g.var("x", col=1))
    return g, root


@pytest.mark.parametrize("build, wrt, found", [
    (lambda g, x: g.apply("add", x, g.apply("log", g.const(0.0), col=5)), None, "log(0)"),
    (lambda g, x: g.apply("mul", x, g.apply("sqrt", g.const(-4.0), col=3)), None,
     "sqrt(-4)"),
    (lambda g, x: g.apply("div", x, g.apply("sub", x, x), col=2), None, "x/0"),
    (lambda g, x: g.apply("add", g.apply("pow", x, g.const(2.0)), g.const(1.0)), None, None),
    (lambda g, x: g.apply("add", g.apply("pow", g.const(-1.0), x, col=8), x), "x",
     "(-1)**x"),
    (lambda g, x: g.apply("add", g.apply("sqrt", x), g.apply("pow", g.const(-2.0), x, col=9)),
     "x", "(-2)**x"),
    (lambda g, x: g.apply("pow", x, x), "x", None),
    (lambda g, x: g.apply("mul", g.apply("pow", g.const(-8.0), g.apply(
        "div", g.const(1.0), g.const(3.0)), col=5), x), None, "(-8)**(1/3)"),
])
def test_first_non_real_names_the_innermost_part(build, wrt, found):
    g, root = _graph(build)
    got = symbolic.first_non_real(g, root, wrt)
    if found is None:
        assert got is None
    else:
        text, col = got
        assert text == found and col is not None


def test_differentiate_long_products_in_one_pass():
    """SymPy's product rule rebuilds each term one factor at a time (quadratic):
    differentiate builds each term with one Mul and agrees with sympy.diff."""
    import unittest.mock

    vs = [symbol(f"v{i}") for i in range(60)]
    expr = sp.Mul(*(sp.sin(v) for v in vs)) * vs[3] ** 2
    for v in (vs[0], vs[3], x):
        assert sp.expand(symbolic.differentiate(expr, v) - sp.diff(expr, v)) == 0
    grown = []
    original = sp.Mul.__new__

    def counting(cls, *args, **kw):
        grown.append(any(isinstance(a, sp.Mul) and len(a.args) > 2 for a in args))
        return original(cls, *args, **kw)

    with unittest.mock.patch.object(sp.Mul, "__new__", counting):
        symbolic.differentiate(expr, vs[7])
    assert not any(grown)
    assert symbolic.differentiate(x ** 2 * y, x) == 2 * x * y  # short: sympy.diff itself
