"""check-code on the shipped examples: the notes' correct code passes, each bug is caught
with the right diagnosis (examples/ holds one bug per file)."""
from __future__ import annotations

import pytest

from codecli import EXAMPLES, checks_of, code, code_json, failing


def test_value_class_of_note_001_passes_every_case():
    status, lines, _ = code_json(EXAMPLES / "value.py")
    assert status == 0
    (line,) = lines
    assert line["kind"] == "value" and line["target"] == "Value" and line["ok"] is True
    checks = {c["name"]: c for c in line["checks"]}
    for name in ("a + b", "2 + a", "2 * a", "a / b", "2 / a", "a ** 3", "-a", "exp", "log",
                 "tanh", "relu", "sigmoid", "a*a", "a + a", "diamond", "chain of 3000",
                 "second backward"):
        assert checks[name]["ok"], name
    # the true derivatives: d tanh/dx at 0.5 and d(a*a)/da at 0.7
    assert checks["tanh"]["expected"] == pytest.approx(0.7864477329659274, rel=1e-12)
    assert checks["a*a"]["actual"] == pytest.approx(1.4, rel=1e-12)
    assert checks["chain of 3000"]["expected"] == pytest.approx(1.001 ** 1500, rel=1e-12)


@pytest.mark.parametrize("name, case, diagnosis", [
    ("value_bug_overwrite.py", "a*a", "gradient overwritten instead of accumulated "
                                      "(`=` instead of `+=`) in *"),
    ("value_bug_topo_order.py", "diamond", "nodes visited out of topological order"),
    ("value_bug_tanh.py", "tanh", "local derivative of tanh uses x instead of the output"),
    ("value_bug_exp.py", "exp", "local derivative of exp uses x instead of the output"),
    ("value_bug_rmul.py", "2 * a", "missing __rmul__: 2 * a fails"),
])
def test_each_value_bug_is_caught_with_its_diagnosis(name, case, diagnosis):
    status, lines, _ = code_json(EXAMPLES / name)
    assert status == 1
    checks = checks_of(lines, "Value")
    assert not checks[case]["ok"]
    assert checks[case]["diagnosis"].startswith(diagnosis)
    # the one-node cases that the bug does not touch still pass
    assert checks["a + b"]["ok"] and checks["relu"]["ok"]


def test_tanh_bug_reports_the_numbers():
    _, lines, _ = code_json(EXAMPLES / "value_bug_tanh.py")
    tanh = checks_of(lines, "Value")["tanh"]
    assert tanh["expected"] == pytest.approx(1 - 0.46211715726000974 ** 2, rel=1e-12)
    assert tanh["actual"] == pytest.approx(0.75)  # 1 - 0.5**2
    assert [name for _, name, _ in failing(lines)] == ["tanh"]


def test_missing_rmul_names_the_user_line_for_rtruediv():
    _, lines, _ = code_json(EXAMPLES / "value_bug_rmul.py")
    div = checks_of(lines, "Value")["2 / a"]
    assert div["error"].startswith("value_bug_rmul.py:") or "value_bug_rmul.py:" in div["error"]
    assert "missing __rmul__" in div["diagnosis"]


def test_recursive_topological_sort_is_a_warning_not_a_failure():
    status, lines, _ = code_json(EXAMPLES / "value_recursive.py")
    assert status == 0
    chain = checks_of(lines, "Value")["chain of 3000"]
    assert chain["ok"] is True
    assert chain["warning"].startswith("recursion limit: the topological sort is recursive")
    depth = int(chain["warning"].split("depth of ")[1].split()[0])
    assert 100 < depth < 3000  # bisected, below Python's default limit of 1000 frames


def test_layers_of_note_002_pass_and_the_loss_is_read_as_the_logits_gradient():
    status, lines, stderr = code_json(EXAMPLES / "layers.py")
    assert status == 0, stderr
    targets = [(line["kind"], line["target"]) for line in lines]
    assert targets == [("layer", "Linear(3, 2)"), ("layer", "ReLU"), ("loss", "CrossEntropyLoss")]
    linear = checks_of(lines, "Linear(3, 2)")
    assert set(linear) == {"dx", "dW", "db"}
    assert linear["dW"]["count"] == 6 and linear["dx"]["count"] == 12
    loss = checks_of(lines, "CrossEntropyLoss")["dpred"]
    assert loss["ok"] and "logits" in loss["note"]


def test_layers_file_prints_are_captured_and_skips_are_explained():
    result = code(EXAMPLES / "layers.py")
    assert result.exit_code == 0
    assert "epoch" not in result.stdout  # the XOR loop ran in the child; its prints captured
    assert "printed 11 lines" in result.stdout
    assert "Softmax: forward without backward" in result.stdout
    assert "NeuralNetwork: a model" in result.stdout


