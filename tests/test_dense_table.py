"""The dense-network table against the op table and the engine: one description of
every activation and loss, so the finite differences and the graph cannot drift apart."""
from __future__ import annotations

import numpy as np
import pytest

from checkcli import write
from gradcli import engine, spec
from gradcli.dense import fdcheck, table
from gradcli.dense.numeric import fd_layers
from gradcli.errors import GradcliError
from gradcli.ops import OPS

Z = np.array([[-800.0, -3.0, -1e-9, 0.0], [1e-9, 0.5, 3.0, 800.0]])


@pytest.mark.parametrize("name", sorted(table.ACTIVATIONS))
def test_activation_rows_apply_their_op(name):
    act = table.ACTIVATIONS[name]
    with np.errstate(all="ignore"):
        got = act.apply(Z.copy())
        inplace = Z.copy()
        same = act.apply(inplace, out=inplace)
    np.testing.assert_array_equal(got, same)  # in place or not, the same values
    if act.op is None:
        np.testing.assert_array_equal(got, Z)
        assert act.template(3) == "z3" and act.piece is None
        return
    np.testing.assert_allclose(got, OPS[act.op].forward(Z), rtol=1e-15, atol=1e-300)
    assert act.template(3) == f"{act.op}(z3)"
    assert act.piece is OPS[act.op].piece
    assert act.elementwise == OPS[act.op].elementwise


def test_only_relu_has_a_kink_and_he_initialisation():
    assert {n for n, a in table.ACTIVATIONS.items() if a.piece is not None} == {"relu"}
    assert {n for n, a in table.ACTIVATIONS.items() if a.init == "he"} == {"relu"}


# the cross-entropies take the log of the outputs: only probability outputs are accepted
PAIRS = [(act, loss) for act in table.ACTIVATIONS for loss in table.LOSSES
         if act in table.OUTPUTS.get(loss, (act,))]
REFUSED = [(act, loss) for act in table.ACTIVATIONS for loss in table.LOSSES
           if (act, loss) not in PAIRS]


@pytest.mark.parametrize("act, loss", REFUSED, ids=[f"{a}-{l}" for a, l in REFUSED])
def test_a_cross_entropy_after_other_outputs_is_refused(act, loss):
    with pytest.raises(GradcliError) as refused:
        table.check_output([table.Dense(3, act)], table.LOSSES[loss], "net.yaml:6:7")
    assert str(refused.value.what).startswith(f"{loss} needs a ")
    assert refused.value.where == "net.yaml:6:7"


def targets_for(loss: str, batch: int, units: int) -> list:
    rng = np.random.default_rng(1)
    if loss == "cross_entropy":
        return np.eye(units)[rng.integers(0, units, batch)].tolist()
    if loss == "binary_cross_entropy":
        return rng.uniform(0.1, 0.9, (batch, units)).round(3).tolist()
    return rng.standard_normal((batch, units)).round(3).tolist()


@pytest.mark.parametrize("act, loss", PAIRS, ids=[f"{a}-{l}" for a, l in PAIRS])
def test_fdcheck_loss_equals_the_engine_loss(tmp_path, act, loss):
    """For every activation x loss, the finite differences' forward function (the table's
    row forms) gives the loss the engine computes on the graph built from the table's
    templates."""
    rng = np.random.default_rng(0)
    hidden = 0.3 * rng.standard_normal((3, 2))
    out = 0.3 * rng.standard_normal((3, 3))
    if act not in ("sigmoid", "softmax") and loss in ("binary_cross_entropy", "cross_entropy"):
        out = np.abs(out) * 0.05  # the log needs outputs in (0, 1)
    x = [[0.5, 1.0], [1.5, 0.2]]
    path = write(tmp_path, "net.yaml", f"""\
inputs:
  x: {x}
  y: {targets_for(loss, 2, 3)}
layers:
  - dense: {{units: 3, activation: sigmoid}}
  - dense: {{units: 3, activation: {act}}}
loss: {loss}
params:
  W1: {hidden.tolist()}
  b1: [0.1, -0.1, 0.05]
  W2: {out.tolist()}
  b2: [0.01, 0.02, 0.03]
""")
    s = spec.load(str(path))
    engine_loss = engine.forward(s.graph, s.bindings, s.loss)[s.loss]
    fd_loss = fdcheck.forward_loss(fd_layers(s), s.bindings[s.inputs["x"]],
                                   s.bindings[s.inputs["y"]], loss)
    assert np.isfinite(engine_loss)
    assert fd_loss == pytest.approx(engine_loss, rel=1e-13, abs=1e-300)
    stable = table.LOSSES[loss].stable.get(act)
    assert ("z2" in s.loss_text) == (stable is not None)


def test_graph_text_uses_the_stable_form_after_its_activation():
    bce = table.LOSSES["binary_cross_entropy"]
    assert bce.graph_text("sigmoid", 2, 4) == "sum(softplus(z2) - y*z2)/4"
    assert bce.graph_text("tanh", 2, 4) == "-sum(y*log(yhat) + (1 - y)*log(1 - yhat))/4"
    ce = table.LOSSES["cross_entropy"]
    assert ce.graph_text("softmax", 3, 8) == "-sum(y*log_softmax(z3))/8"
    assert table.LOSSES["mse"].scale(4, 5) == 1 / 20
    assert table.LOSSES["squared_error"].scale(4, 5) == 1 / 4


def test_targets_and_one_hot():
    ce = table.LOSSES["cross_entropy"]
    np.testing.assert_array_equal(table.targets([0, 2, 1], 3, 3, ce),
                                  [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(table.targets([0, 1], 1, 2, ce), [[0, 1]])  # one-hot row
    with pytest.raises(GradcliError, match="class index 3 out of range"):
        table.targets([0, 3], 2, 3, ce)
    with pytest.raises(GradcliError, match="class indices must be integers"):
        table.one_hot([0.5], 3)
    mse = table.LOSSES["mse"]
    np.testing.assert_array_equal(table.targets([1.0, 2.0], 2, 1, mse), [[1.0], [2.0]])
    with pytest.raises(GradcliError, match=r"y has shape \[2, 2\]"):
        table.targets([[1, 2], [3, 4]], 2, 1, mse)
    with pytest.raises(GradcliError, match="unknown loss 'hinge'"):
        table.loss("hinge")
    with pytest.raises(GradcliError, match="unknown activation 'gelu'"):
        table.activation("gelu")
