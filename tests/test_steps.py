"""Step-by-step explanations: rule names, chain names, results checked by SymPy."""
from __future__ import annotations

import json
import random
from dataclasses import asdict

import pytest
import sympy as sp

from gradcli import steps
from gradcli.graph import Graph
from gradcli.parse import parse
from gradcli.steps import (Step, StepCheckError, explain, format_latex, format_markdown,
                           format_text, substitution_view)
from gradcli.symbolic import symbol, to_sympy


# ---------------------------------------------------------------- helpers ---
def explain_text(text: str, var: str = "x", **kw) -> Step:
    parsed = parse(text)
    return explain(parsed.graph, parsed.root, var, **kw)


def sym(text: str):
    """Expression-language text -> SymPy, through gradcli's own parser."""
    parsed = parse(text)
    return to_sympy(parsed.graph, parsed.root)


def walk(step: Step):
    yield step
    for s in step.substeps:
        yield from walk(s)


def rules(step: Step) -> list[str]:
    return [s.rule for s in walk(step)]


def equal(a, b) -> bool:
    """SymPy equality: exact when simplify manages, else at random real points."""
    d = a - b
    if d == 0 or sp.simplify(d) == 0:
        return True
    rng = random.Random(7)
    checked = 0
    for _ in range(20):
        point = {s: rng.uniform(0.3, 1.7) for s in d.free_symbols}
        try:
            va, vb = complex(a.subs(point).evalf()), complex(b.subs(point).evalf())
        except (TypeError, ValueError):
            continue
        if abs(va - vb) > 1e-8 * (1 + abs(va)):
            return False
        checked += 1
    return checked > 0


def true_derivative(step: Step):
    d = sp.diff(sym(step.expr), symbol(step.var))
    # The op table's convention: Heaviside and sign have derivative 0.
    return d.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


def assert_every_step_correct(step: Step) -> None:
    for s in walk(step):
        assert s.rule != "skipped", s.note
        if s.expr == "" or s.note and "tensor" in s.note:
            continue
        assert equal(sym(s.result), true_derivative(s)), (s.rule, s.expr, s.result)


def nested(fn: str, depth: int, core: str = "x") -> str:
    return f"{fn}(" * depth + core + ")" * depth


# ---------------------------------------------------------- the examples ---
def test_power_of_sum_is_a_chain_with_power_outer_step():
    step = explain_text("(x**2+1)**3")
    assert step.rule == "chain"
    assert step.expr == "(x**2 + 1)**3"
    outer, inner = step.substeps
    assert (outer.rule, outer.var, outer.expr, outer.result) == ("power", "u", "u**3", "3*u**2")
    assert (inner.rule, inner.expr, inner.result) == ("sum", "x**2 + 1", "2*x")
    assert (step.inner_name, step.inner, step.outer) == ("u", "x**2 + 1", "u**3")
    assert (step.d_outer, step.d_inner) == ("3*u**2", "2*x")
    assert equal(sym(step.result), 6 * symbol("x") * (symbol("x") ** 2 + 1) ** 2)


def test_substitution_view_exact_lines():
    assert substitution_view(explain_text("(x**2+1)**3")) == [
        "u = x**2 + 1",
        "du/dx = 2*x",
        "dy/du = 3*u**2",
        "dy/dx = 3*u**2 * 2*x = 6*x*(x**2 + 1)**2",
    ]


def test_substitution_view_none_without_top_chain():
    assert substitution_view(explain_text("x**2*y + x*y**2")) is None
    assert substitution_view(explain_text("sin(x)")) is None  # no inner to substitute


def test_substitution_view_parenthesises_sums_and_avoids_y():
    lines = substitution_view(explain_text("sin(x**2 + y*x)"))
    assert lines[0] == "u = x**2 + x*y"
    assert lines[2] == "df/du = cos(u)"  # y is the user's variable: the outer is f
    assert lines[3].startswith("df/dx = cos(u) * (2*x + y) = ")


def test_sum_of_products_wrt_x():
    step = explain_text("x**2*y + x*y**2")
    assert step.rule == "sum"
    assert len(step.substeps) == 2
    assert {s.rule for s in step.substeps} <= {"product", "constant multiple"}
    x, y = symbol("x"), symbol("y")
    assert sp.expand(sym(step.result) - (2 * x * y + y**2)) == 0
    assert_every_step_correct(step)


def test_nested_chains_get_distinct_names_in_order():
    step = explain_text("exp(sin(x**2))")
    assert step.rule == "chain" and step.inner_name == "u" and step.inner == "sin(x**2)"
    inner = step.substeps[1]
    assert inner.rule == "chain" and inner.inner_name == "v" and inner.inner == "x**2"
    assert [s.substeps[0].var for s in walk(step) if s.rule == "chain"] == ["u", "v"]


