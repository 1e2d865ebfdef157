"""Memory and work are bounded: a file estimated to cost more than the budget is
refused before anything big is allocated or run, naming the file and the estimate."""
from __future__ import annotations

import json
import os
import re

import pytest

from bigspecs import scalar_sum_chain, scalar_tree
from checkcli import check_json, cli, write
from gradcli import spec, yamlio
from gradcli.errors import LimitError
from gradcli.spec import layer_form

NET_231 = """\
inputs:
  x: {{shape: [{batch}, 2]}}
  y: {{shape: [{batch}, 1]}}
layers:
  - dense: {{units: 3, activation: sigmoid}}
  - dense: {{units: 1, activation: sigmoid}}
loss: squared_error
"""
NINE_THOUSAND = """\
inputs:
  x: {shape: [100000, 10]}
  y: {shape: [100000, 1]}
layers:
  - dense: {units: 9000, activation: sigmoid}
  - dense: {units: 1, activation: sigmoid}
loss: squared_error
"""


def limited(*args, memory: int = 3 * 2**30):
    """`gradcli ARGS` in a child process whose address space is capped at `memory`: a
    regression that allocates what the estimate should have refused fails with
    MemoryError there, instead of taking the machine's memory."""
    import resource
    import subprocess
    import sys

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    # one BLAS thread: a threaded BLAS reserves address space per core at import
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "gradcli", *map(str, args)],
                          capture_output=True, text=True, preexec_fn=cap, timeout=300, env=env)


def _estimate(line: str) -> float:
    """The size in 'needs about 13G of memory' in bytes."""
    m = re.search(r"needs about ([\d.,]+)([KMGT]) of memory", line)
    assert m, line
    return float(m.group(1).replace(",", "")) * 1024 ** " KMGT".index(m.group(2))


