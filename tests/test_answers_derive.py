"""`gradcli derive EXPR --answer [VAR=]ANSWER`: a student's derivative checked.

Right answers in the forms students write (factored, expanded, with their
notation, with --let names, with `dy/dx =`), wrong ones with a counterexample
and a diagnosis for each mistake; every diagnosis also has a false-positive
guard: a different wrong answer near it gets no diagnosis, only a
counterexample.  Bad answers are exit 2 with `--answer` as the place.
"""
from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

import gradcli.answers as answers_pkg
from gradcli import cli
from conftest import HOSTILE


@dataclass
class Run:
    code: int
    out: str
    err: str

    def answer(self, wrt: str = "x") -> dict:
        data = json.loads(self.out)
        row = next(r for r in data["gradient"] if r["wrt"] == wrt)
        return row["answer"]


def gradcli(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            cli.main(list(args))
        except SystemExit as exc:
            code = exc.code
    return Run(code, out.getvalue(), err.getvalue())


def check(expression: str, *args: str) -> Run:
    run = gradcli("derive", expression, *args, "--json", "--no-steps")
    assert run.code in (0, 1), run.err
    return run


def refused(expression: str, *args: str) -> str:
    """Exit 2, one error line placed at --answer or --let, nothing on stdout."""
    run = gradcli("derive", expression, *args, "--json")
    assert run.code == 2, (run.out, run.err)
    assert run.out == ""
    assert "Traceback" not in run.err
    first = run.err.splitlines()[0]
    assert first.startswith(("error: --answer", "error: --let")), first
    return first


# ------------------------------------------------------- right answers ---
RIGHT = [
    # (expression, extra args, answer)
    ("(x**2+1)**3", [], "6x(x^2+1)^2"),
    ("(x**2+1)**3", [], "3(x²+1)²·2x"),
    ("(x**2+1)**3", [], "6x^5 + 12x^3 + 6x"),
    ("(x**2+1)**3", [], "dy/dx = 6x(x² + 1)²"),
    ("(x**2+1)**3", [], "f'(x) = 6*x*(x**2 + 1)**2"),
    ("(x**2+1)**3", [], "x=6 x (x^2+1)^2"),
    ("(x**2+1)**3", ["--let", "u=x**2+1"], "3u^2 * 2x"),
    ("(x**2+1)**3", ["--let", "u=x^2+1", "--let", "v=3u^2"], "v·2x"),
    ("(2x+1)**2", [], "4(2x + 1)"),
    ("(2x+1)**2", [], "8x + 4"),
    ("exp(x**2)", [], "2x e^(x²)"),
    ("exp(x**2)", ["--let", "u=x^2"], "e^u · 2x"),
    ("sigmoid(z)", [], "σ(z)(1 - σ(z))"),
    ("sigmoid(z)", [], "exp(-z)/(1 + exp(-z))^2"),
    ("tanh(x)", [], "1 - tanh(x)^2"),
    ("sin(x)/x", [], "(x cos(x) - sin(x))/x^2"),
    ("sin(x**2)", [], "2x cos(x²)"),
    ("log(x**2 + 1)", [], "2x/(x^2 + 1)"),
    ("sqrt(x)", [], "1/(2√x)"),
    ("x*exp(x)", [], "(x + 1)e^x"),
    ("(y - 1)**2", [], "2(y - 1)"),
]


@pytest.mark.parametrize("expression,extra,answer", RIGHT)
def test_right_answers_in_the_forms_students_write(expression, extra, answer):
    run = check(expression, *extra, "--answer", answer)
    wrt = "z" if "z" in expression else "y" if "y" in expression else "x"
    a = run.answer(wrt)
    assert run.code == 0 and json.loads(run.out)["ok"] is True
    assert a["equivalent"] is True and a["method"] in ("symbolic", "numeric")
    assert a["diagnosis"] is None and a["counterexample"] is None


def test_symbolic_method_when_the_forms_match_and_no_points_needed():
    a = check("(x**2+1)**3", "--answer", "3(x²+1)²·2x").answer()
    assert (a["method"], a["points"], a["given"]) == ("symbolic", 0, "3(x²+1)²·2x")


def test_expanded_form_is_proved_by_sympy_after_the_points_agree():
    a = check("(x**2+1)**3", "--answer", "6x^5 + 12x^3 + 6x").answer()
    assert (a["method"], a["points"]) == ("symbolic", 20)


def test_numeric_method_when_sympy_has_no_time():
    # --timeout 0: no SymPy at all; 20 random points decide
    run = gradcli("derive", "(x**2+1)**3", "--answer", "6x^5 + 12x^3 + 6x", "--timeout", "0",
                  "--json", "--no-steps")
    a = run.answer()
    assert run.code == 0 and (a["equivalent"], a["method"], a["points"]) == (True, "numeric", 20)


def test_relu_answer_equal_at_every_point_is_numeric_or_symbolic():
    a = check("relu(x)**2", "--answer", "2 relu(x)").answer()
    assert a["equivalent"] is True


def test_answers_for_two_variables():
    run = check("x*y + sin(x)", "--answer", "x=y + cos(x)", "--answer", "y = x")
    assert run.code == 0
    assert run.answer("x")["equivalent"] and run.answer("y")["equivalent"]


def test_partial_prefix_decides_the_variable():
    run = check("x*y + sin(x)", "--answer", "∂f/∂x = y + cos(x)")
    rows = {r["wrt"]: r for r in json.loads(run.out)["gradient"]}
    assert rows["x"]["answer"]["equivalent"] is True
    assert "answer" not in rows["y"]  # absent for a variable without an answer


def test_seed_000_exercise_1_value_at_the_point():
    run = check("(2x+1)**2", "--at", "x=1", "--answer", "4(2x+1)")
    data = json.loads(run.out)
    assert data["gradient"][0]["value"] == pytest.approx(12.0)
    assert data["gradient"][0]["answer"]["equivalent"] is True


# -------------------------------------------------------- wrong answers ---
WRONG = [
    # (expression, answer, words the diagnosis must contain)
    ("(x**2+1)**3", "-6x(x^2+1)^2", "sign flipped"),
    ("(x**2+1)**3", "12x(x^2+1)^2", "off by a constant factor of 2"),
    ("(x**2+1)**3", "2x(x^2+1)^2", "off by a constant factor of 1/3"),
    ("(x**2+1)**3", "-3x(x^2+1)^2", "off by a constant factor of -1/2"),
    ("(x**2+1)**3", "3(x^2+1)^2", "missing the inner derivative 2*x of u = x**2 + 1"),
    ("(2x+1)**3", "3(2x+1)^2", "missing the inner derivative 2 of u = 2*x + 1"),
    ("sin(x**2)", "cos(x^2)", "missing the inner derivative 2*x of u = x**2"),
    ("exp(x**2)", "exp(x^2)", "missing the inner derivative 2*x of u = x**2"),
    ("sin(x)", "sin(x)", "the original function, not its derivative"),
    ("(x**2+1)**3", "6x(x^2+1)^3", "power rule with the exponent not lowered"),
    ("x**3", "3x^3", "the derivative of u**3 is 3*u**2, not 3*u**3"),
    ("(x**2+1)**3", "3(x^2+1)^3", "not lowered (3*u**3 instead of 3*u**2) and the inner "
                                  "derivative 2*x"),
    ("x*sin(x)", "sin(x)", "the term with the derivative of sin(x) is left out"),
    ("x*sin(x)", "x cos(x)", "the term with the derivative of x is left out"),
    ("x + x/(x+1)", "1 + (x - (x + 1))/(x+1)^2", "quotient rule with the numerator's terms "
                                                 "swapped"),
    ("x**2*y", "x = x^2", "differentiated with respect to y instead of x"),
    ("x**2", "x^2", "the original function, not its derivative"),
]


@pytest.mark.parametrize("expression,answer,words", WRONG)
def test_each_mistake_is_diagnosed(expression, answer, words):
    run = check(expression, "--answer", answer)
    a = run.answer()
    assert run.code == 1 and json.loads(run.out)["ok"] is False
    assert a["equivalent"] is False and a["method"] == "numeric"
    assert words in a["diagnosis"], a["diagnosis"]


GUARDS = [
    # a different wrong answer near each diagnosis: a counterexample, no diagnosis
    ("(x**2+1)**3", "-6x(x^2+1)^2 + 1"),  # not a sign flip
    ("(x**2+1)**3", "1.37*6x(x^2+1)^2"),  # a constant factor that is not simple
    ("(x**2+1)**3", "11*6x(x^2+1)^2"),  # an integer beyond 10
    ("(x**2+1)**3", "6(x^2+1)^2"),  # inner derivative 2 instead of 2x: not "left out"
    ("(x**2+1)**3", "6x(x^2+1)^4"),  # not the exponent left unlowered
    ("x*sin(x)", "cos(x)"),  # no product-rule term alone
    ("x + x/(x+1)", "1 + 1/(x+1)"),  # not the swapped numerator
    ("x**2*y", "x = x^2 + 1"),  # not df/dy
    ("x**2", "x^2 + 1"),  # not the function itself
    ("(x**2+1)**3", "x^3 + 1"),  # a random wrong answer
    ("sin(x)*exp(x)", "cos(x)*exp(x) + 0.5"),
]


@pytest.mark.parametrize("expression,answer", GUARDS)
def test_no_diagnosis_for_other_wrong_answers(expression, answer):
    a = check(expression, "--answer", answer).answer()
    assert a["equivalent"] is False
    assert a["diagnosis"] is None
    c = a["counterexample"]
    assert set(c) == {"at", "expected", "given"}
    assert abs(c["expected"] - c["given"]) > 1e-6 * max(abs(c["expected"]), 1e-300)


def test_counterexample_values_are_true_and_given():
    a = check("(x**2+1)**3", "--answer", "3(x^2+1)^2").answer()
    c = a["counterexample"]
    x = c["at"]["x"]
    assert -3 <= x <= 3 and float(f"{x:.2g}") == x  # a readable point
    assert c["expected"] == pytest.approx(6 * x * (x * x + 1) ** 2, rel=1e-12)
    assert c["given"] == pytest.approx(3 * (x * x + 1) ** 2, rel=1e-12)


def test_counterexample_is_the_at_point_when_the_answer_is_wrong_there():
    a = check("(x**2+1)**3", "--at", "x=2", "--answer", "3(x^2+1)^2").answer()
    assert a["counterexample"] == {"at": {"x": 2.0}, "expected": pytest.approx(300.0),
                                   "given": pytest.approx(75.0)}


def test_points_are_drawn_around_the_at_point():
    # log(x - 10) is defined only for x > 10: points in [-3, 3] would all be invalid
    a = check("log(x - 10)", "--at", "x=20", "--answer", "1/(x - 9)").answer()
    assert a["equivalent"] is False
    assert 10 <= a["counterexample"]["at"]["x"] <= 30


def test_seed_changes_the_points_not_the_verdict():
    one = check("(x**2+1)**3", "--answer", "3(x^2+1)^2", "--seed", "1").answer()
    two = check("(x**2+1)**3", "--answer", "3(x^2+1)^2", "--seed", "2").answer()
    assert (one["seed"], two["seed"]) == (1, 2)
    assert one["counterexample"]["at"] != two["counterexample"]["at"]
    assert one["diagnosis"] == two["diagnosis"]
    again = check("(x**2+1)**3", "--answer", "3(x^2+1)^2", "--seed", "1").answer()
    assert again == one


def test_one_wrong_answer_of_two_fails_the_report():
    run = check("x*y", "--answer", "x=y", "--answer", "y=y")
    assert run.code == 1
    assert run.answer("x")["equivalent"] is True
    assert run.answer("y")["equivalent"] is False


def test_text_output_names_the_mistake():
    run = gradcli("derive", "(x**2+1)**3", "--answer", "3(x^2+1)^2", "--at", "x=2")
    assert run.code == 1
    assert "WRONG" in run.out
    assert "at x = 2: the derivative is 300, your answer gives 75" in run.out
    assert "missing the inner derivative 2*x of u = x**2 + 1" in run.out
    assert "all three methods agree" in run.out  # the methods agree; the answer is wrong
    right = gradcli("derive", "(x**2+1)**3", "--answer", "6x(x^2+1)^2")
    assert right.code == 0 and "your answer 6x(x^2+1)^2: right" in right.out


def test_markdown_shows_the_answer():
    run = gradcli("derive", "x**2", "--answer", "x^2", "--format", "markdown")
    assert run.code == 1 and "> your answer x^2: WRONG" in run.out


# ------------------------------------------------------------ bad input ---
def test_several_variables_and_no_var_asks_which():
    first = refused("x*y", "--answer", "y")
    assert "which derivative" in first and "x, y" in first


def test_answer_for_a_variable_not_differentiated():
    assert "not differentiated" in refused("x*y", "--wrt", "x", "--answer", "y=x")
    assert "'z' is not a variable" in refused("x*y", "--answer", "z=1")


def test_duplicate_answer():
    assert "a second answer for x" in refused("x**2", "--answer", "2x", "--answer", "x=2*x")


def test_unknown_name_with_column_and_caret():
    run = gradcli("derive", "x**2", "--answer", "x=2t", "--json")
    assert run.code == 2
    lines = run.err.splitlines()
    assert lines[0].startswith("error: --answer:4: 't' is not a variable")
    assert lines[1:] == ["  x=2t", "     ^"]


def test_letters_side_by_side_get_a_hint():
    assert "for a product write x*y" in refused("x**2*y", "--answer", "x=2xy")


def test_an_equals_sign_inside_the_answer():
    assert "'=' here is not read" in refused("x**2", "--answer", "2x = 4")


def test_tensor_functions_are_refused():
    assert "needs tensors" in refused("x**2", "--answer", "sum(x)")


def test_undefined_almost_everywhere():
    first = refused("x**2", "--answer", "sqrt(-x^2 - 1)")
    assert "cannot decide: the answer is undefined almost everywhere" in first


def test_let_errors():
    assert "NAME=EXPR" in refused("x**2", "--answer", "2x", "--let", "u=")
    assert "is a variable" in refused("x**2", "--answer", "2x", "--let", "x=3")
    assert "defined twice" in refused("x**2", "--answer", "2u", "--let", "u=x",
                                      "--let", "u=x")
    assert "'q' is not a variable" in refused("x**2", "--answer", "2u", "--let", "u=q")
    assert "no --answer" in refused("x**2", "--let", "u=x")


@pytest.mark.parametrize("text", [t for i, t in HOSTILE if i != "assign"],
                         ids=[i for i, _ in HOSTILE if i != "assign"])
def test_hostile_answers_are_refused(text):
    # ("x = 1" is `VAR=ANSWER`: the answer 1 for x, which is allowed)
    refused("x", "--answer", text)


def test_answers_are_read_by_the_whitelist_parser_only():
    package = Path(answers_pkg.__file__).parent
    banned = re.compile(r"import ast|(?<![.\w])(eval|exec|compile)\(|sympify|parse_expr")
    for path in package.glob("*.py"):
        assert not banned.search(path.read_text()), path.name


def test_random_wrong_answers_get_no_diagnosis():
    import random

    rng = random.Random(1)
    for _ in range(12):
        c, k = round(rng.uniform(0.1, 5), 3), rng.randint(0, 3)
        answer = f"6x(x^2+1)^2 + {c}*x^{k}"
        a = check("(x**2+1)**3", "--answer", answer).answer()
        assert a["equivalent"] is False and a["diagnosis"] is None, (answer, a["diagnosis"])
