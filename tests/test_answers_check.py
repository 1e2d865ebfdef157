"""`expect` in `gradcli check`: error signals (grad.<node>), updates graded on the
step, loss_after, formula answers (at the point and nearby), the diagnoses
(each with a case and a false-positive guard), weight_layout: in_out and one
example without its batch axis.  Values are checked against hand computations
independent of gradcli."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from checkcli import check_json, cli, write

# The 1-2-1 network of seed note 004 (specs/sigmoid_121.yaml without expect).
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


# the worked example by hand
A_H1, A_H2 = sig(1.1), sig(1.4)
YHAT = sig(0.8 * A_H1 + 0.9 * A_H2 + 0.3)
DL_DYHAT = YHAT - 1.0
SIG_OUT = YHAT * (1 - YHAT)
SIG_H1, SIG_H2 = A_H1 * (1 - A_H1), A_H2 * (1 - A_H2)
DL_DZOUT = DL_DYHAT * SIG_OUT
DL_DAH1 = DL_DZOUT * 0.8
DL_DW3 = DL_DZOUT * A_H1
DL_DW1 = DL_DAH1 * SIG_H1 * 2
DL_DX = DL_DAH1 * SIG_H1 * 0.5 + DL_DZOUT * 0.9 * SIG_H2 * 0.6


def graded(tmp_path: Path, expect: str, extra: str = "", *args) -> tuple[int, dict]:
    path = write(tmp_path, "answers.yaml", NET_121 + extra + "expect:\n" + expect)
    return check_json(path, *args)


def entry(report: dict, name: str) -> dict:
    return next(e for e in report["expect"] if e["name"] == name)


def refused(tmp_path: Path, text: str, *args) -> str:
    result = cli(write(tmp_path, "bad.yaml", text), "--json", *args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()[0]


# --------------------------------------------------------- error signals ---
def test_error_signals_of_seed_note_004(tmp_path):
    code, report = graded(tmp_path, "  grad.z_out: -0.02271\n  grad:\n    a_h1: -0.01817\n")
    assert code == 0
    assert entry(report, "grad.z_out")["actual"] == pytest.approx(DL_DZOUT, rel=1e-12)
    assert entry(report, "grad.a_h1")["actual"] == pytest.approx(DL_DAH1, rel=1e-12)


def test_error_signal_of_an_input(tmp_path):
    code, report = graded(tmp_path, f"  grad.x: {DL_DX!r}\n  grad.yhat: {DL_DYHAT!r}\n")
    assert code == 0
    assert entry(report, "grad.x")["actual"] == pytest.approx(DL_DX, rel=1e-12)


def test_error_signal_in_the_layer_form(tmp_path):
    path = write(tmp_path, "net.yaml", LAYER_231 + "expect:\n  grad.z2: [[0.0]]\n"
                                                  "  grad.a1: [[0, 0, 0]]\n")
    code, report = check_json(path)
    layer2 = next(r for r in report["layers"] if r["layer"] == 2)
    assert np.allclose(entry(report, "grad.z2")["actual"], layer2["delta"], rtol=1e-12)
    assert np.allclose(entry(report, "grad.a1")["actual"], layer2["da_prev"], rtol=1e-12)
    x, W1, W2, a1, yhat, d2 = hand_231()
    assert np.allclose(layer2["delta"], d2, rtol=1e-12)
    assert np.allclose(layer2["da_prev"], d2 @ W2, rtol=1e-12)
    assert code == 1


# ---------------------------------------------------------------- updates ---
def test_updates_of_seed_note_004(tmp_path):
    code, report = graded(tmp_path, "  update:\n    w3: 0.80852\n    w1: 0.50340\n", "lr: 0.5\n")
    assert code == 0
    w3 = entry(report, "update.w3")
    assert (w3["expected"], w3["actual"]) == (0.80852, pytest.approx(0.8 - 0.5 * DL_DW3))
    assert entry(report, "update.w1")["actual"] == pytest.approx(0.5 - 0.5 * DL_DW1)


def test_update_needs_a_learning_rate(tmp_path):
    first = refused(tmp_path, NET_121 + "expect:\n  update.w3: 0.8085\n")
    assert first == ("error: " + str(tmp_path / "bad.yaml") + ":21:14: update.w3 needs a "
                     "learning rate: give --lr RATE or lr: in the file")
    code, report = graded(tmp_path, "  update.w3: 0.8085\n", "", "--lr", "0.5")
    assert code == 0


def test_lr_option_overrides_the_file(tmp_path):
    code, report = graded(tmp_path, "  update.w3: 0.8085\n", "lr: 0.1\n", "--lr", "0.5")
    assert code == 0


def test_update_with_the_wrong_lr_is_wrong_and_the_lr_is_named(tmp_path):
    used = 0.8 - 0.1 * DL_DW3  # within 1% of the weight, but a fifth of the step
    code, report = graded(tmp_path, f"  update.w3: {used:.6f}\n", "lr: 0.5\n")
    e = entry(report, "update.w3")
    assert code == 1 and e["ok"] is False
    assert e["diagnosis"] == "used lr 0.1; the file says 0.5"
    code, report = graded(tmp_path, f"  update.w3: {used:.6f}\n", "", "--lr", "0.5")
    assert entry(report, "update.w3")["diagnosis"] == "used lr 0.1; --lr says 0.5"


def test_an_implied_lr_with_three_digits_is_not_named(tmp_path):
    code, report = graded(tmp_path, f"  update.w3: {0.8 - 0.123 * DL_DW3!r}\n", "lr: 0.5\n")
    assert code == 1 and entry(report, "update.w3")["diagnosis"] is None


def test_update_tolerance_is_relative_to_the_step(tmp_path):
    step = 0.5 * DL_DW3
    inside, outside = 0.8 - step * 1.009, 0.8 - step * 1.012
    assert graded(tmp_path, f"  update.w3: {inside!r}\n", "lr: 0.5\n")[0] == 0
    assert graded(tmp_path, f"  update.w3: {outside!r}\n", "lr: 0.5\n")[0] == 1


@pytest.mark.parametrize("answer,words", [
    (0.8 + 0.5 * DL_DW3, "gradient added instead of subtracted"),
    (DL_DW3, "this is the gradient, not the updated value"),
    (0.5 * DL_DW3, "this is the step lr × gradient, not the updated value"),
    (0.8 - 0.5 * DL_DYHAT * A_H1, "the step uses a wrong gradient: matches the chain with one "
                                  "factor left out: missing ∂yhat/∂z_out"),
])
def test_update_mistakes(tmp_path, answer, words):
    code, report = graded(tmp_path, f"  update.w3: {answer!r}\n", "lr: 0.5\n")
    assert code == 1 and words in entry(report, "update.w3")["diagnosis"]


def test_update_that_follows_from_the_students_gradient(tmp_path):
    code, report = graded(tmp_path, "  grad.w3: -0.0312\n  update.w3: 0.8156\n", "lr: 0.5\n")
    assert "follows from your gradient answer for w3" in entry(report, "update.w3")["diagnosis"]


def test_update_guard_random_answer(tmp_path):
    code, report = graded(tmp_path, "  update.w3: 0.83\n", "lr: 0.5\n")
    assert code == 1 and entry(report, "update.w3")["diagnosis"] is None


def test_loss_after_and_its_diagnosis(tmp_path):
    code, report = graded(tmp_path, "  loss_after: 0.012985\n", "lr: 0.5\n")
    assert code == 0
    before = 0.5 * (1 - YHAT) ** 2
    code, report = graded(tmp_path, f"  loss_after: {before!r}\n", "lr: 0.5\n")
    assert entry(report, "loss_after")["diagnosis"] == "the loss before the step, not after it"
    assert "loss_after needs a learning rate" in refused(tmp_path, NET_121 + "expect:\n"
                                                                             "  loss_after: 1\n")


# ------------------------------------------------------- gradient mistakes ---
def test_two_missing_sigma_factors_are_named(tmp_path):
    wrong = DL_DYHAT * 0.8 * 2  # both σ' factors left out
    code, report = graded(tmp_path, f"  grad.w1: {wrong:.5f}\n")
    diagnosis = entry(report, "grad.w1")["diagnosis"]
    assert "two factors left out" in diagnosis
    assert "∂yhat/∂z_out" in diagnosis and "∂a_h1/∂z_h1" in diagnosis


def test_one_missing_factor_of_an_error_signal(tmp_path):
    code, report = graded(tmp_path, f"  grad.a_h1: {DL_DYHAT * 0.8:.5f}\n")
    e = entry(report, "grad.a_h1")
    assert "one factor left out: missing ∂yhat/∂z_out" in e["diagnosis"]
    assert e["ledger"].startswith("dL/da_h1 = ∂L/∂yhat · ∂yhat/∂z_out · ∂z_out/∂a_h1")


@pytest.mark.parametrize("answer", [
    "0.0171",  # the sign flipped, but 0.4% off: a diagnosis must explain to 1e-3
    "-0.0175",  # close to the true value, outside the tolerance: no guess
    "-0.0927",  # a random wrong number
])
def test_gradient_guards(tmp_path, answer):
    code, report = graded(tmp_path, f"  grad.w3: {answer}\n")
    assert code == 1 and entry(report, "grad.w3")["diagnosis"] is None


# --------------------------------------------------------------- formulas ---
def test_formula_answer_right_everywhere(tmp_path):
    code, report = graded(tmp_path, '  grad.w3: "(yhat - y)*yhat*(1 - yhat)*a_h1"\n'
                                    '  grad.z_out: "(yhat - y) σ(z_out)(1 - σ(z_out))"\n')
    assert code == 0
    e = entry(report, "grad.w3")
    assert e["expected"] == "(yhat - y)*yhat*(1 - yhat)*a_h1"
    assert e["expected_value"] == pytest.approx(DL_DW3, rel=1e-12)


def test_a_product_of_numbers_is_a_number(tmp_path):
    code, report = graded(tmp_path, '  grad.w3: "(-0.165)(0.137)(0.750)"\n')
    e = entry(report, "grad.w3")
    assert code == 0 and e["expected_value"] == pytest.approx(-0.165 * 0.137 * 0.75)


def test_right_number_wrong_formula(tmp_path):
    # 0.1377 written as a number: right here, wrong once the point moves
    code, report = graded(tmp_path, '  grad.w3: "(yhat - y)*0.1377*a_h1"\n')
    e = entry(report, "grad.w3")
    assert code == 1 and e["ok"] is False
    assert e["diagnosis"].startswith("right number, wrong formula")


def test_wrong_formula_gets_the_value_diagnosis(tmp_path):
    code, report = graded(tmp_path, '  grad.w3: "(y - yhat)*yhat*(1 - yhat)*a_h1"\n')
    assert entry(report, "grad.w3")["diagnosis"] == "sign flipped"


def test_formula_update_with_lr(tmp_path):
    code, report = graded(tmp_path, '  update.w3: "w3 - lr (yhat - y) yhat (1 - yhat) a_h1"\n',
                          "lr: 0.5\n")
    assert code == 0
    assert entry(report, "update.w3")["expected_value"] == pytest.approx(0.8 - 0.5 * DL_DW3)


def test_formula_with_lr_needs_a_learning_rate(tmp_path):
    first = refused(tmp_path, NET_121 + 'expect:\n  grad.w3: "lr*0"\n')
    assert "grad.w3 needs a learning rate" in first


def test_formula_unknown_name_points_at_it(tmp_path):
    first = refused(tmp_path, NET_121 + 'expect:\n  grad.w3: "(yhta - y)*a_h1"\n')
    # line 21, the string starts at column 12, its text at 13: 'yhta' at column 14
    assert first == ("error: " + str(tmp_path / "bad.yaml") + ":21:14: unknown name 'yhta' "
                     "in the answer; did you mean 'yhat'?")


def test_expect_naming_what_does_not_exist(tmp_path):
    assert "unknown name in expect: grad 'nope'" in refused(
        tmp_path, NET_121 + "expect:\n  grad.nope: 1\n")
    assert "parameter in expect: update 'z_out'" in refused(
        tmp_path, NET_121 + "lr: 0.5\nexpect:\n  update: {z_out: 1}\n")
    assert "did you mean 'loss_after'" in refused(tmp_path,
                                                  NET_121 + "expect:\n  loss_aftr: 1\n")


# -------------------------------------------------------------- layer form ---
LAYER_231 = """\
inputs:
  x: [[1.0, 2.0]]
  y: [[0.8]]
