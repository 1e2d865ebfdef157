"""`gradcli check NET.yaml --backward FILE.py:FUNC`: the user's backward for the network.

The correct examples pass (false-positive guard); each buggy example (one bug per
file) is caught with its diagnosis and exit code; unusable files are exit 2 with
one error line.  Reference values are computed here independently, in numpy.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from checkcli import check_json, cli, write

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SPEC_121 = ROOT / "specs" / "sigmoid_121.yaml"
SPEC_XOR = ROOT / "specs" / "xor_relu_softmax.yaml"


def backward_json(spec, target, *extra) -> tuple[int, dict]:
    return check_json(spec, "--backward", target, *extra)


def users(data: dict) -> dict[str, dict]:
    return {p["name"]: p["user"] for p in data["params"]}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def xor_reference() -> dict[str, np.ndarray]:
    """dL/dW1, db1, dW2, db2 of specs/xor_relu_softmax.yaml, by hand."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.eye(2)[[0, 1, 1, 0]]
    W1 = np.array([[0.5, -0.4], [-0.3, 0.8], [0.6, 0.6], [-0.7, -0.2]])
    b1 = np.array([0.1, 0.05, -0.2, 0.3])
    W2 = np.array([[0.4, -0.6, 0.9, -0.3], [-0.5, 0.7, -0.8, 0.2]])
    b2 = np.array([0.05, -0.05])
    z1 = x @ W1.T + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2.T + b2
    p = np.exp(z2) / np.exp(z2).sum(1, keepdims=True)
    d2 = (p - y) / 4
    d1 = d2 @ W2 * (z1 > 0)
    return {"W1": d1.T @ x, "b1": d1.sum(0), "W2": d2.T @ a1, "b2": d2.sum(0)}


# ------------------------------------------------------------- correct code ---
def test_hand_written_121_backward_passes_with_the_notes_numbers():
    status, data = backward_json(SPEC_121, f"{EXAMPLES / 'backward_121.py'}:backward")
    assert status == 0 and data["ok"] is True
    user = users(data)
    assert set(user) == {"w1", "w2", "w3", "w4", "b1", "b2", "b3"}
    assert all(u["ok"] and u["bad"] == 0 and u["diagnosis"] is None for u in user.values())
    # seed note 004: dL/dw3 = (-0.165)(0.137)(0.750) ~ -0.017, dL/dw1 ~ -0.0068
    a_h1, a_h2 = sigmoid(1.1), sigmoid(1.4)
    yhat = sigmoid(0.8 * a_h1 + 0.9 * a_h2 + 0.3)
    d_out = -(1 - yhat) * yhat * (1 - yhat)
    assert user["w3"]["value"] == pytest.approx(d_out * a_h1, rel=1e-12)
    assert user["w1"]["value"] == pytest.approx(d_out * 0.8 * a_h1 * (1 - a_h1) * 2, rel=1e-12)
    assert round(user["w3"]["value"], 3) == -0.017 and round(user["w1"]["value"], 4) == -0.0068
    assert data["backward"] == {"target": f"{EXAMPLES / 'backward_121.py'}:backward",
                                "ok": True, "error": None, "extra": [], "printed_lines": 0}


def test_numpy_xor_backward_passes_and_matches_an_independent_backprop():
    status, data = backward_json(SPEC_XOR, f"{EXAMPLES / 'backward_xor.py'}:backward")
    assert status == 0 and data["ok"] is True
    ref = xor_reference()
    for name, u in users(data).items():
        assert u["ok"] and u["bad"] == 0 and u["count"] == ref[name].size
        np.testing.assert_allclose(u["value"], ref[name], rtol=1e-12, atol=1e-15)


def test_human_output_prints_the_table_after_the_check_tables():
    result = cli(SPEC_XOR, "--backward", f"{EXAMPLES / 'backward_xor.py'}:backward")
    assert result.exit_code == 0
    out = result.stdout
    assert out.index("Gradients of loss") < out.index("Your backward")
    table = out[out.index("Your backward"):]
    for header in ("parameter", "ok", "bad/total", "worst index", "expected", "actual"):
        assert header in table
    assert "0/8" in table and "0/4" in table and "0/2" in table


