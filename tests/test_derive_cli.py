"""`gradcli derive` end to end: worked examples with their numbers, the JSON
contract, output formats, exit codes and one-line errors for bad input."""
from __future__ import annotations

import importlib.util
import io
import json
import math
import os
import re
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import pytest
import sympy as sp
from sympy.parsing.sympy_parser import parse_expr
from typer.testing import CliRunner

from gradcli import cli
from gradcli.symbolic import relu, sigmoid, softplus

needs_steps = pytest.mark.skipif(importlib.util.find_spec("gradcli.steps") is None,
                                 reason="gradcli.steps is not written yet")

CONTRACT_KEYS = {"expression", "at", "gradient", "steps", "ok"}
ROW_KEYS = {"wrt", "derivative", "value", "reverse", "numeric", "rel_error", "ok"}


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)

    def row(self, wrt: str) -> dict:
        rows = [r for r in self.json["gradient"] if r["wrt"] == wrt]
        assert len(rows) == 1, self.out
        return rows[0]


def gradcli(*args: str) -> Run:
    """Run the real entry point (gradcli.cli.main) in-process."""
    out, err = io.StringIO(), io.StringIO()
    code = None
    with redirect_stdout(out), redirect_stderr(err):
        try:
            cli.main(list(args))
        except SystemExit as exc:
            code = exc.code
    assert isinstance(code, int), code  # main always exits with a code
    return Run(code, out.getvalue(), err.getvalue())


def derive_json(*args: str) -> Run:
    run = gradcli("derive", *args, "--json", "--no-steps")
    assert run.code in (0, 1), run.err
    assert run.err == ""
    return run


def assert_one_error_line(run: Run, json_mode: bool = True) -> str:
    """Exit 2, exactly one `error:` line first on stderr, no traceback."""
    assert run.code == 2, (run.code, run.out[:200], run.err[:300])
    assert "Traceback" not in run.err and "Traceback" not in run.out
    lines = run.err.splitlines()
    assert lines and lines[0].startswith("error: "), run.err[:300]
    assert sum(line.startswith("error:") for line in lines) == 1, run.err[:500]
    # Anything after the error line is the expression and its caret.
    if len(lines) > 1:
        assert len(lines) == 3 and lines[2].strip() == "^", run.err[:500]
    if json_mode:
        assert run.out == ""
    assert "error: internal:" not in lines[0], lines[0]
    return lines[0]


def sympy_reads(derivative: str, names: list[str]):
    """SymPy's parser with the contract's declarations (test code only)."""
    local = {n: sp.Symbol(n, real=True) for n in names}
    local.update(sigmoid=sigmoid, relu=relu, softplus=softplus,
                 Heaviside=lambda a: sp.Heaviside(a, 0))
    return parse_expr(derivative, local_dict=local), local


# -------------------------------------------------------- worked examples ---
def test_cube_of_square_plus_one():
    run = derive_json("(x**2+1)**3", "--at", "x=2")
    assert run.code == 0
    data = run.json
    assert CONTRACT_KEYS <= set(data)
    assert data["expression"] == "(x**2 + 1)**3"
    assert data["at"] == {"x": 2.0}
    assert data["ok"] is True
    assert isinstance(data["steps"], list)
    (row,) = data["gradient"]
    assert ROW_KEYS <= set(row)
    assert row["wrt"] == "x"
    assert row["derivative"] == "6*x*(x**2 + 1)**2"
    assert row["value"] == pytest.approx(300.0, rel=1e-12)
    assert row["reverse"] == pytest.approx(300.0, rel=1e-12)
    assert row["numeric"] == pytest.approx(300.0, rel=1e-8)
    assert 0 <= row["rel_error"] < 1e-8
    assert row["ok"] is True
    back, local = sympy_reads(row["derivative"], ["x"])
    x = local["x"]
    assert sp.simplify(back - 6 * x * (x ** 2 + 1) ** 2) == 0
    assert sp.simplify(back - sp.diff((x ** 2 + 1) ** 3, x)) == 0


def test_square_of_linear():
    row = derive_json("(2*x+1)**2", "--at", "x=1").row("x")
    assert row["value"] == pytest.approx(12.0) and row["reverse"] == 12.0
    assert row["numeric"] == pytest.approx(12.0, rel=1e-8) and row["ok"] is True
    back, local = sympy_reads(row["derivative"], ["x"])
    assert sp.expand(back - (8 * local["x"] + 4)) == 0


@pytest.mark.parametrize("at", [("--at", "x=1", "--at", "y=2"), ("--at", "x=1,y=2"),
                                ("--at", "y=2, x=1")])
def test_two_variables(at):
    run = derive_json("x**2*y + x*y**2", *at)
    assert run.code == 0
    assert [r["wrt"] for r in run.json["gradient"]] == ["x", "y"]
    assert run.json["at"] == {"x": 1.0, "y": 2.0} or run.json["at"] == {"y": 2.0, "x": 1.0}
    for name, expected in (("x", 8.0), ("y", 5.0)):
        row = run.row(name)
        assert row["value"] == pytest.approx(expected, rel=1e-12)
        assert row["reverse"] == pytest.approx(expected, rel=1e-12)
        assert row["numeric"] == pytest.approx(expected, rel=1e-8)
        assert row["ok"] is True


