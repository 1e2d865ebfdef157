"""What real code does: dropout, float32, labels and dicts, kinks, large layers, unsupported
frameworks, --seed, --only."""
from __future__ import annotations

import numpy as np
import pytest

import gradcli
from codecli import EXAMPLES, checks_of, code, code_json, write
from gradcli.usercode import arrays


def test_dropout_is_refused_with_the_reason(tmp_path):
    path = write(tmp_path, "drop.py", "import numpy as np\n\nclass Dropout:\n"
                 "    def forward(self, x):\n"
                 "        self.mask = np.random.rand(*x.shape) > 0.5\n"
                 "        return x * self.mask\n"
                 "    def backward(self, dout):\n        return dout * self.mask\n")
    status, lines, stderr = code_json(path)
    assert status == 2
    assert stderr.strip().startswith("error: {}: Dropout: forward gives different outputs for "
                                     "the same input (dropout or other randomness)".format(path))
    assert lines[0]["exit"] == 2 and lines[0]["checks"] == []


def test_torch_function_and_jax_custom_vjp_are_named_as_not_supported(tmp_path):
    # stand-ins with the frameworks' module names (torch and jax are not needed to test this)
    path = write(tmp_path, "frameworks.py", "class Function:\n    pass\n"
                 "Function.__module__ = 'torch.autograd.function'\n\n"
                 "class MyReLU(Function):\n"
                 "    @staticmethod\n    def forward(ctx, x):\n        return x\n"
                 "    @staticmethod\n    def backward(ctx, g):\n        return g\n\n"
                 "class custom_vjp:\n    pass\n"
                 "custom_vjp.__module__ = 'jax._src.custom_derivatives'\n"
                 "f = custom_vjp()\n")
    result = code(path)
    assert result.exit_code == 2  # nothing else is checkable
    assert result.stderr.strip() == (
        "error: {}: nothing checkable (2 found but not checkable; first: MyReLU: a "
        "torch.autograd.Function: not supported (use torch.autograd.gradcheck for it))"
        .format(path))


def test_torch_and_jax_listed_with_reasons(tmp_path):
    path = write(tmp_path, "mixed.py", EXAMPLES.joinpath("cs231n_layers.py").read_text()
                 + "\nclass Function:\n    pass\n"
                 "Function.__module__ = 'torch.autograd.function'\n"
                 "class MyReLU(Function):\n    pass\n"
                 "class custom_vjp:\n    pass\n"
                 "custom_vjp.__module__ = 'jax._src.custom_derivatives'\n"
                 "g = custom_vjp()\n")
    result = code(path)
    assert result.exit_code == 0
    out = " ".join(result.stdout.split())
    assert "MyReLU: a torch.autograd.Function: not supported" in out
    assert "g: a jax.custom_vjp function: not supported" in out


FLOAT32 = """import numpy as np

class Scale32:
    def __init__(self):
        self.W = np.linspace(0.5, 1.5, 3).astype(np.float32)
        self.dW = None
    def forward(self, x):
        self.x = x.astype(np.float32)
        return np.tanh(self.x * self.W)
    def backward(self, dout):
        t = np.tanh(self.x * self.W)
        self.dW = ((1 - t * t) * dout * self.x).sum(axis=0)
        return (1 - t * t) * dout * self.W
"""


def test_float32_rounding_inside_forward_passes_with_a_warning(tmp_path):
    status, lines, _ = code_json(write(tmp_path, "f32.py", FLOAT32))
    assert status == 0
    checks = checks_of(lines, "Scale32")
    assert checks["dx"]["warning"].startswith("the code rounds x to float32 inside")
    assert "warning" not in checks["dW"]  # W was cast up to float64: checked in float64
    assert lines[0]["notes"] == ["float32 parameters were cast to float64 for the check"]


def test_float32_output_passes_with_a_warning(tmp_path):
    text = FLOAT32.replace("return np.tanh(self.x * self.W)",
                           "return np.tanh(self.x * self.W).astype(np.float32)")
    status, lines, _ = code_json(write(tmp_path, "f32out.py", text))
    assert status == 0
    assert lines[0]["warnings"][0].startswith("the code computes in float32")


def test_float32_wrong_gradient_still_fails(tmp_path):
    text = FLOAT32.replace("return (1 - t * t) * dout * self.W", "return dout * self.W")
    status, lines, _ = code_json(write(tmp_path, "f32bad.py", text))
    assert status == 1
    assert not checks_of(lines, "Scale32")["dx"]["ok"]


