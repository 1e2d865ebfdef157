"""Step-by-step explanations: rule names, chain names, results checked by SymPy."""
from __future__ import annotations

import json
import math
import random

import pytest
import sympy as sp

from gradcli.graph import Graph
from gradcli.parse import parse
from gradcli.steps import (Step, StepCheckError, explain, format_latex, format_markdown,
                           format_text, substitution_view, to_json)
from gradcli.steps import build, verify
from gradcli.symbolic import symbol, to_sympy, to_text as t


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


def true_derivative(expr, var):
    d = sp.diff(expr, var)
    # The op table's convention: Heaviside and sign have derivative 0.
    return d.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


def assert_every_step_correct(step: Step) -> None:
    for s in walk(step):
        assert s.rule != "skipped", s.note
        if s.expr is None or s.note and "tensor" in s.note:
            continue
        truth = true_derivative(s.expr, s.var)
        assert equal(s.result, truth), (s.rule, s.expr, s.result)
        # what the printers show reads back (through gradcli's parser) as the same
        assert equal(sym(t(s.result)), truth), (s.rule, t(s.expr), t(s.result))


def chain_names(step: Step) -> list[str]:
    return [s.chain.name.name for s in walk(step) if s.rule == "chain"]


def nested(fn: str, depth: int, core: str = "x") -> str:
    return f"{fn}(" * depth + core + ")" * depth


# ---------------------------------------------------------- the examples ---
def test_power_of_sum_is_a_chain_with_power_outer_step():
    step = explain_text("(x**2+1)**3")
    assert step.rule == "chain"
    assert t(step.expr) == "(x**2 + 1)**3"
    outer, inner = step.substeps
    assert (outer.rule, outer.var.name, t(outer.expr), t(outer.result)) == \
        ("power", "u", "u**3", "3*u**2")
    assert (inner.rule, t(inner.expr), t(inner.result)) == ("sum", "x**2 + 1", "2*x")
    c = step.chain
    assert (c.name.name, t(c.inner), t(c.outer)) == ("u", "x**2 + 1", "u**3")
    assert (t(c.d_outer), t(c.d_inner)) == ("3*u**2", "2*x")
    assert equal(step.result, 6 * symbol("x") * (symbol("x") ** 2 + 1) ** 2)


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
    assert sp.expand(step.result - (2 * x * y + y**2)) == 0
    assert_every_step_correct(step)


def test_nested_chains_get_distinct_names_in_order():
    step = explain_text("exp(sin(x**2))")
    assert step.rule == "chain" and step.chain.name.name == "u"
    assert t(step.chain.inner) == "sin(x**2)"
    inner = step.substeps[1]
    assert inner.rule == "chain" and inner.chain.name.name == "v"
    assert t(inner.chain.inner) == "x**2"
    assert [s.substeps[0].var.name for s in walk(step) if s.rule == "chain"] == ["u", "v"]


def test_names_continue_u_v_w_u1():
    step = explain_text("exp(sin(cos(tan(x**2))))")
    assert chain_names(step) == ["u", "v", "w", "u1"]


def test_names_skip_user_variables():
    step = explain_text("sin(u*x**2 + v)")
    names = chain_names(step)
    assert names[0] == "w"
    assert "u" not in names and "v" not in names


def test_same_inner_text_reuses_its_name():
    step = explain_text("sin(x**2) + cos(x**2)")
    assert chain_names(step) == ["u", "u"]


def test_shared_node_in_a_dag_graph():
    g = Graph()
    x = g.var("x")
    h = g.apply("add", g.apply("pow", x, g.const(2.0)), g.const(1.0))
    root = g.apply("mul", g.apply("sin", h), g.apply("cos", h))
    step = explain(g, root, "x")
    assert step.rule == "product"
    assert chain_names(step) == ["u", "u"]
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
    assert step.substeps[0].var == step.chain.name
    assert_every_step_correct(step)