def test_a_huge_drawn_batch_is_refused_before_it_is_drawn(tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("x was drawn before the memory estimate")

    monkeypatch.setattr(layer_form, "_drawn", never)
    path = write(tmp_path, "big.yaml", NET_231.format(batch=40_000_000))
    result = cli(path)
    assert result.exit_code == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert limited("check", path).stderr.strip() == line  # the same without the patch
    assert line.startswith(f"error: {path}: needs about ")
    assert line.endswith("over the memory budget of 2.0G (--max-memory)")
    # 40M x (2 + 3 + 1) floats, each value and adjoint: well over 2G, and said so
    assert 8 * 2**30 < _estimate(line) < 40 * 2**30
    assert "\n" not in line


def test_a_wide_layer_over_a_big_batch_is_refused_with_its_estimate(tmp_path):
    path = write(tmp_path, "wide.yaml", NINE_THOUSAND)
    result = limited("check", path, "--json")
    [line] = result.stderr.splitlines()
    # --json: the batch's one JSON line for an unusable file, holding the same error
    assert result.returncode == 2
    assert json.loads(result.stdout) == {"file": str(path), "ok": False, "exit": 2,
                                         "error": line}
    assert line.startswith(f"error: {path}: needs about ") and "out of memory" not in line
    # 100,000 x 9,000 activations: 7.2 GB per array, several arrays
    assert 40 * 2**30 < _estimate(line) < 200 * 2**30
    assert "forward pass" in line and "backward pass" in line


def test_the_estimate_grows_linearly_with_the_batch():
    from gradcli import budget

    totals = [budget.layer_memory(b, 2, [3, 1], budget.Budget()).total
              for b in (1_000, 2_000, 3_000)]
    assert totals[1] - totals[0] == totals[2] - totals[1] > 0
    # per example: x, y and 4 units' activations, their adjoints and the numeric cache
    assert 30 * 8 < (totals[1] - totals[0]) / 1_000 < 60 * 8


def test_max_memory_sets_the_budget(tmp_path):
    path = write(tmp_path, "net.yaml", NET_231.format(batch=300_000))  # ~220M estimated
    code, report = check_json(path)
    assert code == 0 and report["ok"]
    assert check_json(path, "--max-memory", "300M")[0] == 0
    small = cli(path, "--max-memory", "200M")
    assert small.exit_code == 2 and small.stdout == ""
    assert "over the memory budget of 200M (--max-memory)" in small.stderr


@pytest.mark.parametrize("size", ["2X", "lots", "-1G", "10"])
def test_a_bad_max_memory_is_a_usage_error(tmp_path, size):
    path = write(tmp_path, "net.yaml", NET_231.format(batch=4))
    result = cli(path, "--max-memory", size)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: --max-memory: ")


def test_graph_and_train_take_the_budget(tmp_path):
    from typer.testing import CliRunner

    from gradcli.cli import app

    path = write(tmp_path, "big.yaml", NET_231.format(batch=40_000_000))
    for args in (["graph", str(path)], ["graph", str(path), "--max-memory", "1G"],
                 ["train", str(path), "--lr", "0.1", "--steps", "1"]):
        result = limited(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith(f"error: {path}: needs about "), result.stderr
    small = write(tmp_path, "small.yaml", NET_231.format(batch=4))
    assert CliRunner().invoke(app, ["graph", str(small), "--max-memory", "1G"]).exit_code == 0


def test_train_counts_its_optimizer_state():
    from gradcli import budget

    sgd = budget.layer_memory(8, 1000, [1000, 10], budget.Budget(purpose="train"))
    adam = budget.layer_memory(8, 1000, [1000, 10],
                               budget.Budget(purpose="train", optimizer="adam"))
    params = 1000 * 1000 + 1000 + 10 * 1000 + 10
    assert adam.total - sgd.total == pytest.approx(2 * 8 * params)


def test_a_graph_form_broadcast_too_big_for_memory_names_the_file(tmp_path):
    column = [[float(i % 10)] for i in range(50_000)]
    path = write(tmp_path, "outer.yaml", f"inputs:\n  a: {column}\nparams:\n  w: 1.0\n"
                                         "nodes:\n  c: a*transpose(a)*w\nloss: sum(c)\n")
    result = limited("check", path)
    assert result.returncode == 2
    line = result.stderr.strip()
    # a 50,000 x 50,000 product: 20 GB per array
    assert line.startswith(f"error: {path}: needs about ") and _estimate(line) > 40 * 2**30


def test_shapes_are_inferred_without_evaluating(tmp_path):
    from gradcli import budget

    import numpy as np

    path = write(tmp_path, "t.yaml", "inputs:\n  x: [[1.0, 2.0, 3.0]]\n  v: [1.0, 2.0]\n"
                                     "params:\n  W: [[1, 2, 3], [4, 5, 6]]\n  b: [0.5, 0.5]\n"
                                     "nodes:\n  z: x @ transpose(W) + b\n  p: softmax(z)\n"
                                     "  q: W @ transpose(x)\n  r: v @ W\n"
                                     "loss: sum(p) + mean(q) + sum(r)\n")
    s = spec.load(str(path))
    from gradcli import engine

    values = engine.forward(s.graph, s.bindings, s.loss)
    shapes = budget.infer_shapes(s.graph, s.bindings, s.loss)
    assert shapes == [tuple(np.shape(v)) for v in values]


def test_three_hundred_thousand_named_nodes_are_refused_before_parsing(tmp_path,
                                                                        monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the YAML was composed before the node count was checked")

    monkeypatch.setattr(yamlio, "_compose", never)
    path = tmp_path / "nodes.yaml"
    path.write_text("params:\n  w: 0.5\nnodes:\n"
                    + "".join(f"  a{i}: w\n" for i in range(300_000)) + "loss: a0\n")
    result = cli(path)
    assert result.exit_code == 2
    assert result.stderr == (f"error: {path}:3: the file defines 300,001 values (inputs, "
                             "params and nodes): graphs of 50,000 nodes or more are "
                             "refused\n")


def test_a_value_that_makes_the_graph_too_large_is_named_by_file_and_place(tmp_path):
    # a flow mapping is one line to the scan, so the graph's own limit refuses it:
    # it named "expression" instead of the file
    names = ", ".join(f"a{i}: 1" for i in range(50_000))
    path = write(tmp_path, "wide.yaml", f"inputs: {{{names}}}\nparams:\n  w: 1.0\n"
                                        "loss: w*a0\n")
    result = cli(path)
    assert result.exit_code == 2
    col = (f"inputs: {{{names}}}".index(" a49999: ") + len(" a49999: ")) + 1
    assert result.stderr == (f"error: {path}:1:{col}: graph too large: 50,000 nodes or "
                             "more are refused\n")


def test_an_expression_that_makes_the_graph_too_large_is_named_by_its_column(tmp_path):
    path = write(tmp_path, "wide.yaml", "params:\n  x: 1.0\nnodes:\n  a: x*2\n  b: "
                 + "x+" * 49_999 + "x\nloss: b\n")
    result = cli(path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:5:99999: graph too large: 50,000 nodes "
                                    "or more are refused\n")


def test_numeric_work_over_the_budget_is_refused_with_the_estimate(tmp_path):
    from gradcli import budget

    path = write(tmp_path, "sum.yaml", scalar_sum_chain(200))
    with pytest.raises(LimitError) as refused:
        spec.load(str(path), budget.Budget(work=1e6))
    assert refused.value.where == str(path)
    what = str(refused.value.what)
    assert what.startswith("the numeric check would need about ")
    # 200 parameters, ~100 dependents each on average, 4 evaluations
    m = re.search(r"\(([\d.e+]+) node evaluations for 200 parameter entries\)", what)
    assert m and 7e4 < float(m.group(1)) < 1e5
    assert "over the work budget of 1e+06" in what
    spec.load(str(path))  # the default budget allows it


def test_the_work_of_a_tree_of_parameters_is_n_log_n():
    from gradcli import budget

    def evaluations(p: int) -> float:
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(scalar_tree(p))
        s = spec.load(f.name)
        shapes = budget.infer_shapes(s.graph, s.bindings, s.loss)
        return budget.numeric_work(s.graph, budget.node_costs(s.graph, shapes),
                                   {nid: 1 for nid in s.params.values()},
                                   s.loss).evaluations

    assert 2.0 < evaluations(2048) / evaluations(1024) < 2.3


def test_tensor_parameters_weigh_their_sampled_entries(tmp_path):
    from gradcli import budget

    from gradcli import numeric

    w = [0.01 * (i % 7) for i in range(30_000)]
    path = write(tmp_path, "t.yaml", f"params:\n  w: {w}\n  c: 2.0\n"
                                     "nodes:\n  z: c*w*w\nloss: sum(z)\n")
    s = spec.load(str(path))
    shapes = budget.infer_shapes(s.graph, s.bindings, s.loss)
    counts = numeric.entry_counts({"w": 30_000, "c": 1}, {"w": False, "c": True})
    assert counts == {"w": numeric.MAX_ENTRIES * 30_000 // 30_001, "c": 1}
    work = budget.numeric_work(s.graph, budget.node_costs(s.graph, shapes),
                               {s.params["w"]: counts["w"], s.params["c"]: 1}, s.loss)
    # w feeds c*w (mul), *w (mul), sum: 3 nodes; c the same 3
    assert work.evaluations == 4 * (3 * counts["w"] + 3)
    assert work.entries == counts["w"] + 1


def test_long_lists_and_rows_at_the_keys_indentation_are_not_counted_as_values(tmp_path):
    # YAML lets a list's dashes, or a flow matrix's rows, sit at the indentation of its
    # key: those lines are not values of the section
    rows = ",\n  ".join(f"[{i % 5}.0]" for i in range(30_000))
    path = tmp_path / "long.yaml"
    path.write_text("inputs:\n  x:\n" + "".join(f"  - {i % 3}.5\n" for i in range(30_000))
                    + f"  c: [{rows}]\n"
                    + "params:\n  w: 0.1\nnodes:\n  z: w*sum(x)\nloss: z*sum(c)\n")
    s = spec.load(str(path))
    assert s.bindings[s.inputs["x"]].shape == (30_000,)
    assert s.bindings[s.inputs["c"]].shape == (30_000, 1)
    assert s.loaded.prescan.entries == {"inputs": 2, "params": 1, "nodes": 1, "loss": 0}