def softmax_loss(x, y):
    """CS231n's softmax_loss: returns (loss, dx); y holds integer labels."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_p[np.arange(n), y].mean()
    dx = np.exp(log_p)
    dx[np.arange(n), y] -= 1
    return loss, dx / n


def test_gradcheck_passes_labels_through_unperturbed():
    x = np.random.default_rng(0).standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    result = gradcli.gradcheck(softmax_loss, x, y)
    assert result.ok, str(result)
    assert [c.name for c in result.checks] == ["dx"]  # y is not differentiated
    assert result.checks[0].count == 20
    np.testing.assert_array_equal(y, [0, 3, 1, 1, 2])


def test_gradcheck_names_a_factor_of_the_batch_size():
    def no_mean(x, y):
        loss, dx = softmax_loss(x, y)
        return loss, dx * x.shape[0]
    x = np.random.default_rng(1).standard_normal((5, 4))
    result = gradcli.gradcheck(no_mean, x, np.array([0, 3, 1, 1, 2]))
    assert not result.ok
    assert str(result.checks[0].diagnosis) == "off by a factor of 5"
    with pytest.raises(AssertionError, match="off by a factor of 5"):
        result.assert_ok()


def test_dict_arguments_are_passed_through():
    def scaled(x, param):
        return float(np.sum(param["scale"] * x ** 2))

    def scaled_grad(x, param):
        return 2 * param["scale"] * x
    param = {"scale": 3.0}
    result = gradcli.gradcheck(scaled, np.array([1.0, -2.0]), param, grad=scaled_grad)
    assert result.ok and [c.name for c in result.checks] == ["dx"]
    assert param == {"scale": 3.0}


def test_relu_at_exactly_zero_is_a_kink_that_passes_with_a_note():
    def relu_sum(x):
        return float(np.maximum(x, 0).sum())

    def relu_grad(x):
        return (x > 0).astype(float)
    x = np.array([-1.0, 0.0, 2.0, 0.0])
    result = gradcli.gradcheck(relu_sum, x, grad=relu_grad)
    assert result.ok
    assert result.checks[0].kinks == 2
    assert "kinks" in str(result.checks[0].note)


def test_wrong_relu_gradient_is_not_excused_as_a_kink():
    def relu_sum(x):
        return float(np.maximum(x, 0).sum())
    x = np.array([-1.0, 0.0, 2.0])
    result = gradcli.gradcheck(relu_sum, x, grad=lambda x: np.array([0.0, 7.0, 1.0]))
    assert not result.ok and result.checks[0].worst_index == [1]


class Linear:
    """The torch layout, as in examples/numpy_linear.py."""

    def __init__(self, n_in, n_out, wrong=None):
        rng = np.random.default_rng(0)
        self.W = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
        self.b = rng.standard_normal(n_out)
        self.wrong = wrong

    def forward(self, x):
        self.x = x
        return x @ self.W.T + self.b

    def backward(self, dout):
        self.dW = dout.T @ self.x
        if self.wrong is not None:
            self.dW[self.wrong] += 0.5
        self.db = dout.sum(axis=0)
        return dout @ self.W


def test_large_layer_uses_directions_and_samples_and_finds_a_wrong_element():
    # W has 25,600 entries (> 20,000): random directions, samples, then bisection
    x = np.random.default_rng(2).standard_normal((4, 200))
    ok = gradcli.check_layer(Linear(200, 128), x)
    assert ok.ok
    dw = {c.name: c for c in ok.checks}["dW"]
    assert "fast: 3 random directions over all 25600 entries" in str(dw.method)
    bad = gradcli.check_layer(Linear(200, 128, wrong=(17, 145)), x)
    dw = {c.name: c for c in bad.checks}["dW"]
    assert not dw.ok and dw.worst_index == [17, 145]
    assert dw.actual - dw.expected == pytest.approx(0.5, rel=1e-4)
    assert [c.name for c in bad.checks if not c.ok] == ["dW"]


def test_full_mode_limit_and_row_batching_count_forward_calls():
    calls = {"n": 0}

    class Square:
        def forward(self, x):
            calls["n"] += 1
            self.x = x
            return x * x

        def backward(self, dout):
            return 2 * dout * self.x

    layer = Square()
    x = np.random.default_rng(3).standard_normal((6, 5))
    result = gradcli.check_layer(layer, x)
    assert result.ok
    # rows are independent: evaluations per column (5 columns), not per entry (30 entries
    # need at least 2 * 30 for the central differences alone)
    assert calls["n"] < 2 * 30
    assert arrays.FULL_MAX == 20_000


def test_seed_changes_the_draws_and_is_reported():
    # Linear draws its weights from np.random: seeded by --seed too, so runs repeat
    _, first, _ = code_json(EXAMPLES / "layers.py", "--only", "Linear")
    _, again, _ = code_json(EXAMPLES / "layers.py", "--only", "Linear")
    _, other, _ = code_json(EXAMPLES / "layers.py", "--only", "Linear", "--seed", "7")
    assert first == again
    assert first[0]["seed"] == 0 and other[0]["seed"] == 7
    assert first[0]["checks"][0]["expected"] != other[0]["checks"][0]["expected"]


def test_only_restricts_and_says_what_was_left_out():
    status, lines, _ = code_json(EXAMPLES / "layers.py", "--only", "CrossEntropyLoss")
    assert status == 0 and [l["target"] for l in lines] == ["CrossEntropyLoss"]
    human = code(EXAMPLES / "layers.py", "--only", "ReLU")
    assert "Linear: left out by --only" in human.stdout


def test_constructor_arguments_are_asked_for_when_guesses_fail(tmp_path):
    path = write(tmp_path, "needs.py", "import numpy as np\n\nclass Conv:\n"
                 "    def __init__(self, shape):\n        self.W = np.ones(tuple(shape))\n"
                 "    def forward(self, x):\n        return x\n"
                 "    def backward(self, dout):\n        return dout\n")
    result = code(path)
    assert result.exit_code == 2
    assert "Conv: the constructor needs arguments (shape): pass --make \"Conv(...)\"" in \
        result.stderr
