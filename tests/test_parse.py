"""The whitelist parser: Python's precedence, student notation, refusals with
columns and carets, constant folding, limits, and a long list of hostile
inputs (see conftest.HOSTILE).  Expected values come from Python lambdas
written beside each expression (an independent reading of the same maths)."""
from __future__ import annotations

import dataclasses
import math
import re
import sys
import threading
from pathlib import Path

import pytest

from gradcli import parse as parse_mod
from gradcli.errors import ExpressionError, GradcliError, LimitError
from gradcli.graph import CONST, VAR, Graph
from gradcli.engine import forward
from gradcli.i18n import Msg
from gradcli.ops import OPS
from gradcli.parse import MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, Parsed, is_identifier, parse

SIGMOID = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731


def value(text: str, **at: float) -> float:
    """Evaluate `text` at the given point through the parser and the engine."""
    p = parse(text)
    assert set(p.graph.variables) <= set(at), p.graph.variables
    bindings = {p.graph.variables[n]: float(v) for n, v in at.items() if n in p.graph.variables}
    return forward(p.graph, bindings, p.root)[p.root]


def refusal(text: str, **kw) -> GradcliError:
    with pytest.raises(GradcliError) as info:
        parse(text, **kw)
    return info.value


def shape(text: str, **kw) -> list[tuple]:
    """The graph as data: op, arguments, constant value and variable name per node."""
    p = parse(text, **kw)
    return [(n.op, n.args, n.value, n.name) for n in p.graph.nodes]


# ------------------------------------------------------------- precedence ---
@pytest.mark.parametrize("text, at, expected", [
    ("-x**2", {"x": 3}, lambda x: -x**2),
    ("-x^2", {"x": 3}, lambda x: -x**2),
    ("(-x)**2", {"x": 3}, lambda x: (-x)**2),
    ("2**x**3", {"x": 2}, lambda x: 2**x**3),        # 2**(x**3) = 256; (2**2)**3 = 64
    ("2^3^2", {}, lambda: 2**3**2),                   # right-associative: 512
    ("x**-2", {"x": 2}, lambda x: x**-2),
    ("x^-2", {"x": 2}, lambda x: x**-2),
    ("-2**2", {}, lambda: -2**2),
    ("-2**-2", {}, lambda: -2**-2),
    ("2**-x**2", {"x": 1.5}, lambda x: 2**-x**2),
    ("x**-y*3", {"x": 2, "y": 3}, lambda x, y: x**-y*3),
    ("2*x**2", {"x": 3}, lambda x: 2*x**2),
    ("x/2/4", {"x": 16}, lambda x: x/2/4),            # left-associative
    ("x-1-1", {"x": 5}, lambda x: x-1-1),
    ("x - y + z", {"x": 5, "y": 2, "z": 7}, lambda x, y, z: x - y + z),
    ("1+2*3", {}, lambda: 1+2*3),
    ("(1+2)*3", {}, lambda: (1+2)*3),
    ("--x", {"x": 4}, lambda x: --x),
    ("+x", {"x": 4}, lambda x: +x),
    ("-+-x", {"x": 4}, lambda x: -+-x),
    ("-x*y", {"x": 2, "y": 3}, lambda x, y: -x*y),
    ("x**2**-1", {"x": 9}, lambda x: x**2**-1),
    ("e**x", {"x": 1}, lambda x: math.e**x),
    ("pi*r**2", {"r": 2}, lambda r: math.pi*r**2),
    ("ln(e)", {}, lambda: 1.0),
    ("sigmoid(0)+relu(-3)+softplus(0)", {}, lambda: 0.5 + math.log(2.0)),
    ("abs(-3)+sqrt(16)+Heaviside(2)+sign(-5)", {}, lambda: 3 + 4 + 1 - 1),
    ("1_000*x", {"x": 1}, lambda x: 1_000*x),
    (".5*x + 5.*x", {"x": 2}, lambda x: .5*x + 5.*x),
    ("x\n+ 1", {"x": 1}, lambda x: x + 1),            # YAML multi-line values
    ("x\r\n+\t1", {"x": 1}, lambda x: x + 1),
])
def test_precedence_and_values(text, at, expected):
    assert math.isclose(value(text, **at), expected(**at), rel_tol=1e-15)


