"""The whitelist parser: precedence, `^`, error columns and hints, limits,
and a long list of hostile inputs (see conftest.HOSTILE)."""
from __future__ import annotations

import math
import time

import pytest

from gradcli import parse as parse_mod
from gradcli.errors import ExpressionError, GradcliError, LimitError
from gradcli.graph import CONST, VAR, Graph
from gradcli.parse import parse
from gradcli.engine import forward


def value(text: str, **at: float) -> float:
    """Evaluate `text` at the given point through the parser and the engine."""
    p = parse(text)
    bindings = {p.graph.variables[n]: float(v) for n, v in at.items()}
    assert set(p.graph.variables) <= set(at), p.graph.variables
    return forward(p.graph, bindings, p.root)[p.root]


def refusal(text: str, **kw) -> GradcliError:
    with pytest.raises(GradcliError) as info:
        parse(text, **kw)
    return info.value


# ------------------------------------------------------------- precedence ---
@pytest.mark.parametrize("text, at, expected", [
    ("-x**2", {"x": 3}, -9.0),
    ("-x^2", {"x": 3}, -9.0),
    ("(-x)**2", {"x": 3}, 9.0),
    ("2**x**2", {"x": 2}, 16.0),           # 2**(x**2), not (2**x)**2 = 16 too: see next
    ("2**x**3", {"x": 2}, 256.0),          # (2**2)**3 would be 64
    ("2^3^2", {}, 512.0),                  # right-associative: 2^(3^2)
    ("x**-2", {"x": 2}, 0.25),
    ("x^-2", {"x": 2}, 0.25),
    ("-2**2", {}, -4.0),
    ("2*x**2", {"x": 3}, 18.0),
    ("x/2/4", {"x": 16}, 2.0),            # left-associative
    ("x-1-1", {"x": 5}, 3.0),
    ("1+2*3", {}, 7.0),
    ("(1+2)*3", {}, 9.0),
    ("--x", {"x": 4}, 4.0),
    ("+x", {"x": 4}, 4.0),
    ("-x*y", {"x": 2, "y": 3}, -6.0),
    ("x**2**-1", {"x": 9}, 3.0),           # x**(2**-1)
    ("e**x", {"x": 1}, math.e),
    ("pi*r**2", {"r": 2}, 4 * math.pi),
    ("ln(e)", {}, 1.0),
    ("sigmoid(0)+relu(-3)+softplus(0)", {}, 0.5 + math.log(2.0)),
    ("abs(-3)+sqrt(16)+Heaviside(2)+sign(-5)", {}, 3 + 4 + 1 - 1),
    ("1_000*x", {"x": 1}, 1000.0),
    ("x\n+ 1", {"x": 1}, 2.0),             # YAML multi-line values: newlines are spaces
])
def test_precedence_and_values(text, at, expected):
    assert math.isclose(value(text, **at), expected, rel_tol=1e-15)


@pytest.mark.parametrize("a, b", [("x^2", "x**2"), ("x^y^2", "x**y**2"),
                                  ("(x+1)^3*y", "(x+1)**3*y"), ("-x^2", "-x**2")])
def test_caret_equals_double_star(a, b):
    for x, y in [(1.5, 0.5), (2.0, 3.0), (0.7, -1.2)]:
        at = {"x": x, "y": y}
        pa, pb = parse(a), parse(b)
        va = forward(pa.graph, {i: at[n] for n, i in pa.graph.variables.items()}, pa.root)
        vb = forward(pb.graph, {i: at[n] for n, i in pb.graph.variables.items()}, pb.root)
        assert va[pa.root] == vb[pb.root]
        assert [n.op for n in pa.graph.nodes] == [n.op for n in pb.graph.nodes]


def test_names_are_plain_symbols_and_constants():
    p = parse("beta*gamma + I*N + E + e + pi + lambda_1")
    assert sorted(p.graph.variables) == ["E", "I", "N", "beta", "gamma", "lambda_1"]
    consts = [n for n in p.graph.nodes if n.op == CONST]
    assert sorted(n.name for n in consts) == ["e", "pi"]
    assert {n.value for n in consts} == {math.e, math.pi}
    at = {"beta": 2, "gamma": 3, "I": 5, "N": 7, "E": 11, "lambda_1": 0}
    assert math.isclose(value("beta*gamma + I*N + E + e + pi + lambda_1", **at),
                        6 + 35 + 11 + math.e + math.pi)


