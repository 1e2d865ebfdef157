"""`gradcli check` on graph-form specs: values, the chain-rule ledger, the
gradient-descent step, grading of (wrong) hand answers, output formats and
the backprop recurrence."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from checkcli import check_json, cli, json_lines, write
from gradcli import check, spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SIGMOID_121 = SPECS / "sigmoid_121.yaml"

# The 1-2-1 network of specs/sigmoid_121.yaml without its `expect` section.
NET_121 = """\
inputs:
  x: 2
  y: 1
params:
  w1: 0.5
  w2: 0.6
  w3: 0.8
  w4: 0.9
  b1: 0.1
  b2: 0.2
  b3: 0.3
nodes:
  z_h1: w1*x + b1
  a_h1: sigmoid(z_h1)
  z_h2: w2*x + b2
  a_h2: sigmoid(z_h2)
  z_out: w3*a_h1 + w4*a_h2 + b3
  yhat: sigmoid(z_out)
loss: 0.5*(y - yhat)**2
"""


def sig(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


# Hand computation of the 1-2-1 example, independent of gradcli.
A_H1 = sig(0.5 * 2 + 0.1)
A_H2 = sig(0.6 * 2 + 0.2)
YHAT = sig(0.8 * A_H1 + 0.9 * A_H2 + 0.3)
DL_DYHAT = YHAT - 1.0
DYHAT_DZ = YHAT * (1 - YHAT)
DL_DW3 = DL_DYHAT * DYHAT_DZ * A_H1


def param(report: dict, name: str) -> dict:
    return next(p for p in report["params"] if p["name"] == name)


def expect_entry(report: dict, name: str) -> dict:
    return next(e for e in report["expect"] if e["name"] == name)


# ------------------------------------------------------ the 1-2-1 example ---
@pytest.fixture(scope="module")
def net121() -> dict:
    code, report = check_json(SIGMOID_121, "--lr", "0.5")
    assert code == 0
    return report


def test_121_forward_values(net121):
    nodes = net121["nodes"]
    assert nodes["yhat"] == pytest.approx(0.835, abs=5e-4)
    assert nodes["yhat"] == pytest.approx(YHAT, rel=1e-12)
    assert nodes["a_h1"] == pytest.approx(0.7503, abs=5e-5)
    assert nodes["z_out"] == pytest.approx(1.622, abs=5e-4)
    assert net121["loss"] == pytest.approx(0.0136, abs=5e-5)
    assert net121["loss"] == pytest.approx(0.5 * (1 - YHAT) ** 2, rel=1e-12)


def test_121_gradients(net121):
    w3, w1 = param(net121, "w3"), param(net121, "w1")
    assert w3["reverse"] == pytest.approx(-0.01704, abs=5e-6)
    assert w3["reverse"] == pytest.approx(DL_DW3, rel=1e-12)
    assert w1["reverse"] == pytest.approx(-0.0068, abs=1e-5)
    hand_w1 = DL_DYHAT * DYHAT_DZ * 0.8 * A_H1 * (1 - A_H1) * 2
    assert w1["reverse"] == pytest.approx(hand_w1, rel=1e-12)
    for p in net121["params"]:
        assert p["ok"] and p["shape"] == []
        assert p["numeric"] == pytest.approx(p["reverse"], rel=1e-6)
        assert p["symbolic"] == pytest.approx(p["reverse"], rel=1e-9)


def test_121_ledger_chain_for_w3(net121):
    chain = param(net121, "w3")["chain"]
    assert len(chain) == 1
    path = chain[0]
    assert path["path"] == ["L", "yhat", "z_out", "w3"]
    edges = [f["edge"] for f in path["factors"]]
    assert edges == ["∂L/∂yhat", "∂yhat/∂z_out", "∂z_out/∂w3"]
    assert [(f["consumer"], f["producer"]) for f in path["factors"]] == [
        ("L", "yhat"), ("yhat", "z_out"), ("z_out", "w3")]
    values = [round(f["value"], 4) for f in path["factors"]]
    assert values == [-0.1649, 0.1377, 0.7503]
    exprs = {f["edge"]: f["expr"] for f in path["factors"]}
    assert exprs["∂yhat/∂z_out"] == "yhat*(1 - yhat)"
    assert exprs["∂L/∂yhat"] == "yhat - y"  # the variable differentiated first
    assert exprs["∂z_out/∂w3"] == "a_h1"
    assert path["product"] == pytest.approx(DL_DW3, rel=1e-12)
    # w1 goes back through the hidden unit: five factors
    w1_chain = param(net121, "w1")["chain"]
    assert len(w1_chain) == 1 and len(w1_chain[0]["factors"]) == 5


def test_121_ledger_in_text_output():
    result = cli(SIGMOID_121)
    assert result.exit_code == 0
    out = result.stdout
    assert "∂yhat/∂z_out = yhat*(1 - yhat)" in out
    assert "dL/dw3 = ∂L/∂yhat · ∂yhat/∂z_out · ∂z_out/∂w3 = (-0.1649)(0.1377)(0.7503)" in out


def test_121_descent_step(net121):
    assert net121["lr"] == 0.5
    update = {u["name"]: u for u in net121["update"]}
    assert update["w3"]["old"] == 0.8
    assert round(update["w3"]["new"], 4) == 0.8085
    assert update["w3"]["new"] == pytest.approx(0.8 - 0.5 * DL_DW3, rel=1e-12)
    assert update["w1"]["old"] == 0.5
    assert round(update["w1"]["new"], 4) == 0.5034
    assert net121["loss_after"] < net121["loss"]


def test_lr_option_overrides_spec(tmp_path):
    path = write(tmp_path, "net.yaml", NET_121 + "lr: 0.5\n")
    code, report = check_json(path, "--lr", "2")
    assert code == 0 and report["lr"] == 2
    update = {u["name"]: u for u in report["update"]}
    assert update["w3"]["new"] == pytest.approx(0.8 - 2 * DL_DW3, rel=1e-12)
    assert cli(path, "--lr", "0").exit_code == 2


# ------------------------------------------------------- two paths summed ---
def test_xy_plus_x_two_paths():
    code, report = check_json(SPECS / "xy_plus_x.yaml")
    assert code == 0
    x = param(report, "x")
    assert x["reverse"] == 4.0
    assert x["numeric"] == pytest.approx(4.0, rel=1e-8)
    assert x["symbolic"] == 4.0
    assert x["paths"] == 2
    products = sorted(path["product"] for path in x["chain"])
    assert products == [1.0, 3.0]
    assert sum(products) == 4.0
    paths = sorted(tuple(path["path"]) for path in x["chain"])
    assert paths == [("z", "x"), ("z", "xy", "x")]
    assert param(report, "y")["reverse"] == 2.0
    assert all(e["ok"] for e in report["expect"])


def test_x_times_y_plus_x_single_node(tmp_path):
    """z written as one expression: one edge whose local derivative is y + 1."""
    path = write(tmp_path, "z.yaml", "params:\n  x: 2\n  y: 3\nnodes:\n  z: x*y + x\n"
                                     "loss: z\nexpect:\n  grad.x: 4\n  grad.y: 2\n")
    code, report = check_json(path)
    assert code == 0
    x = param(report, "x")
    assert x["reverse"] == 4.0
    [only] = x["chain"]
    assert only["factors"][0]["expr"] == "y + 1"


# ------------------------------------------- three methods agree, every spec ---
GRAPH_SPECS = sorted(p for p in SPECS.glob("*.yaml") if "layers:" not in p.read_text())


@pytest.mark.parametrize("path", GRAPH_SPECS, ids=lambda p: p.name)
def test_reverse_numeric_symbolic_agree(path):
    report = check.run(spec.load(str(path)))
    assert report.ok
    assert report.symbolic_note is None
    for p in report.params:
        assert p.ok, p
        assert p.symbolic is not None
        np.testing.assert_allclose(p.reverse, p.numeric, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(p.reverse, p.symbolic, rtol=1e-9, atol=1e-12)


def test_graph_specs_exist():
    names = {p.name for p in GRAPH_SPECS}
    assert {"sigmoid_121.yaml", "sigmoid_neuron.yaml", "xy_plus_x.yaml", "add_mul.yaml",
            "linear_sq.yaml", "tensor_softmax.yaml"} <= names


def test_sigmoid_neuron_values():
    code, report = check_json(SPECS / "sigmoid_neuron.yaml")
    assert code == 0
    a = sig(0.5 * 2 + 0.1)
    assert param(report, "w")["reverse"] == pytest.approx((a - 1) * a * (1 - a) * 2, rel=1e-12)
    assert param(report, "w")["reverse"] == pytest.approx(-0.093587, abs=1e-6)
    assert param(report, "b")["reverse"] == pytest.approx(-0.046794, abs=1e-6)


def test_tensor_softmax_values():
    code, report = check_json(SPECS / "tensor_softmax.yaml")
    assert code == 0
    x = np.array([[1, 2], [0, 1], [1, 0]], dtype=float)
    y = np.array([[1, 0], [0, 1], [1, 0]], dtype=float)
    W = np.array([[0.5, -0.3], [0.2, 0.4]])
    b = np.array([0.1, -0.1])
    z = x @ W.T + b
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(report["nodes"]["p"], p, rtol=1e-12)
    assert report["loss"] == pytest.approx(-(y * np.log(p)).sum() / 3, rel=1e-12)
    np.testing.assert_allclose(param(report, "b")["reverse"], ((p - y) / 3).sum(axis=0),
                               rtol=1e-10)
    np.testing.assert_allclose(param(report, "W")["reverse"], ((p - y) / 3).T @ x, rtol=1e-10)
    assert param(report, "W")["shape"] == [2, 2]
    assert param(report, "b")["shape"] == [2]


# ------------------------------------------------ grading wrong answers ---
def graded(tmp_path: Path, expect: str, extra: str = "") -> tuple[int, dict]:
    path = write(tmp_path, "answers.yaml", NET_121 + extra + "expect:\n" + expect)
    return check_json(path)


def test_correct_answers_pass(tmp_path):
    code, report = graded(tmp_path, "  yhat: 0.835\n  loss: 0.0136\n  grad.w3: -0.01704\n"
                                    "  grad:\n    w1: -0.0068\n")
    assert code == 0
    assert [e["ok"] for e in report["expect"]] == [True] * 4


def test_expect_tolerance_rule(tmp_path):
    # |expected - actual| <= max(rtol*|actual|, atol), rtol 0.01 by default
    inside = DL_DW3 * 1.009
    outside = DL_DW3 * 1.012
    code, report = graded(tmp_path, f"  grad.w3: {inside!r}\n")
    assert code == 0
    code, report = graded(tmp_path, f"  grad.w3: {outside!r}\n")
    assert code == 1
    # a looser tolerance from the file makes it pass
    code, report = graded(tmp_path, f"  grad.w3: {outside!r}\n", "tolerance:\n  rtol: 0.02\n")
    assert code == 0
    # atol governs answers near zero
    code, report = graded(tmp_path, "  grad.w3: 0\n", "tolerance:\n  atol: 0.1\n")
    assert code == 0


def test_sign_flipped(tmp_path):
    code, report = graded(tmp_path, "  grad.w3: 0.01704\n")
    assert code == 1 and not report["ok"]
    entry = expect_entry(report, "grad.w3")
    assert not entry["ok"]
    assert entry["actual"] == pytest.approx(DL_DW3)
    assert "sign" in entry["diagnosis"]
    assert "∂L/∂yhat · ∂yhat/∂z_out · ∂z_out/∂w3" in entry["ledger"]


def test_factor_of_two(tmp_path):
    code, report = graded(tmp_path, f"  grad.w3: {2 * DL_DW3:.5f}\n")
    assert code == 1
    assert "factor of 2" in expect_entry(report, "grad.w3")["diagnosis"]


def test_missing_chain_factor(tmp_path):
    wrong = DL_DYHAT * A_H1  # dyhat/dz_out left out
    code, report = graded(tmp_path, f"  grad.w3: {wrong:.5f}\n")
    assert code == 1
    diagnosis = expect_entry(report, "grad.w3")["diagnosis"]
    assert "∂yhat/∂z_out" in diagnosis
    assert "left out" in diagnosis


def test_off_by_learning_rate(tmp_path):
    code, report = graded(tmp_path, f"  grad.w3: {0.1 * DL_DW3:.6f}\n", "lr: 0.1\n")
    assert code == 1
    diagnosis = expect_entry(report, "grad.w3")["diagnosis"]
    assert "lr" in diagnosis and "0.1" in diagnosis


def test_updated_value_instead_of_gradient(tmp_path):
    code, report = graded(tmp_path, "  grad.w3: 0.8085\n", "lr: 0.5\n")
    assert code == 1
    assert "updated value" in expect_entry(report, "grad.w3")["diagnosis"]


def test_wrong_forward_value_explains_wrong_gradient(tmp_path):
    given = 0.9  # a wrong yhat, carried into dL/dyhat and dyhat/dz_out
    wrong_grad = (given - 1) * given * (1 - given) * A_H1
    code, report = graded(tmp_path, f"  yhat: {given}\n  grad.w3: {wrong_grad:.6f}\n")
    assert code == 1
    assert not expect_entry(report, "yhat")["ok"]
    diagnosis = expect_entry(report, "grad.w3")["diagnosis"]
    assert diagnosis and "forward value of yhat" in diagnosis
    assert "0.9" in diagnosis


def test_one_path_left_out(tmp_path):
    path = write(tmp_path, "xy.yaml", "params:\n  x: 2\n  y: 3\nnodes:\n  xy: x*y\n  z: xy + x\n"
                                      "loss: z\nexpect:\n  grad.x: 3\n")
    code, report = check_json(path)
    assert code == 1
    assert "one path left out" in expect_entry(report, "grad.x")["diagnosis"]


def test_wrong_answer_text_output(tmp_path):
    path = write(tmp_path, "answers.yaml", NET_121 + "expect:\n  grad.w3: 0.01704\n")
    result = cli(path)
    assert result.exit_code == 1
    assert "WRONG" in result.stdout and "sign flipped" in result.stdout
    assert "FAILED" in result.stdout


# ------------------------------------------------------ output formats ---
def test_json_one_line_per_file():
    result = cli(SIGMOID_121, SPECS / "xy_plus_x.yaml", "--json")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    reports = [json.loads(line) for line in lines]
    assert [r["file"] for r in reports] == [str(SIGMOID_121), str(SPECS / "xy_plus_x.yaml")]
    for r in reports:
        assert {"file", "ok", "loss", "nodes", "params", "expect"} <= set(r)
        assert r["ok"] is True
        for p in r["params"]:
            assert {"name", "shape", "reverse", "numeric", "symbolic", "rel_error", "ok",
                    "chain"} <= set(p)
        for e in r["expect"]:
            assert {"name", "expected", "actual", "ok", "diagnosis"} <= set(e)
    assert result.stderr == ""


def test_markdown_format():
    result = cli(SIGMOID_121, "--format", "markdown", "--lr", "0.5")
    assert result.exit_code == 0
    out = result.stdout
    assert "### Gradients" in out and "| w3 |" in out
    assert "0.8350946755" in out
    assert "-0.01703793375" in out
    assert "dL/dw3 = ∂L/∂yhat · ∂yhat/∂z_out · ∂z_out/∂w3" in out
    assert "0.8085189669" in out  # the update table


def test_latex_format():
    result = cli(SIGMOID_121, "--format", "latex")
    assert result.exit_code == 0
    out = result.stdout
    assert r"\begin{tabular}" in out and r"\end{align*}" in out
    assert r"\frac{\mathrm{d}L}{\mathrm{d}w_{3}}" in out  # a total: d; local factors: ∂
    assert "0.8350946755" in out
    assert "-0.01703793375" in out


def test_paths_option_lists_every_factor():
    result = cli(SPECS / "xy_plus_x.yaml", "--paths")
    assert result.exit_code == 0
    assert "path z -> xy -> x:" in result.stdout
    assert "path z -> x:" in result.stdout


# ---------------------------------------------------------- recurrence ---
def diamond(levels: int) -> str:
    """n_k = sin(n_{k-1}) * cos(n_{k-1}): every level doubles the paths to w."""
    lines = ["params:", "  w: 0.3", "nodes:", "  n0: w"]
    for k in range(1, levels + 1):
        lines += [f"  s{k}: sin(n{k - 1})", f"  c{k}: cos(n{k - 1})", f"  n{k}: s{k}*c{k}"]
    lines.append(f"loss: n{levels}")
    return "\n".join(lines) + "\n"


def diamond_gradient(levels: int, w: float = 0.3) -> float:
    grad, n = 1.0, w
    for _ in range(levels):
        grad *= math.cos(n) ** 2 - math.sin(n) ** 2
        n = math.sin(n) * math.cos(n)
    return grad


def test_recurrence_when_paths_exceed_cap(tmp_path):
    path = write(tmp_path, "diamond.yaml", diamond(6))  # 2**6 = 64 paths
    code, report = check_json(path)
    assert code == 0
    w = param(report, "w")
    assert w["chain"] == []
    assert w["paths"] > 16  # counted up to the cap (16) and beyond
    assert w["reverse"] == pytest.approx(diamond_gradient(6), rel=1e-10)
    assert w["symbolic"] == pytest.approx(w["reverse"], rel=1e-9)
    rows = {row["node"]: row for row in report["recurrence"]}
    assert rows["w"]["value"] == pytest.approx(w["reverse"], rel=1e-12)
    # dL/dn_{k-1} = dL/ds_k * ds_k/dn_{k-1} + dL/dc_k * dc_k/dn_{k-1}
    n3 = rows["n3"]
    assert sorted(t["consumer"] for t in n3["terms"]) == ["c4", "s4"]
    assert n3["value"] == pytest.approx(sum(t["upstream"] * t["local"] for t in n3["terms"]),
                                        rel=1e-12)
    text = cli(path).stdout
    assert "too many paths" in text
    assert "Backprop recurrence" in text
    assert "dn6/dn3 = dn6/ds4 · ∂s4/∂n3 + dn6/dc4 · ∂c4/∂n3" in text


def test_few_paths_listed(tmp_path):
    path = write(tmp_path, "diamond.yaml", diamond(3))  # 8 paths: under the cap
    code, report = check_json(path)
    assert code == 0
    w = param(report, "w")
    assert w["paths"] == 8 and len(w["chain"]) == 8
    assert sum(p["product"] for p in w["chain"]) == pytest.approx(diamond_gradient(3), rel=1e-10)


def test_recurrence_flag():
    plain = cli(SIGMOID_121).stdout
    assert "Backprop recurrence" not in plain
    result = cli(SIGMOID_121, "--recurrence")
    assert result.exit_code == 0
    out = result.stdout
    assert "Backprop recurrence" in out
    assert "dL/dz_out = dL/dyhat · ∂yhat/∂z_out" in out
    assert "dL/da_h1 = dL/dz_out · ∂z_out/∂a_h1" in out


def test_wrong_loss_explained_by_wrong_yhat(tmp_path):
    # 0.5*(1 - 0.9)**2 = 0.005: right arithmetic on a wrong yhat
    code, report = graded(tmp_path, "  yhat: 0.9\n  loss: 0.005\n")
    assert code == 1
    assert expect_entry(report, "yhat")["ok"] is False
    assert "wrong forward value of yhat" in expect_entry(report, "loss")["diagnosis"]


def test_lr_times_gradient_with_lr_half_names_both(tmp_path):
    code, report = graded(tmp_path, f"  grad.w3: {0.5 * DL_DW3!r}\n", "lr: 0.5\n")
    diagnosis = expect_entry(report, "grad.w3")["diagnosis"]
    assert code == 1 and "lr × gradient" in diagnosis and "half" in diagnosis


def test_lr_from_command_line_is_used_for_diagnosis(tmp_path):
    path = write(tmp_path, "lr.yaml", NET_121 + f"expect:\n  grad.w3: {0.1 * DL_DW3!r}\n")
    result = cli(str(path), "--json", "--lr", "0.1")
    report = json_lines(result)[0]
    assert result.exit_code == 1
    assert "lr = 0.1" in expect_entry(report, "grad.w3")["diagnosis"]


def test_latex_has_update_and_expressions():
    result = cli(SIGMOID_121, "--format", "latex", "--lr", "0.5")
    assert result.exit_code == 0
    assert r"\texttt{sigmoid(\allowbreak{}z\_out)}" in result.stdout
    assert "0.8085189669" in result.stdout  # w3 after one step
    assert "One gradient-descent step (lr = 0.5)" in result.stdout


def test_exact_path_count_in_json(tmp_path):
    # n_i = a_i + b_i with a_i = n_{i-1}*2 and b_i = n_{i-1}*3: two named routes
    # per level, so 2**20 paths from the loss to w: counted exactly, not listed.
    levels = 20
    nodes = "".join(f"  a{i}: n{i - 1}*2\n  b{i}: n{i - 1}*3\n  n{i}: a{i} + b{i}\n"
                    for i in range(1, levels + 1))
    text = "params:\n  w: 0.5\nnodes:\n  n0: w*1\n" + nodes + f"loss: n{levels}\n"
    path = write(tmp_path, "paths.yaml", text)
    code, report = check_json(path)
    assert code == 0
    assert param(report, "w")["paths"] == 2 ** levels
    assert param(report, "w")["chain"] == []  # too many to list: the recurrence is shown
    assert param(report, "w")["reverse"] == pytest.approx(5.0 ** levels)


# ------------------------------------------------------- one descent step ---
def test_a_step_that_increases_the_loss_says_so(tmp_path):
    """x**2 from x = 5 with lr 10: x -> 5 - 10*10 = -95, L: 25 -> 9025 (overshoot)."""
    path = write(tmp_path, "x2.yaml", "params:\n  x: 5\nloss: x**2\n")
    code, report = check_json(path, "--lr", "10")
    assert code == 0
    assert report["loss"] == 25.0 and report["loss_after"] == 9025.0
    [note] = [n for n in report["notes"] if "increased the loss" in n]
    assert "25 -> 9025" in note and "overshoot" in note
    text = cli(path, "--lr", "10").stdout
    assert "L: 25 -> 9025" in text and "the step increased the loss" in text
    # a step that decreases the loss says nothing of the kind
    code, report = check_json(path, "--lr", "0.1")
    assert report["loss_after"] == pytest.approx(16.0)
    assert not any("increased" in n for n in report["notes"])


# ------------------------------------------------ tolerances and verdicts ---
def broken_sin(monkeypatch, factor: float) -> None:
    """sin's local derivative off by `factor` (reverse mode only: SymPy and the forward
    pass are right)."""
    import dataclasses

    from gradcli.ops import OPS

    wrong = dataclasses.replace(OPS["sin"], vjp=(lambda g, o, a: g * factor * np.cos(a),))
    monkeypatch.setitem(OPS, "sin", wrong)


def test_rtol_decides_a_small_relative_error(tmp_path, monkeypatch):
    broken_sin(monkeypatch, 1.001)  # 1e-3 relative error in every gradient
    path = write(tmp_path, "sin.yaml", "params:\n  w: 0.5\nloss: sin(w)\n")
    code, report = check_json(path)
    w = param(report, "w")
    assert code == 1 and not w["ok"] and w["cause"] == "backprop bug"
    assert w["rel_error"] == pytest.approx(1e-3, rel=1e-3)
    code, report = check_json(path, "--rtol", "1e-2")
    w = param(report, "w")
    assert code == 0 and w["ok"] and w["band"] == "suspicious"
    code, report = check_json(path, "--rtol", "9e-4")
    assert code == 1


def test_atol_decides_tiny_gradients(tmp_path, monkeypatch):
    broken_sin(monkeypatch, 2.0)  # twice the gradient, but the gradient is ~1e-10
    path = write(tmp_path, "tiny.yaml", "params:\n  w: 0.5\nloss: 1e-10*sin(w)\n")
    code, report = check_json(path)  # default atol 1e-8
    w = param(report, "w")
    assert code == 0 and w["ok"] and w["band"] == "within atol"
    code, report = check_json(path, "--atol", "0")
    w = param(report, "w")
    assert code == 1 and not w["ok"] and w["attribution"].startswith("backprop bug in op 'sin'")


def test_tolerance_below_the_fd_error_estimate_is_said_on_the_row():
    code, report = check_json(SIGMOID_121, "--rtol", "1e-14", "--atol", "0")
    assert code == 0
    for p in report["params"]:
        assert p["ok"] and p["note"].startswith("compared at the numeric error estimate ")
    text = cli(SIGMOID_121, "--rtol", "1e-14", "--atol", "0").stdout
    assert "w3: compared at the numeric error estimate " in text
    # at the default tolerance the estimate is far below it: no note
    code, report = check_json(SIGMOID_121)
    assert all(p["note"] is None for p in report["params"])


def test_fd_artefact_row(tmp_path):
    """sin(1e6 w): the step 6e-6 spans radians, so central differences are off while
    reverse mode and SymPy agree: not a failure."""
    path = write(tmp_path, "fast_sin.yaml", "params:\n  w: 1\nloss: sin(1000000*w)\n")
    code, report = check_json(path)
    w = param(report, "w")
    assert code == 0 and w["ok"] and w["band"] == "fd-artefact" and w["cause"] == "fd-artefact"
    assert w["reverse"] == pytest.approx(1e6 * math.cos(1e6), rel=1e-12)
    assert w["symbolic"] == pytest.approx(w["reverse"], rel=1e-9)
    assert w["numeric"] != pytest.approx(w["reverse"], rel=1e-2)
    result = cli(path)
    assert result.exit_code == 0 and "fd-artefact" in result.stdout


def test_inconclusive_row_when_symbolic_is_skipped(monkeypatch):
    broken_sin(monkeypatch, 2.0)
    code, report = check_json(SPECS / "xy_plus_x.yaml")  # no sin: unaffected
    assert code == 0
    path = SPECS / "sigmoid_121.yaml"
    code, report = check_json(path, "--timeout", "0")
    assert code == 0  # no sin here either
    import dataclasses

    from gradcli.ops import OPS

    wrong = dataclasses.replace(OPS["sigmoid"], vjp=(lambda g, o, a: g * o,))
    monkeypatch.setitem(OPS, "sigmoid", wrong)
    code, report = check_json(path, "--timeout", "0")
    w3 = param(report, "w3")
    assert code == 1 and not w3["ok"] and w3["symbolic"] is None
    assert w3["cause"] == "inconclusive"
    assert w3["attribution"] == ("reverse mode and central differences disagree (symbolic "
                                 "skipped): inconclusive")
    text = cli(path, "--timeout", "0")
    assert text.exit_code == 1 and "w3: reverse mode and central differences disagree" \
        in text.stdout


def test_timeout_skips_symbolic_with_the_reason_and_keeps_the_numbers():
    code, report = check_json(SIGMOID_121, "--timeout", "0")
    assert code == 0 and report["ok"]
    assert report["symbolic"] == "skipped: the time budget is 0 s (--timeout)"
    for p in report["params"]:
        assert p["symbolic"] is None and p["ok"]
        assert p["numeric"] == pytest.approx(p["reverse"], rel=1e-6)
    assert param(report, "w3")["reverse"] == pytest.approx(DL_DW3, rel=1e-12)
    text = cli(SIGMOID_121, "--timeout", "0").stdout
    assert "symbolic: skipped: the time budget is 0 s (--timeout)" in text


# --------------------------------------------------------------- sampling ---
def test_graph_form_samples_entries_above_the_limit(tmp_path):
    n = 20_100
    w = [round(0.001 * (i % 97) - 0.05, 3) for i in range(n)]
    path = write(tmp_path, "big.yaml", f"params:\n  w: {w}\nloss: sum(w*w)/2\n")
    code, report = check_json(path, "--json-full")
    [p] = report["params"]
    assert code == 0 and report["mode"] == "sampled"
    [note] = [n for n in report["notes"] if "sampled" in n]
    keep = check.NUMERIC_MAX_ELEMENTS * n // n  # the one tensor gets all of the limit
    assert note == (f"w: {keep:,} of {n:,} entries sampled (seed 0) and checked "
                    "numerically; the others are not computed (null)")
    numeric = np.array([np.nan if v is None else v for v in p["numeric"]])
    chosen = np.sort(np.random.default_rng(0).choice(n, size=keep, replace=False))
    np.testing.assert_array_equal(np.flatnonzero(~np.isnan(numeric)), chosen)
    np.testing.assert_allclose(numeric[chosen], np.array(w)[chosen], rtol=1e-6, atol=1e-9)
    assert "skipped" in report["symbolic"]


def test_progress_is_reported(tmp_path):
    w = [0.01 * i for i in range(450)]
    s = spec.load(str(write(tmp_path, "w.yaml", f"params:\n  w: {w}\n  b: 1\n"
                                               "loss: sum(w*w)*b\n")))
    calls = []
    report = check.run(s, symbolic_budget=0, progress=lambda done, total: calls.append(
        (done, total)))
    assert report.ok
    assert calls[-1] == (451, 451)
    assert [c[0] for c in calls] == sorted({c[0] for c in calls})  # strictly growing
    assert len(calls) >= 3  # every 200 entries, and at the end


# ------------------------------------------------------- error locations ---
def test_engine_errors_are_located_by_node(tmp_path):
    """The error names the operation's own line and column, in whichever node it is."""
    path = write(tmp_path, "loc.yaml", "params:\n  w: -1\nnodes:\n  a: w*2\n"
                                       "  b: 1 + sqrt(a)\nloss: b + log(w + 3)\n")
    result = cli(path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:5:10: sqrt(-2) is undefined")
    path = write(tmp_path, "loc2.yaml", "params:\n  w: -1\nnodes:\n  a: w*2\n"
                                        "loss: a + log(w)\n")
    result = cli(path)
    assert result.stderr.startswith(f"error: {path}:5:11: log(-1) is undefined")