@pytest.mark.parametrize("a, b", [("x^2", "x**2"), ("x^y^2", "x**y**2"),
                                  ("(x+1)^3*y", "(x+1)**3*y"), ("-x^2", "-x**2")])
def test_caret_equals_double_star(a, b):
    assert shape(a) == shape(b)


def test_matmul_is_a_product_level_operator():
    assert [n.op for n in parse("a @ b + c").graph.nodes] == [VAR, VAR, "matmul", VAR, "add"]
    assert [n.op for n in parse("a + b @ c").graph.nodes] == [VAR, VAR, VAR, "matmul", "add"]
    assert shape("a @ b * c") == shape("(a @ b) * c")
    assert shape("Wᵀ @ x") == shape("transpose(W) @ x")


def test_names_are_plain_symbols_and_constants():
    p = parse("beta*gamma + I*N + E + e + pi + lambda_1")
    assert sorted(p.graph.variables) == ["E", "I", "N", "beta", "gamma", "lambda_1"]
    consts = [n for n in p.graph.nodes if n.op == CONST]
    assert sorted(n.name for n in consts) == ["e", "pi"]
    assert {n.value for n in consts} == {math.e, math.pi}


def test_graph_shares_variables_and_orders_topologically():
    p = parse("x*x + sin(x)")
    g = p.graph
    assert g.variables == {"x": 0}
    assert [n.op for n in g.nodes] == [VAR, "mul", "sin", "add"]
    for i, node in enumerate(g.nodes):
        assert all(a < i for a in node.args)
    assert p.root == len(g) - 1


def test_node_columns_point_at_what_the_user_wrote():
    g = parse("x + 2*sin(y)^2").graph
    cols = {(n.op, n.col) for n in g.nodes}
    assert cols == {(VAR, 1), (CONST, 5), (VAR, 11), ("sin", 7), (CONST, 14), ("pow", 13),
                    ("mul", 6), ("add", 3)}


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


def test_public_names():
    assert (MAX_LENGTH, MAX_DEPTH, MAX_EXPONENT) == (100_000, 1_000, 10_000)
    assert parse_mod.MAX_NUMBER == 1e300
    assert isinstance(parse("x"), Parsed)


# --------------------------------------------------------- student notation ---
@pytest.mark.parametrize("student, plain", [
    ("2x", "2*x"),
    ("3x^2", "3*x**2"),
    ("2(x+1)", "2*(x+1)"),
    ("(x+1)(x-1)", "(x+1)*(x-1)"),
    ("x(x+1)", "x*(x+1)"),
    ("w1(x+1)", "w1*(x+1)"),
    ("2 pi x", "2*pi*x"),
    ("w x + b", "w*x + b"),
    ("2 tanh(x) (1 - tanh(x)^2)", "2*tanh(x)*(1 - tanh(x)**2)"),
    ("1/2x", "(1/2)*x"),
    ("x^2y", "x**2*y"),
    ("√2x", "sqrt(2)*x"),
    ("2√x", "2*sqrt(x)"),
    ("√x^2", "sqrt(x**2)"),
    ("-2x", "-2*x"),
    ("x²", "x**2"),
    ("-x²", "-x**2"),
    ("2x²", "2*x**2"),
    ("(x²+1)³", "(x**2+1)**3"),
    ("e^(x²)", "e**(x**2)"),
    ("x¹⁰", "x**10"),
    ("x²y", "x**2*y"),
    ("sin(x)²", "sin(x)**2"),
    ("a·b × c ⋅ d", "a*b*c*d"),
    ("a ÷ b", "a/b"),
    ("a − b", "a - b"),
    ("√x", "sqrt(x)"),
    ("√(x+1)", "sqrt(x+1)"),
    ("σ(z)", "sigmoid(z)"),
    ("σ(z)(1 - σ(z))", "sigmoid(z)*(1 - sigmoid(z))"),  # seed note 004's sigma'
    ("sin(x)(y)", "sin(x)*y"),
    ("2e", "2*e"),
    ("2e5x", "2e5*x"),
    ("2.5e-3y", "2.5e-3*y"),
    ("10sin(x)", "10*sin(x)"),
    ("x (y)", "x*(y)"),
    ("sin(x) (y)", "sin(x)*(y)"),
    ("Wᵀ", "transpose(W)"),
    ("(a@b)ᵀ", "transpose(a@b)"),
    ("  x  **  2 + 3 * x ", "x**2 + 3*x"),
    ("\n\tx\n", "x"),
    ("π r²", "pi*r**2"),
])
def test_student_notation_means_the_plain_form(student, plain):
    assert shape(student) == shape(plain)


