"""gradcli.train without the CLI: optimizers against hand-computed sequences,
clipping, the training loop's statuses and lists, and the planned evaluation
against the engine it replays."""
from __future__ import annotations

import math
from itertools import count
from pathlib import Path

import numpy as np
import pytest

from gradcli import engine as reverse
from gradcli.train import loop, source
from gradcli.train.clipping import CLIP_EPS, clip, global_norm

SPECS = Path(__file__).resolve().parent.parent / "specs"


def x_squared(lr: float, steps: int, optimizer: str = "sgd", x0: str = "5"):
    problem = source.from_expression("x**2", [f"x={x0}"])
    return loop.run(problem, lr, steps, optimizer)


# ------------------------------------------------ x**2, seed note 003 ex. 3 ---
@pytest.mark.parametrize("lr", [0.001, 0.1])
def test_x_squared_follows_the_closed_form(lr):
    # x <- x - lr*2x, so x_k = 5*(1 - 2*lr)**k and the loss is x_k**2
    r = x_squared(lr, 50)
    assert r.status == "stopped" and r.steps == 50 and r.diverged_at is None
    assert len(r.loss) == 51 and len(r.grad_norm) == 51
    for k in range(51):
        x_k = 5 * (1 - 2 * lr) ** k
        assert r.loss[k] == pytest.approx(x_k ** 2, rel=1e-12)
        assert r.grad_norm[k] == pytest.approx(abs(2 * x_k), rel=1e-12)
    assert r.params[0] == pytest.approx(5 * (1 - 2 * lr) ** 50, rel=1e-12)


def test_x_squared_lr_10_diverges_where_the_loss_passes_1e12_times_the_start():
    # x_k = 5*(-19)**k, loss 25*361**k; the run stops at the first step whose
    # loss exceeds 1e12*max(|25|, 1)
    expected = next(k for k in count(1) if 25 * 361 ** k > 1e12 * 25)
    assert expected == 5
    r = x_squared(10, 50)
    assert r.status == "diverged" and r.diverged_at == expected and r.steps == expected
    assert len(r.loss) == expected + 1  # the loss that passed the limit is kept
    assert r.loss[-1] == pytest.approx(25 * 361 ** expected, rel=1e-12)
    assert r.loss[-2] <= 1e12 * 25 < r.loss[-1]
    assert r.params[0] == pytest.approx(5 * (-19) ** expected, rel=1e-12)
    assert len(r.grad_norm) == len(r.loss)


def test_converged_is_checked_before_each_step():
    # lr 0.5: x_1 = 5 - 0.5*10 = 0 exactly, gradient 0 < tol before step 2
    r = x_squared(0.5, 100)
    assert r.status == "converged" and r.steps == 1 and r.diverged_at is None
    assert list(r.loss) == [25.0, 0.0] and list(r.grad_norm) == [10.0, 0.0]


def test_tol_zero_never_converges():
    r = loop.run(source.from_expression("x**2", ["x=5"]), 0.5, 3, tol=0.0)
    assert r.status == "stopped" and r.steps == 3 and list(r.loss) == [25.0, 0, 0, 0]


def test_a_step_to_infinity_is_a_divergence_with_the_last_finite_values():
    # gradient 10, lr 1e308: x_1 = 1 - 1e309 = -inf, a non-finite parameter
    r = loop.run(source.from_expression("10*x", ["x=1"]), 1e308, 10)
    assert r.status == "diverged" and r.diverged_at == 1 and r.steps == 1
    assert list(r.loss) == [10.0] and list(r.grad_norm) == [10.0]
    assert r.params == [1.0]  # the last finite parameters
    assert r.to_json()["params"] == {"x": 1.0}


def test_a_loss_that_overflows_is_a_divergence_not_an_error():
    # x_1 = 1e100 - 1e60*2e100 = -2e160; x_1**2 overflows
    r = loop.run(source.from_expression("x**2", ["x=1e100"]), 1e60, 10)
    assert r.status == "diverged" and r.diverged_at == 1 and r.steps == 1
    assert list(r.loss) == [1e200]