def test_sigmoid_identity():
    step = explain_text("sigmoid(w*x)")
    outer = step.substeps[0]
    assert "sigmoid(u)*(1 - sigmoid(u))" in outer.identity  # in the outer step's own u
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
    assert equal(step.result, expected)
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
    assert (step.rule, t(step.result)) == ("constant", "0")
    step = explain_text("y", "x")
    assert "y does not depend on x" in step.note
    step = explain_text("x*y", "y")
    assert step.rule == "constant multiple" and t(step.result) == "x"


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
    assert equal(step.result, true_derivative(sym(text), symbol("x")))


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_local_check_path_agrees(text, monkeypatch):
    """Large subexpressions are checked one operation at a time: same answers."""
    whole = to_json(explain_text(text))
    monkeypatch.setattr(build, "FULL_CHECK_SIZE", 0)
    assert to_json(explain_text(text)) == whole


def test_check_failure_raises():
    x = symbol("x")
    with pytest.raises(StepCheckError):
        verify.check(x**2, x, 3 * x)
    verify.check(sp.sin(x) ** 2, x, sp.sin(2 * x))  # equal, written differently


@pytest.mark.parametrize("full_check_size", [0, 1000])
def test_wrong_rule_is_caught(monkeypatch, full_check_size):
    monkeypatch.setattr(build, "FULL_CHECK_SIZE", full_check_size)

    def bad_outer(self, i, u):
        return "power", "wrong", u**3, 2 * u**2

    monkeypatch.setattr(build._Builder, "_outer", bad_outer)
    with pytest.raises(StepCheckError):
        explain_text("(x + 1)**3")
    with pytest.raises(StepCheckError):  # wrong outer derivative deep inside a chain
        explain_text(nested("exp", 3, "(x + 1)**3"))


# ------------------------------------------------------ graceful limits ---
def test_tensor_ops_do_not_crash():
    step = explain_text("sum(x**2)")
    assert step.rule == "sum" and "tensor" in step.note
    assert equal(step.result, 2 * symbol("x"))
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
    data = to_json(explain_text("exp(sin(x**2))"))
    assert json.loads(json.dumps(data)) == data
    assert data["rule"] == "chain" and data["substeps"][1]["inner_name"] == "v"


# --------------------------------------------------------------- printers ---
def test_format_text_example():
    text = format_text(explain_text("(x**2+1)**3"))
    lines = text.splitlines()
    assert lines[0].startswith("[chain] d/dx (x**2 + 1)**3 = 6*x*(x**2 + 1)**2")
    assert "u = x**2 + 1" in lines[0]
    assert lines[1].startswith("  [power] d/du u**3 = 3*u**2")
    assert lines[2].startswith("  [sum] d/dx (x**2 + 1) = 2*x")  # not d/dx x**2 + 1
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
    assert len(set(chain_names(step))) == 29
    text = format_text(step)
    assert text.count("[chain]") == 29
    assert "\n" + "  " * 29 + "[trig] d/dx sin(x) = cos(x)" in text
    assert format_markdown(step).count("**chain**") == 29
    assert format_latex(step).count("\\text{chain}") == 29
    assert substitution_view(step)[0].startswith("u = sin(sin(")


def test_printers_do_not_recurse_on_deep_trees():
    x = symbol("x")
    step = Step("variable", x, x, sp.S.One)
    for _ in range(3000):  # far deeper than Python's recursion limit
        step = Step("constant multiple", x, x, sp.S.One, substeps=[step])
    assert format_text(step).count("\n") == 3000
    assert format_markdown(step).count("\n") == 3000


# ------------------------------------------------------ typed records ---
def test_records_hold_sympy_expressions_and_printers_never_parse():
    """Printers format the records' SymPy expressions; no module of the package
    re-parses printed text (the old printers called parse() under a bare except)."""
    import importlib
    import pkgutil

    import gradcli.steps as package

    step = explain_text("(x**2+1)**3")
    assert isinstance(step.expr, sp.Expr) and isinstance(step.result, sp.Expr)
    assert isinstance(step.chain.inner, sp.Expr) and step.var == symbol("x")
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"gradcli.steps.{info.name}")
        assert not hasattr(module, "parse"), info.name


def test_printers_follow_the_user_order():
    p = parse("0.5*(sigmoid(w*x + b) - y)**2")
    from gradcli.symbolic import term_order

    step = explain(p.graph, p.root, "w")
    order = term_order(p.graph, p.root)
    text = format_text(step, order)
    assert "sigmoid(w*x + b) - y" in text and "-y + " not in text
    assert "with u = sigmoid(w*x + b) - y" in text
    assert "-y + sigmoid(b + w*x)" in format_text(step)  # SymPy's order without it
    assert to_json(step, order)["substeps"][0]["inner"] == "sigmoid(w*x + b) - y"


