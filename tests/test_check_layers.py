"""`gradcli check` on layer-form specs: values against hand-written numpy
backprop, the per-layer ledger, every activation x loss pair, seeded
initialisation, drawn inputs, fast mode, and detection of a broken VJP."""
from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

from checkcli import check_json, cli, write
from gradcli import check, spec
from gradcli.dense import numeric as dense_numeric, table
from gradcli.ops import OPS

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def run(path: Path, **kwargs):
    return check.run(spec.load(str(path)), **kwargs)


def grads(report) -> dict:
    return {p.name: p for p in report.params}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------- 2-3-1 net vs hand numpy ---
def test_net_231_matches_hand_backprop():
    x = np.array([[1.0, 2.0]])
    y = np.array([[0.8]])
    W1 = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    b1 = np.zeros(3)
    W2 = np.array([[0.7, 0.8, 0.9]])
    b2 = np.zeros(1)
    B = 1
    z1 = x @ W1.T + b1
    a1 = sigmoid(z1)
    z2 = a1 @ W2.T + b2
    yhat = sigmoid(z2)
    loss = np.sum((yhat - y) ** 2) / B
    delta2 = 2 * (yhat - y) / B * yhat * (1 - yhat)
    dW2, db2 = delta2.T @ a1, delta2.sum(axis=0)
    delta1 = (delta2 @ W2) * a1 * (1 - a1)
    dW1, db1 = delta1.T @ x, delta1.sum(axis=0)

    code, report = check_json(SPECS / "net_231_sigmoid.yaml")
    assert code == 0 and report["ok"] and report["form"] == "layers"
    nodes = report["nodes"]
    np.testing.assert_allclose(nodes["z1"], z1, rtol=1e-12)
    np.testing.assert_allclose(nodes["a1"], a1, rtol=1e-12)
    np.testing.assert_allclose(nodes["yhat"], yhat, rtol=1e-12)
    assert report["loss"] == pytest.approx(loss, rel=1e-12)
    expected = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    for p in report["params"]:
        np.testing.assert_allclose(p["reverse"], expected[p["name"]], rtol=1e-10)
        np.testing.assert_allclose(p["numeric"], expected[p["name"]], rtol=1e-6)
        np.testing.assert_allclose(p["symbolic"], expected[p["name"]], rtol=1e-10)
        assert p["shape"] == list(expected[p["name"]].shape)
    ledger = {row["layer"]: row for row in report["layers"]}
    np.testing.assert_allclose(ledger[2]["delta"], delta2, rtol=1e-10)
    np.testing.assert_allclose(ledger[1]["delta"], delta1, rtol=1e-10)
    # lr 0.1 in the file: one descent step
    update = {u["name"]: u for u in report["update"]}
    np.testing.assert_allclose(update["W2"]["new"], W2 - 0.1 * dW2, rtol=1e-12)
    assert report["loss_after"] < report["loss"]


# ------------------------------------------------------------------ XOR ---
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0])


def test_xor_delta_is_yhat_minus_y_over_batch():
    code, report = check_json(SPECS / "xor_relu_softmax.yaml")
    assert code == 0
    top = next(row for row in report["layers"] if row["layer"] == 2)
    assert top["how"] == "(yhat - y)/B"
    assert top["formula_max_diff"] < 1e-15
    yhat = np.array(report["nodes"]["yhat"])
    onehot = np.eye(2)[XOR_Y]
    np.testing.assert_allclose(top["delta"], (yhat - onehot) / 4, rtol=1e-12, atol=1e-15)
    # and by hand: forward with the file's weights
    W1 = np.array([[0.5, -0.4], [-0.3, 0.8], [0.6, 0.6], [-0.7, -0.2]])
    b1 = np.array([0.1, 0.05, -0.2, 0.3])
    W2 = np.array([[0.4, -0.6, 0.9, -0.3], [-0.5, 0.7, -0.8, 0.2]])
    b2 = np.array([0.05, -0.05])
    a1 = np.maximum(XOR_X @ W1.T + b1, 0)
    z2 = a1 @ W2.T + b2
    p = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(yhat, p, rtol=1e-12)
    assert report["loss"] == pytest.approx(-np.log(p[np.arange(4), XOR_Y]).mean(), rel=1e-12)
    delta2 = (p - onehot) / 4
    dW2 = next(q for q in report["params"] if q["name"] == "W2")["reverse"]
    np.testing.assert_allclose(dW2, delta2.T @ a1, rtol=1e-10, atol=1e-15)