def test_json_has_the_contract_keys_in_order():
    out = x_squared(0.1, 50).to_json()
    assert list(out)[:8] == ["lr", "optimizer", "steps", "status", "diverged_at", "loss",
                             "params", "grad_norm"]
    assert out["lr"] == 0.1 and out["optimizer"] == "sgd" and out["steps"] == 50
    assert out["status"] == "stopped" and out["diverged_at"] is None
    assert out["loss"][:2] == [25.0, 16.0] and out["grad_norm"][:2] == [10.0, 8.0]
    assert out["params"]["x"] == pytest.approx(7.1e-05, rel=0.01)


def test_interrupted_keeps_what_was_computed():
    problem = source.from_expression("x**2", ["x=5"])
    calls = count()
    real = problem.evaluate

    def evaluate(params):
        if next(calls) == 3:
            raise KeyboardInterrupt
        return real(params)

    problem.evaluate = evaluate
    r = loop.run(problem, 0.1, 50)
    assert r.status == "interrupted" and r.steps == 3
    assert list(r.loss) == pytest.approx([25 * 0.64 ** k for k in range(4)], rel=1e-12)
    assert len(r.grad_norm) == 4
    assert r.params[0] == pytest.approx(5 * 0.8 ** 3, rel=1e-12)


# ------------------------------------------------------------- optimizers ---
def test_momentum_first_three_steps_by_hand():
    # torch.optim.SGD(momentum=0.9): v = g on step 1, then v = 0.9*v + g; x -= lr*v
    # f = x**2 from 5, lr 0.1:  g = 10, v = 10, x = 4;  g = 8, v = 17, x = 2.3;
    #                           g = 4.6, v = 19.9, x = 0.31
    r = x_squared(0.1, 3, "momentum")
    assert r.loss[1] == pytest.approx(4.0 ** 2, rel=1e-12)
    assert r.loss[2] == pytest.approx(2.3 ** 2, rel=1e-12)
    assert r.loss[3] == pytest.approx(0.31 ** 2, rel=1e-12)
    assert r.params[0] == pytest.approx(0.31, rel=1e-12)


def test_adam_first_three_steps_by_hand():
    # torch.optim.Adam defaults: b1 0.9, b2 0.999, eps 1e-8, bias-corrected.
    # f = x**2 from 5, lr 0.1, written out from the formulas:
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    x, m, v, xs = 5.0, 0.0, 0.0, []
    for t in (1, 2, 3):
        g = 2 * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        x = x - lr * m_hat / (math.sqrt(v_hat) + eps)
        xs.append(x)
    # the first step of Adam is lr*sign(g) (up to eps); then slightly less
    assert xs == pytest.approx([4.9000000001, 4.800057756868857, 4.700213291333392],
                               rel=1e-14)
    r = x_squared(lr, 3, "adam")
    assert [math.sqrt(r.loss[k]) for k in (1, 2, 3)] == pytest.approx(xs, rel=1e-13)
    assert r.params[0] == pytest.approx(xs[-1], rel=1e-13)


def test_adam_scales_each_parameter_by_its_own_gradient():
    # f = x**2 + 100*y**2 from (1, 1): both move by lr on the first step
    problem = source.from_expression("x**2 + 100*y**2", ["x=1,y=1"])
    r = loop.run(problem, 0.01, 1, "adam")
    assert r.params == pytest.approx([0.99, 0.99], rel=1e-9)


# --------------------------------------------------------------- clipping ---
def test_global_norm_over_all_parameters():
    grads = [3.0, np.array([[4.0, 0.0], [0.0, 12.0]])]
    assert global_norm(grads) == pytest.approx(13.0, rel=1e-15)
    assert global_norm([np.array([1e200, 1e200])]) == pytest.approx(math.sqrt(2) * 1e200)
    assert math.isnan(global_norm([1.0, np.array([np.nan])]))
    assert global_norm([np.array([np.inf, 1.0])]) == math.inf


def test_clip_as_clip_grad_norm():
    grads = [3.0, np.array([4.0])]
    same = clip(grads, 5.0, 10.0)
    assert same is grads  # coef = 10/(5 + 1e-6) >= 1: untouched
    scaled = clip(grads, 5.0, 1.0)
    coef = 1.0 / (5.0 + CLIP_EPS)
    assert scaled[0] == pytest.approx(3.0 * coef, rel=1e-15)
    assert scaled[1][0] == pytest.approx(4.0 * coef, rel=1e-15)
    assert grads[1][0] == 4.0  # never scaled in place