def test_step_results_cancel_numbers():
    """(2*s - 2*y)*.../2 reads (s - y)*...: the 2s cancel."""
    step = explain_text("0.5*(sigmoid(w*x + b) - y)**2", "w")
    shown = t(step.result)
    assert "2*sigmoid" not in shown and "/2" not in shown
    assert equal(step.result, true_derivative(step.expr, symbol("w")))


# ------------------------------------------------- identity letters ---
def identity_letters(step: Step) -> set[str]:
    import re

    out = set()
    for s in walk(step):
        for token in re.findall(r"[A-Za-z]\w*", s.identity or ""):
            out.add(token[1:] if token.startswith("d") and len(token) > 1 else token)
    return out


def test_identities_use_letters_not_in_the_expression():
    """`(a+b)*c` used to print `by d(c*u) = c*du` and `by dc/da = 0`."""
    for var in "abc":
        step = explain_text("(a+b)*c", var)
        others = set("abc") - {var}
        assert not identity_letters(step) & others, (var, identity_letters(step))
        out = format_text(step)
        assert "d(c*" not in out and "dc/da" not in out and "dc/db" not in out
    step = explain_text("(a+b)*c", "a")
    assert [s.identity for s in walk(step)] == [
        "d(k*u) = k*du", "d(u + v) = du + dv", "da/da = 1", "dk/da = 0"]


def test_identities_avoid_substitution_names_except_their_own():
    step = explain_text("(x**2+1)**3")
    outer, inner = step.substeps
    assert step.identity == "dy/dx = dy/du * du/dx"
    assert outer.identity == "d(u**n) = n*u**(n - 1)*du"  # u is this step's own variable
    assert inner.identity == "d(g + h) = dg + dh"  # u already means x**2 + 1 here
    assert inner.substeps[0].identity == "d(g**n) = n*g**(n - 1)*dg"
    # a user variable called n, g, h or y pushes the letters on
    step = explain_text("sin(y*x**n + g*h)")
    assert step.identity == "df/dx = df/du * du/dx"
    letters = identity_letters(step)
    assert not letters & {"n", "g", "h", "y"} - {"x"}


def test_relu_step_says_zero_at_zero_and_the_value_agrees():
    from gradcli.symbolic import evaluate

    step = explain_text("relu(x)")
    assert "taken as 0 at x = 0" in format_text(step)
    assert evaluate(step.result, {symbol("x"): 0.0}) == 0.0  # not Heaviside(0) = 1/2
    step = explain_text("relu(x**2 - 1)")
    assert "taken as 0 at u = 0" in format_text(step)
    assert evaluate(step.result, {symbol("x"): 1.0}) == 0.0


@pytest.mark.parametrize("text", ["e**(x**2)", "exp(x**2)", "e**x"])
def test_e_to_the_u_is_the_exp_rule(text):
    """`e^(x^2)` was stepped as `[exponential] d(a**u) = a**u*log(a)*du`."""
    from gradcli.ops import OPS

    step = explain_text(text)
    outer = step.substeps[0] if step.rule == "chain" else step
    assert outer.rule == "exp"
    assert outer.identity == OPS["exp"].identity
    assert "exponential" not in format_text(step) and "log(e)" not in format_text(step)
    assert_every_step_correct(step)


def test_ambiguous_steps_get_parentheses():
    out = format_text(explain_text("(x**2+1)**3"))
    assert "[sum] d/dx (x**2 + 1) = 2*x" in out
    assert "d/dx x**2 + 1" not in out
    out = format_text(explain_text("3*x + 1"))
    assert "[constant multiple] d/dx (3*x) = 3" in out
    out = format_text(explain_text("-x**2"))
    assert "d/dx (-x**2) = -2*x" in out
    assert "[trig] d/dx sin(x) = cos(x)" in format_text(explain_text("sin(x)"))


# --------------------------------------------------- the u-substitution ---
def test_substitution_through_constant_multiples():
    """The notes' own loss: a constant times a power of a sum."""
    step = explain_text("0.5*(sigmoid(w*x+b)-y)**2", "w")
    assert step.rule == "constant multiple"
    lines = substitution_view(step)
    assert lines[0] == "u = -y + sigmoid(b + w*x)"
    assert lines[2] == "df/du = u"  # f = u**2/2; y is the user's variable
    assert lines[3].startswith("df/dw = u * x*")
    lines = substitution_view(explain_text("-(x**2 + 1)**3"))
    assert lines[2] == "dy/du = -3*u**2"
    lines = substitution_view(explain_text("(x**2 + 1)**3/4"))
    assert lines[2] == "dy/du = 3*u**2/4"