def test_names_continue_u_v_w_u1():
    step = explain_text("exp(sin(cos(tan(x**2))))")
    names = [s.inner_name for s in walk(step) if s.rule == "chain"]
    assert names == ["u", "v", "w", "u1"]


def test_names_skip_user_variables():
    step = explain_text("sin(u*x**2 + v)")
    names = [s.inner_name for s in walk(step) if s.rule == "chain"]
    assert names[0] == "w"
    assert "u" not in names and "v" not in names


def test_same_inner_text_reuses_its_name():
    step = explain_text("sin(x**2) + cos(x**2)")
    assert [s.inner_name for s in walk(step) if s.rule == "chain"] == ["u", "u"]


def test_shared_node_in_a_dag_graph():
    g = Graph()
    x = g.var("x")
    h = g.apply("add", g.apply("pow", x, g.const(2.0)), g.const(1.0))
    root = g.apply("mul", g.apply("sin", h), g.apply("cos", h))
    step = explain(g, root, "x")
    assert step.rule == "product"
    assert [s.inner_name for s in walk(step) if s.rule == "chain"] == ["u", "u"]
    assert_every_step_correct(step)


@pytest.mark.parametrize("text, rule", [
    ("(2*x+1)**2", "power"),
    ("sigmoid(w*x)", "sigmoid"),
    ("exp(3*x)", "exp"),
    ("log(x**2 + 1)", "log"),
    ("cos(2*x)", "trig"),
])
def test_chain_outer_rules(text, rule):
    step = explain_text(text)
    assert step.rule == "chain"
    assert step.substeps[0].rule == rule
    assert step.substeps[0].var == step.inner_name
    assert_every_step_correct(step)


def test_sigmoid_identity():
    step = explain_text("sigmoid(w*x)")
    outer = step.substeps[0]
    assert "sigmoid(u)*(1 - sigmoid(u))" in outer.identity
    assert step.substeps[1].rule == "constant multiple"  # w is a constant for d/dx


@pytest.mark.parametrize("text, rule", [
    ("x/(x+1)", "quotient"),
    ("log(x)*x", "product"),
    ("2**x", "exponential"),
    ("x**x", "general power"),
    ("tanh(x)", "tanh"),
    ("relu(x)", "relu"),
    ("abs(x)", "abs"),
    ("sqrt(x)", "sqrt"),
    ("softplus(x)", "softplus"),
    ("sin(x)", "trig"),
    ("x**3", "power"),
    ("exp(x)", "exp"),
    ("log(x)", "log"),
    ("x - cos(x)", "difference"),
    ("-x**2", "constant multiple"),
    ("3*x", "constant multiple"),
    ("x/5", "constant multiple"),
    ("x", "variable"),
    ("y", "constant"),
    ("y**2 + 1", "constant"),
])
def test_root_rule_and_result(text, rule):
    step = explain_text(text)
    assert step.rule == rule
    expected = sp.diff(sym(text), symbol("x"))
    expected = expected.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)
    assert equal(sym(step.result), expected)
    assert_every_step_correct(step)


def test_rules_inside_functions_of_inner_expressions():
    for text, rule in [("tanh(x**2)", "tanh"), ("relu(x**2 - 1)", "relu"),
                       ("abs(sin(x))", "abs"), ("sqrt(x**2 + 1)", "sqrt"),
                       ("softplus(-x)", "softplus"), ("2**(x**2)", "exponential")]:
        step = explain_text(text)
        assert step.rule == "chain", text
        assert step.substeps[0].rule == rule, text
        assert_every_step_correct(step)


def test_variable_absent_and_other_variables():
    step = explain_text("y*z", "x")
    assert (step.rule, step.result) == ("constant", "0")
    step = explain_text("y", "x")
    assert "y does not depend on x" in step.note
    step = explain_text("x*y", "y")
    assert step.rule == "constant multiple" and step.result == "x"


def test_identities_come_from_the_op_table():
    from gradcli.ops import OPS

    step = explain_text("x/(x+1)")
    assert step.identity == OPS["div"].identity
    assert explain_text("tanh(x)").identity == OPS["tanh"].identity