def test_sigmoid_neuron_squared_error():
    run = derive_json("(sigmoid(w*x)-1)**2", "--at", "x=2", "--at", "w=0.5")
    row = run.row("w")
    assert row["value"] == pytest.approx(-0.2115, abs=1e-4)
    assert row["reverse"] == pytest.approx(-0.2115, abs=1e-4)
    assert row["numeric"] == pytest.approx(row["reverse"], rel=1e-7)
    # exact: 2*(s-1)*s*(1-s)*x with s = sigmoid(1)
    s = 1 / (1 + math.exp(-1.0))
    assert row["reverse"] == pytest.approx(2 * (s - 1) * s * (1 - s) * 2, rel=1e-12)
    assert run.code == 0 and run.json["ok"] is True


def test_half_squared_error_with_bias():
    run = derive_json("0.5*(sigmoid(w*x+b)-y)**2", "--at", "x=2,w=0.5,b=0.1,y=1")
    assert run.code == 0
    assert [r["wrt"] for r in run.json["gradient"]] == ["b", "w", "x", "y"]
    assert run.row("w")["value"] == pytest.approx(-0.093587, abs=1e-6)
    assert run.row("w")["reverse"] == pytest.approx(-0.093587, abs=1e-6)
    assert run.row("b")["value"] == pytest.approx(-0.046794, abs=1e-6)
    assert run.row("b")["numeric"] == pytest.approx(-0.046794, abs=1e-6)
    names = ["b", "w", "x", "y"]
    local = {n: sp.Symbol(n, real=True) for n in names}
    truth = sp.Rational(1, 2) * (sigmoid(local["w"] * local["x"] + local["b"]) - local["y"]) ** 2
    for row in run.json["gradient"]:
        back, _ = sympy_reads(row["derivative"], names)
        assert sp.simplify(back - sp.diff(truth, local[row["wrt"]])) == 0, row


@pytest.mark.parametrize("text, at", [
    ("tanh(x*y) + softplus(x)", "x=0.3,y=2"),
    ("relu(x - y)*abs(y) + log(x)", "x=2,y=-1.5"),
    ("sqrt(x)/(1 + e**x) - pi*x**-2", "x=1.7"),
    ("beta*gamma**2 + I*N + E", "beta=1.5,gamma=-2,I=3,N=0.25,E=7"),
])
def test_derivatives_read_back_by_sympy_and_gradcli(text, at):
    run = derive_json(text, "--at", at)
    assert run.code == 0, run.out
    names = [part.split("=")[0] for part in at.split(",")]
    truth_expr, local = sympy_reads(text, names)
    truth_expr = truth_expr.subs(sp.Symbol("e"), sp.E)
    for row in run.json["gradient"]:
        back, _ = sympy_reads(row["derivative"], names)
        back = back.subs(sp.Symbol("e"), sp.E)  # gradcli's constant e, if printed
        assert sp.simplify(back - sp.diff(truth_expr, local[row["wrt"]])) == 0, row
        # gradcli reads its own output: derive the derivative (no functions it lacks).
        again = gradcli("derive", row["derivative"], "--json", "--no-steps", "--timeout", "0")
        assert again.code == 0, (row["derivative"], again.err)


def test_names_are_variables_not_sympy_constants():
    run = derive_json("beta*gamma + I*N + E*e", "--at", "beta=2,gamma=3,I=5,N=7,E=11")
    assert [r["wrt"] for r in run.json["gradient"]] == ["beta", "E", "gamma", "I", "N"] or \
        [r["wrt"] for r in run.json["gradient"]] == sorted(["beta", "E", "gamma", "I", "N"])
    assert run.row("I")["value"] == 7.0
    assert run.row("N")["value"] == 5.0
    assert run.row("E")["value"] == pytest.approx(math.e)


# ----------------------------------------------------------- wrt and sort ---
def test_default_wrt_is_natural_sort():
    run = derive_json("w10*x1 + w2*x1 + x1")
    assert [r["wrt"] for r in run.json["gradient"]] == ["w2", "w10", "x1"]
    run = derive_json("a10 + a9 + a1 + b")
    assert [r["wrt"] for r in run.json["gradient"]] == ["a1", "a9", "a10", "b"]


@pytest.mark.parametrize("args, value", [
    (("-x**2", "--at", "x=3"), -6.0),
    (("--at", "x=3", "-(x+1)*2"), -2.0),
    (("-x^2", "--at", "x=3"), -6.0),
])
def test_expression_may_start_with_minus(args, value):
    run = gradcli("derive", *args, "--json", "--no-steps")
    assert run.code == 0, run.err
    assert run.row("x")["value"] == value


