"""Edge cases found by probing the CLI like an autograder: each once failed."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcli.cli import app


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, timeout: float = 60) -> Run:
    """`gradcli ARGS`, in-process (`timeout` kept for the callers: unused)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def one_json(result: Run) -> dict:
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return json.loads(lines[0])


@pytest.mark.parametrize("text", [
    "params: {w: 1}\nnodes: {L: w*2}\nloss: L*3\n",  # a node called L, loss an expression
    "inputs: {L: 2}\nparams: {w: 1}\nloss: L*w\n",  # an input called L
])
def test_a_value_named_L_does_not_confuse_the_ledger(tmp_path, text):
    result = run("check", write(tmp_path, text), "--json", timeout=30)
    report = one_json(result)
    assert result.returncode == 0
    w = next(p for p in report["params"] if p["name"] == "w")
    assert w["reverse"] == pytest.approx(6.0 if "nodes" in text else 2.0)
    assert sum(path["product"] for path in w["chain"]) == pytest.approx(w["reverse"])


def test_nodes_defined_after_the_loss_node_are_still_evaluated(tmp_path):
    result = run("check", write(tmp_path, "params: {w: 1}\nnodes: {z: w*2, q: w*5}\nloss: z\n"),
                 "--json")
    report = one_json(result)
    assert result.returncode == 0
    assert report["nodes"]["q"] == 5.0 and report["loss"] == 2.0


@pytest.mark.parametrize("text", [
    "tanh(" * 100 + "x - 3" + ")" * 100,
    "sin(" * 100 + "x" + ")" * 100,
    "log(1 + " * 60 + "x" + ")" * 60,
])
def test_depth_100_expressions_give_numbers_even_when_sympy_gives_up(text):
    result = run("derive", text, "--at", "x=0.5", "--json", "--timeout", "2")
    row = one_json(result)["gradient"][0]
    assert result.returncode == 0, result.stderr
    assert row["reverse"] == pytest.approx(row["numeric"], rel=1e-6)


def test_relu_exactly_at_zero_is_a_kink_in_check_graph_form(tmp_path):
    text = "inputs: {x: 1}\nparams: {w: 1, b: -1}\nnodes: {z: w*x + b, a: relu(z)}\nloss: a*2\n"
    result = run("check", write(tmp_path, text), "--json")
    report = one_json(result)
    assert result.returncode == 0
    assert {p["band"] for p in report["params"]} == {"kink"}
    assert all("subgradient 0" in p["attribution"] for p in report["params"])


def test_relu_exactly_at_zero_is_a_kink_in_check_layer_form(tmp_path):
    text = ("inputs:\n  x: [[1, 1]]\n  y: [[0.5]]\nlayers:\n  - dense: {units: 1, activation: "
            "relu}\n  - dense: {units: 1}\nloss: mse\nparams:\n  W1: [[1, -1]]\n  b1: [0]\n")
    result = run("check", write(tmp_path, text), "--json")
    report = one_json(result)
    assert result.returncode == 0
    assert next(p for p in report["params"] if p["name"] == "W1")["band"] == "kink"


@pytest.mark.parametrize("expr, point, expected", [
    ("log(x)", "x=5e-6", 2e5),
    ("sqrt(x)", "x=1e-12", 5e5),
])
def test_points_near_a_domain_edge_are_checked_with_a_smaller_step(expr, point, expected):
    result = run("derive", expr, "--at", point, "--json", "--no-steps")
    row = one_json(result)["gradient"][0]
    assert result.returncode == 0
    assert row["value"] == pytest.approx(expected) and row["ok"] is True
    assert row["numeric"] == pytest.approx(expected, rel=1e-3)


def test_check_near_a_domain_edge(tmp_path):
    result = run("check", write(tmp_path, "params: {w: 1e-6}\nloss: log(w)\n"), "--json")
    w = one_json(result)["params"][0]
    assert result.returncode == 0 and w["reverse"] == pytest.approx(1e6)


def test_derive_calls_a_finite_difference_artefact_what_it_is():
    result = run("derive", "sin(1e6*x)", "--at", "x=1", "--json", "--no-steps")
    row = one_json(result)["gradient"][0]
    assert result.returncode == 0
    assert row["band"] == "fd-artefact" and row["value"] == pytest.approx(row["reverse"])


def test_scalar_answers_for_one_example_layer_nets(tmp_path):
    text = ("inputs:\n  x: [1, 2]\n  y: 0.8\nlayers:\n  - dense: {units: 1, activation: "
            "sigmoid}\nloss: squared_error\nparams:\n  W1: [[0.1, 0.2]]\n  b1: [0.0]\n"
            "expect:\n  z1: 0.5\n  yhat: 0.6225\n  grad:\n    b1: -0.08345\n")
    result = run("check", write(tmp_path, text), "--json")
    report = one_json(result)
    assert result.returncode == 0
    assert [e["ok"] for e in report["expect"]] == [True, True, True]


def test_an_answer_of_the_wrong_size_is_unusable_input(tmp_path):
    text = "inputs: {x: 1}\nparams: {w: [1, 2]}\nloss: sum(w*x)\nexpect:\n  grad.w: [1, 2, 3]\n"
    result = run("check", write(tmp_path, text), "--json")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and ":5:11: expected grad.w has shape [3]" \
        in result.stderr
    # --json: the file still gets its one line, with the same error
    [line] = [json.loads(line) for line in result.stdout.splitlines()]
    assert line["ok"] is False and line["exit"] == 2
    assert line["error"] == result.stderr.splitlines()[0]


def test_custom_functions_of_constants_have_values():
    result = run("derive", "x*softplus(pi) + sigmoid(pi)*x", "--at", "x=1", "--json",
                 "--no-steps")
    row = one_json(result)["gradient"][0]
    import math

    expected = math.log1p(math.exp(math.pi)) + 1 / (1 + math.exp(-math.pi))
    assert row["value"] == pytest.approx(expected) and row["ok"] is True


def test_power_zero_at_zero_has_derivative_zero():
    result = run("derive", "x**0*y", "--at", "x=0,y=2", "--json", "--no-steps")
    rows = {r["wrt"]: r for r in one_json(result)["gradient"]}
    assert result.returncode == 0
    assert rows["x"]["reverse"] == 0.0 and rows["y"]["reverse"] == 1.0


def test_shape_errors_say_so(tmp_path):
    text = "inputs: {x: [[1, 2, 3]]}\nparams: {W: [[1, 2], [3, 4]]}\nloss: sum(x @ W)\n"
    result = run("check", write(tmp_path, text))
    assert result.returncode == 2
    assert "has incompatible shapes" in result.stderr and "Traceback" not in result.stderr


def test_evaluation_errors_point_at_the_operation():
    result = run("derive", "x + log(x - 3)", "--at", "x=1")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == ("error: column 5: log(-2) is undefined (outside the function's "
                        "domain) at x=1")
    assert lines[2] == "      ^"


def test_an_at_value_that_cannot_be_evaluated_names_the_option():
    result = run("derive", "x", "--at", "x=log(-1)")
    assert result.returncode == 2
    # refused by the parser's constant folding, naming the option and the operation
    assert result.stderr.startswith("error: --at x:1: 'log(-1)' is not a real number: "
                                    "the log of a negative number")
