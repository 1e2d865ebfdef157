"""One kink test for every perturbed entry: scalars, tensor entries, layer nets, directions.

A finite difference whose step crosses a relu kink is not a derivative; each
of these once failed (exit 1) because the kink went unnoticed.
"""
from __future__ import annotations

import numpy as np
import pytest

from checkcli import check_json, write
from gradcli import engine, spec
from gradcli.dense import fastcheck, fdcheck, numeric as dense_numeric
from gradcli.graph import Graph
from gradcli.numeric import KinkWatch, kink_crossed
from gradcli.ops import OPS
from gradcli.parse import parse


# ------------------------------------------------------------ the helpers ---
def test_piece_is_the_sign_and_zero_at_the_kink():
    for name in ("relu", "abs", "heaviside", "sign"):
        piece = OPS[name].piece
        assert piece(0.0) == 0.0 and piece(2.5) == 1.0 and piece(-1e-300) == -1.0
        np.testing.assert_array_equal(piece(np.array([-3.0, 0.0, 1e-9])), [-1.0, 0.0, 1.0])
    assert all(OPS[name].piece is None for name in ("sigmoid", "exp", "add", "matmul"))


def test_kink_crossed_for_scalars_arrays_and_batches():
    piece = OPS["relu"].piece
    assert kink_crossed(piece, (1e-9,), (-1e-6,)) is True
    assert kink_crossed(piece, (0.0,), (1e-6,)) is True  # at the kink: the step leaves it
    assert kink_crossed(piece, (0.5,), (0.5 + 1e-6,)) is False
    base = np.array([[1.0, -1.0], [1e-9, 2.0]])
    moved = base - 1e-6
    assert kink_crossed(piece, (base,), (moved,)) is True
    np.testing.assert_array_equal(kink_crossed(piece, (base,), (moved,), axis=1),
                                  [False, True])


def test_kink_watch_sees_only_the_nodes_it_watches():
    parsed = parse("relu(x) + abs(y)")
    g = parsed.graph
    x, y = g.variables["x"], g.variables["y"]
    values = engine.forward(g, {x: 1e-9, y: 1.0}, parsed.root)
    watch = KinkWatch(g, values, list(range(parsed.root + 1)))
    watch.seen(engine.forward(g, {x: 1e-9 + 1e-6, y: 1.0}, parsed.root))
    assert not watch.crossed
    watch.seen(engine.forward(g, {x: -1e-6, y: 1.0}, parsed.root))
    assert watch.crossed and watch.ops == {"relu"}
    watch.reset()
    assert not watch.crossed and not watch.ops
    assert not KinkWatch(Graph(), [], [])


# ------------------------------------------------- graph form, per entry ---
def relu_sum_spec(tmp_path, first: float) -> str:
    w = [first] + [1.0 + 0.01 * i for i in range(399)]
    return str(write(tmp_path, "relu400.yaml", f"params:\n  w: {w}\nloss: sum(relu(w))\n"))


def test_graph_form_tensor_entry_crossing_a_kink_is_a_kink_not_a_failure(tmp_path):
    # (SymPy needs far more than a second for 400 derivatives of 400 relus: skipped)
    code, report = check_json(relu_sum_spec(tmp_path, 1e-9), "--timeout", "1")
    [w] = report["params"]
    assert code == 0 and report["ok"] is True
    assert w["band"] == "kink" and w["kink"] is True and w["ok"] is True
    assert "subgradient 0" in w["attribution"]
    assert w["reverse"][0] == 1.0  # relu'(1e-9) = 1
    assert 0.0 < w["numeric"][0] < 1.0  # the difference straddles the kink
    np.testing.assert_allclose(w["numeric"][1:], 1.0, rtol=1e-6)
    assert w["worst_index"] == [0]
    assert report["symbolic"] == "skipped: SymPy took longer than the 1 s budget"


def test_graph_form_entry_away_from_the_kink_is_checked_as_usual(tmp_path):
    code, report = check_json(relu_sum_spec(tmp_path, 0.5), "--timeout", "1")
    [w] = report["params"]
    assert code == 0 and w["band"] == "good" and w["kink"] is False


# ------------------------------------------------------ layer form, full ---
def near_kink_net(tmp_path) -> str:
    """x [1, 18] -> relu 32 -> linear 1: 32*18 + 32 + 32 + 1 = 641 parameters, with the
    pre-activation of hidden unit 0 at 1e-9."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal(18)
    W1 = rng.standard_normal((32, 18)) * 0.3
    b1 = rng.standard_normal(32) * 0.1
    b1[0] = 1e-9 - float(W1[0] @ x)
    z0 = (x @ W1.T + b1)[0]
    assert 0 < z0 < 1e-8  # as the engine computes it
    return str(write(tmp_path, "near_kink.yaml", f"""\
inputs:
  x: [{x.tolist()}]
  y: [[0.5]]
