"""Tests of gradcli.dense.fdcheck (forward loss, full-mode incremental differences) and
gradcli.dense.fastcheck (fast mode)."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from gradcli.dense.fastcheck import directional_check, localize, random_direction, sampled_entries
from gradcli.dense.fdcheck import EPS, Layer, forward_loss, numeric_gradients, one_hot
from gradcli.errors import GradcliError, NonFiniteError

LOSSES = ["squared_error", "half_squared_error", "mse", "binary_cross_entropy", "cross_entropy"]


# ---------------------------------------------------------------------------
# Independent reference code: forward and hand-written backprop


def act(z, name):
    if name == "linear":
        return z
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(name)


def ref_forward(layers, x):
    zs, acts = [], [x]
    for L in layers:
        z = acts[-1] @ L.W.T + L.b
        zs.append(z)
        acts.append(act(z, L.activation))
    return zs, acts


def backprop(layers, x, y, loss):
    """dL/dW_k, dL/db_k by hand (no fdcheck code)."""
    zs, acts = ref_forward(layers, x)
    B, K = y.shape
    z, a, out = zs[-1], acts[-1], layers[-1].activation
    if loss == "cross_entropy" and out == "softmax":
        dz = (a * y.sum(axis=1, keepdims=True) - y) / B
    elif loss == "binary_cross_entropy" and out == "sigmoid":
        dz = (a - y) / B
    else:
        if loss == "squared_error":
            da = 2 * (a - y) / B
        elif loss == "half_squared_error":
            da = (a - y) / B
        elif loss == "mse":
            da = 2 * (a - y) / (B * K)
        elif loss == "binary_cross_entropy":
            da = (-y / a + (1 - y) / (1 - a)) / B
        else:
            da = -y / a / B
        dz = dact(z, a, da, out)
    grads = [None] * len(layers)
    for k in range(len(layers) - 1, -1, -1):
        grads[k] = (dz.T @ acts[k], dz.sum(axis=0))
        if k:
            da = dz @ layers[k].W
            dz = dact(zs[k - 1], acts[k], da, layers[k - 1].activation)
    return grads


def dact(z, a, da, name):
    if name == "linear":
        return da
    if name == "sigmoid":
        return da * a * (1 - a)
    if name == "tanh":
        return da * (1 - a * a)
    if name == "relu":
        return da * (z > 0)
    if name == "softmax":
        return a * (da - (da * a).sum(axis=1, keepdims=True))
    raise ValueError(name)


def naive_central(layers, x, y, loss):
    """Perturb one entry, call forward_loss twice: the definition."""
    out = []
    for L in layers:
        pair = []
        for p in (L.W, L.b):
            g = np.zeros(p.size)
            flat = p.reshape(-1)  # a view: edits change the layer
            for i in range(p.size):
                old = flat[i]
                h = EPS ** (1 / 3) * max(1.0, abs(old))
                flat[i] = old + h
                up = forward_loss(layers, x, y, loss)
                flat[i] = old - h
                down = forward_loss(layers, x, y, loss)
                flat[i] = old
                g[i] = (up - down) / (2 * h)
            pair.append(g.reshape(p.shape))
        out.append(tuple(pair))
    return out


# ---------------------------------------------------------------------------
# Nets


def make_net(sizes, hidden, output, batch, loss, seed=0):
    """Random net and data; relu nets are re-drawn until no pre-activation is near a kink."""
    rng = np.random.default_rng(seed)
    for _ in range(100):
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers.append(Layer(rng.standard_normal((n_out, n_in)) * 0.8,
                                rng.standard_normal(n_out) * 0.5, hidden))
        layers[-1].activation = output
        x = rng.standard_normal((batch, sizes[0]))
        K = sizes[-1]
        if loss == "cross_entropy":
            y = one_hot(rng.integers(0, K, batch), K)
        elif loss == "binary_cross_entropy":
            y = rng.uniform(0.05, 0.95, (batch, K))
        else:
            y = rng.standard_normal((batch, K))
        zs, _ = ref_forward(layers, x)
        if all(np.abs(z).min() > 1e-3 for z, L in zip(zs, layers) if L.activation == "relu"):
            return layers, x, y
    raise RuntimeError("no kink-free net found")


def output_for(hidden, loss):
    if loss == "binary_cross_entropy":
        return "sigmoid"
    if loss == "cross_entropy":
        return "softmax"
    return hidden


def assert_grads_close(got, want, rtol, atol):
    for (gW, gb), (wW, wb) in zip(got, want):
        np.testing.assert_allclose(gW, wW, rtol=rtol, atol=atol)
        np.testing.assert_allclose(gb, wb, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------
# forward_loss


def tiny():
    W1 = np.array([[0.5, -1.0], [2.0, 0.25], [-0.3, 0.7]])
    b1 = np.array([0.1, -0.2, 0.05])
    W2 = np.array([[1.0, -0.5, 0.3], [0.2, 0.4, -1.1]])
    b2 = np.array([0.0, 0.3])
    x = np.array([[1.0, 2.0], [-0.5, 0.3], [0.0, -1.0]])
    return W1, b1, W2, b2, x


@pytest.mark.parametrize("loss", LOSSES)
def test_forward_loss_by_hand(loss):
    W1, b1, W2, b2, x = tiny()
    h = np.tanh(x @ W1.T + b1)
    z = h @ W2.T + b2
    if loss == "cross_entropy":
        out = "softmax"
        y = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        want = -np.sum(y * np.log(p)) / 3
    elif loss == "binary_cross_entropy":
        out = "sigmoid"
        y = np.array([[1.0, 0.0], [0.3, 1.0], [0.0, 0.5]])
        p = 1 / (1 + np.exp(-z))
        want = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / 3
    else:
        out = "linear"
        y = np.array([[0.5, -1.0], [2.0, 0.0], [0.1, 0.2]])
        d = z - y
        want = {"squared_error": np.sum(d**2) / 3, "half_squared_error": 0.5 * np.sum(d**2) / 3,
                "mse": np.mean(d**2)}[loss]
    layers = [Layer(W1, b1, "tanh"), Layer(W2, b2, out)]
    assert forward_loss(layers, x, y, loss) == pytest.approx(want, rel=1e-13)


def test_forward_loss_other_outputs():
    W1, b1, W2, b2, x = tiny()
    h = np.maximum(x @ W1.T + b1, 0)
    z = h @ W2.T + b2
    y = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    s = 1 / (1 + np.exp(-z))
    cases = {
        ("softmax", "binary_cross_entropy"): -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / 3,
        ("sigmoid", "cross_entropy"): -np.sum(y * np.log(s)) / 3,
        ("softmax", "squared_error"): np.sum((p - y) ** 2) / 3,
        ("tanh", "mse"): np.mean((np.tanh(z) - y) ** 2),
    }
    for (out, loss), want in cases.items():
        layers = [Layer(W1, b1, "relu"), Layer(W2, b2, out)]
        assert forward_loss(layers, x, y, loss) == pytest.approx(want, rel=1e-13), (out, loss)


def test_stable_logit_forms():
    # Logits far out: the stable forms stay finite and exact.
    layers = [Layer(np.array([[1.0], [-1.0]]), np.zeros(2), "sigmoid")]
    x = np.array([[800.0]])
    assert forward_loss(layers, x, np.array([[1.0, 0.0]]), "binary_cross_entropy") == pytest.approx(0.0)
    assert forward_loss(layers, x, np.array([[0.0, 0.0]]), "binary_cross_entropy") == pytest.approx(800.0)
    layers[0].activation = "softmax"
    assert forward_loss(layers, x, np.array([[0.0, 1.0]]), "cross_entropy") == pytest.approx(1600.0)


def test_bad_input():
    W1, b1, W2, b2, x = tiny()
    layers = [Layer(W1, b1, "tanh"), Layer(W2, b2, "linear")]
    with pytest.raises(GradcliError):
        forward_loss(layers, x, np.zeros((3, 3)), "mse")
    with pytest.raises(GradcliError):
        forward_loss(layers, x, np.zeros((3, 2)), "hinge")
    with pytest.raises(GradcliError):
        Layer(W1, b2, "tanh")
    with pytest.raises(GradcliError):
        Layer(W1, b1, "gelu")
    with pytest.raises(GradcliError):
        forward_loss([Layer(W2, b2), Layer(W1, b1)], x, np.zeros((3, 3)), "mse")
    with pytest.raises(GradcliError):  # transposed targets are refused, not reshaped
        forward_loss(layers, x, np.zeros((2, 3)), "mse")
    one = [Layer(W1, b1, "tanh"), Layer(W2[:1], b2[:1], "linear")]
    y = np.array([0.5, 1.0, -1.0])  # 1-D targets of a one-output net
    assert forward_loss(one, x, y, "mse") == forward_loss(one, x, y[:, None], "mse")
    with pytest.raises(NonFiniteError):  # log of a negative output
        numeric_gradients(layers, x, np.array([[1.0, 0.0]] * 3) * 5, "cross_entropy")


# ---------------------------------------------------------------------------
# Full mode


NETS = [(3, 4, 2), (2, 3, 3, 1)]


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("sizes", NETS, ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("hidden", ["linear", "sigmoid", "tanh", "relu"])
def test_full_mode_matches_naive_and_backprop(hidden, loss, sizes, batch):
    out = output_for(hidden, loss)
    layers, x, y = make_net(sizes, hidden, out, batch, loss, seed=zlib.crc32(repr((hidden, loss, sizes, batch)).encode()) % 1000)
    got = numeric_gradients(layers, x, y, loss)
    # Rounding noise of a central difference is ~EPS |L| / h = 4e-11 |L|.
    atol = 1e-9 * max(1.0, forward_loss(layers, x, y, loss))
    assert_grads_close(got, naive_central(layers, x, y, loss), rtol=0, atol=atol)
    assert_grads_close(got, backprop(layers, x, y, loss), rtol=1e-7, atol=atol)


@pytest.mark.parametrize("hidden,output,loss", [
    ("tanh", "softmax", "squared_error"),
    ("relu", "softmax", "binary_cross_entropy"),
    ("sigmoid", "sigmoid", "cross_entropy"),
    ("relu", "sigmoid", "mse"),
    ("softmax", "linear", "half_squared_error"),  # softmax in a hidden layer
    ("softmax", "softmax", "cross_entropy"),
])
@pytest.mark.parametrize("batch", [1, 5])
def test_full_mode_other_combinations(hidden, output, loss, batch):
    layers, x, y = make_net((3, 4, 3, 3), hidden, output, batch, loss, seed=7)
    got = numeric_gradients(layers, x, y, loss)
    # Rounding noise of a central difference is ~EPS |L| / h = 4e-11 |L|.
    atol = 1e-9 * max(1.0, forward_loss(layers, x, y, loss))
    assert_grads_close(got, naive_central(layers, x, y, loss), rtol=0, atol=atol)
    assert_grads_close(got, backprop(layers, x, y, loss), rtol=1e-7, atol=atol)


def test_full_mode_bigger_net_blocks_and_progress():
    # Wide enough that the hidden layers are split into several blocks.
    layers, x, y = make_net((60, 50, 40, 6), "relu", "softmax", 8, "cross_entropy", seed=3)
    calls = []
    got = numeric_gradients(layers, x, y, "cross_entropy", progress=lambda d, t: calls.append((d, t)))
    assert_grads_close(got, backprop(layers, x, y, "cross_entropy"), rtol=1e-6, atol=1e-9)
    total = sum(L.W.size + L.b.size for L in layers)
    assert calls[-1] == (total, total)
    assert all(a[0] < b[0] for a, b in zip(calls, calls[1:]))


def test_full_mode_fixed_step_and_zero_inputs():
    # Zero inputs and dead relu rows give exact zeros, and a fixed step works.
    layers, x, y = make_net((4, 5, 3), "relu", "softmax", 4, "cross_entropy", seed=11)
    x[:, 1] = 0.0
    got = numeric_gradients(layers, x, y, "cross_entropy", step=1e-5)
    assert np.all(got[0][0][:, 1] == 0.0)
    assert_grads_close(got, backprop(layers, x, y, "cross_entropy"), rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------------------
# Fast mode


def fast_net():
    return make_net((12, 16, 10, 4), "tanh", "softmax", 6, "cross_entropy", seed=5)


def test_directional_check_passes_with_correct_grads():
    layers, x, y = fast_net()
    grads = backprop(layers, x, y, "cross_entropy")
    dirs = directional_check(layers, x, y, "cross_entropy", grads, n_directions=4, seed=3)
    assert [d.seed for d in dirs] == [3, 4, 5, 6]
    assert all(d.ok for d in dirs), dirs
    assert max(d.rel_error for d in dirs) < 1e-8
    # The recorded seed gives the direction again.
    v = random_direction(layers, dirs[1].seed)
    dot = sum(np.vdot(vW, gW) + np.vdot(vb, gb) for (vW, vb), (gW, gb) in zip(v, grads))
    assert dot == pytest.approx(dirs[1].reverse, rel=1e-12)


def test_sampled_entries_cover_every_tensor():
    layers, x, y = fast_net()
    grads = backprop(layers, x, y, "cross_entropy")
    entries = sampled_entries(layers, x, y, "cross_entropy", grads, per_tensor=5, seed=1)
    names = [e.tensor for e in entries]
    assert set(names) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert names.count("b3") == 4 and names.count("W1") == 5  # b3 has only 4 entries
    assert all(e.ok and e.rel_error < 1e-6 for e in entries if abs(e.reverse) > 1e-6)
    assert all(e.ok for e in entries)
    e = entries[0]
    assert e.numeric == pytest.approx(grads[0][0][e.index], rel=1e-7, abs=1e-10)


def test_corrupted_entry_is_caught_and_localized():
    layers, x, y = fast_net()
    grads = backprop(layers, x, y, "cross_entropy")
    grads[1] = (grads[1][0].copy(), grads[1][1])
    grads[1][0][1, 2] += 1e-3
    dirs = directional_check(layers, x, y, "cross_entropy", grads, n_directions=3)
    assert not all(d.ok for d in dirs)
    stats = {}
    worst = localize(layers, x, y, "cross_entropy", grads, stats=stats)
    assert worst[0].name == "W2[1, 2]"
    assert worst[0].tensor == "W2" and worst[0].index == (1, 2)
    assert worst[0].abs_error == pytest.approx(1e-3, rel=1e-5)
    assert len(worst) == 1
    entries = sampled_entries(layers, x, y, "cross_entropy", grads, per_tensor=1000)
    assert [e.name for e in entries if not e.ok] == ["W2[1, 2]"]


def test_localize_bisects_a_large_tensor():
    layers, x, y = make_net((200, 64, 10), "relu", "softmax", 8, "cross_entropy", seed=2)
    grads = backprop(layers, x, y, "cross_entropy")
    gW1 = grads[0][0].copy()
    gW1[37, 123] -= 2e-4
    gW1[5, 6] *= 1.01
    grads[0] = (gW1, grads[0][1])
    stats = {}
    worst = localize(layers, x, y, "cross_entropy", grads, worst=5, stats=stats)
    assert {e.name for e in worst} == {"W1[37, 123]", "W1[5, 6]"}
    assert stats["entries"] < 200  # no full scan of W1's 12,800 entries
    assert stats["probes"] < 80


def test_localize_with_correct_grads_is_empty():
    layers, x, y = fast_net()
    grads = backprop(layers, x, y, "cross_entropy")
    assert localize(layers, x, y, "cross_entropy", grads) == []


def test_localize_whole_tensor_wrong_stays_bounded():
    layers, x, y = fast_net()
    grads = backprop(layers, x, y, "cross_entropy")
    grads[0] = (grads[0][0] * 1.5, grads[0][1])  # every entry of W1 wrong
    worst = localize(layers, x, y, "cross_entropy", grads, worst=3, max_probes=20)
    assert len(worst) == 3 and all(e.tensor == "W1" for e in worst)


def test_localize_names_a_bias():
    layers, x, y = fast_net()
    grads = backprop(layers, x, y, "cross_entropy")
    grads[0] = (grads[0][0], grads[0][1] + np.eye(16)[9] * 5e-4)
    assert not all(d.ok for d in directional_check(layers, x, y, "cross_entropy", grads))
    worst = localize(layers, x, y, "cross_entropy", grads)
    assert [e.name for e in worst] == ["b1[9]"]


def test_missing_gradient_counts_as_zero():
    layers, x, y = fast_net()
    grads = backprop(layers, x, y, "cross_entropy")
    grads[2] = (grads[2][0], None)  # e.g. an engine that found no dependence
    entries = sampled_entries(layers, x, y, "cross_entropy", grads, per_tensor=4)
    assert all(e.reverse == 0.0 for e in entries if e.tensor == "b3")
    assert any(not e.ok for e in entries if e.tensor == "b3")