@pytest.mark.parametrize("text, at, expected", [
    ("6x(x^2+1)^2", {"x": 2}, 300.0),
    ("(x+1)(x-1)", {"x": 3}, 8.0),
    ("2 tanh(x) (1 - tanh(x)^2)", {"x": 0.5}, 2 * math.tanh(0.5) * (1 - math.tanh(0.5) ** 2)),
    ("σ(z) (1 - σ(z))", {"z": 0.3}, SIGMOID(0.3) * (1 - SIGMOID(0.3))),
    ("1/2x", {"x": 4}, 2.0),
    ("x⁻¹ + x⁺²", {"x": 4}, 0.25 + 16.0),   # a signed superscript is one constant exponent
])
def test_student_notation_values(text, at, expected):
    assert value(text, **at) == pytest.approx(expected, rel=1e-14)


def test_names_in_any_script():
    assert set(parse("ŷ - yhat + θ*theta").graph.variables) == {"theta", "yhat", "θ", "ŷ"}
    assert set(parse("가중치*입력 + 편향").graph.variables) == {"가중치", "입력", "편향"}
    assert list(parse("xy").graph.variables) == ["xy"]
    assert list(parse("x²").graph.variables) == ["x"]         # never the name x2
    assert list(parse("x2").graph.variables) == ["x2"]
    # NFKC, as Python reads identifiers: y + combining circumflex is ŷ, w₁ is w1
    assert list(parse("y\u0302").graph.variables) == ["ŷ"]
    assert list(parse("w₁ + w1").graph.variables) == ["w1"]
    assert list(parse("ｘ").graph.variables) == ["x"]


def test_name_paren_rule():
    assert shape("θ(x+1)") == shape("θ*(x+1)")
    assert shape("e(x+1)") == shape("e*(x+1)")
    err = refusal("xy(x+1)")
    assert "unknown function 'xy'" in err.what and "xy*(...)" in err.what and err.col == 1
    # a name the caller binds multiplies
    assert shape("xy(x+1)", bound=["xy"]) == shape("xy*(x+1)")
    assert shape("h_1 (x)", bound={"h_1"}) == shape("h_1*(x)")
    err = refusal("sinn(x)")
    assert "unknown function 'sinn'; did you mean sin?" in err.what
    assert "did you mean sigmoid?" in refusal("sigmod(x)").what
    assert "did you mean" not in str(refusal("qqqqqq(x)").what).split(";")[1]


@pytest.mark.parametrize("text", ["sin x", "sin²x", "sin^2(x)", "sin**2(x)", "sin^2 x", "σ z"])
def test_function_powers_and_missing_parentheses_get_a_hint(text):
    err = refusal(text)
    assert isinstance(err, ExpressionError) and err.col == 1
    fn = text.split()[0][0] if text.startswith("σ") else "sin"
    assert f"{fn}(x)**2" in err.what, err.what