def test_substitution_values_and_factored_form():
    from gradcli.steps import complete, substitution_of

    sub = substitution_of(explain_text("(x**2+1)**3"))
    complete(sub, {"x": 2.0}, 5.0)
    assert sub.values == {"u": 5.0, "du/dx": 4.0, "dy/du": 75.0, "dy/dx": 300.0}
    assert sub.factored is None
    sub = substitution_of(explain_text("(3*x+1)**2"))
    complete(sub, None, 5.0)
    assert sub.values is None
    assert substitution_view(sub)[3] == "dy/dx = 2*u * 3 = 18*x + 6 = 6*(3*x + 1)"
    sub = substitution_of(explain_text("exp(x**2)"))
    complete(sub, {"x": 1.0}, 5.0)
    assert sub.values["u"] == 1.0 and sub.values["dy/du"] == pytest.approx(math.e)


def test_substitution_latex():
    from gradcli.steps import substitution_latex, substitution_of

    rows = substitution_latex(substitution_of(explain_text("(x**2+1)**3")))
    assert rows == [r"u &= x^{2} + 1", r"\frac{du}{dx} &= 2 x", r"\frac{dy}{du} &= 3 u^{2}",
                    r"\frac{dy}{dx} &= 3 u^{2} \cdot 2 x = 6 x \left(x^{2} + 1\right)^{2}"]


# ------------------------------------------------------ translations ---
def test_rule_names_and_words_are_translated_but_json_is_not(monkeypatch):
    """Human text goes through gradcli.i18n; formulas and JSON stay as they are."""
    from gradcli import i18n

    class Catalog:
        def gettext(self, template: str) -> str:
            return {"chain": "CHAIN", "power": "POWER", "by {identity}": "BY {identity}",
                    "with {substitution}": "WITH {substitution}",
                    "taken as 0 at {u} = 0": "ZERO AT {u}"}.get(template, template)

    monkeypatch.setattr(i18n, "_catalog", Catalog())
    step = explain_text("relu(x)**3")
    out = format_text(step)
    assert out.startswith("[CHAIN] d/dx relu(x)**3 = ") and "WITH u = relu(x)" in out
    assert "[POWER] d/du u**3 = 3*u**2    BY d(u**n) = n*u**(n - 1)*du" in out
    assert "(ZERO AT x)" in out
    data = to_json(step)
    assert data["rule"] == "chain" and data["substeps"][1]["note"] == "taken as 0 at x = 0"


def test_latex_is_broken_to_fit_the_page():
    """Long steps go down the left margin, long sums and products over several lines."""
    from gradcli.steps import latex_equation, latex_lines
    from gradcli.steps.printers import _too_wide

    step = explain_text("sigmoid(w2*sigmoid(w1*x+b1)+b2)", "b1")
    out = format_latex(step)
    assert out.startswith(r"&\text{chain},\ u = ")
    assert len(out.splitlines()) == len(list(walk(step)))
    for line in out.replace("\n", " ").split(r" \\ "):
        assert not _too_wide(line.replace(r"\Bigl(", "").replace(r"\Bigr)", "")), line
    x = symbol("x")
    long_sum = sum(sp.sin(k * x) * x**k for k in range(1, 12))
    lines = latex_lines(long_sum)
    assert len(lines) > 2 and all(not _too_wide(line) for line in lines)
    assert lines[1].startswith("+ ")
    long_product = sp.Mul(*(sp.sin(k * x + 1) for k in range(1, 12)))
    lines = latex_lines(long_product)
    assert len(lines) > 2 and lines[1].startswith(r"\cdot ")
    assert latex_equation("f", [x**2]) == ["f &= x^{2}"]
    assert format_latex(explain_text("(x**2+1)**3")).splitlines()[0] == (
        r"\frac{d}{dx}\left(\left(x^{2} + 1\right)^{3}\right) &= "
        r"6 x \left(x^{2} + 1\right)^{2} && \text{chain},\ u = x^{2} + 1 \\")