# ---------------------------------------------------------------- the bugs ---
def test_missing_relu_derivative_of_layer_1_is_named():
    status, data = backward_json(SPEC_XOR, f"{EXAMPLES / 'backward_xor_bug_relu.py'}:backward")
    assert status == 1 and data["ok"] is False
    user = users(data)
    assert user["W2"]["ok"] and user["b2"]["ok"]
    for name in ("W1", "b1"):
        assert not user[name]["ok"]
        assert user[name]["diagnosis"] == \
            "missing the activation derivative of layer 1: relu'(z1) left out"
    # the worst entry and its numbers: the reference there, and the user's value
    ref = xor_reference()
    index = tuple(user["W1"]["worst_index"])
    assert user["W1"]["expected"] == pytest.approx(ref["W1"][index], rel=1e-12)
    assert user["W1"]["actual"] == pytest.approx(np.array(user["W1"]["value"])[index])
    # entries of units that are active for every example are right: only 4 of 8 are bad
    assert user["W1"]["bad"] == 4 and user["W1"]["count"] == 8


def test_transposed_dW_is_diagnosed_with_both_shapes():
    status, data = backward_json(SPEC_XOR,
                                 f"{EXAMPLES / 'backward_xor_bug_transposed.py'}:backward")
    assert status == 1
    user = users(data)
    assert user["W1"]["ok"] is False and user["W1"]["bad"] == 8
    assert user["W1"]["diagnosis"] == "transposed: shape (2, 4) where (4, 2) is expected"
    assert [name for name, u in user.items() if not u["ok"]] == ["W1"]


def test_missing_one_over_batch_is_named_on_every_gradient():
    status, data = backward_json(SPEC_XOR, f"{EXAMPLES / 'backward_xor_bug_batch.py'}:backward")
    assert status == 1
    ref = xor_reference()
    for name, u in users(data).items():
        assert not u["ok"]
        assert u["diagnosis"] == "missing the 1/B of the loss (B = 4): off by a factor of 4"
        np.testing.assert_allclose(u["value"], 4 * ref[name], rtol=1e-12, atol=1e-15)


def test_missing_key_is_a_failed_item_naming_it():
    status, data = backward_json(SPEC_XOR,
                                 f"{EXAMPLES / 'backward_xor_bug_missing_key.py'}:backward")
    assert status == 1
    user = users(data)
    assert user["b2"] == {"value": None, "ok": False, "bad": None, "count": 2,
                          "worst_index": None, "expected": None, "actual": None,
                          "diagnosis": "missing: backward returned no gradient for b2 "
                                       "(returned keys: W1, b1, W2)"}
    assert user["W1"]["ok"] and user["b1"]["ok"] and user["W2"]["ok"]


def test_missing_sigmoid_derivative_in_the_121_net_names_the_chain_factor():
    status, data = backward_json(SPEC_121,
                                 f"{EXAMPLES / 'backward_121_bug_sigmoid.py'}:backward")
    assert status == 1
    user = users(data)
    assert sorted(n for n, u in user.items() if not u["ok"]) == ["b1", "w1"]
    for name in ("w1", "b1"):
        assert user[name]["diagnosis"].startswith(
            "matches the chain with one factor left out: missing ∂a_h1/∂z_h1")
    a_h1 = sigmoid(1.1)
    assert user["w1"]["value"] == pytest.approx(user["w1"]["expected"] / (a_h1 * (1 - a_h1)),
                                                rel=1e-12)


def test_exception_inside_the_function_fails_every_item_with_the_users_line():
    target = f"{EXAMPLES / 'backward_121_bug_raise.py'}:backward"
    status, data = backward_json(SPEC_121, target)
    assert status == 1 and data["ok"] is False
    where = f"{EXAMPLES / 'backward_121_bug_raise.py'}:14: KeyError: 'w5'"
    assert data["backward"]["error"] == where
    assert all(u["ok"] is False and u["error"] == where for u in users(data).values())
    result = cli(SPEC_121, "--backward", target)
    assert result.exit_code == 1
    assert "raised: " + where in " ".join(result.stdout.split())


def test_import_error_is_exit_2_with_the_users_line():
    path = EXAMPLES / "backward_121_bug_import.py"
    result = cli(SPEC_121, "--backward", f"{path}:backward")
    assert result.exit_code == 2
    assert result.stderr == \
        f"error: {path}:13: ValueError: the learning rate must be positive\n"
    assert "Traceback" not in result.stdout + result.stderr