EXPRESSIONS = [
    "(x**2+1)**3", "x**2*y + x*y**2", "exp(sin(x**2))", "(2*x+1)**2", "sigmoid(w*x)",
    "x/(x+1)", "log(x)*x", "2**x", "x**x", "tanh(x**2)", "relu(x**3 - x)",
    "abs(cos(x))", "sqrt(x**2+1)", "softplus(x*y)", "sin(x)**x + e**(x**2)",
    "cos(x)/x - tan(x)*pi", "x**(1/2) + 1/x", "log(1 + exp(x*y))/(x**2 + 3)",
    "-(x**3) + 5*sigmoid(x)", "heaviside(x)*x + sign(x**2 - 1)",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_every_step_equals_sympy_diff(text):
    step = explain_text(text)
    assert_every_step_correct(step)
    assert equal(sym(step.result), true_derivative(Step("", "x", text, "")))


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_local_check_path_agrees(text, monkeypatch):
    """Large subexpressions are checked one operation at a time: same answers."""
    whole = asdict(explain_text(text))
    monkeypatch.setattr(steps, "FULL_CHECK_SIZE", 0)
    assert asdict(explain_text(text)) == whole


def test_check_failure_raises():
    x = symbol("x")
    with pytest.raises(StepCheckError):
        steps._check(x**2, x, 3 * x)
    steps._check(sp.sin(x) ** 2, x, sp.sin(2 * x))  # equal, written differently


@pytest.mark.parametrize("full_check_size", [0, 1000])
def test_wrong_rule_is_caught(monkeypatch, full_check_size):
    monkeypatch.setattr(steps, "FULL_CHECK_SIZE", full_check_size)

    def bad_outer(self, i, u):
        return "power", "wrong", u**3, 2 * u**2

    monkeypatch.setattr(steps._Builder, "_outer", bad_outer)
    with pytest.raises(StepCheckError):
        explain_text("(x + 1)**3")
    with pytest.raises(StepCheckError):  # wrong outer derivative deep inside a chain
        explain_text(nested("exp", 3, "(x + 1)**3"))


# ------------------------------------------------------ graceful limits ---
def test_tensor_ops_do_not_crash():
    step = explain_text("sum(x**2)")
    assert step.rule == "sum" and "tensor" in step.note
    assert equal(sym(step.result), 2 * symbol("x"))
    step = explain_text("x @ y")  # scalars cannot be multiplied with @
    assert step.rule == "skipped" and step.note
    assert format_text(step).startswith("[skipped]")


def test_large_expression_is_skipped_compactly():
    step = explain_text("+".join(["x"] * 250))
    assert step.rule == "skipped" and "large" in step.note
    assert step.substeps == []
    assert format_text(step) and format_markdown(step) and format_latex(step)


def test_time_budget_gives_skipped_step():
    step = explain_text(nested("sigmoid", 40, "x**2"), time_budget=0.001)
    assert step.rule == "skipped" and "SymPy" in step.note


def test_json_serialisable():
    data = asdict(explain_text("exp(sin(x**2))"))
    assert json.loads(json.dumps(data)) == data
    assert data["rule"] == "chain" and data["substeps"][1]["inner_name"] == "v"


# --------------------------------------------------------------- printers ---
def test_format_text_example():
    text = format_text(explain_text("(x**2+1)**3"))
    lines = text.splitlines()
    assert lines[0].startswith("[chain] d/dx (x**2 + 1)**3 = 6*x*(x**2 + 1)**2")
    assert "u = x**2 + 1" in lines[0]
    assert lines[1].startswith("  [power] d/du u**3 = 3*u**2")
    assert lines[2].startswith("  [sum] d/dx x**2 + 1 = 2*x")
    assert lines[3].startswith("    [power] d/dx x**2 = 2*x")


@pytest.mark.parametrize("text", ["(x**2+1)**3", "x/(x+1)", "x**x", "sigmoid(w*x)"])
def test_printers_mention_rules(text):
    step = explain_text(text)
    names = set(rules(step))
    out_text, out_md, out_tex = format_text(step), format_markdown(step), format_latex(step)
    for out in (out_text, out_md, out_tex):
        assert out.strip()
        for rule in names:
            assert rule in out
    assert out_md.startswith("- **") and "`" in out_md
    assert "\\frac{d}{dx}" in out_tex and "&=" in out_tex
    assert len(out_tex.splitlines()) == len(list(walk(step)))


def test_printers_on_30_level_nested_chain():
    step = explain_text(nested("sin", 30))
    assert step.rule == "chain"
    assert rules(step).count("chain") == 29  # the innermost sin(x) needs no substitution
    names = [s.inner_name for s in walk(step) if s.rule == "chain"]
    assert len(set(names)) == 29
    text = format_text(step)
    assert text.count("[chain]") == 29
    assert "\n" + "  " * 29 + "[trig] d/dx sin(x) = cos(x)" in text
    assert format_markdown(step).count("**chain**") == 29
    assert format_latex(step).count("\\text{chain}") == 29
    assert substitution_view(step)[0].startswith("u = sin(sin(")


def test_printers_do_not_recurse_on_deep_trees():
    step = Step("variable", "x", "x", "1")
    for _ in range(3000):  # far deeper than Python's recursion limit
        step = Step("constant multiple", "x", "x", "1", substeps=[step])
    assert format_text(step).count("\n") == 3000
    assert format_markdown(step).count("\n") == 3000
