"""Reverse mode: gradients vs SymPy, very deep chains, broadcasting, kinks,
and non-finite values named by op and point."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from sympy.parsing.sympy_parser import parse_expr

from gradcli.errors import NonFiniteError
from gradcli.graph import Graph
from gradcli.parse import parse
from gradcli.engine import backward, forward, gradient, unbroadcast
from gradcli.symbolic import relu, sigmoid, softplus


def _sympy_of(text: str, names: list[str]):
    """An independent SymPy reading of `text` (Python syntax, not gradcli's parser)."""
    local = {n: sp.Symbol(n, real=True) for n in names}
    local.update(sigmoid=sigmoid, relu=relu, softplus=softplus, e=sp.E, ln=sp.log,
                 abs=sp.Abs)
    return parse_expr(text.replace("^", "**"), local_dict=local), local


def _grad(text: str, at: dict[str, float]):
    p = parse(text)
    g = p.graph
    names = list(at)
    bindings = {g.variables[n]: float(v) for n, v in at.items()}
    val, grads, back = gradient(g, bindings, p.root, [g.variables[n] for n in names])
    return val, dict(zip(names, grads)), back


CASES = [
    ("(x**2 + 1)**3", {"x": 2.0}),
    ("x**2*y + x*y**2", {"x": 1.0, "y": 2.0}),
    ("(sigmoid(w*x) - 1)**2", {"w": 0.5, "x": 2.0}),
    ("0.5*(sigmoid(w*x + b) - y)**2", {"w": 0.5, "x": 2.0, "b": 0.1, "y": 1.0}),
    ("sin(x)*cos(y) + tan(x*y)", {"x": 0.3, "y": -0.7}),
    ("exp(-x**2/2)/sqrt(2*pi)", {"x": 0.8}),
    ("log(1 + x**2) - ln(y)", {"x": -1.3, "y": 2.5}),
    ("tanh(a*b) + softplus(a - b)", {"a": 0.4, "b": 1.7}),
    ("x**y", {"x": 1.7, "y": -0.6}),
    ("x/(y + x**2) - y/x", {"x": 1.1, "y": 0.9}),
    ("relu(x - y)*abs(y) + sigmoid(-x)", {"x": 2.0, "y": -1.5}),
    ("e**(x*y) - x^3", {"x": 0.5, "y": 1.5}),
    ("sqrt(x*x + y*y + z*z)", {"x": 1.0, "y": 2.0, "z": 2.0}),
    ("x*x*x*x - 3*x", {"x": -0.9}),                    # a variable used many times
    ("-(-x)**2 + (2*x+1)**2", {"x": 1.0}),
    ("beta*gamma + I*N + E", {"beta": 2.0, "gamma": 3.0, "I": 5.0, "N": 7.0, "E": 1.0}),
]


@pytest.mark.parametrize("text, at", CASES)
def test_gradient_matches_sympy(text, at):
    val, grads, back = _grad(text, at)
    expr, local = _sympy_of(text, list(at))
    subs = {local[n]: sp.Float(repr(v), 30) for n, v in at.items()}
    assert val == pytest.approx(float(expr.xreplace(subs).evalf(30)), rel=1e-13, abs=1e-15)
    for name in at:
        exact = float(sp.diff(expr, local[name]).xreplace(subs).evalf(30))
        assert grads[name] == pytest.approx(exact, rel=1e-12, abs=1e-14), name
    assert back.kinks == []


def test_worked_examples():
    assert _grad("(x**2+1)**3", {"x": 2.0})[1]["x"] == 300.0
    assert _grad("(2*x+1)**2", {"x": 1.0})[1]["x"] == 12.0
    g = _grad("x**2*y + x*y**2", {"x": 1.0, "y": 2.0})[1]
    assert (g["x"], g["y"]) == (8.0, 5.0)
    g = _grad("(sigmoid(w*x)-1)**2", {"x": 2.0, "w": 0.5})[1]
    assert g["w"] == pytest.approx(-0.2115, abs=1e-4)
    g = _grad("0.5*(sigmoid(w*x+b)-y)**2", {"x": 2.0, "w": 0.5, "b": 0.1, "y": 1.0})[1]
    assert g["w"] == pytest.approx(-0.093587, abs=1e-6)
    assert g["b"] == pytest.approx(-0.046794, abs=1e-6)


# ------------------------------------------------------------ deep graphs ---
def test_ten_thousand_deep_sin_chain():
    g = Graph()
    x = g.var("x")
    node = x
    for _ in range(10_000):
        node = g.apply("sin", node)
    val, (dx,), _ = gradient(g, {x: 0.9}, node, [x])
    # d/dx sin^n(x) = prod cos(sin^k(x)), k = 0..n-1
    t, d = 0.9, 1.0
    for _ in range(10_000):
        d *= math.cos(t)
        t = math.sin(t)
    assert val == pytest.approx(t, rel=1e-12)
    assert dx == pytest.approx(d, rel=1e-9)
    assert 0 < dx < 1e-2  # a real, non-trivial number


def test_ten_thousand_deep_add_chain_with_shared_leaf():
    g = Graph()
    x = g.var("x")
    y = g.var("y")
    node = x
    for _ in range(10_000):
        node = g.apply("add", node, y)  # x + y + y + ... : d/dy = 10000
    node = g.apply("mul", node, x)      # (x + 10000 y) * x
    val, (dx, dy), back = gradient(g, {x: 2.0, y: 0.5}, node, [x, y])
    assert val == (2.0 + 5000.0) * 2.0
    assert dx == 2.0 + 5000.0 + 2.0
    assert dy == 10_000 * 2.0


def test_deep_chain_parsed_from_text():
    depth = 199  # Python's parser allows at most 200 nested parentheses
    p = parse("sin(" * depth + "x" + ")" * depth + "*0 + " + "-" * 997 + "x")
    x = p.graph.variables["x"]
    _, (dx,), _ = gradient(p.graph, {x: -50.0}, p.root, [x])
    assert dx == -1.0  # 997 minus signs


# ----------------------------------------------------------- broadcasting ---
def test_array_plus_scalar_is_unbroadcast():
    g = Graph()
    a, s, w = g.var("a"), g.var("s"), g.var("w")
    root = g.apply("sum", g.apply("mul", g.apply("add", a, s), w))
    A = np.array([1.0, 2.0, 3.0])
    W = np.array([0.5, -1.0, 4.0])
    val, (da, ds, dw), _ = gradient(g, {a: A, s: 10.0, w: W}, root, [a, s, w])
    assert val == pytest.approx(float(((A + 10.0) * W).sum()))
    assert isinstance(ds, float) and ds == pytest.approx(W.sum())
    assert da.shape == (3,) and np.allclose(da, W)
    assert dw.shape == (3,) and np.allclose(dw, A + 10.0)


def test_column_times_row_is_unbroadcast():
    g = Graph()
    p, q, w = g.var("p"), g.var("q"), g.var("w")
    root = g.apply("sum", g.apply("mul", g.apply("mul", p, q), w))
    P = np.array([[1.0], [2.0], [3.0]])          # (3, 1)
    Q = np.array([[1.0, -1.0, 2.0, 0.5]])        # (1, 4)
    W = np.arange(12.0).reshape(3, 4)
    _, (dp, dq), _ = gradient(g, {p: P, q: Q, w: W}, root, [p, q])
    assert dp.shape == (3, 1) and dq.shape == (1, 4)
    assert np.allclose(dp, (Q * W).sum(axis=1, keepdims=True))
    assert np.allclose(dq, (P * W).sum(axis=0, keepdims=True))


def test_unbroadcast_directly():
    grad = np.ones((2, 3, 4))
    assert unbroadcast(grad, np.zeros((3, 1))).shape == (3, 1)
    assert np.all(unbroadcast(grad, np.zeros((3, 1))) == 8.0)
    assert np.all(unbroadcast(grad, np.zeros((4,))) == 6.0)
    assert unbroadcast(grad, 1.0) == 24.0
    assert unbroadcast(2.5, 1.0) == 2.5
    assert np.array_equal(unbroadcast(np.full((3,), 2.0), np.zeros((3,))), [2.0, 2.0, 2.0])
    # A scalar gradient for an array argument is spread over its shape.
    out = unbroadcast(np.float64(2.0) * np.ones(()), np.zeros((2, 2)))
    assert out.shape == (2, 2) and np.all(out == 2.0)


def test_matmul_graph_gradient():
    g = Graph()
    a, b = g.var("A"), g.var("B")
    root = g.apply("sum", g.apply("matmul", a, b))
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    B = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]])
    _, (dA, dB), _ = gradient(g, {a: A, b: B}, root, [a, b])
    assert np.allclose(dA, np.ones((3, 3)) @ B.T)
    assert np.allclose(dB, A.T @ np.ones((3, 3)))