def test_import_error_names_the_path_as_given(tmp_path, monkeypatch):
    write(tmp_path, "mylayers.py", "import math\n\n\nraise ValueError('bad shape')\n")
    monkeypatch.chdir(tmp_path)
    result = cli(SPEC_121, "--backward", "mylayers.py:backward")
    assert result.exit_code == 2
    assert result.stderr == "error: mylayers.py:4: ValueError: bad shape\n"


# --------------------------------------------- the layer-form alternatives ---
BACKWARD_231 = '''
import numpy as np


def sig(z):
    return 1 / (1 + np.exp(-z))


def backward(params, inputs):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    x, y = inputs["x"], inputs["y"]
    a1 = sig(x @ W1.T + b1)
    yhat = sig(a1 @ W2.T + b2)
    d2 = 2 * (yhat - y) / x.shape[0]{out}
    d1 = (d2 @ W2){hidden}
    return {{"W1": d1.T @ x, "b1": d1.sum(0), "W2": d2.T @ a1, "b2": d2.sum(0)}}
'''


@pytest.mark.parametrize("out, hidden, wrong, diagnosis", [
    (" * yhat * (1 - yhat)", " * a1 * (1 - a1)", [], None),
    ("", " * a1 * (1 - a1)", ["W1", "b1", "W2", "b2"],
     "missing the activation derivative of layer 2: sigmoid'(z2) left out"),
    (" * yhat * (1 - yhat)", "", ["W1", "b1"],
     "missing the activation derivative of layer 1: sigmoid'(z1) left out"),
])
def test_each_activation_derivative_left_out_is_named_by_layer(tmp_path, out, hidden, wrong,
                                                                diagnosis):
    path = write(tmp_path, "net231.py", BACKWARD_231.format(out=out, hidden=hidden))
    status, data = backward_json(ROOT / "specs" / "net_231_sigmoid.yaml", f"{path}:backward")
    user = users(data)
    assert status == (1 if wrong else 0)
    assert sorted(n for n, u in user.items() if not u["ok"]) == sorted(wrong)
    for name in wrong:
        assert user[name]["diagnosis"] == diagnosis


def test_seeded_backward_agrees_with_the_hand_formula():
    """The engine's backward from z1 with upstream G: dW1 = Gᵀ x, db1 = Σ G."""
    from gradcli import engine, spec as specs
    from gradcli.usercode.backward.diagnose import seeded_backward

    loaded = specs.load(str(SPEC_XOR))
    values = engine.forward(loaded.graph, loaded.bindings, loaded.loss)
    G = np.arange(8.0).reshape(4, 2) - 3.5
    z1 = loaded.named["z1"]
    found = seeded_backward(loaded.graph, values, z1, np.hstack([G, G]), [
        loaded.params["W1"], loaded.params["b1"], loaded.params["W2"]])
    x = loaded.bindings[loaded.inputs["x"]]
    np.testing.assert_allclose(found[loaded.params["W1"]], np.hstack([G, G]).T @ x)
    np.testing.assert_allclose(found[loaded.params["b1"]], np.hstack([G, G]).sum(0))
    assert found[loaded.params["W2"]] is None  # W2 is not below z1


def test_kink_entries_pass_with_either_subgradient(tmp_path):
    """relu at exactly 0: the user's (z >= 0) differs from gradcli's 0 only at the kink."""
    spec = write(tmp_path, "kink.yaml", """
inputs:
  x: [[1.0, 1.0], [0.5, -1.0]]
  y: [[0.3], [0.7]]
layers:
  - dense: {units: 2, activation: relu}
  - dense: {units: 1, activation: linear}
loss: half_squared_error
params:
  W1: [[1.0, -1.0], [0.5, 0.25]]
  b1: [0.0, 0.1]
  W2: [[0.7, -0.4]]
  b2: [0.0]
""")
    code = '''
import numpy as np

def backward(params, inputs):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    x, y = inputs["x"], inputs["y"]
    z1 = x @ W1.T + b1
    a1 = np.maximum(z1, 0)
    d2 = (a1 @ W2.T + b2 - y) / x.shape[0]
    d1 = d2 @ W2 * (z1 >= {edge})
    return {{"W1": d1.T @ x, "b1": d1.sum(0), "W2": d2.T @ a1, "b2": d2.sum(0)}}
'''
    for edge, differ in (("0", 3), ("1e-300", 0)):  # subgradient 1 at the kink, then 0
        path = write(tmp_path, "kink_user.py", code.format(edge=edge))
        status, data = backward_json(spec, f"{path}:backward")
        assert status == 0, data["params"]
        assert all(u["ok"] for u in users(data).values())
        reference = {p["name"]: np.array(p["reverse"]) for p in data["params"]}
        user = users(data)
        # z1[0, 0] = 1 - 1 + 0 = 0: W1[0, :] and b1[0] differ from gradcli's subgradient 0
        assert sum(int((~np.isclose(u["value"], reference[n], rtol=1e-12, atol=0)).sum())
                   for n, u in user.items()) == differ
        if differ:
            assert user["W1"]["note"] == (
                "right except at 2 entries at a relu/abs kink, where the derivative does not "
                "exist (either subgradient passes)")
        else:
            assert "note" not in user["W1"]