def test_class_indices_and_one_hot_agree(tmp_path):
    text = (SPECS / "xor_relu_softmax.yaml").read_text()
    indices = "y: [0, 1, 1, 0]"
    assert indices in text
    one_hot = write(tmp_path, "onehot.yaml",
                    text.replace(indices, "y: [[1, 0], [0, 1], [0, 1], [1, 0]]"))
    a = run(SPECS / "xor_relu_softmax.yaml")
    b = run(one_hot)
    assert a.ok and b.ok
    assert a.loss == b.loss
    for name, p in grads(a).items():
        np.testing.assert_array_equal(p.reverse, grads(b)[name].reverse)
        np.testing.assert_allclose(p.numeric, grads(b)[name].numeric, rtol=1e-12)


# ------------------------------------------- every activation x loss pair ---
REGRESSION = ("squared_error", "half_squared_error", "mse")
# the cross-entropies need outputs that are probabilities (table.OUTPUTS)
COMBOS = ([(act, loss) for act in table.ACTIVATIONS for loss in REGRESSION]
          + [(act, loss) for loss, acts in table.OUTPUTS.items() for act in acts])
HIDDEN = ("sigmoid", "tanh", "relu", "linear")


def test_combos_cover_every_activation_and_loss():
    assert {a for a, _ in COMBOS} == set(table.ACTIVATIONS)
    assert {l for _, l in COMBOS} == set(table.LOSSES)


@pytest.mark.parametrize("i,out,loss", [(i, a, l) for i, (a, l) in enumerate(COMBOS)],
                         ids=[f"{a}-{l}" for a, l in COMBOS])