# --------------------------------------------------- columns, carets, hints ---
@pytest.mark.parametrize("text, col, fragment", [
    ("x + foo(y)", 5, "unknown function 'foo'"),
    ("x^2 + foo(y)", 7, "unknown function 'foo'"),
    ("x² + foo(y)", 6, "unknown function 'foo'"),      # columns in the user's own text
    ("x^2^2 + x.y", 9, "attribute"),
    ("(a+b).real", 1, "attribute"),
    ("sin(x) + y[0]", 10, "indexing"),
    ("[x]", 1, "lists"),
    ("x %  2", 3, "'%'"),
    ("x^2 // y", 5, "'//'"),
    ("x | y", 3, "'|'"),
    ("x & y", 3, "'&'"),
    ("x << 2", 3, "'<<'"),
    ("~x", 1, "'~'"),
    ("x < y", 3, "comparisons"),
    ("x == y", 3, "comparisons"),
    ("x is y", 3, "comparisons"),
    ("x and y", 3, "'and'"),
    ("not x", 1, "'not'"),
    ("x if y else z", 3, "conditional"),
    ("lambda x: x", 1, "lambda"),
    ("x+1)", 4, "unbalanced"),
    ("(x+1", 1, "unbalanced"),
    ("sin(x", 4, "unbalanced"),
    ("x + 'a'", 5, "strings"),
    ('x + "a"', 5, "strings"),
    ("f'{x}'", 1, "f-strings"),
    ("b'x'", 1, "bytes"),
    ("x + _y", 5, "'_'"),
    ("__class__", 1, "'_'"),
    ("y**x**20000", 7, "exponent too large"),
    ("x = 1", 3, "assignment"),
    ("(x := 1)", 4, "assignment"),
    ("x;y", 2, "';'"),
    ("(x, y)", 3, "tuples"),
    ("{x}", 1, "dictionaries and sets"),
    ("True*x", 1, "'True'"),
    ("None", 1, "'None'"),
    ("...", 1, "Ellipsis"),
    ("1j*x", 1, "complex"),
    ("x@@y", 3, "after '@', found '@'"),
    ("x + * 2", 5, "expected a number, a name or '(' after '+', found '*'"),
    ("x +", 4, "after '+', found the end of the expression"),
    ("x +   ", 4, "after '+', found the end of the expression"),
    (")", 1, "at the start, found ')'"),
    ("exp(x, y)", 1, "exp() takes 1 argument, got 2"),
    ("exp()", 1, "exp() takes 1 argument, got 0"),
    ("exp(x=1)", 6, "exp() takes no keyword arguments"),
    ("exp(*x)", 5, "starred"),
    ("exp(**x)", 5, "starred"),
    ("exp + 1", 1, "'exp' is a function: call it as exp(...)"),
    ("()", 1, "empty parentheses"),
    ("x\x00", 2, "control character U+0000"),
    ("x\u200b+y", 2, "invisible character U+200B"),
    ("x – y", 3, "did you mean '-'?"),
    ("x ≤ y", 3, "'≤'"),
    ("٣x", 1, "it starts with a digit"),
    ("xⁿ", 2, "superscript letter 'ⁿ'"),
    ("x⁻", 2, "superscript '⁻' is not a power"),
    ("x + ²", 5, "superscript must follow"),
    ("0x1f", 1, "base 16"),
    ("x 2", 3, "expected an operator before the number 2"),
    ("(x+1) 2", 7, "expected an operator before the number 2"),
    ("w x\n b", 6, "separate lines"),
    ("x # comment", 3, "comments"),
    ("import os", 1, "Python keyword"),
])
def test_refusals_name_the_column_and_what_was_expected(text, col, fragment):
    err = refusal(text)
    assert err.exit_code == 2
    assert f"column {col}:" in err.line(), err.line()
    assert fragment in err.what, err.what
    lines = err.detail.splitlines()
    assert lines == ["  " + _escaped(text), "  " + " " * len(_escaped(text[:col - 1])) + "^"]


def _escaped(text: str) -> str:
    from gradcli.errors import escape

    return escape(text)


def test_error_line_format():
    err = refusal("x.real")
    assert err.line() == "error: column 1: attribute access is not allowed"
    assert err.detail == "  x.real\n  ^"
    err = refusal("x.real", where="model.yaml:3")
    assert err.line().startswith("error: model.yaml:3:1: ")
    err = refusal("x + x.real", where=lambda col: f"model.yaml:7:{col + 8}")
    assert err.line().startswith("error: model.yaml:7:13: ")