# ---------------------------------------------------------- returned values ---
def run_code(tmp_path, text: str, *extra, spec=SPEC_121) -> tuple[int, dict]:
    path = write(tmp_path, "user_backward.py", text)
    return backward_json(spec, f"{path}:backward", *extra)


CORRECT_121 = (EXAMPLES / "backward_121.py").read_text()


def test_extra_key_is_a_failed_item_naming_it(tmp_path):
    text = CORRECT_121.replace('"b2": dL_dzh2,', '"b2": dL_dzh2, "x": dL_dzh1 * w1,')
    status, data = run_code(tmp_path, text)
    assert status == 1 and data["ok"] is False
    assert all(u["ok"] for u in users(data).values())
    assert data["backward"]["extra"] == [{
        "name": "x", "ok": False,
        "diagnosis": "not a parameter of this network (its parameters: w1, w2, w3, w4, b1, "
                     "b2, b3)"}]


def test_gradient_names_instead_of_parameter_names_are_pointed_out(tmp_path):
    text = CORRECT_121.replace('"w3": dL_dzout * a_h1', '"dw3": dL_dzout * a_h1')
    status, data = run_code(tmp_path, text)
    assert status == 1
    assert users(data)["w3"]["diagnosis"] == ("missing: backward returned no gradient for "
                                              "w3 (it returned dw3: the keys must be the "
                                              "parameter names)")
    assert [e["name"] for e in data["backward"]["extra"]] == ["dw3"]


def test_sign_flip_and_non_number_values(tmp_path):
    text = CORRECT_121.replace('"w4": dL_dzout * a_h2', '"w4": -dL_dzout * a_h2') \
        .replace('"b3": dL_dzout,', '"b3": None,')
    status, data = run_code(tmp_path, text)
    user = users(data)
    assert status == 1
    assert user["w4"]["diagnosis"] == "sign flipped"
    assert user["b3"]["value"] is None
    assert user["b3"]["diagnosis"] == "not a number or an array of numbers (NoneType)"


def test_returning_no_dict_fails_every_item(tmp_path):
    status, data = run_code(tmp_path, "def backward(params, inputs):\n    return [1.0, 2.0]\n")
    assert status == 1
    assert data["backward"]["error"].endswith(
        "user_backward.py: backward returned list, not a dict of gradients by parameter name")


def test_prints_are_captured_and_counted(tmp_path):
    text = "print('loading')\n" + CORRECT_121.replace(
        "    return {", "    print('w1', w1)\n    print('done')\n    return {")
    result = cli(SPEC_121, "--json", "--backward",
                 f"{write(tmp_path, 'noisy.py', text)}:backward")
    assert result.exit_code == 0
    assert "loading" not in result.stdout and "done" not in result.stdout
    import json

    assert json.loads(result.stdout)["backward"]["printed_lines"] == 3


def test_main_block_does_not_run(tmp_path):
    text = CORRECT_121 + "\nif __name__ == '__main__':\n    raise SystemExit(3)\n"
    status, data = run_code(tmp_path, text)
    assert status == 0 and data["ok"] is True


