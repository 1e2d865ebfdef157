"""No wrong verdicts: targets that make the loss something else, outputs that cannot
be probabilities, and a textbook identity that does not hold (issue 8)."""
from __future__ import annotations

import numpy as np
import pytest

from checkcli import check_json, cli, write
from gradcli import check, spec

CE = """\
inputs:
  x: [[1.0, 2.0]]
  y: {y}
layers:
  - dense: {{units: 3, activation: softmax}}
loss: cross_entropy
"""


def refused(path) -> str:
    result = cli(path)
    assert result.exit_code == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    return line


def test_cross_entropy_targets_that_are_not_a_distribution_are_refused(tmp_path):
    path = write(tmp_path, "ce.yaml", CE.format(y="[[0.5, 0.9, 0.7]]"))
    assert refused(path) == (
        f"error: {path}:3:6: cross_entropy targets must be probability distributions: row 1 "
        "sums to 2.1, not 1 (each row of y must sum to 1 within 1e-06; or give class "
        "indices)")


@pytest.mark.parametrize("y, row", [("[[0.2, 0.3, 0.5], [0.5, 0.5, 0.1]]", 2),
                                    ("[[0.2, 0.3, 0.4999]]", 1)])
def test_every_row_must_sum_to_one(tmp_path, y, row):
    path = write(tmp_path, "ce.yaml", CE.format(y=y).replace("[[1.0, 2.0]]",
                                                             "[[1.0, 2.0], [0.5, 1.5]]"
                                                             if row == 2 else "[[1.0, 2.0]]"))
    assert f"row {row} sums to" in refused(path)


@pytest.mark.parametrize("y", ["[[0.2, 0.3, 0.5]]", "[[0.2, 0.3, 0.5000004]]", "[[0, 0, 1]]",
                               "[2]", "[[0.1, 0.2, 0.7]]"])
def test_distributions_and_class_indices_are_accepted(tmp_path, y):
    path = write(tmp_path, "ce.yaml", CE.format(y=y))
    code, report = check_json(path)
    assert code == 0 and report["ok"]
    [layer] = report["layers"]
    assert layer["formula_ok"] is True and layer["formula_max_diff"] < 1e-6


def test_negative_cross_entropy_targets_are_refused(tmp_path):
    path = write(tmp_path, "ce.yaml", CE.format(y="[[-0.5, 0.5, 1.0]]"))
    assert refused(path).endswith("cross_entropy targets must lie in [0, 1]")


def test_softmax_over_one_unit_is_refused_with_the_reason(tmp_path):
    path = write(tmp_path, "one.yaml", "inputs:\n  x: [[1.0, 2.0]]\n  y: [[1]]\nlayers:\n"
                                       "  - dense: {units: 1, activation: softmax}\n"
                                       "loss: cross_entropy\n")
    assert refused(path) == (f"error: {path}:5:5: layer 1: softmax over one unit is always 1, "
                             "so the gradient is always 0 and the loss a constant; use 2 or "
                             "more units, or sigmoid for one output")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("output", ["linear", "relu", "tanh", "softmax"])
def test_binary_cross_entropy_needs_a_sigmoid_output_whatever_the_seed(tmp_path, output,
                                                                        seed):
    path = write(tmp_path, "bce.yaml", "inputs:\n  x: [[1.0, 2.0], [0.5, -1.0]]\n"
                                       "  y: [[1, 0], [0, 1]]\nlayers:\n"
                                       f"  - dense: {{units: 2, activation: {output}}}\n"
                                       f"loss: binary_cross_entropy\nseed: {seed}\n")
    assert refused(path) == (f"error: {path}:6:7: binary_cross_entropy needs a sigmoid output "
                             "layer (its outputs must be probabilities for any weights), "
                             f"but the last layer is {output}")


def test_binary_cross_entropy_after_sigmoid_is_checked(tmp_path):
    path = write(tmp_path, "bce.yaml", "inputs:\n  x: [[1.0, 2.0], [0.5, -1.0]]\n"
                                       "  y: [[1, 0], [0, 1]]\nlayers:\n"
                                       "  - dense: {units: 2, activation: sigmoid}\n"
                                       "loss: binary_cross_entropy\n")
    code, report = check_json(path)
    assert code == 0 and report["ok"]


def test_a_failed_identity_check_fails_the_check(tmp_path):
    """The shortcut delta = (yhat - y)/B is checked against the engine; when it does not
    hold (targets changed behind the loader's back here), the check is not ok."""
    path = write(tmp_path, "ce.yaml", CE.format(y="[[0.2, 0.3, 0.5]]"))
    s = spec.load(str(path))
    s.bindings[s.inputs["y"]] = np.array([[0.5, 0.9, 0.7]])
    report = check.run(s, symbolic=False)
    [layer] = report.layers
    assert not layer.formula_ok and layer.formula_max_diff == pytest.approx(0.9, rel=0.2)
    assert all(p.ok for p in report.params)  # the gradients agree; the identity does not
    assert not report.ok
    assert any("the shortcut (yhat - y)/B differs from the engine's delta_1" in str(n)
               for n in report.notes)
    assert report.to_json()["layers"][0]["formula_ok"] is False


@pytest.mark.parametrize("written, shown", [("5", "5"), ("1.5e3", "1.5e3"), (".5", ".5"),
                                            ("-2", "-2")])
def test_a_node_given_as_a_number_keeps_what_was_written(tmp_path, written, shown):
    path = write(tmp_path, "n.yaml", f"params:\n  w: 2\nnodes:\n  n: {written}\nloss: n*w\n")
    s = spec.load(str(path))
    assert s.node_text["n"] == shown


def test_a_number_the_expression_language_does_not_read_says_what_was_written(tmp_path):
    path = write(tmp_path, "n.yaml", "params:\n  w: 2\nnodes:\n  n: 0x1F\nloss: n*w\n")
    result = cli(path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"error: {path}:4:6: '0x1F' looks like a number in base 16, 8 or 2, which "
        "expressions do not read; write a decimal number")