def test_messages_are_translatable():
    for text in ("x.real", "2**-20000*x", "0/0", "foo(x)", "x" * 100_001, "x +", "(x+1",
                 "9**9999", "1e999", "exp(x, y)", "sin x", "x 2"):
        assert isinstance(refusal(text).what, Msg), text


def test_caret_aligns_under_wide_and_escaped_characters():
    err = refusal("가중치 + foo(x)")
    assert err.col == 7
    shown, caret = err.detail.splitlines()
    assert shown == "  가중치 + foo(x)"
    assert caret == "  " + " " * 9 + "^"     # three wide syllables take 6 columns
    err = refusal("ŷ + foo(x)".replace("ŷ", "y\u0302"))   # combining mark: no column
    assert err.detail.splitlines()[1] == "  " + " " * 4 + "^"
    err = refusal("x\t+ %")
    assert err.detail == "  x\\t+ %\n  " + " " * 5 + "^"
    err = refusal("x +\n\x1b[31m")
    assert err.line() == "error: column 5: control character U+001B is not allowed"
    assert err.detail == "  x +\\n\\x1b[31m\n  " + " " * 5 + "^"


def test_long_text_shows_a_window_around_the_caret():
    text = "x+" * 150 + "foo(x)" + "+x" * 100
    err = refusal(text)
    assert err.col == 301
    shown, caret = err.detail.splitlines()
    assert shown.startswith("  …") and shown.endswith("…") and len(shown) < 130
    assert shown[len(caret) - 1:].startswith("foo(x)")


# ---------------------------------------------------------------- hostile ---
def test_hostile_inputs_are_refused(hostile):
    with pytest.raises(GradcliError) as info:
        parse(hostile)
    err = info.value
    assert err.exit_code == 2
    line = err.line()
    assert line.startswith("error: ") and "\n" not in line
    assert str(err.what).strip()
    assert "Traceback" not in line
    if err.detail is not None:  # the caret detail: two lines, control characters escaped
        rows = err.detail.splitlines()
        assert len(rows) == 2 and all(row.isprintable() for row in rows)
        assert rows[1].strip() == "^"


def test_hostile_count_and_inputs_now_valid():
    from conftest import HOSTILE

    assert len(HOSTILE) >= 90
    assert len({t for _, t in HOSTILE}) == len(HOSTILE)
    texts = {t for _, t in HOSTILE}
    # valid by the contract's student notation, so no longer in the corpus:
    for valid, plain in [("2x", "2*x"), ("2(x+1)", "2*(x+1)"), ("σ(x)", "sigmoid(x)")]:
        assert valid not in texts
        assert shape(valid) == shape(plain)


# ------------------------------------------------------- constant folding ---
@pytest.mark.parametrize("text, col, message", [
    ("0/0", 2, "'0/0' is undefined: 0 divided by 0"),
    ("x + 0/0", 6, "'0/0' is undefined: 0 divided by 0"),
    ("x*(0/0)", 5, "'0/0' is undefined: 0 divided by 0"),
    ("1/0", 2, "'1/0' is infinite: division by zero"),
    ("x + log(0)", 5, "'log(0)' is infinite: the log of 0"),
    ("log(-2)", 1, "'log(-2)' is not a real number: the log of a negative number"),
    ("x*sqrt(-4)", 3, "'sqrt(-4)' is not a real number: the square root of a negative number"),
    ("(-8)**(1/3)", 5, "'(-8)**(1/3)' is not a real number: a negative number to a "
                       "fractional power"),
    ("0**-1", 2, "'0**-1' is infinite: 0 to a negative power"),
    ("x + 2/(1 - 1)", 6, "'2/(1 - 1)' is infinite: division by zero"),
])
def test_undefined_constant_parts_are_refused_naming_the_operation(text, col, message):
    err = refusal(text)
    assert isinstance(err, ExpressionError)
    assert err.line() == f"error: column {col}: {message}"
    assert err.detail.splitlines()[1] == "  " + " " * (col - 1) + "^"