# ------------------------------------------------------------- unusable: 2 ---
@pytest.mark.parametrize("text, target, message", [
    ("def forward(params, inputs):\n    return {}\n", "{path}:backward",
     "error: {path}: {path} defines no function backward (functions defined: forward)"),
    ("backward = 3\n", "{path}:backward",
     "error: {path}: backward in {path} is not callable (it is a int)"),
    ("def backward(params):\n    return {}\n", "{path}:backward",
     "error: {path}: backward must take two arguments, (params, inputs): too many "
     "positional arguments"),
    ("def backward(params, inputs):\n    return {}\n", "{path}",
     "error: --backward: expected FILE.py:FUNC (a Python file and the name of its backward "
     "function), got '{path}'"),
    ("def backward(params, inputs):\n    return {}\n", "{path}:1x",
     "error: --backward: expected FILE.py:FUNC (a Python file and the name of its backward "
     "function), got '{path}:1x'"),
    ("def backward(params, inputs):\n    return {}\n", "{path}.missing.py:backward",
     "error: {path}.missing.py: no such file"),
    ("def backward(params, inputs:\n    return {}\n", "{path}:backward",
     "error: {path}:1:13: SyntaxError: '(' was never closed"),
    ("import sys\n\ndef backward(params, inputs):\n    sys.exit(4)\n", "{path}:backward",
     "error: {path}:4: backward called sys.exit(4) instead of returning its gradients"),
])
def test_unusable_file_or_function_is_exit_2(tmp_path, text, target, message):
    path = write(tmp_path, "bad_backward.py", text)
    result = cli(SPEC_121, "--backward", target.format(path=path))
    assert result.exit_code == 2
    expected = message.format(path=path)
    assert result.stderr == expected + "\n"
    assert result.stdout == "" and "Traceback" not in result.stderr


@pytest.mark.parametrize("where", ["import", "call"])
def test_endless_loop_is_exit_2_naming_the_limit(tmp_path, where):
    loop = "while True:\n    pass\n"
    text = loop + "def backward(p, i):\n    return {}\n" if where == "import" else \
        "def backward(p, i):\n    while True:\n        pass\n"
    path = write(tmp_path, "slow.py", text)
    result = cli(SPEC_121, "--backward", f"{path}:backward", "--code-timeout", "1")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {path}: ran past the time limit --code-timeout 1 s (an "
                             "endless loop at import or in the function?)\n")


def test_bad_code_timeout_is_exit_2(tmp_path):
    result = cli(SPEC_121, "--backward", f"{EXAMPLES / 'backward_121.py'}:backward",
                 "--code-timeout", "0")
    assert result.exit_code == 2
    assert result.stderr == "error: --code-timeout: must be a positive number of seconds, " \
                            "got 0.0\n"


# --------------------------------------------------------------- graph form ---
GRAPH_SPEC = """
inputs:
  x: [[1.0, 2.0], [0.5, -1.0], [-1.5, 0.5]]
  y: [[1.0], [0.0], [1.0]]
params:
  W: [[0.3, -0.2], [0.1, 0.4]]
  v: [[0.5], [-0.7]]
nodes:
  h: sigmoid(x @ transpose(W))
  out: h @ v
loss: sum((out - y)**2)/3
"""

GRAPH_BACKWARD = '''
import numpy as np

def backward(params, inputs):
    W, v = params["W"], params["v"]
    x, y = inputs["x"], inputs["y"]
    h = 1 / (1 + np.exp(-(x @ W.T)))
    dout = 2 * (h @ v - y) / 3
    dz = (dout @ v.T){local}
    return {{"W": dz.T @ x, "v": h.T @ dout}}
'''


@pytest.mark.parametrize("local, diagnosis", [
    (" * h * (1 - h)", None), ("", "missing the derivative of sigmoid at h")])
def test_graph_form_tensor_net_names_the_node_whose_derivative_is_missing(tmp_path, local,
                                                                          diagnosis):
    spec = write(tmp_path, "graph.yaml", GRAPH_SPEC)
    path = write(tmp_path, "graph_backward.py", GRAPH_BACKWARD.format(local=local))
    status, data = backward_json(spec, f"{path}:backward")
    user = users(data)
    assert status == (1 if diagnosis else 0)
    assert user["v"]["ok"] and user["W"]["ok"] is (diagnosis is None)
    assert user["W"]["diagnosis"] == diagnosis


# ------------------------------------------------------------ memory budget ---
def test_memory_budget_is_exit_2_naming_the_budget(tmp_path):
    from gradcli.errors import GradcliError
    from gradcli.usercode.backward.call import call

    path = write(tmp_path, "hungry.py", "import numpy as np\n\n\ndef backward(p, i):\n"
                                        "    return {'w1': np.ones((40000, 40000)).sum()}\n")
    with pytest.raises(GradcliError) as caught:
        call(f"{path}:backward", {"w1": 0.5}, {"x": 2.0}, timeout=30, max_memory="400M")
    assert caught.value.line() == (f"error: {path}:5: out of memory in backward: the memory "
                                   "budget --max-memory 400M was exceeded")