layers:
  - dense: {units: 3, activation: sigmoid}
  - dense: {units: 1, activation: sigmoid}
loss: squared_error
params:
  W1: [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]
  b1: [0.0, 0.0, 0.0]
  W2: [[0.7, 0.8, 0.9]]
  b2: [0.0]
lr: 0.1
"""

XOR_IN_OUT = """\
inputs:
  x: [[0, 0], [0, 1], [1, 0], [1, 1]]
  y: [0, 1, 1, 0]
layers:
  - dense: {units: 3, activation: relu}
  - dense: {units: 2, activation: softmax}
loss: cross_entropy
seed: 3
"""


def hand_231():
    x = np.array([[1.0, 2.0]])
    W1 = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    W2 = np.array([[0.7, 0.8, 0.9]])
    a1 = 1 / (1 + np.exp(-(x @ W1.T)))
    yhat = 1 / (1 + np.exp(-(a1 @ W2.T)))
    d2 = 2 * (yhat - 0.8) * yhat * (1 - yhat)
    return x, W1, W2, a1, yhat, d2


def test_layer_updates_and_formulas(tmp_path):
    x, W1, W2, a1, yhat, d2 = hand_231()
    new_W2 = (W2 - 0.1 * d2.T @ a1).tolist()
    path = write(tmp_path, "net.yaml", LAYER_231 + f"expect:\n  update.W2: {new_W2}\n"
                 '  grad.W2: "transpose(2 (yhat - y) yhat (1 - yhat)) @ a1"\n')
    code, report = check_json(path)
    assert code == 0, report["expect"]


def test_in_out_layout_formulas_and_shapes(tmp_path):
    path = write(tmp_path, "xor.yaml", XOR_IN_OUT + "weight_layout: in_out\nexpect:\n"
                 '  grad.z2: "(yhat - y)/4"\n  grad.W2: "a1ᵀ @ (yhat - y) / 4"\n'
                 '  grad.a1: "(yhat - y) @ W2ᵀ / 4"\n')
    code, report = check_json(path)
    assert code == 0, report["expect"]
    assert report["weight_layout"] == "in_out"
    shapes = {p["name"]: p["shape"] for p in report["params"]}
    assert shapes == {"W1": [2, 3], "b1": [3], "W2": [3, 2], "b2": [2]}
    layer2 = next(r for r in report["layers"] if r["layer"] == 2)
    assert (layer2["dW_how"], layer2["da_how"]) == ("a_1ᵀ @ delta_2", "delta_2 @ W2ᵀ")
    d2, a1 = np.array(layer2["delta"]), np.array(report["nodes"]["a1"])
    W2 = np.array(report["nodes"]["W2"])
    assert np.allclose(layer2["dW"], a1.T @ d2, rtol=1e-12)
    assert np.allclose(layer2["da_prev"], d2 @ W2.T, rtol=1e-12)


def test_seeded_in_out_weights_are_the_transpose(tmp_path):
    _, out_in = check_json(write(tmp_path, "a.yaml", XOR_IN_OUT))
    _, in_out = check_json(write(tmp_path, "b.yaml", XOR_IN_OUT + "weight_layout: in_out\n"))
    for name in ("W1", "W2"):
        assert np.array_equal(np.array(in_out["nodes"][name]).T, out_in["nodes"][name])
    assert in_out["loss"] == out_in["loss"]
    for p, q in zip(in_out["params"], out_in["params"]):
        assert np.allclose(np.array(p["reverse"]).T if p["name"][0] == "W" else p["reverse"],
                           q["reverse"], rtol=1e-12)
        assert p["ok"] and q["ok"]  # reverse vs numeric in each layout


def test_out_in_ledger_formulas(tmp_path):
    _, report = check_json(write(tmp_path, "a.yaml", XOR_IN_OUT))
    layer2 = next(r for r in report["layers"] if r["layer"] == 2)
    assert (layer2["dW_how"], layer2["da_how"]) == ("delta_2ᵀ @ a_1", "delta_2 @ W2")
    assert report["weight_layout"] == "out_in"


def test_transposed_answer_is_diagnosed_with_the_layout(tmp_path):
    _, ref = check_json(write(tmp_path, "a.yaml", XOR_IN_OUT + "weight_layout: in_out\n"))
    dW2 = next(p for p in ref["params"] if p["name"] == "W2")["reverse"]  # [3, 2]
    path = write(tmp_path, "b.yaml", XOR_IN_OUT + "weight_layout: in_out\nexpect:\n"
                 f"  grad.W2: {np.array(dW2).T.tolist()}\n")
    code, report = check_json(path)
    assert code == 1
    assert entry(report, "grad.W2")["diagnosis"] == ("transposed: shape [2, 3] where this "
                                                     "file's layout (in_out) has [3, 2]")


def test_in_out_weight_shape_errors_name_the_layout(tmp_path):
    text = XOR_IN_OUT + "weight_layout: in_out\nparams:\n  W1: [[1, 2], [3, 4], [5, 6]]\n"
    assert "[inputs, units] = [2, 3] with weight_layout: in_out" in refused(tmp_path, text)
    assert "weight_layout must be out_in" in refused(tmp_path,
                                                     XOR_IN_OUT + "weight_layout: rows\n")


def test_one_example_without_the_batch_axis(tmp_path):
    flat = LAYER_231.replace("[[1.0, 2.0]]", "[1.0, 2.0]").replace("[[0.8]]", "[0.8]")
    x, W1, W2, a1, yhat, d2 = hand_231()
    path = write(tmp_path, "flat.yaml", flat + f"expect:\n  a1: {a1[0].tolist()}\n"
                                               f"  yhat: {float(yhat[0, 0])!r}\n")
    code, report = check_json(path)
    _, batch = check_json(write(tmp_path, "batch.yaml", LAYER_231))
    assert code == 0
    assert report["loss"] == pytest.approx(batch["loss"], rel=1e-15)
    assert report["loss"] == pytest.approx(float(((yhat - 0.8) ** 2).sum()), rel=1e-12)
    for p, q in zip(report["params"], batch["params"]):
        assert p["reverse"] == q["reverse"]


def test_text_output_shows_formula_and_layer_formulas(tmp_path):
    path = write(tmp_path, "xor.yaml", XOR_IN_OUT + "weight_layout: in_out\nexpect:\n"
                 '  grad.z2: "(yhat - y)/4"\n')
    out = cli(path).stdout
    assert "(yhat - y)/4 = [[" in out
    assert "dW_k = a_(k-1)ᵀ @ delta_k" in out
    assert "layer 2: dW_2 = a_1ᵀ @ delta_2 [3, 2];  db_2 = Σ_batch delta_2" in out
    assert "dL/da_1 = delta_2 @ W2ᵀ = [[" in out


def test_html_and_latex_typeset_a_formula_answers_value_after_the_formula(tmp_path):
    path = write(tmp_path, "xor.yaml", XOR_IN_OUT + "weight_layout: in_out\nexpect:\n"
                 '  grad.z2: "(yhat - y)/4"\n')
    html = cli(path, "--format", "html").stdout
    expect = html[html.index("grad.z2"):]
    cell = expect[:expect.index("</td>", expect.index("<td", 10))]
    assert "<code>(yhat - y)/4</code> = <math" in cell and "<mtable" in cell
    assert "[[" not in cell  # the value as a matrix, not as a nested list
    latex = cli(path, "--format", "latex").stdout
    row = next(line for line in latex.splitlines() if line.startswith("grad.z2 &"))
    assert "y)/\\allowbreak{}4} = $\\begin{bmatrix}-0.125 & 0.125" in row


def test_formula_undefined_at_the_point_is_located_in_the_answer(tmp_path):
    result = cli(write(tmp_path, "bad.yaml", NET_121 + 'expect:\n  grad.w3: "log(-1 - yhat)"\n'),
                 "--json")
    assert result.exit_code == 2 and result.stdout.count("\n") == 1  # the batch error line
    lines = result.stderr.splitlines()
    assert lines[0] == ("error: " + str(tmp_path / "bad.yaml") + ":21:13: in the answer: "
                        "log(-1.83509) is undefined (outside the function's domain)")
    assert lines[1:] == ["  log(-1 - yhat)", "  ^"]


def test_hostile_formula_answers_are_refused(tmp_path, hostile):
    import json

    # a JSON string is a YAML double-quoted scalar: any text can be written
    text = NET_121 + "expect:\n  grad.w3: " + json.dumps(hostile) + "\n"
    result = cli(write(tmp_path, "bad.yaml", text), "--json")
    assert result.exit_code == 2, (hostile, result.stdout[:200])
    assert "Traceback" not in result.stderr and result.stderr.startswith("error: ")
    # with --json an unusable file is one complete line (a grader's table keeps the row)
    (line,) = result.stdout.splitlines()
    item = json.loads(line)
    assert item["ok"] is False and item["exit"] == 2 and item["error"].startswith("error: ")


def test_random_wrong_gradients_are_rarely_diagnosed(tmp_path):
    import random

    rng = random.Random(7)
    answers = [round(rng.uniform(-0.3, 0.3), 5) for _ in range(40)]
    expect = "".join(f"  grad.{name}: {value}\n" for name, value in
                     zip(["w1", "w2", "w3", "w4", "b1", "b2", "b3", "z_out"] * 5, answers))
    diagnosed = 0
    for chunk in range(5):  # one file per 8 answers (a key appears once per file)
        lines = expect.splitlines()[chunk * 8:(chunk + 1) * 8]
        code, report = graded(tmp_path, "\n".join(lines) + "\n", "lr: 0.5\n")
        diagnosed += sum(e["diagnosis"] is not None for e in report["expect"] if not e["ok"])
    assert diagnosed <= 2, diagnosed


def test_an_answer_given_twice(tmp_path):
    first = refused(tmp_path, NET_121 + "expect:\n  grad.w3: 1\n  grad:\n    w3: 2\n")
    assert first.endswith("grad.w3 is answered twice in expect")