def test_explicit_wrt_keeps_order_and_drops_duplicates():
    run = derive_json("x**2*y", "--wrt", "y", "--wrt", "x", "--wrt", "y", "--at", "x=3,y=1")
    assert [r["wrt"] for r in run.json["gradient"]] == ["y", "x"]
    assert run.row("y")["value"] == 9.0 and run.row("x")["value"] == 6.0


def test_without_point_only_symbolic():
    run = derive_json("x**3")
    (row,) = run.json["gradient"]
    assert row["derivative"] == "3*x**2"
    assert row.get("value") is None and row.get("reverse") is None
    assert run.code == 0 and run.json["at"] == {}


def test_partial_point_is_noted_not_evaluated():
    run = derive_json("x*y", "--at", "x=1")
    assert run.code == 0
    assert any("missing: y" in n for n in run.json.get("notes", []))
    assert all(r.get("reverse") is None for r in run.json["gradient"])


def test_constant_expressions_in_at():
    run = derive_json("sin(x)", "--at", "x=pi/3")
    assert run.row("x")["value"] == pytest.approx(0.5, rel=1e-12)
    assert run.json["at"]["x"] == pytest.approx(math.pi / 3)


# ------------------------------------------------------------ kinks, fails ---
def test_relu_at_zero_is_a_kink_not_a_failure():
    run = derive_json("relu(x)", "--at", "x=0")
    assert run.code == 0
    row = run.row("x")
    assert row["kink"] is True and row["ok"] is True
    assert row["reverse"] == 0.0
    assert "kink" in row["note"] and "subgradient 0" in row["note"]
    assert run.json["ok"] is True


def test_kink_only_for_variables_on_its_path():
    run = derive_json("abs(x)*y", "--at", "x=0,y=2")
    assert run.code == 0
    assert run.row("x")["kink"] is True
    assert run.row("y")["kink"] is False and run.row("y")["band"] == "good"


def test_failed_check_exits_1(monkeypatch):
    """A wrong VJP in the op table is caught by the three-way check: exit 1."""
    import dataclasses

    from gradcli import ops

    wrong = dataclasses.replace(ops.OPS["sin"], vjp=(lambda g, o, a: g * 2.0 * math.cos(a),))
    monkeypatch.setitem(ops.OPS, "sin", wrong)
    run = gradcli("derive", "sin(x)", "--at", "x=1", "--json", "--no-steps")
    assert run.code == 1, run.err
    assert run.err == ""
    data = run.json
    assert data["ok"] is False and data["gradient"][0]["ok"] is False
    assert data["gradient"][0]["value"] == pytest.approx(math.cos(1.0))
    assert data["gradient"][0]["reverse"] == pytest.approx(2 * math.cos(1.0))


def test_timeout_zero_skips_symbolic_but_numbers_still_come():
    run = derive_json("(x**2 - 1)/(x - 1)", "--timeout", "0", "--at", "x=3")
    row = run.row("x")
    assert row["simplified"] is False and row["derivative"] is None
    assert "skipped" in (row["note"] or "")
    assert row["value"] is None
    assert row["reverse"] == pytest.approx(1.0) and row["numeric"] == pytest.approx(1.0)
    assert row["ok"] is True and run.code == 0
    simplified = derive_json("(x**2 - 1)/(x - 1)").row("x")
    assert simplified["simplified"] is True and simplified["derivative"] == "1"


def test_rtol_and_atol_are_used(monkeypatch):
    # An expression whose numeric error estimate is not tiny: sin at a large x.
    loose = derive_json("sin(x)", "--at", "x=10000")
    assert loose.code == 0 and loose.row("x")["ok"] is True
    assert loose.row("x")["value"] == pytest.approx(math.cos(1e4), rel=1e-12)
    # A reverse mode off by 1e-3 relative: beyond the default rtol 1e-6, within 1e-2.
    import dataclasses

    from gradcli import ops

    def broken(factor):
        wrong = dataclasses.replace(ops.OPS["sin"],
                                    vjp=(lambda g, o, a: g * factor * math.cos(a),))
        monkeypatch.setitem(ops.OPS, "sin", wrong)

    broken(1.001)
    assert derive_json("sin(x)", "--at", "x=1").code == 1
    row = derive_json("sin(x)", "--at", "x=1", "--rtol", "1e-2").row("x")
    assert row["ok"] is True and row["band"] == "suspicious"
    assert derive_json("sin(x)", "--at", "x=1", "--rtol", "9e-4").code == 1
    # Twice the gradient, but the gradient is 5e-11: the default atol 1e-9 decides.
    broken(2.0)
    row = derive_json("1e-10*sin(x)", "--at", "x=1").row("x")
    assert row["ok"] is True and row["band"] == "within atol"
    run = derive_json("1e-10*sin(x)", "--at", "x=1", "--atol", "0")
    assert run.code == 1 and run.row("x")["ok"] is False
    assert run.row("x")["note"].startswith("backprop bug")