@pytest.mark.parametrize("name, target, check, diagnosis", [
    ("layers_bug_transposed.py", "Linear(3, 2)", "dW",
     "transposed: shape (2, 3) where (3, 2) is expected"),
    ("layers_bug_batch.py", "CrossEntropyLoss", "dpred",
     "off by a factor of 4 (the batch size 4: not divided by the batch size)"),
    ("layers_bug_sign.py", "CrossEntropyLoss", "dpred", "sign flipped"),
    ("layers_bug_row.py", "Linear(3, 2)", "dW", "one row wrong: row 2"),
    ("layers_bug_zero.py", "Linear(3, 2)", "db", "zero where it should not be"),
])
def test_each_layer_bug_is_caught_with_its_diagnosis(name, target, check, diagnosis):
    status, lines, _ = code_json(EXAMPLES / name)
    assert status == 1
    assert [(t, c) for t, c, _ in failing(lines)] == [(target, check)]
    item = checks_of(lines, target)[check]
    assert item["diagnosis"].startswith(diagnosis)
    assert item["bad"] >= 1


def test_one_row_wrong_names_the_worst_element_and_counts():
    _, lines, _ = code_json(EXAMPLES / "layers_bug_row.py")
    dw = checks_of(lines, "Linear(3, 2)")["dW"]
    assert dw["count"] == 6 and dw["bad"] == 2
    assert dw["worst_index"][0] == 2
    assert dw["expected"] != pytest.approx(dw["actual"], rel=1e-3)


def test_cs231n_pairs_and_a_function_pair_pass():
    status, lines, _ = code_json(EXAMPLES / "cs231n_layers.py")
    assert status == 0
    assert [(l["kind"], l["target"]) for l in lines] == [
        ("pair", "affine"), ("pair", "relu"), ("function", "sigmoid")]
    affine = checks_of(lines, "affine")
    assert [affine[n]["count"] for n in ("dx", "dw", "db")] == [12, 15, 5]
    assert lines[0]["shapes"] == {"x": [4, 3], "w": [3, 5], "b": [5]}


def test_input_gives_the_pair_shapes():
    status, lines, _ = code_json(EXAMPLES / "cs231n_layers.py", "--input", "affine=2x3x2,6x4,4",
                                 "--only", "affine")
    assert status == 0
    assert lines[0]["shapes"] == {"x": [2, 3, 2], "w": [6, 4], "b": [4]}
    assert checks_of(lines, "affine")["dx"]["count"] == 12


def test_make_builds_the_class_with_literal_arguments():
    status, lines, _ = code_json(EXAMPLES / "numpy_linear.py", "--make", "Linear(5, 3, seed=1)")
    assert status == 0
    assert lines[0]["target"] == "Linear(5, 3, seed=1)"
    assert set(checks_of(lines, "Linear(5, 3, seed=1)")) == {"dx", "dweight", "dbias"}
    assert lines[0]["shapes"]["x"] == [4, 5]


CONTRACT_CHECK_KEYS = {"name", "ok", "count", "bad", "worst_index", "expected", "actual",
                       "max_abs_error", "max_rel_error", "diagnosis"}


def test_json_has_the_contract_keys():
    _, lines, _ = code_json(EXAMPLES / "layers_bug_row.py")
    for line in lines:
        assert {"file", "target", "kind", "ok", "checks"} <= set(line)
        for check in line["checks"]:
            assert CONTRACT_CHECK_KEYS <= set(check)


def test_human_report_shows_counts_worst_index_values_and_diagnosis():
    result = code(EXAMPLES / "layers_bug_row.py")
    assert result.exit_code == 1
    out = " ".join(result.stdout.split())
    assert "layer Linear(3, 2): FAILED" in out
    assert "dW ✗ 2/6 (2, 1) 0.047592 1.5674 9.7e-01" in out
    assert "dW: diagnosis: one row wrong: row 2, the other rows are right" in out
    assert "Not checked in" in out and "Softmax: forward without backward" in out


def test_value_battery_child_imports_no_numpy():
    import subprocess
    import sys

    code_text = ("import sys, io, contextlib\n"
                 "from gradcli.usercode.child import check_file\n"
                 "p = sys.argv[1]\n"
                 "r = check_file(dict(path=p, shown=p, seed=0, makes=[], inputs={}, only=[], "
                 "rtol=1e-5, atol=1e-8, max_memory_text='2G'))\n"
                 "print(r.ok, 'numpy' in sys.modules, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code_text, str(EXAMPLES / "value.py")],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "False", "False"], out.stderr
