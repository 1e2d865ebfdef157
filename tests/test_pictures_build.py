"""The picture model: the numbers in the boxes and on the edges of the worked
examples (seed note 003, the 1-2-1 network), marks from the check, layer
networks as one box per tensor operation, and the box limit."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from gradcli.errors import GradcliError, LimitError
from gradcli.pictures import build
from gradcli.pictures.labels import number
from gradcli.pictures.model import CONSTANT, INPUT, LOSS, NODE, PARAM

SPECS = Path(__file__).resolve().parent.parent / "specs"


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def edge(picture, source: str, target: str) -> str:
    s, t = picture.by_name(source).id, picture.by_name(target).id
    (found,) = [e for e in picture.edges if e.source == s and e.target == t]
    return found.label


# ------------------------------------------------------- seed note 003 ---
def test_cube_of_affine_at_one():
    """Exercise 2: y = (2x+1)**3 at x = 1: y = 27, dy/dx = 54 = 27 * 1 * 2."""
    p = build.from_expression("(2*x+1)**3", ["x=1"])
    assert [b.name for b in p.boxes] == ["x", "2*x", "2*x + 1", "f"]
    assert p.by_name("f").value == "27" and p.by_name("f").kind == LOSS
    assert p.by_name("x").gradient == "54" and p.by_name("x").kind == PARAM
    assert p.by_name("2*x + 1").gradient == "27"
    assert p.by_name("2*x").gradient == "27"
    # local derivatives: d(2x)/dx = 2, d(u+1)/du = 1, d(u**3)/du = 3u**2 = 27
    assert edge(p, "x", "2*x") == "2"
    assert edge(p, "2*x", "2*x + 1") == "1"
    assert edge(p, "2*x + 1", "f") == "27"
    # constants are written into their operation, not drawn as boxes
    assert [b.operation for b in p.boxes[1:]] == ["× 2", "+ 1", "^ 3"]


def test_sum_times_c_one_box_per_operation():
    """y = (a + b)c at a = 2, b = 1, c = -3 (seed note 003's picture): d = a + b = 3,
    y = -9, dy/dd = c = -3, dy/dc = d = 3, dy/da = dy/db = c * 1 = -3."""
    p = build.from_expression("(a+b)*c", ["a=2,b=1,c=-3"])
    assert {b.name for b in p.boxes} == {"a", "b", "c", "a + b", "f"}
    d, y = p.by_name("a + b"), p.by_name("f")
    assert (d.operation, d.value, d.gradient) == ("+", "3", "-3")
    assert (y.operation, y.value, y.gradient) == ("×", "-9", "1")
    assert [p.by_name(n).gradient for n in "abc"] == ["-3", "-3", "3"]
    assert edge(p, "a", "a + b") == "1" and edge(p, "b", "a + b") == "1"
    assert edge(p, "a + b", "f") == "-3" and edge(p, "c", "f") == "3"


def test_named_spec_of_the_same_graph():
    p = build.from_spec(str(SPECS / "add_mul.yaml"))
    assert p.by_name("q").value == "3" and p.by_name("y").value == "-9"
    assert p.by_name("y").kind == LOSS and p.output == "y"
    assert [p.by_name(n).gradient for n in "abc"] == ["-3", "-3", "3"]
    assert not any(b.marked for b in p.boxes)  # every expect answer is right


def test_parallel_edges_are_one_edge_with_the_summed_derivative():
    p = build.from_expression("x*x", ["x=3"])
    assert len(p.edges) == 1 and p.edges[0].label == "6"  # d(x*x)/dx = 2x


# ------------------------------------------------------ the 1-2-1 network ---
def test_sigmoid_121_numbers():
    p = build.from_spec(str(SPECS / "sigmoid_121.yaml"))
    x, y = 2.0, 1.0
    a1, a2 = sigmoid(0.5 * x + 0.1), sigmoid(0.6 * x + 0.2)
    z_out = 0.8 * a1 + 0.9 * a2 + 0.3
    yhat = sigmoid(z_out)
    dl_dyhat = -(y - yhat)
    dl_dz = dl_dyhat * yhat * (1 - yhat)
    assert p.by_name("z_h1").value == "1.1"
    assert p.by_name("yhat").value == number(yhat) == "0.8351"
    assert p.by_name("L").value == number(0.5 * (y - yhat) ** 2) == "0.0136"
    assert p.by_name("w3").gradient == number(dl_dz * a1) == "-0.01704"
    assert p.by_name("w1").gradient == number(dl_dz * 0.8 * a1 * (1 - a1) * x)
    assert p.by_name("b3").gradient == number(dl_dz)
    assert edge(p, "z_out", "yhat") == number(yhat * (1 - yhat)) == "0.1377"
    assert edge(p, "yhat", "y - yhat") == "-1"
    assert edge(p, "w3", "w3*a_h1") == number(a1)
    assert p.by_name("x").kind == INPUT and p.by_name("x").gradient == ""
    assert p.by_name("z_out").kind == NODE and p.by_name("L").kind == LOSS
    # the file has expect answers, so the check ran (all right here)
    assert [str(n) for n in p.notes] == ["expect answers: 8 right, 0 wrong",
                                         "gradient check: every parameter passed"]


def test_no_sympy_and_no_numpy_for_a_scalar_picture():
    code = ("import sys; from gradcli.pictures import command; "
            "command.draw('specs/sigmoid_121.yaml', fmt='svg', layout='builtin'); "
            "print('sympy' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=SPECS.parent, text=True,
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------ marks ---
WRONG = """\
inputs: {x: 2, y: 1}
params: {w1: 0.5, w3: 0.8, b3: 0.3}
nodes:
  z_h1: w1*x
  a_h1: sigmoid(z_h1)
  z_out: w3*a_h1 + b3
  yhat: sigmoid(z_out)
loss: 0.5*(y - yhat)**2
expect:
  a_h1: 0.7311
  yhat: 0.78
  grad: {w3: 0.04417}
"""


def test_wrong_expect_answers_are_marked(tmp_path):
    path = tmp_path / "wrong.yaml"
    path.write_text(WRONG)
    p = build.from_spec(str(path))
    marked = {b.name for b in p.boxes if b.marked}
    assert marked == {"yhat", "w3"}  # a_h1 = sigmoid(1) = 0.7311 is right
    yhat = sigmoid(0.8 * sigmoid(1.0) + 0.3)
    assert [str(r) for r in p.by_name("yhat").reasons][0] == \
        f"expected yhat = 0.78, actual {number(yhat)}"
    reasons = [str(r) for r in p.by_name("w3").reasons]
    assert reasons[0] == "expected grad.w3 = 0.04417, actual -0.04417"
    assert reasons[1] == "sign flipped"  # the check's own diagnosis
    assert "expect answers: 1 right, 2 wrong" in [str(n) for n in p.notes]
    unmarked = build.from_spec(str(path), check=False)
    assert not any(b.marked for b in unmarked.boxes) and unmarked.notes == []


def test_check_on_request_without_expect(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text("params: {w: 2.0}\nnodes: {u: w*w}\nloss: u\n")
    assert build.from_spec(str(path)).notes == []  # no expect: no check by default
    p = build.from_spec(str(path), check=True)
    assert [str(n) for n in p.notes] == ["gradient check: every parameter passed"]
    assert p.by_name("w").gradient == "4"


def test_failed_gradient_check_marks_the_parameter(tmp_path, monkeypatch):
    """A backprop bug (a wrong VJP) is caught by the check and marked on the parameter."""
    from gradcli import ops

    path = tmp_path / "bug.yaml"
    path.write_text("params: {w: 0.3}\nnodes: {u: sin(w)}\nloss: u\n")
    bad = ops.Op(**{**ops.OPS["sin"].__dict__, "vjp": (lambda g, o, a: 2.0 * g,)})
    monkeypatch.setitem(ops.OPS, "sin", bad)
    p = build.from_spec(str(path), check=True)
    w = p.by_name("w")
    assert w.marked and str(w.reasons[0]).startswith("gradient check failed")
    assert not p.by_name("u").marked
    assert "gradient check: 1 of 1 parameters failed" in [str(n) for n in p.notes]


# ------------------------------------------------------------ layer form ---
def layer_spec(units: int) -> str:
    return f"""\
inputs:
  x: {{shape: [4, 5], distribution: normal}}
  y: {{shape: [4, 2], distribution: uniform}}
layers:
  - dense: {{units: {units}, activation: tanh}}
  - dense: {{units: 2, activation: sigmoid}}
loss: squared_error
seed: 3
"""


def test_layer_network_one_box_per_tensor_operation(tmp_path):
    small, large = tmp_path / "small.yaml", tmp_path / "large.yaml"
    small.write_text(layer_spec(3))
    large.write_text(layer_spec(300))
    ps, pl = build.from_spec(str(small)), build.from_spec(str(large))
    # the number of boxes does not depend on the width of the layers
    assert len(ps.boxes) == len(pl.boxes) < 25
    names = {b.name for b in pl.boxes}
    assert {"x", "y", "W1", "b1", "z1", "a1", "W2", "b2", "z2", "a2 = yhat", "loss"} <= names
    w1 = pl.by_name("W1")
    assert w1.shape == "[300, 5]" and w1.value.startswith("‖·‖ ")
    assert w1.gradient.startswith("‖·‖ ")
    assert pl.by_name("a1").shape == "[4, 300]"
    assert pl.by_name("loss").shape == "" and pl.by_name("loss").kind == LOSS


def test_layer_network_values_in_full_when_small():
    p = build.from_spec(str(SPECS / "net_231_sigmoid.yaml"))
    z1 = p.by_name("z1")  # [1, 2] @ W1ᵀ with W1 = [[.1, .2], [.3, .4], [.5, .6]]
    assert z1.shape == "[1, 3]" and z1.value == "[[0.5, 1.1, 1.7]]"  # rows of the batch
    a1 = p.by_name("a1")
    assert a1.value == "[[" + ", ".join(number(sigmoid(v)) for v in (0.5, 1.1, 1.7)) + "]]"
    # d a1 / d z1 is diagonal: sigmoid' = a(1 - a), shown as that diagonal
    diag = ", ".join(number(sigmoid(v) * (1 - sigmoid(v))) for v in (0.5, 1.1, 1.7))
    assert edge(p, "z1", "a1") == f"diag [[{diag}]]"
    assert edge(p, "x", "x @ W1ᵀ") == "· @ W1"  # d(x @ W1ᵀ)/dx applied as g @ W1
    assert edge(p, "W1ᵀ", "x @ W1ᵀ") == "xᵀ @ ·"
    assert edge(p, "b1", "z1") == "1"


# ----------------------------------------------------------------- limits ---
def chain_spec(n_nodes: int) -> str:
    lines = ["params: {p: 0.5}", "nodes:", "  n0: p*p"]
    lines += [f"  n{i}: tanh(n{i - 1})" for i in range(1, n_nodes)]
    return "\n".join(lines + [f"loss: n{n_nodes - 1}"]) + "\n"


def test_box_limit_refuses_with_the_count_and_max_boxes_allows(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(chain_spec(2100))  # p and 2,100 operations
    with pytest.raises(LimitError) as caught:
        build.from_spec(str(path))
    assert "2,101 boxes; at most 2,000 are drawn" in str(caught.value)
    assert caught.value.where == str(path)
    p = build.from_spec(str(path), max_boxes=2101)
    assert len(p.boxes) == 2101
    exactly = tmp_path / "exact.yaml"
    exactly.write_text(chain_spec(1999))
    assert len(build.from_spec(str(exactly)).boxes) == 2000  # 2,000 is drawn


def test_expression_box_limit():
    with pytest.raises(LimitError, match="2,501 boxes"):
        build.from_expression("x+" * 2500 + "x", ["x=1"])


def test_expression_without_a_point_draws_the_structure():
    p = build.from_expression("(a+b)*c", ["a=1"])
    assert {b.value for b in p.boxes} == {""} and {e.label for e in p.edges} == {""}
    assert [str(n) for n in p.notes] == ["no values: every variable needs --at "
                                         "(missing: b, c)"]


def test_constant_only_values_are_marked_constant(tmp_path):
    path = tmp_path / "k.yaml"
    path.write_text("inputs: {y: 3}\nparams: {w: 2}\nnodes: {k: 2*y, u: w*k}\nloss: u\n")
    p = build.from_spec(str(path))
    assert p.by_name("k").kind == CONSTANT and p.by_name("k").gradient == ""
    assert p.by_name("w").gradient == "6"


def test_bad_at_is_refused_like_derive():
    with pytest.raises(GradcliError) as caught:
        build.from_expression("x**2", ["z=1"])
    assert caught.value.where == "--at"
    assert str(caught.value.what) == "'z' is not a variable of the expression (variables: x)"