def test_tolerance_below_the_fd_error_estimate_is_noted():
    row = derive_json("sin(x)", "--at", "x=1", "--rtol", "1e-15", "--atol", "0").row("x")
    assert row["ok"] is True
    assert row["note"].startswith("compared at the numeric error estimate ")
    assert derive_json("sin(x)", "--at", "x=1").row("x")["note"] is None


def test_tanh_derivative_stays_in_the_language():
    row = derive_json("tanh(x*y)", "--at", "x=0.3,y=2").row("x")
    assert "cosh" not in row["derivative"]
    assert row["value"] == pytest.approx(2.0 / math.cosh(0.6) ** 2, rel=1e-12)


# ----------------------------------------------------------------- formats ---
@needs_steps
def test_markdown_and_latex_contain_the_derivative():
    md = gradcli("derive", "(x**2+1)**3", "--at", "x=2", "--format", "markdown")
    assert md.code == 0, md.err
    assert "6*x*(x**2 + 1)**2" in md.out
    assert "300" in md.out and "|" in md.out
    tex = gradcli("derive", "(x**2+1)**3", "--at", "x=2", "--format", "latex")
    assert tex.code == 0, tex.err
    assert r"6 x \left(x^{2} + 1\right)^{2}" in tex.out
    assert r"\frac{\partial f}{\partial x}" in tex.out


@needs_steps
def test_text_output_and_steps():
    run = gradcli("derive", "(x**2+1)**3", "--at", "x=2")
    assert run.code == 0 and run.err == ""
    assert "6*x*(x**2 + 1)**2" in run.out
    assert "chain" in run.out and "300" in run.out
    no_steps = gradcli("derive", "(x**2+1)**3", "--at", "x=2", "--no-steps")
    assert no_steps.code == 0
    assert "chain" not in no_steps.out and "6*x*(x**2 + 1)**2" in no_steps.out


@needs_steps
def test_json_steps_are_listed_per_variable():
    run = gradcli("derive", "x**2*y", "--json")
    assert run.code == 0, run.err
    steps = run.json["steps"]
    assert isinstance(steps, list) and [s["wrt"] for s in steps] == ["x", "y"]


# ------------------------------------------------------------- bad inputs ---
def test_hostile_expressions_via_cli(hostile):
    start = time.perf_counter()
    run = gradcli("derive", hostile, "--json", "--at", "x=1")
    assert_one_error_line(run)
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize("args, fragment", [
    (("x", "--at", "x=nan"), "finite"),
    (("x", "--at", "x=NaN"), "finite"),
    (("x", "--at", "x=inf"), "finite"),
    (("x", "--at", "x=-inf"), "finite"),
    (("x", "--at", "x=1e999"), "not finite"),
    (("x", "--at", "x=10**400"), "'10**400' is beyond ±1e300"),
    (("x", "--at", "y=1"), "'y' is not a variable"),
    (("x", "--at", "x"), "expected NAME=VALUE"),
    (("x", "--at", "=1"), "expected NAME=VALUE"),
    (("x", "--at", "x="), "expected NAME=VALUE"),
    (("x", "--at", "x=y"), "must be a number"),
    (("x", "--at", "x=__import__('os')"), "--at x"),
    (("x", "--at", "1x=2"), "not a variable name"),
    (("x", "--wrt", "z"), "'z' is not a variable"),
    (("log(x)", "--at", "x=-1"), "log(-1)"),
    (("exp(x)", "--at", "x=1000"), "exp(1000)"),
    (("1/x", "--at", "x=0"), "div(1, 0)"),
    (("sum(x)", ), "tensors"),
    (("x", "--rtol", "abc"), "usage"),
    (("x", "--format", "pdf"), "usage"),  # html is a format now
    (("x", "--bogus"), "usage"),
    ((), "usage"),
])
def test_bad_input_exit_2(args, fragment):
    run = gradcli("derive", *args, "--json") if args else gradcli("derive")
    line = assert_one_error_line(run)
    assert fragment in line, line


def test_non_finite_error_names_op_and_point():
    line = assert_one_error_line(gradcli("derive", "x*log(x)", "--at", "x=-1", "--json"))
    assert "log(-1)" in line and "x=-1" in line
    line = assert_one_error_line(gradcli("derive", "exp(x*y)", "--at", "x=1000,y=1", "--json"))
    assert "exp(1000)" in line and "x=1000" in line and "y=1" in line


def test_errors_without_json_also_print_nothing_on_stdout():
    run = gradcli("derive", "x.real")
    assert_one_error_line(run, json_mode=False)
    assert run.out == ""
    assert run.err.splitlines() == ["error: column 1: attribute access is not allowed",
                                    "  x.real", "  ^"]


def test_caret_line_points_at_the_column():
    run = gradcli("derive", "x^2 + 2x.real", "--json")
    line = assert_one_error_line(run)
    assert line == "error: column 8: attribute access is not allowed"
    assert run.err.splitlines()[1:] == ["  x^2 + 2x.real", "         ^"]