def test_graph_shares_variables_and_orders_topologically():
    p = parse("x*x + sin(x)")
    g = p.graph
    assert g.variables == {"x": 0}
    assert [n.op for n in g.nodes] == [VAR, "mul", "sin", "add"]
    for i, node in enumerate(g.nodes):
        assert all(a < i for a in node.args)
    assert p.root == len(g) - 1


def test_parse_into_existing_graph_with_resolver():
    g = Graph()
    w = g.var("w")

    def resolve(name, col):
        if name == "w":
            return w
        raise ExpressionError(f"unknown name {name}", "", col)

    p = parse("2*w + 1", graph=g, resolve=resolve)
    assert p.graph is g and g.variables == {"w": w}
    with pytest.raises(ExpressionError, match="unknown name q"):
        parse("q + 1", graph=g, resolve=resolve)


# --------------------------------------------------- columns, carets, hints ---
@pytest.mark.parametrize("text, col, fragment", [
    ("x + foo(y)", 5, "unknown function 'foo'"),
    ("x^2 + foo(y)", 7, "unknown function 'foo'"),   # column in the user's text, not after ^ -> **
    ("x^2^2 + x.y", 9, "attribute"),
    ("sin(x) + y[0]", 10, "indexing"),
    ("x %  2", 3, "'%'"),                             # the operator itself
    ("x^2 // y", 5, "'//'"),
    ("x+1)", 4, "unbalanced"),
    ("(x+1", 1, "unbalanced"),
    ("x + 'a'", 5, "strings"),
    ("x + _y", 5, "'_'"),
    ("y**x**20000", 7, "exponent too large"),
])
def test_error_columns(text, col, fragment):
    err = refusal(text)
    assert err.col == col if isinstance(err, ExpressionError) else True
    assert f"column {col}" in err.line(), err.line()
    assert fragment in err.what, err.what
    if isinstance(err, ExpressionError):
        # The expression, then a caret under the column.
        lines = err.detail.splitlines()
        assert lines[0] == "  " + text
        assert lines[1] == "  " + " " * (col - 1) + "^"


def test_error_line_format():
    err = refusal("x.real")
    assert err.line() == "error: column 1: attribute access is not allowed"
    assert err.exit_code == 2
    err = refusal("x.real", where="model.yaml:3")
    assert err.line().startswith("error: model.yaml:3:1: ")


@pytest.mark.parametrize("text, hint, col", [
    ("2x", "did you mean 2*x?", 2),
    ("3.5y + 1", "did you mean 3.5*y?", 4),
    ("x + 10sin(x)", "did you mean 10*sin?", 7),
    ("1e5x", "did you mean 1e5*x?", 4),
    ("2.5e-3y", "did you mean 2.5e-3*y?", 7),
    ("2(x+1)", "did you mean 2*(...)?", 2),
    ("x^2 + 3(x)", "did you mean 3*(...)?", 8),
])
def test_juxtaposition_hints(text, hint, col):
    err = refusal(text)
    assert hint in err.what, err.what
    assert err.col == col


def test_unknown_function_lists_known_ones():
    err = refusal("foo(x)")
    assert "unknown function 'foo'" in err.what
    assert "known functions:" in err.what
    for fn in ("exp", "log", "ln", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu",
               "softplus", "abs"):
        assert fn in err.what.split("known functions:")[1], fn
    assert "did you mean sigmoid?" in refusal("sigmod(x)").what
    assert "did you mean" not in refusal("qqqqqq(x)").what.split(";")[1]


def test_arity_and_function_names():
    assert "takes 1 argument, got 2" in refusal("exp(x, y)").what
    assert "takes 1 argument, got 0" in refusal("exp()").what
    assert "keyword" in refusal("exp(x=1)").what
    assert "is a function: call it as exp(...)" in refusal("exp + 1").what
    assert "spell Greek letters out" in refusal("σ(x)").what


# ---------------------------------------------------------------- hostile ---
def test_hostile_inputs_are_refused(hostile):
    start = time.perf_counter()
    with pytest.raises(GradcliError) as info:
        parse(hostile)
    elapsed = time.perf_counter() - start
    err = info.value
    assert err.exit_code == 2
    line = err.line()
    assert line.startswith("error: ") and "\n" not in line
    assert err.what.strip()
    assert "Traceback" not in line
    assert elapsed < 5.0, (elapsed, hostile[:40])