# ------------------------------------------------------------------ kinks ---
@pytest.mark.parametrize("text, at, expected", [
    ("relu(x)", 0.0, 0.0),
    ("abs(x)", 0.0, 0.0),
    ("3*relu(x) + x", 0.0, 1.0),
])
def test_kink_uses_subgradient_zero_and_is_marked(text, at, expected):
    p = parse(text)
    x = p.graph.variables["x"]
    _, (dx,), back = gradient(p.graph, {x: at}, p.root, [x])
    assert dx == expected
    assert back.kinks, text
    assert {p.graph.nodes[k].op for k in back.kinks} <= {"relu", "abs"}


def test_no_kink_away_from_zero():
    p = parse("relu(x) + abs(x)")
    x = p.graph.variables["x"]
    _, (dx,), back = gradient(p.graph, {x: -2.0}, p.root, [x])
    assert dx == -1.0 and back.kinks == []
    _, (dx,), back = gradient(p.graph, {x: 2.0}, p.root, [x])
    assert dx == 2.0 and back.kinks == []


# ------------------------------------------------------------- non-finite ---
@pytest.mark.parametrize("text, at, fragments", [
    ("log(x)", {"x": -1.0}, ["log(-1)", "x=-1"]),
    ("exp(x)", {"x": 1000.0}, ["exp(1000)", "x=1000"]),
    ("sqrt(x) + 1", {"x": -4.0}, ["sqrt(-4)"]),
    ("x/y", {"x": 1.0, "y": 0.0}, ["div(1, 0)"]),
    ("x**y", {"x": -8.0, "y": 0.5}, ["pow(-8, 0.5)"]),
    ("x*1e300*1e300", {"x": 1.0}, ["mul("]),  # a literal beyond ±1e300 is refused by the parser
    ("x**x", {"x": 1000.0}, ["pow(1000, 1000)"]),
])
def test_forward_non_finite_names_op_and_point(text, at, fragments):
    p = parse(text)
    bindings = {p.graph.variables[n]: v for n, v in at.items()}
    point = ", ".join(f"{n}={v:g}" for n, v in at.items())
    with pytest.raises(NonFiniteError) as info:
        forward(p.graph, bindings, point=point)
    msg = info.value.what
    for fragment in fragments:
        assert fragment in msg, msg
    assert f"at {point}" in msg
    assert info.value.where and info.value.where.startswith("column ")