def test_bare_gradcli_is_usage_error_and_version_works():
    run = gradcli()
    assert run.code == 2
    assert run.err.splitlines() == ["error: usage: no command given (see gradcli --help)"]
    assert "derive" in run.out
    version = gradcli("--version")
    assert version.code == 0 and version.out.strip() == "gradcli 0.1.0"


# ------------------------------------------------------------------ limits ---
def test_limits_that_must_work():
    text = "+".join(["x"] * 5000)  # 9,999 characters
    row = derive_json(text, "--at", "x=1", "--timeout", "1").row("x")
    assert row["derivative"] == "5000" and row["value"] == 5000.0 and row["ok"] is True
    row = derive_json("(" * 100 + "x**2" + ")" * 100, "--at", "x=3").row("x")
    assert row["value"] == 6.0
    row = derive_json("x**1000", "--at", "x=1").row("x")
    assert row["derivative"] == "1000*x**999" and row["reverse"] == 1000.0
    row = derive_json("x**-2", "--at", "x=2").row("x")
    assert row["value"] == pytest.approx(-0.25)


@pytest.mark.parametrize("text, fragment", [
    ("x" * 100_001, "too long"),
    ("(" * 1001 + "x" + ")" * 1001, "nested too deeply"),
    ("x**10001", "exponent too large"),
])
def test_limits_that_are_refused_quickly(text, fragment):
    start = time.perf_counter()
    line = assert_one_error_line(gradcli("derive", text, "--json"))
    assert fragment in line
    assert time.perf_counter() - start < 5.0