@pytest.mark.parametrize("text, col, fragment", [
    ("9**9999", 2, "'9**9999' is beyond ±1e300"),
    ("x*9**5000", 4, "'9**5000' is beyond ±1e300"),
    ("x + exp(1000)", 5, "'exp(1000)' is beyond ±1e300"),
    ("1e200*1e200*x", 6, "'1e200*1e200' is beyond ±1e300"),
    ("10**400", 3, "'10**400' is beyond ±1e300"),
    ("1" * 401, 1, "(401 digits) is not finite (numbers are limited to ±1e300)"),
    ("x*" + "1" * 301, 3, "(301 digits) is beyond ±1e300, the limit for numbers"),
    ("1e999*x", 1, "the number 1e999 is not finite"),
])
def test_constants_beyond_1e300_are_refused_naming_them_and_the_limit(text, col, fragment):
    err = refusal(text)
    assert isinstance(err, LimitError) and err.exit_code == 2
    assert f"column {col}: " in err.line() and fragment in err.line(), err.line()
    assert err.detail.splitlines()[1] == "  " + " " * (col - 1) + "^"


def test_large_and_tiny_constants_within_the_limit_are_kept():
    assert value("1e300*x", x=1.0) == 1e300
    assert value("-1e300 + x", x=0.0) == -1e300
    assert value("10**300*x", x=1.0) == pytest.approx(1e300)
    assert value("1e-400 + x", x=1.0) == 1.0


def test_folding_keeps_the_original_nodes():
    g = parse("2*3*x - 0*x").graph
    assert [n.op for n in g.nodes] == [CONST, CONST, "mul", VAR, "mul", CONST, "mul", "sub"]
    assert [n.value for n in g.nodes if n.op == CONST] == [2.0, 3.0, 0.0]


def test_folding_uses_the_op_table(monkeypatch):
    calls = []
    add = OPS["add"]

    def counting(a, b):
        calls.append((a, b))
        return add.forward(a, b)

    monkeypatch.setitem(OPS, "add", dataclasses.replace(add, forward=counting))
    parse("1 + 2 + x + 3")
    assert calls == [(1.0, 2.0)]  # only the constant part is folded
    monkeypatch.setitem(OPS, "add", dataclasses.replace(add, forward=lambda a, b: 1e301))
    assert "beyond" in refusal("1 + 2").what


# ------------------------------------------------------------------ limits ---
@pytest.mark.parametrize("text, fragment", [
    ("x**10**10", "exponent too large: 1e+10"),
    ("x**100001", "exponent too large: 100001"),
    ("2**-20000*x", "exponent too large: -20000"),
    ("x^20000", "exponent too large: 20000"),
    ("x**(100*100*100)", "exponent too large: 1e+06"),
    ("x**1e5", "exponent too large: 100000"),
    ("9**9**9**9", "exponent too large"),
    ("x**(pi**9)", "exponent too large"),
    ("x**(e*10000)", "exponent too large"),
    ("x¹⁰⁰⁰¹", "exponent too large: 10001"),
    ("x" * 100_001, "expression too long: 100,001 characters (the limit is 100,000)"),
    ("x+" * 600_000 + "x", "expression too long"),
    ("(" * 10000 + "x" + ")" * 10000, "nested too deeply"),
    ("-" * 1001 + "x", "nested too deeply"),
])
def test_limit_messages(text, fragment):
    err = refusal(text)
    assert isinstance(err, LimitError), (type(err), err.line())
    assert fragment in err.line(), err.line()


def test_empty_and_non_text():
    for text in ("", " \n ", "\t"):
        err = refusal(text)
        assert isinstance(err, ExpressionError) and err.line() == "error: expression: empty expression"
    with pytest.raises(ExpressionError, match="must be text"):
        parse(b"x")  # type: ignore[arg-type]


def test_exponent_at_the_limit():
    assert value("x**1000", x=1.001) == pytest.approx(1.001 ** 1000)
    assert value("x**10000", x=1.0) == 1.0
    assert value("x^-10000", x=1.0) == 1.0
    assert value("x**(100*100)", x=1.0) == 1.0
    assert value("x**y", x=2, y=2.0) == 4.0  # only constant exponents are limited
    assert "exponent too large: 10001" in refusal("x**(10000 + 1)").what