def test_activation_loss_combo(tmp_path, i, out, loss):
    y = {"cross_entropy": "[0, 1]", "binary_cross_entropy": "[[1, 0], [0, 1]]"}.get(
        loss, "[[0.2, 0.7], [0.9, 0.1]]")
    path = write(tmp_path, "net.yaml", f"""\
inputs:
  x: [[0.5, -1.0], [1.5, 0.3]]
  y: {y}
layers:
  - dense: {{units: 2, activation: {HIDDEN[i % len(HIDDEN)]}}}
  - dense: {{units: 2, activation: {out}}}
loss: {loss}
seed: {i}
""")
    report = run(path)
    assert report.ok
    assert report.symbolic_note is None
    for p in report.params:
        assert p.ok and p.band in ("good", "fine"), (p.name, p.band, p.attribution)
        np.testing.assert_allclose(p.reverse, p.numeric, rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(p.reverse, p.symbolic, rtol=1e-9, atol=1e-12)


# -------------------------------------------------------- seeded init ---
INIT_NET = """\
inputs:
  x: {{shape: [2, 400], distribution: normal}}
  y: {{shape: [2, 10], distribution: uniform}}
layers:
  - dense: {{units: 300, activation: relu}}
  - dense: {{units: 10, activation: sigmoid}}
loss: mse
seed: {seed}
"""


def test_seeded_init_reproducible_he_and_glorot(tmp_path):
    path = write(tmp_path, "init.yaml", INIT_NET.format(seed=3))
    s1, s2 = spec.load(str(path)), spec.load(str(path))
    for name in ("x", "y"):
        np.testing.assert_array_equal(s1.bindings[s1.inputs[name]], s2.bindings[s2.inputs[name]])
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(s1.bindings[s1.params[name]], s2.bindings[s2.params[name]])
    W1 = s1.bindings[s1.params["W1"]]
    W2 = s1.bindings[s1.params["W2"]]
    assert W1.shape == (300, 400) and W2.shape == (10, 300)
    # He (normal) for relu: std sqrt(2 / fan_in)
    assert W1.std() == pytest.approx(math.sqrt(2 / 400), rel=0.05)
    assert abs(W1.mean()) < 0.005
    # Glorot (uniform) for sigmoid: |W| <= sqrt(6 / (fan_in + fan_out)), filling the range
    bound = math.sqrt(6 / (300 + 10))
    assert np.abs(W2).max() <= bound
    assert np.abs(W2).max() > 0.95 * bound
    assert W2.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    assert not s1.bindings[s1.params["b1"]].any()
    # another seed, other numbers
    other = spec.load(str(write(tmp_path, "other.yaml", INIT_NET.format(seed=4))))
    assert not np.array_equal(W1, other.bindings[other.params["W1"]])


def test_init_does_not_depend_on_given_tensors(tmp_path):
    base = "inputs:\n  x: [[1, 2]]\n  y: [[0.5]]\nlayers:\n  - dense: {units: 3, activation: tanh}\n" \
           "  - dense: {units: 1, activation: sigmoid}\nloss: mse\nseed: 5\n"
    a = spec.load(str(write(tmp_path, "a.yaml", base)))
    b = spec.load(str(write(tmp_path, "b.yaml", base + "params:\n  W1: [[1, 1], [1, 1], [1, 1]]\n")))
    np.testing.assert_array_equal(a.bindings[a.params["W2"]], b.bindings[b.params["W2"]])
    np.testing.assert_array_equal(b.bindings[b.params["W1"]], np.ones((3, 2)))


def test_check_output_reproducible():
    a = run(SPECS / "mnist_784_128_10.yaml")
    b = run(SPECS / "mnist_784_128_10.yaml")
    assert a.loss == b.loss
    for name, p in grads(a).items():
        np.testing.assert_array_equal(p.reverse, grads(b)[name].reverse)


# -------------------------------------------------------- drawn inputs ---
def test_drawn_inputs(tmp_path):
    path = write(tmp_path, "drawn.yaml", """\
inputs:
  x: {shape: [5, 2], distribution: normal, scale: 0.5}
  y: {shape: [5], distribution: classes}
layers:
  - dense: {units: 2, activation: tanh}
  - dense: {units: 3, activation: softmax}
loss: cross_entropy
seed: 11
""")
    s = spec.load(str(path))
    x, y = s.bindings[s.inputs["x"]], s.bindings[s.inputs["y"]]
    assert x.shape == (5, 2)
    assert 0.1 < x.std() < 1.2
    assert y.shape == (5, 3)  # class indices drawn, then one-hot
    np.testing.assert_array_equal(y.sum(axis=1), np.ones(5))
    assert set(np.unique(y)) <= {0.0, 1.0}
    again = spec.load(str(path))
    np.testing.assert_array_equal(x, again.bindings[again.inputs["x"]])
    np.testing.assert_array_equal(y, again.bindings[again.inputs["y"]])
    code, report = check_json(path)
    assert code == 0 and report["ok"]


def test_drawn_uniform_zeros_ones(tmp_path):
    path = write(tmp_path, "u.yaml", """\
inputs:
  x: {shape: [6, 2], distribution: uniform, scale: 3}
  y: {shape: [6, 2], distribution: zeros}
layers:
  - dense: {units: 2, activation: linear}
loss: mse
params:
  W1: {shape: [2, 2], distribution: ones, scale: 0.5}
  b1: {shape: [2], distribution: zeros}
""")
    s = spec.load(str(path))
    x = s.bindings[s.inputs["x"]]
    assert x.min() >= 0 and x.max() < 3 and x.max() > 1
    assert not s.bindings[s.inputs["y"]].any()
    np.testing.assert_array_equal(s.bindings[s.params["W1"]], np.full((2, 2), 0.5))
    report = check.run(s)
    assert report.ok


# --------------------------------------------------------------- mnist ---
def test_mnist_spec_passes_quickly():
    start = time.monotonic()
    code, report = check_json(SPECS / "mnist_784_128_10.yaml", "--json-full")
    elapsed = time.monotonic() - start
    assert code == 0 and report["ok"]
    assert elapsed < 10
    shapes = {p["name"]: p["shape"] for p in report["params"]}
    assert shapes == {"W1": [128, 784], "b1": [128], "W2": [10, 128], "b2": [10]}
    assert sum(math.prod(s) for s in shapes.values()) == 101_770
    assert report["mode"] == "full"
    assert all(p["symbolic"] is None for p in report["params"])
    assert "skipped" in report["symbolic"]
    assert np.array(report["nodes"]["x"]).shape == (8, 784)
    assert np.array(report["nodes"]["yhat"]).shape == (8, 10)
    for p in report["params"]:
        np.testing.assert_allclose(p["reverse"], p["numeric"], rtol=1e-4, atol=1e-8)


# ----------------------------------------------------------- fast mode ---
def test_fast_mode_above_limit(monkeypatch):
    monkeypatch.setattr(dense_numeric, "FULL_MODE_MAX_PARAMS", 10)
    report = run(SPECS / "net_231_sigmoid.yaml")  # 13 parameters
    assert report.ok
    assert report.mode == "fast"
    notes = " ".join(map(str, report.notes))
    assert "fast mode" in notes
    assert "random directions" in notes
    assert "direction seed" in notes and "ok" in notes
    # sampled entries agree with reverse mode; the rest are not computed (NaN)
    for p in report.params:
        num = np.asarray(p.numeric, dtype=float)
        checked = ~np.isnan(num)
        np.testing.assert_allclose(np.asarray(p.reverse)[checked], num[checked], rtol=1e-5)


def test_full_flag_forces_full_mode(monkeypatch):
    monkeypatch.setattr(dense_numeric, "FULL_MODE_MAX_PARAMS", 10)
    code, report = check_json(SPECS / "net_231_sigmoid.yaml", "--full")
    assert code == 0 and report["mode"] == "full"
    code, report = check_json(SPECS / "net_231_sigmoid.yaml")
    assert code == 0 and report["mode"] == "fast"
    assert any("direction seed" in n for n in report["notes"])


# ------------------------------------------------ a broken gradient ---
def broken_sigmoid(monkeypatch):
    wrong = dataclasses.replace(OPS["sigmoid"], vjp=(lambda g, o, a: g * o,))  # drops (1 - o)
    monkeypatch.setitem(OPS, "sigmoid", wrong)


def test_broken_vjp_detected_as_backprop_bug(monkeypatch):
    broken_sigmoid(monkeypatch)
    result = cli(SPECS / "sigmoid_neuron.yaml", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert not report["ok"]
    for p in report["params"]:
        assert not p["ok"]
        assert p["symbolic"] == pytest.approx(p["numeric"], rel=1e-6)
        assert p["reverse"] != pytest.approx(p["numeric"], rel=1e-3)
        assert p["attribution"].startswith("backprop bug")
        assert "sigmoid" in p["attribution"]
    text = cli(SPECS / "sigmoid_neuron.yaml")
    assert text.exit_code == 1 and "backprop bug" in text.stdout


def test_broken_vjp_detected_in_layer_form(monkeypatch):
    broken_sigmoid(monkeypatch)
    code, report = check_json(SPECS / "net_231_sigmoid.yaml")
    assert code == 1
    assert not all(p["ok"] for p in report["params"])
    assert any((p["attribution"] or "").startswith("backprop bug") for p in report["params"])


def test_broken_vjp_detected_in_fast_mode(monkeypatch):
    broken_sigmoid(monkeypatch)
    monkeypatch.setattr(dense_numeric, "FULL_MODE_MAX_PARAMS", 10)
    code, report = check_json(SPECS / "net_231_sigmoid.yaml")
    assert code == 1
    assert report["mode"] == "fast"
    assert any("FAIL" in n for n in report["notes"])
    assert not any(p["ok"] for p in report["params"])


# ------------------------------------------------------- gradient flow ---
def deep(tmp_path, activation: str, n: int, params: str = "") -> Path:
    body = "".join(f"  - dense: {{units: 4, activation: {activation}}}\n" for _ in range(n - 1))
    return write(tmp_path, "deep.yaml", "inputs:\n  x: [[0.5, -1.0, 2.0, 0.3]]\n  y: [[1.0]]\n"
                 f"layers:\n{body}  - dense: {{units: 1, activation: sigmoid}}\n"
                 f"loss: squared_error\nseed: 0\n{params}")


def test_vanishing_gradient_over_many_layers_is_warned(tmp_path):
    """10 sigmoid layers: each shrinks dL/da by less than 1000x, all of them by 80,000x."""
    code, report = check_json(deep(tmp_path, "sigmoid", 10), "--timeout", "0")
    assert code == 0
    flow = report["gradient_flow"]
    assert [f["layer"] for f in flow] == list(range(9, 0, -1))
    norms = [f["norm"] for f in flow]
    assert all(b / a > 1e-3 for a, b in zip(norms, norms[1:]))  # no adjacent warning
    assert norms[0] / norms[-1] > 1e3
    shrink = norms[0] / norms[-1]
    [warning] = [line for line in report["flow_lines"] if line.startswith("warning")]
    assert warning == (f"warning: dL/da shrinks {shrink:.1e}× from layer 9 to layer 1 "
                       "(vanishing gradient)")
    assert warning in cli(deep(tmp_path, "sigmoid", 10), "--timeout", "0").stdout
    # three layers do not lose that much: no warning
    code, report = check_json(deep(tmp_path, "sigmoid", 3), "--timeout", "0")
    assert not [line for line in report["flow_lines"] if line.startswith("warning")]


def test_exploding_gradient_between_adjacent_layers_is_warned(tmp_path):
    # W2 multiplies by 5000 (W3 scales it back, or the sigmoid output saturates)
    big = ("params:\n  W2: " + str((np.eye(4) * 5000).tolist()) + "\n  W3: "
           + str((np.ones((1, 4)) * 1e-4).tolist()) + "\n")
    # (W3 is tiny and a2 large, so W3's plain central difference is off by ~1e-5)
    code, report = check_json(deep(tmp_path, "linear", 3, big), "--timeout", "0", "--rtol", "1e-4")
    assert code == 0
    norms = {f["layer"]: f["norm"] for f in report["gradient_flow"]}
    assert norms[1] / norms[2] == pytest.approx(5000, rel=1e-9)
    warnings = [line for line in report["flow_lines"] if line.startswith("warning")]
    assert warnings == ["warning: dL/da grows 5.0e+03× from layer 2 to layer 1 "
                        "(exploding gradient)"]


def test_progress_is_reported_for_layer_nets():
    s = spec.load(str(SPECS / "xor_relu_softmax.yaml"))
    calls = []
    report = check.run(s, progress=lambda done, total: calls.append((done, total)))
    assert report.ok
    total = sum(np.size(s.bindings[nid]) for nid in s.params.values())
    assert calls[-1] == (total, total) and len(calls) >= 4  # a block per tensor at least


def test_layer_form_errors_name_the_loss_line(tmp_path):
    # a sigmoid output that underflows to 0 here, so cross-entropy takes the log of 0
    path = write(tmp_path, "neg.yaml", "inputs:\n  x: [[1.0, 2.0]]\n  y: [[0.0, 1.0]]\n"
                 "layers:\n  - dense: {units: 2, activation: sigmoid}\nloss: cross_entropy\n"
                 "params:\n  W1: [[1000, 1000], [-1000, -1000]]\n  b1: [0, 0]\n")
    result = cli(path)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: {path}:6:7: log(array[1, 2]) gives a non-finite "
                                    "value at x: [1, 2]")