def test_errors_carry_the_node_they_happened_at():
    from gradcli.engine import EngineError

    p = parse("x + log(x - 3)")
    g = p.graph
    with pytest.raises(EngineError) as info:
        forward(g, {g.variables["x"]: 1.0})
    node = g.nodes[info.value.node]
    assert node.op == "log" and node.col == 5 and info.value.col == 5
    assert info.value.where == "column 5"
    p = parse("sqrt(x)*2")
    with pytest.raises(EngineError) as info:
        gradient(p.graph, {p.graph.variables["x"]: 0.0}, p.root, [p.graph.variables["x"]])
    assert p.graph.nodes[info.value.node].op == "sqrt"


@pytest.mark.parametrize("text, x, fragment", [
    ("sqrt(x)", 0.0, "derivative of sqrt(0)"),
    ("x**y", 0.0, "derivative of pow(0, 2)"),   # d/dy x**y = x**y*log(x), log(0)
])
def test_backward_non_finite_names_op(text, x, fragment):
    p = parse(text)
    g = p.graph
    bindings = {g.variables["x"]: x}
    if "y" in g.variables:
        bindings[g.variables["y"]] = 2.0
    with pytest.raises(NonFiniteError) as info:
        gradient(g, bindings, p.root, list(g.variables.values()), point=f"x={x:g}")
    assert fragment in info.value.what, info.value.what
    assert "x=0" in info.value.what


def test_missing_binding_and_tensor_root():
    p = parse("x + y")
    with pytest.raises(NonFiniteError, match="no value given for 'y'"):
        forward(p.graph, {p.graph.variables["x"]: 1.0})
    g = Graph()
    a = g.var("a")
    root = g.apply("exp", a)
    values = forward(g, {a: np.array([1.0, 2.0])})
    with pytest.raises(NonFiniteError, match="must be a scalar"):
        backward(g, values, root, [a])


def test_recorded_edges_sum_to_adjoint():
    p = parse("x*x + sin(x)")
    g = p.graph
    x = g.variables["x"]
    values = forward(g, {x: 0.5})
    back = backward(g, values, p.root, [x], record=True)
    to_x = [c for (node, k), c in back.edges.items() if g.nodes[node].args[k] == x]
    assert len(to_x) == 3  # x*x (twice) and sin(x)
    assert sum(to_x) == pytest.approx(back.adjoint[x])
    assert back.adjoint[x] == pytest.approx(2 * 0.5 + math.cos(0.5), rel=1e-15)


def test_gradient_of_unused_variable_is_zero():
    g = Graph()
    x, y = g.var("x"), g.var("y")
    root = g.apply("sin", x)
    _, (dx, dy), _ = gradient(g, {x: 0.0, y: 3.0}, root, [x, y])
    assert (dx, dy) == (1.0, 0.0)