def test_hostile_count():
    from conftest import HOSTILE

    assert len(HOSTILE) >= 30
    assert len({t for _, t in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize("text, kind, fragment", [
    ("x**10**10", LimitError, "exponent too large"),
    ("x**100001", LimitError, "10,000"),
    ("2**-20000*x", LimitError, "exponent too large: -20000"),
    ("x" * 100_001, LimitError, "expression too long: 100,001 characters"),
    ("x+" * 600_000 + "x", LimitError, "expression too long"),
    ("(" * 10000 + "x" + ")" * 10000, LimitError, "nested too deeply"),
    ("-" * 1001 + "x", LimitError, "nested too deeply"),
    ("1e999*x", ExpressionError, "not finite"),
    ("1" * 5000, ExpressionError, "too long"),
    ("", ExpressionError, "empty"),
    (" \n ", ExpressionError, "empty"),
])
def test_limit_messages(text, kind, fragment):
    start = time.perf_counter()
    err = refusal(text)
    assert isinstance(err, kind), (type(err), err.line())
    assert fragment in err.line(), err.line()
    assert time.perf_counter() - start < 5.0


def test_non_text_is_refused():
    with pytest.raises(ExpressionError, match="must be text"):
        parse(b"x")  # type: ignore[arg-type]


# ------------------------------------------------------------- acceptance ---
def test_long_sum_of_10000_characters():
    text = "+".join(["x"] * 5000)
    assert len(text) == 9999
    assert value(text, x=1.5) == pytest.approx(7500.0)


def test_length_limit_boundary():
    at_limit = "x" + " " * (parse_mod.MAX_LENGTH - 3) + "+1"
    assert len(at_limit) == parse_mod.MAX_LENGTH
    assert value(at_limit, x=1.0) == 2.0
    with pytest.raises(LimitError, match="100,001 characters"):
        parse(at_limit + " ")


@pytest.mark.parametrize("depth", [100, 199])
def test_deep_nesting_is_accepted(depth):
    assert value("(" * depth + "x" + ")" * depth, x=2.0) == 2.0
    assert value("sin(" * depth + "x" + ")" * depth, x=0.5) == pytest.approx(
        _iterate(math.sin, 0.5, depth), rel=1e-14)
    assert value("-" * depth + "x", x=2.0) == (-2.0 if depth % 2 else 2.0)


def _iterate(f, x, n):
    for _ in range(n):
        x = f(x)
    return x


def test_exponent_at_the_limit():
    assert value("x**1000", x=1.001) == pytest.approx(1.001 ** 1000)
    assert value("x**10000", x=1.0) == 1.0
    assert value("x^-10000", x=1.0) == 1.0
    assert value("x**y", x=2, y=20000.0 / 10000) == 4.0  # only literal exponents are limited


def test_ten_thousand_node_graph():
    terms = [f"sin(w{i % 100}*x{i % 37})" for i in range(3400)]
    text = "+".join(terms)
    p = parse(text)
    assert 10_000 <= len(p.graph) < 12_000
    at = {f"w{i}": 0.01 * i for i in range(100)} | {f"x{j}": 1.0 for j in range(37)}
    expected = sum(math.sin(0.01 * (i % 100)) for i in range(3400))
    assert value(text, **at) == pytest.approx(expected, rel=1e-12)


def test_depth_limit_boundary_for_non_parenthesised_nesting():
    assert value("-" * 999 + "x", x=1.0) == -1.0
    with pytest.raises(LimitError):
        parse("-" * 1001 + "x")
    with pytest.raises(LimitError):
        parse("(" * 1001 + "x" + ")" * 1001)


def test_large_number_folding_is_not_an_exponent_loophole():
    for text in ("x**(10**5)", "x**(pi**9)", "x**(e*10000)", "x**(1/0)"):
        assert isinstance(refusal(text), LimitError), text
    # Big constants elsewhere are fine to parse (they may overflow later).
    assert len(parse("10**400").graph) == 3


def test_node_limit_boundary():
    from gradcli.graph import MAX_NODES

    assert MAX_NODES == 50_000
    g = Graph()
    x = g.var("x")
    node = x
    for _ in range(MAX_NODES - 2):       # 49,999 nodes in all: accepted
        node = g.apply("neg", node)
    assert len(g) == MAX_NODES - 1
    with pytest.raises(LimitError, match="50,000 nodes or more"):
        g.apply("neg", node)             # the 50,000th: refused
    with pytest.raises(LimitError, match="5 nodes"):
        parse("x+y+z+w", graph=Graph(max_nodes=5))
    assert len(parse("x+x+x", graph=Graph(max_nodes=5)).graph) == 3