def test_long_sum_of_10000_characters():
    text = "+".join(["x"] * 5000)
    assert len(text) == 9999
    assert value(text, x=1.5) == pytest.approx(7500.0)


def test_length_limit_boundary():
    at_limit = "x" + " " * (MAX_LENGTH - 3) + "+1"
    assert len(at_limit) == MAX_LENGTH
    assert value(at_limit, x=1.0) == 2.0
    with pytest.raises(LimitError, match="100,001 characters"):
        parse(at_limit + " ")


@pytest.mark.parametrize("depth", [100, 1000])
def test_nesting_up_to_the_limit_works(depth):
    assert value("(" * depth + "x" + ")" * depth, x=2.0) == 2.0
    assert value("sin(" * depth + "x" + ")" * depth, x=0.5) == pytest.approx(
        _iterate(math.sin, 0.5, depth), rel=1e-13)
    assert value("-" * depth + "x", x=2.0) == (-2.0 if depth % 2 else 2.0)
    assert value("√" * depth + "x", x=2.0) == pytest.approx(2.0 ** (0.5 ** depth))
    assert value("x**" * depth + "1", x=1.0) == 1.0  # x**(x**(...**1)): a tower
    assert value("-(" * (depth // 2) + "x" + ")" * (depth // 2), x=2.0) == (
        -2.0 if (depth // 2) % 2 else 2.0)


@pytest.mark.parametrize("text", [
    "(" * 1001 + "x" + ")" * 1001,
    "sin(" * 1001 + "x" + ")" * 1001,
    "-" * 1001 + "x",
    "√" * 1001 + "x",
    "x**" * 1001 + "1",
    "-(" * 501 + "x" + ")" * 501,
])
def test_nesting_over_the_limit_is_refused(text):
    err = refusal(text)
    assert isinstance(err, LimitError)
    assert "nested too deeply: more than 1,000 levels" in err.line()


def _iterate(f, x, n):
    for _ in range(n):
        x = f(x)
    return x


def test_ten_thousand_node_graph():
    terms = [f"sin(w{i % 100}*x{i % 37})" for i in range(3400)]
    text = "+".join(terms)
    p = parse(text)
    assert 10_000 <= len(p.graph) < 12_000
    at = {f"w{i}": 0.01 * i for i in range(100)} | {f"x{j}": 1.0 for j in range(37)}
    expected = sum(math.sin(0.01 * (i % 100)) for i in range(3400))
    assert value(text, **at) == pytest.approx(expected, rel=1e-12)


def test_node_limit_names_where():
    from gradcli.graph import MAX_NODES

    assert MAX_NODES == 50_000
    text = "x+" * 49_999 + "x"          # 49,999 sums and one variable: 50,000 nodes
    err = refusal(text)
    assert isinstance(err, LimitError)
    assert err.line() == "error: column 99998: graph too large: 50,000 nodes or more are refused"
    err = refusal(text, where=lambda col: f"net.yaml:12:{col + 9}")
    assert err.line().startswith("error: net.yaml:12:100007: graph too large")
    assert len(parse("x+" * 49_998 + "x").graph) == 49_999
    with pytest.raises(LimitError, match="5 nodes"):
        parse("x+y+z+w", graph=Graph(max_nodes=5))
    assert len(parse("x+x+x", graph=Graph(max_nodes=5)).graph) == 3


# ------------------------------------------------- no recursion, linear work ---
def test_parsing_never_touches_the_recursion_limit(monkeypatch):
    before = sys.getrecursionlimit()

    def refuse(limit):
        raise AssertionError(f"setrecursionlimit({limit}) called")

    monkeypatch.setattr(sys, "setrecursionlimit", refuse)
    parse("+".join(["x"] * 9_999))
    parse("(" * 1000 + "x" + ")" * 1000)
    assert sys.getrecursionlimit() == before


def test_deep_and_long_inputs_on_a_small_thread_stack():
    """A 1 MB thread stack, where the old ast-based parser crashed the process."""
    results: dict[str, object] = {}

    def work():
        try:
            results["sum"] = len(parse("+".join(["x"] * 9_999)).graph)
            results["parens"] = len(parse("(" * 1000 + "x" + ")" * 1000).graph)
            results["calls"] = len(parse("sin(" * 1000 + "x" + ")" * 1000).graph)
            results["signs"] = len(parse("-" * 1000 + "x").graph)
            results["tower"] = len(parse("x**" * 1000 + "2").graph)
            try:
                parse("x+" * 49_999 + "x")
            except LimitError as exc:
                results["refused"] = exc.line()
        except BaseException as exc:  # reported below, not lost in the thread
            results["error"] = repr(exc)

    old = threading.stack_size(1 << 20)
    try:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old)
    assert "error" not in results, results["error"]
    assert results["sum"] == 9_999  # 9,998 additions and the variable
    assert results["parens"] == 1
    assert results["calls"] == 1001
    assert results["signs"] == 1001
    assert results["tower"] == 1 + 1 + 1000  # x, the constant 2, 1000 pows
    assert "50,000 nodes" in results["refused"]


@pytest.mark.parametrize("make", [
    lambda n: "+".join(["x"] * n),
    lambda n: "(" * n + "x" + ")" * n,
    lambda n: "2x(" + " ".join(["w x²"] * n) + ")",
    lambda n: "*".join(["sin(σ(x))"] * n),
    lambda n: "-" * n + "x",
    lambda n: "x**" * n + "1",
    lambda n: "√(" * (n // 2) + "x" + ")" * (n // 2),
])
def test_work_grows_linearly(make):
    """Steps (tokens read + operators applied) grow in proportion to the input."""
    steps = {n: parse(make(n)).steps for n in (200, 400, 800)}
    first, second = steps[400] - steps[200], steps[800] - steps[400]
    assert first > 0 and second == 2 * first, steps


def test_work_is_counted_per_token_and_operator():
    # x + x + x: five tokens, the end, two additions
    assert parse("x + x + x").steps == 5 + 1 + 2


def test_the_parser_never_evaluates_or_uses_pythons_parser():
    package = Path(parse_mod.__file__).parent
    banned = re.compile(r"import ast|(?<![.\w])(eval|exec|compile)\(|sympify|parse_expr"
                        r"|setrecursionlimit")
    for path in package.glob("*.py"):
        assert not banned.search(path.read_text()), (path.name, banned.search(path.read_text()))


# ------------------------------------------------------------ identifiers ---
@pytest.mark.parametrize("name", ["x", "w1", "z_out", "yhat", "ŷ", "θ", "가중치", "입력",
                                  "lambda_1", "Heaviside_x", "E", "I"])
def test_valid_identifiers(name):
    assert is_identifier(name) is None
    assert list(parse(name).graph.variables) == [name]


@pytest.mark.parametrize("name, reason", [
    ("", "it is empty"),
    ("2x", "it starts with a digit"),
    ("٣x", "it starts with a digit"),
    ("a-b", "it contains the symbol '-'"),
    ("a.b", "it contains the symbol '.'"),
    ("a b", "it contains a space"),
    ("a\nb", "it contains a space"),
    ("a\x1bb", "it contains the control character U+001B"),
    ("x²", "it contains the superscript '²'"),
    ("Wᵀ", "it contains the superscript 'ᵀ'"),
    ("_x", "it starts with '_'"),
    ("__class__", "it starts with '_'"),
    ("lambda", "it is a Python keyword"),
    ("None", "it is a Python keyword"),
    ("sin", "it is a function name"),
    ("σ", "it is a function name"),
    ("pi", "it is a constant"),
    ("π", "it is a constant"),
    ("a·b", "it contains the symbol '·'"),
])
def test_invalid_identifiers_say_why(name, reason):
    why = is_identifier(name)
    assert why is not None and str(why).startswith(reason), why
    assert isinstance(why, Msg)