layers:
  - dense: {{units: 32, activation: relu}}
  - dense: {{units: 1}}
loss: squared_error
params:
  W1: {W1.tolist()}
  b1: {b1.tolist()}
"""))


def test_layer_net_with_a_preactivation_at_a_kink_passes_with_a_note(tmp_path):
    code, report = check_json(near_kink_net(tmp_path))
    assert code == 0 and report["ok"] is True
    assert sum(len(np.ravel(p["reverse"])) for p in report["params"]) == 641
    params = {p["name"]: p for p in report["params"]}
    assert params["W1"]["band"] == "kink" and params["b1"]["band"] == "kink"
    assert params["W2"]["kink"] is False and params["b2"]["band"] in ("good", "fine")
    notes = " ".join(report["notes"])
    assert "W1: the finite-difference step crosses a relu kink in the rows of units 0 " in notes
    assert "b1: the finite-difference step crosses a relu kink at entries 0 " in notes


def test_fdcheck_reports_the_units_whose_steps_crossed(tmp_path):
    s = spec.load(near_kink_net(tmp_path))
    layers = dense_numeric.fd_layers(s)
    x, y = s.bindings[s.inputs["x"]], s.bindings[s.inputs["y"]]
    found = fdcheck.numeric_check(layers, x, y, "squared_error")
    kW1, kb1 = found.kinks[0]
    assert kW1[0].all() and not kW1[1:].any()  # every input of unit 0, nothing else
    assert kb1.tolist() == [True] + [False] * 31
    assert not found.kinks[1][0].any() and not found.kinks[1][1].any()
    assert found.crossed() == [("W1", [0]), ("b1", [0])]


def test_a_kink_in_a_layer_above_is_seen_too():
    """Perturbing W1 moves z2; a relu in layer 2 at its kink crosses for every W1 entry."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3))
    W1, b1 = rng.standard_normal((4, 3)), rng.standard_normal(4)
    a1 = np.tanh(x @ W1.T + b1)
    W2 = rng.standard_normal((2, 4))
    b2 = np.array([-a1[0] @ W2[0], 1.0])  # z2[0, 0] = 0: unit 0 of layer 2 at its kink
    layers = [fdcheck.Layer(W1, b1, "tanh"), fdcheck.Layer(W2, b2, "relu"),
              fdcheck.Layer(rng.standard_normal((1, 2)), np.zeros(1), "linear")]
    found = fdcheck.numeric_check(layers, x, rng.standard_normal((2, 1)), "mse")
    assert found.kinks[0][0].any() and found.kinks[1][0][0].all()
    assert not found.kinks[2][0].any()


# -------------------------------------------------------- fast mode ---
FAST_1100 = """\
inputs:
  x: {shape: [1, 1100]}
  y: [[0.5]]
layers:
  - dense: {units: 1100, activation: relu}
  - dense: {units: 1}
loss: squared_error
seed: 0
"""


@pytest.fixture(scope="module")
def fast_net(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("fast"), "fast1100.yaml", FAST_1100)
    s = spec.load(str(path))
    values = engine.forward(s.graph, s.bindings, s.loss)
    back = engine.backward(s.graph, values, s.loss, list(s.params.values()))
    grads = [(back.adjoint[s.params[f"W{k}"]], back.adjoint[s.params[f"b{k}"]])
             for k in (1, 2)]
    x, y = s.bindings[s.inputs["x"]], s.bindings[s.inputs["y"]]
    return path, dense_numeric.fd_layers(s), x, y, grads


def test_fast_mode_direction_crossing_a_kink_is_measured_with_a_smaller_step(fast_net):
    """1,212,201 parameters: along direction seed 0 some relu unit changes sign within the
    default step (it used to FAIL with rel error 0.11); a smaller step avoids the kink."""
    path, layers, x, y, grads = fast_net
    assert sum(L.W.size + L.b.size for L in layers) == 1_212_201
    dirs = fastcheck.directional_check(layers, x, y, "squared_error", grads)
    h0 = fdcheck.CBRT_EPS * max(1.0, max(float(np.abs(L.W).max()) for L in layers))
    assert all(d.ok for d in dirs), dirs
    assert dirs[0].step < h0  # the retry happened
    assert max(d.rel_error for d in dirs) < 1e-7


def test_fast_mode_still_fails_a_wrong_gradient(fast_net):
    _, layers, x, y, grads = fast_net
    wrong = [(grads[0][0], grads[0][1]), (grads[1][0] * 1.001, grads[1][1])]
    dirs = fastcheck.directional_check(layers, x, y, "squared_error", wrong)
    assert not all(d.ok for d in dirs)
    assert not any(d.kink for d in dirs if not d.ok)


def test_fast_mode_check_of_the_1100_unit_relu_net_exits_0(fast_net):
    code, report = check_json(fast_net[0])
    assert code == 0 and report["ok"] is True and report["mode"] == "fast"
    assert not any("FAIL" in n for n in report["notes"])