def test_clipped_step_of_a_linear_loss():
    # f = 3x + 4y: gradient (3, 4), norm 5; clipped to norm 1 the SGD step with
    # lr 1 moves (x, y) by -(3, 4)/(5 + 1e-6); grad_norm is reported unclipped
    problem = source.from_expression("3*x + 4*y", ["x=0,y=0"])
    r = loop.run(problem, 1.0, 1, clip_norm=1.0)
    assert r.params == pytest.approx([-3 / (5 + 1e-6), -4 / (5 + 1e-6)], rel=1e-15)
    assert list(r.grad_norm) == [5.0, 5.0]
    unclipped = loop.run(problem, 1.0, 1, clip_norm=6.0)
    assert unclipped.params == [-3.0, -4.0]


# ------------------------------------------------------------------- plan ---
def _engine_gradient(spec, params):
    bindings = dict(spec.bindings)
    for nid, v in zip(spec.params.values(), params):
        bindings[nid] = v
    values = reverse.forward(spec.graph, bindings, spec.loss)
    back = reverse.backward(spec.graph, values, spec.loss, list(spec.params.values()))
    return values[spec.loss], [back.adjoint[i] for i in spec.params.values()]


SCALED = """\
inputs:
  x: [[1.0, -2.0], [0.5, 3.0]]
params:
  s: 0.7
  v: [0.2, -0.1]
nodes:
  h: tanh(s*x + v)
loss: sum(h*h) + s**2
"""


@pytest.mark.parametrize("name", ["xor_train.yaml", "net_231_sigmoid.yaml", "tanh_mse.yaml",
                                  "bce_classifier.yaml", "sigmoid_121.yaml",
                                  "tensor_softmax.yaml", "linear_sq.yaml", "scaled"])
def test_plan_agrees_with_the_engine(name, tmp_path):
    # "scaled": a scalar and a vector parameter broadcast over a matrix, so the
    # plan must keep summing their gradients back to their shapes at every call
    path = SPECS / name
    if name == "scaled":
        path = tmp_path / "scaled.yaml"
        path.write_text(SCALED)
    problem = source.from_file(str(path))
    rng = np.random.default_rng(7)
    points = [problem.start, [p + 0.3 * rng.standard_normal(np.shape(p))
                              if not isinstance(p, float) else p + 0.3
                              for p in problem.start]]
    points.append([p * 1.1 for p in points[1]])
    for params in points:
        loss, grads = problem.evaluate(params)
        ref_loss, ref_grads = _engine_gradient(problem.spec, params)
        assert loss == pytest.approx(ref_loss, rel=1e-13)
        for g, ref in zip(grads, ref_grads):
            assert np.shape(g) == np.shape(ref) and type(g) is type(ref)
            np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-15)


def test_first_evaluation_is_the_engine_at_the_start():
    problem = source.from_file(str(SPECS / "xor_train.yaml"))
    loss, grads = problem.first()
    ref_loss, ref_grads = _engine_gradient(problem.spec, problem.start)
    assert loss == ref_loss
    for g, ref in zip(grads, ref_grads):
        np.testing.assert_array_equal(g, ref)


def test_layer_norms_and_flow_warning():
    norms = source.LayerNorms([1e-6, 1e-3, 0.01])
    [(kind, msg)] = norms.warnings(0)
    assert kind == "vanishing" and "1e+04 times smaller" in str(msg)
    [(kind, msg)] = source.LayerNorms([50.0, 1.0, 0.02]).warnings(7)
    assert kind == "exploding" and "at step 7" in str(msg) and "2.5e+03" in str(msg)
    assert source.LayerNorms([1.0, 1e-3 * 1.01]).warnings(0) == []


def test_progress_is_called_every_256_steps():
    calls = []
    loop.run(source.from_expression("x**2", ["x=5"]), 0.001, 600,
             progress=lambda done, total: calls.append((done, total)))
    assert calls == [(256, 600), (512, 600)]