# --------------------------------------------- typer CliRunner and processes ---
def test_typer_app_with_clirunner():
    runner = CliRunner()
    ok = runner.invoke(cli.app, ["derive", "(2*x+1)**2", "--at", "x=1", "--json",
                                 "--no-steps"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["gradient"][0]["value"] == 12.0
    bad = runner.invoke(cli.app, ["derive", "x[0]", "--json", "--no-steps"])
    assert bad.exit_code == 2
    assert bad.stdout == ""
    assert bad.stderr.startswith("error: column 1: indexing")


def _subprocess(*args: str) -> Run:
    env = dict(os.environ, PYTHONIOENCODING="utf-8", COLUMNS="100")
    proc = subprocess.run([sys.executable, "-m", "gradcli", *args], capture_output=True,
                          text=True, timeout=60, env=env)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def test_end_to_end_process_success():
    run = _subprocess("derive", "(x**2+1)**3", "--at", "x=2", "--json", "--no-steps")
    assert run.code == 0 and run.err == ""
    assert run.json["gradient"][0]["reverse"] == 300.0


@pytest.mark.parametrize("args", [
    ("derive", "__import__('os').system('echo PWNED')", "--json"),
    ("derive", "log(x)", "--at", "x=-1", "--json"),
])
def test_end_to_end_process_errors(args):
    run = _subprocess(*args)
    assert_one_error_line(run)
    # Nothing ran: only the echoed expression (under the error line) mentions it.
    assert "PWNED" not in run.out
    assert "PWNED" not in run.err.splitlines()


@pytest.mark.parametrize("args", [["--rtol", "-1"], ["--atol", "nan"], ["--rtol", "inf"]])
def test_bad_tolerances_are_usage_errors(args):
    result = subprocess.run([sys.executable, "-m", "gradcli", "derive", "x**2", "--at", "x=1",
                             "--json", *args], capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: {args[0]}: must be a finite number >= 0")


# ------------------------------------------- regression: issue 7 and 8 ---
def test_relu_at_zero_symbolic_value_is_the_subgradient_0():
    """The step text said 0 at u = 0 while the symbolic column said 0.5."""
    for text, at in (("relu(x)", "x=0"), ("relu(x**2 - 1)", "x=1"), ("3*relu(x)", "x=0")):
        row = derive_json(text, "--at", at).row("x")
        assert row["value"] == 0.0 and row["reverse"] == 0.0, (text, row)
    out = gradcli("derive", "relu(x)", "--at", "x=0").out
    assert "taken as 0 at x = 0" in out
    # symbolic 0 and reverse 0; the numeric value (0.5) is not a derivative at a kink
    assert re.search(r"^\s*x\s+0\s+0\s+0\.5\s", out, re.M), out


def test_a_to_the_n_at_a_zero_wrt_a():
    """Was `a**n*n/a`, "no real value here" and then "all three methods agree"."""
    run = derive_json("a**n", "--wrt", "a", "--at", "a=0,n=2")
    assert run.code == 0
    row = run.row("a")
    back, local = sympy_reads(row["derivative"], ["a", "n"])
    a, n = local["a"], local["n"]
    assert sp.simplify(back - n * a ** (n - 1)) == 0
    assert back.subs({a: 0, n: 2}) == 0
    assert row["value"] == 0.0 and row["reverse"] == 0.0 and row["numeric"] == pytest.approx(0)
    assert row["ok"] is True and not row["note"]
    text = gradcli("derive", "a**n", "--wrt", "a", "--at", "a=0,n=2").out
    assert "no real value" not in text and "a**n*n/a" not in text


def test_derivative_undefined_for_one_variable_is_reported_alone():
    """Without --wrt the whole command exited 2 because d/dn is undefined at a = 0."""
    run = gradcli("derive", "a**n", "--at", "a=0,n=2", "--json")
    assert run.code == 0, run.err
    assert run.err == ""
    a, n = run.row("a"), run.row("n")
    assert a["value"] == 0.0 and a["reverse"] == 0.0 and a["ok"] is True
    assert (n["value"], n["reverse"], n["numeric"]) == (None, None, None)
    assert "undefined" in n["note"] and n["derivative"] == "a**n*log(a)"
    assert run.json["ok"] is True
    text = gradcli("derive", "a**n", "--at", "a=0,n=2")
    assert text.code == 0 and "undefined" in text.out
    assert "all three methods agree" not in text.out


def test_sqrt_at_zero_function_defined_derivative_not():
    run = gradcli("derive", "sqrt(x)", "--at", "x=0", "--json")
    assert run.code == 0, run.err
    row = run.row("x")
    assert (row["value"], row["reverse"], row["numeric"]) == (None, None, None)
    assert "sqrt(0)" in row["note"]


def test_identities_do_not_reuse_the_users_letters():
    out = gradcli("derive", "(a+b)*c").out
    assert "d(c*u) = c*du" not in out and "dc/da = 0" not in out
    assert "by d(k*u) = k*du" in out and "by dk/da = 0" in out


def test_steps_are_parenthesised():
    out = gradcli("derive", "(x**2+1)**3").out
    assert "[sum] d/dx (x**2 + 1) = 2*x" in out and "d/dx x**2 + 1" not in out


def test_sums_print_in_the_order_written():
    assert derive_json("yhat - y").json["expression"] == "yhat - y"
    run = derive_json("0.5*(sigmoid(w*x+b)-y)**2")
    assert run.json["expression"] == "(sigmoid(w*x + b) - y)**2/2"
    assert "sigmoid(w*x + b) - y" in run.row("w")["derivative"]
    assert "-y +" not in run.out and "b + w*x" not in run.out
    out = gradcli("derive", "0.5*(sigmoid(w*x+b)-y)**2", "--wrt", "w").out
    assert "-y +" not in out and "b + w*x" not in out


def test_factored_form_beside_the_expanded_one():
    row = derive_json("(3*x+1)**2").row("x")
    assert (row["derivative"], row["factored"]) == ("18*x + 6", "6*(3*x + 1)")
    assert derive_json("(x**2+1)**3").row("x")["factored"] is None
    out = gradcli("derive", "(3*x+1)**2").out
    assert "∂f/∂x = 18*x + 6 = 6*(3*x + 1)" in out
    assert "dy/dx = 2*u * 3 = 18*x + 6 = 6*(3*x + 1)" in out


@pytest.mark.parametrize("text", ["e**(x**2)", "exp(x**2)", "e^(x^2)"])
def test_e_to_the_u_is_stepped_as_exp(text):
    out = gradcli("derive", text).out
    assert "[exp] d/du exp(u) = exp(u)    by d exp(u) = exp(u)*du" in out
    assert "exponential" not in out and "a**u" not in out


def test_substitution_has_its_own_option_and_values():
    plain = gradcli("derive", "(x**2+1)**3", "--at", "x=2", "--no-steps")
    assert plain.code == 0
    assert "u = x**2 + 1" in plain.out and "dy/du = 3*u**2" in plain.out
    assert "u = 5, du/dx = 4, dy/du = 75" in plain.out
    assert "[chain]" not in plain.out
    none = gradcli("derive", "(x**2+1)**3", "--at", "x=2", "--no-substitution")
    assert "u-substitution" not in none.out and "du/dx" not in none.out
    assert "[chain]" in none.out
    run = gradcli("derive", "(x**2+1)**3", "--at", "x=2", "--json", "--no-steps")
    (item,) = run.json["steps"]
    assert item["tree"] is None
    assert item["substitution"][:3] == ["u = x**2 + 1", "du/dx = 2*x", "dy/du = 3*u**2"]
    assert item["substitution_values"] == {"u": 5.0, "du/dx": 4.0, "dy/du": 75.0,
                                           "dy/dx": 300.0}
    run = gradcli("derive", "x**2", "--json", "--no-steps", "--no-substitution")
    assert run.json["steps"] == []


def test_substitution_of_the_notes_loss():
    """A constant times a power: `0.5*(sigmoid(w*x+b)-y)**2` had no u-substitution."""
    run = gradcli("derive", "0.5*(sigmoid(w*x+b)-y)**2", "--wrt", "w", "--at",
                  "x=2,w=0.5,b=0.1,y=1", "--json", "--no-steps")
    (item,) = run.json["steps"]
    assert item["substitution"][0] == "u = sigmoid(w*x + b) - y"
    assert item["substitution"][2] == "df/du = u"
    values = item["substitution_values"]
    s = 1 / (1 + math.exp(-1.1))
    assert values["u"] == pytest.approx(s - 1, rel=1e-12)
    assert values["df/du"] == pytest.approx(s - 1, rel=1e-12)
    assert values["df/dw"] == pytest.approx(run.row("w")["reverse"], rel=1e-12)


@pytest.mark.parametrize("text", ["Heaviside(x)", "sign(x)", "3*sign(x - 1) + x"])
def test_step_functions_have_derivative_0_with_a_note(text):
    run = gradcli("derive", text, "--json")
    assert run.code == 0, run.err
    row = run.row("x")
    assert row["derivative"] == ("1" if "+ x" in text else "0")
    assert "does not exist" in row["note"]
    assert "DiracDelta" not in run.out
    assert "DiracDelta" not in gradcli("derive", text).out


@pytest.mark.parametrize("args, fragment", [
    (("(0 - 1)**x",), "the derivative of (-1)**x with respect to x is not real-valued"),
    (("x + (0 - 2)**x", "--at", "x=1"), "(-2)**x"),
])
def test_complex_derivatives_are_refused(args, fragment):
    """`(-1)**x` printed `I*pi`, where I reads back as a variable."""
    run = gradcli("derive", *args, "--json")
    line = assert_one_error_line(run)
    assert fragment in line


def test_step_check_error_never_escapes(monkeypatch):
    from gradcli.steps import build

    def bad_outer(self, i, u):
        return "power", "wrong", u**3, 2 * u**2

    monkeypatch.setattr(build._Builder, "_outer", bad_outer)
    run = gradcli("derive", "(x + 1)**3", "--at", "x=1", "--json")
    assert run.code == 0 and "internal" not in run.err
    assert run.json["steps"][0]["tree"]["rule"] == "skipped"
    assert "disagreed with SymPy" in run.json["steps"][0]["tree"]["note"]
    assert run.row("x")["value"] == 12.0


@pytest.mark.parametrize("text, part", [
    ("x + log(0)", "log(0)"), ("x*log(0)", "log(0)"), ("x + 0/0", "0/0"),
    ("x*sqrt(0 - 4)", "sqrt(0 - 4)"), ("x*log(0 - 2)", "log(0 - 2)"),
    ("(0 - 8)**(1/3)*x", "(0 - 8)**(1/3)"), ("x*sqrt(-4)", "sqrt(-4)"),
])
def test_undefined_constant_parts_are_exit_2_not_internal(text, part):
    """`x + log(0)` with steps on was `error: internal: StepCheckError`; `x*sqrt(-4)`
    printed `2*I`.  The parser may refuse them first; either way it is one exit-2
    line naming the part."""
    for args in ((text,), (text, "--json"), (text, "--at", "x=1", "--json")):
        run = gradcli("derive", *args)
        line = assert_one_error_line(run, json_mode=False)
        assert part in line and "internal" not in line, line


NEVER_PRINTED = ("DiracDelta", "zoo", "nan", "I*", "*I", "oo")


@pytest.mark.parametrize("text", ["Heaviside(x)*x", "sign(x)*sin(x)", "relu(x)**2",
                                  "abs(x)**3", "a**n", "x**x", "log(abs(x))"])
def test_no_non_real_symbol_reaches_the_output(text):
    for fmt in ("text", "markdown", "latex"):
        out = gradcli("derive", text, "--format", fmt).out
        assert not any(bad in out for bad in NEVER_PRINTED), (fmt, out)
    out = gradcli("derive", text, "--json").out
    assert not any(bad in out for bad in NEVER_PRINTED)


def test_budget_covers_all_sympy_work(monkeypatch):
    """Past the budget no SymPy work is started for the remaining variables (the
    800-variable product took 16.5 s with a 5 s budget): counted, not timed."""
    from gradcli import derive as derive_mod, symbolic

    clock = {"now": 0.0}
    calls = {"derivative": 0, "explain": 0}
    real_differentiate = symbolic.differentiate

    def slow_derivative(expr, x):  # once per derivative; each "takes" 3 s of the 5 s
        calls["derivative"] += 1
        clock["now"] += 3.0
        return real_differentiate(expr, x)

    import gradcli.steps as explaining

    real_explain = explaining.explain

    def counting_explain(*args, **kw):
        calls["explain"] += 1
        return real_explain(*args, **kw)

    monkeypatch.setattr(symbolic, "differentiate", slow_derivative)
    monkeypatch.setattr(explaining, "explain", counting_explain)
    text = "*".join(f"sin(v{i})" for i in range(40))
    at = {f"v{i}": 0.5 for i in range(40)}
    report = derive_mod.derive(text, at=at, time_budget=5.0, clock=lambda: clock["now"])
    assert calls == {"derivative": 2, "explain": 1}
    rows = report.gradient
    assert [r.derivative is not None for r in rows[:2]] == [True, True]
    assert all(r.derivative is None and "budget" in str(r.note) for r in rows[2:])
    # the numbers still come for every variable
    expected = math.cos(0.5) * math.sin(0.5) ** 39
    assert all(r.reverse == pytest.approx(expected, rel=1e-12) for r in rows)
    assert report.ok
    assert report.steps[0].tree is not None
    assert all(e.tree is None for e in report.steps[1:])
    assert any("explanations skipped for 39 of 40 variables" in str(n) for n in report.notes)


# -------------------------------- the JSON derivative reads back in SymPy ---
READ_BACK = [
    "(x**2+1)**3", "(2*x+1)**2", "(3*x+1)**2", "exp(x**2)", "e**(x**2)", "sin(x**2)",
    "relu(x)", "relu(x**2 - y)", "relu(x)*relu(1 - x)", "abs(x)", "abs(x - y)**3",
    "abs(sin(x))", "sigmoid(x)", "sigmoid(w*x + b)", "0.5*(sigmoid(w*x+b)-y)**2",
    "softplus(x*y)", "softplus(x)**2", "tanh(x)", "tanh(x*y)**2", "x/(x**2 + 1)",
    "(x - y)/(x + y)", "sin(x)/x", "x**-2", "x**0.5", "sqrt(x**2 + 1)", "x**x", "2**x",
    "a**n", "x**3*y**2", "ln(x)*x", "log(x**2 + 1)", "Heaviside(x)*x**2", "sign(x)*x",
    "cos(x)*pi + e*x", "-(x**2)", "yhat - y", "1/(1 + exp(-x))", "x**1000",
]


def contract_locals(names):
    """Exactly the declarations CONTRACT.md gives for reading `derivative` back."""
    local = {n: sp.Symbol(n, real=True) for n in names}
    local.update(sigmoid=lambda t: 1 / (1 + sp.exp(-t)), relu=lambda t: sp.Max(0, t),
                 softplus=lambda t: sp.log(1 + sp.exp(t)),
                 Heaviside=lambda t: sp.Heaviside(t, 0), e=sp.E, ln=sp.log)
    return local


def same_function(a, b, names) -> bool:
    """Equal where both are real: exactly when simplify manages, else at 12 points."""
    import random

    if sp.simplify(a - b) == 0:
        return True
    rng = random.Random(11)
    compared = 0
    for _ in range(40):
        point = {s: rng.choice((-1, 1)) * rng.uniform(0.2, 1.9)
                 for s in (a - b).free_symbols}
        try:
            va, vb = complex(a.evalf(subs=point)), complex(b.evalf(subs=point))
        except (TypeError, ValueError):
            continue
        if abs(va.imag) > 1e-12 or abs(vb.imag) > 1e-12 or va != va or vb != vb:
            continue
        if abs(va - vb) > 1e-9 * (1 + abs(va)):
            return False
        compared += 1
        if compared == 12:
            break
    return compared >= 5


@pytest.mark.parametrize("text", READ_BACK)
def test_json_derivative_reads_back_to_the_true_derivative(text):
    run = derive_json(text)
    assert run.code == 0, run.err
    names = run.json["gradient"] and [r["wrt"] for r in run.json["gradient"]]
    local = contract_locals(names)
    truth = parse_expr(text.replace("^", "**"), local_dict=dict(local))
    for row in run.json["gradient"]:
        printed = row["derivative"]
        assert not any(bad in printed for bad in ("DiracDelta", "zoo", "nan", "I*")), printed
        back = parse_expr(printed, local_dict=dict(local))
        assert back.free_symbols <= set(local[n] for n in names), printed
        expected = sp.diff(truth, local[row["wrt"]])
        expected = expected.replace(lambda t: isinstance(t, sp.DiracDelta), lambda t: 0)
        assert same_function(back, expected, names), (row["wrt"], printed, expected)
        if row["factored"]:
            assert same_function(parse_expr(row["factored"], local_dict=dict(local)),
                                 expected, names)


@pytest.mark.parametrize("text", ["(x**2+1)**3", "0.5*(sigmoid(w*x+b)-y)**2",
                                  "sigmoid(w2*sigmoid(w1*x+b1)+b2)", "a**n",
                                  "sin(x)*cos(x)*tan(x)*tanh(x)*exp(x)*log(x)"])
def test_latex_compiles_and_nothing_runs_off_the_page(tmp_path, text):
    import shutil

    if shutil.which("pdflatex") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdflatex is required on CI")
        pytest.skip("pdflatex is not installed")
    at = {"a**n": "a=0,n=2", "(x**2+1)**3": "x=2"}.get(text)
    run = gradcli("derive", text, "--format", "latex", *(("--at", at) if at else ()))
    assert run.code == 0, run.err
    body = run.out if run.out.lstrip().startswith(r"\documentclass") else (
        "\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n"
        + run.out + "\\end{document}\n")
    (tmp_path / "d.tex").write_text(body, encoding="utf-8")
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    log = (tmp_path / "d.log").read_text(errors="replace")
    assert proc.returncode == 0, log[-2000:]
    assert "Overfull \\hbox" not in log and "Overfull \\vbox" not in log
