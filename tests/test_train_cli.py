"""`gradcli train` through the real CLI: the notes' examples, bad input,
--save, Ctrl-C, and what `--help` imports."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gradcli.cli import _command_name, app

SPECS = Path(__file__).resolve().parent.parent / "specs"
X2 = ["x**2", "--from", "x=5"]


def train(*args):
    return CliRunner().invoke(app, ["train", *map(str, args)])


def runs(*args) -> list[dict]:
    result = train(*args, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    save = [str(a) for a in args[args.index("--save") + 1:][:1]] if "--save" in args else []
    # stdout is JSON only; the one note (where the file was saved) goes to stderr
    assert result.stderr == "".join(f"saved the trained params to {p}\n" for p in save)
    return [json.loads(line) for line in result.stdout.splitlines()]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# --------------------------------------------------- seed note 003, ex. 3 ---
def test_three_learning_rates_side_by_side_in_json():
    out = runs(*X2, "--lr", 0.001, "--lr", 0.1, "--lr", 10, "--steps", 50)
    assert [r["lr"] for r in out] == [0.001, 0.1, 10.0]
    slow, good, wild = out
    assert slow["status"] == good["status"] == "stopped" and wild["status"] == "diverged"
    assert slow["steps"] == good["steps"] == 50 and len(good["loss"]) == 51
    assert good["params"]["x"] == pytest.approx(5 * 0.8 ** 50, rel=1e-12)
    assert slow["params"]["x"] == pytest.approx(5 * 0.998 ** 50, rel=1e-12)
    assert wild["diverged_at"] == 5 and wild["steps"] == 5 and len(wild["loss"]) == 6
    assert wild["loss"][5] == pytest.approx(25 * 361 ** 5, rel=1e-12)


def test_human_output_has_runs_steps_and_plot():
    result = train(*X2, "--lr", 0.001, "--lr", 0.1, "--lr", 10, "--steps", 50, "--plot")
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    runs_table = out[out.index("Runs"):out.index("Loss every 5 steps")]
    rows = [line.split() for line in runs_table.splitlines()]
    assert ["10", "1.53277e+14", "diverged", "5", "5", "-1.23805e+07"] in rows
    assert ["0.1", "5.09259e-09", "stopped", "50", "—", "7.13624e-05"] in rows
    steps = out[out.index("Loss every 5 steps"):out.index("loss (log scale)")]
    step_rows = [line.split() for line in steps.splitlines() if line.strip()[:1].isdigit()]
    assert [r[0] for r in step_rows] == [str(k) for k in range(0, 51, 5)]
    assert step_rows[1] == ["5", "24.5045", "2.68435", "1.53277e+14"]
    plot = out[out.index("loss (log scale)"):].splitlines()
    assert "* lr 0.001   o lr 0.1   + lr 10" in plot[-1]
    assert all(len(line) <= 80 for line in plot)


def test_no_plot_when_not_a_terminal_unless_asked():
    result = train(*X2, "--lr", 0.1, "--steps", 5)
    assert result.exit_code == 0 and "loss (log scale)" not in result.stdout
    assert "loss (log scale)" not in train(*X2, "--lr", 0.1, "--steps", 5, "--plot",
                                           "--json").stdout


def test_every_sets_the_step_table_rows():
    result = train(*X2, "--lr", 0.1, "--steps", 7, "--every", 3)
    rows = [line.split()[0] for line in result.stdout.splitlines()
            if line.strip()[:1].isdigit() and len(line.split()) == 3]
    assert rows == ["0", "3", "6", "7"]


def test_file_lr_is_the_default_and_lr_overrides_it():
    [run] = runs(SPECS / "x_squared.yaml", "--steps", 2)
    assert run["lr"] == 0.1 and run["loss"] == pytest.approx([25.0, 16.0, 10.24])
    [run] = runs(SPECS / "x_squared.yaml", "--steps", 1, "--lr", 0.25)
    assert run["params"]["x"] == 2.5


def test_optimizer_and_clip_options_reach_the_run():
    [run] = runs(*X2, "--lr", 0.1, "--steps", 3, "--optimizer", "momentum")
    assert run["optimizer"] == "momentum" and run["params"]["x"] == pytest.approx(0.31)
    [run] = runs(*X2, "--lr", 1, "--steps", 1, "--clip", 2)
    # gradient 10 clipped to norm 2: x = 5 - 1*10*2/(10 + 1e-6)
    assert run["params"]["x"] == pytest.approx(5 - 20 / (10 + 1e-6), rel=1e-15)
    assert run["clip"] == 2.0 and run["grad_norm"][0] == 10.0


# ------------------------------------------------------ seed note 002: XOR ---
def test_xor_reaches_a_small_loss_and_the_right_predictions(tmp_path):
    out = tmp_path / "xor_trained.yaml"
    [run] = runs(SPECS / "xor_train.yaml", "--steps", 1000, "--save", out)
    assert run["lr"] == 0.5 and run["status"] == "stopped" and run["steps"] == 1000
    assert run["loss"][-1] < 0.05 and run["loss"][-1] < run["loss"][0] / 100
    # an independent forward pass with the trained weights: z = x @ W.T + b
    p = {k: np.array(v) for k, v in run["params"].items()}
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    logits = np.maximum(x @ p["W1"].T + p["b1"], 0) @ p["W2"].T + p["b2"]
    assert logits.argmax(axis=1).tolist() == [0, 1, 1, 0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert -log_probs[[0, 1, 2, 3], [0, 1, 1, 0]].mean() == pytest.approx(run["loss"][-1],
                                                                           rel=1e-9)
    # the saved file loads, passes check, and its loss is the trained loss
    result = CliRunner().invoke(app, ["check", str(out), "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["loss"] == pytest.approx(run["loss"][-1], rel=1e-12)
    text = out.read_text()
    assert "seed note 002" in text  # the file's comments are kept


def test_class_index_targets_train_the_same_as_one_hot(tmp_path):
    text = (SPECS / "xor_train.yaml").read_text().replace(
        "y: [[1, 0], [0, 1], [0, 1], [1, 0]]", "y: [0, 1, 1, 0]")
    path = write(tmp_path, "xor_classes.yaml", text)
    [a] = runs(SPECS / "xor_train.yaml", "--steps", 50)
    [b] = runs(path, "--steps", 50)
    assert a["loss"] == b["loss"]


def test_save_drops_expect_and_keeps_the_rest(tmp_path):
    src = write(tmp_path, "net.yaml", """\
        # a 1-1 net
        inputs:
          x: 2
          y: 1
        params:
          w: 0.5   # weight
          b: 0.1
        nodes:
          yhat: w*x + b
        loss: (yhat - y)**2
        expect:
          loss: 0.01
        lr: 0.1
        """)
    out = tmp_path / "out.yaml"
    [run] = runs(src, "--steps", 3, "--save", out)
    text = out.read_text()
    assert "expect" not in text and "# a 1-1 net" in text and "nodes:" in text
    assert f"w: {run['params']['w']!r}" in text
    result = CliRunner().invoke(app, ["check", str(out), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["loss"] == run["loss"][-1]


def test_save_of_a_flow_style_file_writes_it_whole(tmp_path):
    src = write(tmp_path, "flow.yaml", '{params: {x: 3, y: -1}, loss: "x**2 + 2*y**2", lr: 0.25}\n')
    out = tmp_path / "out.yaml"
    [run] = runs(src, "--steps", 1, "--save", out)
    # x <- 3 - 0.25*6 = 1.5, y <- -1 - 0.25*(-4) = 0
    assert run["params"] == {"x": 1.5, "y": 0.0}
    result = CliRunner().invoke(app, ["check", str(out), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["loss"] == 2.25


# ------------------------------------------------- gradient flow (notes) ---
def test_ten_sigmoid_layers_warn_of_vanishing_gradients():
    [run] = runs(SPECS / "vanishing_sigmoid.yaml", "--steps", 20)
    first = run["layer_grad_norms"]["first"]
    assert len(first) == 10 and first[0] / first[-1] < 1e-3
    assert any(w.startswith("vanishing gradients at step 0") for w in run["warnings"])
    result = train(SPECS / "vanishing_sigmoid.yaml", "--steps", 20)
    assert "warning: vanishing gradients at step 0" in result.stdout
    assert "Gradient norms per layer" in result.stdout


def test_no_flow_warning_on_a_healthy_net():
    [run] = runs(SPECS / "xor_train.yaml", "--steps", 5)
    assert run["warnings"] == [] and len(run["layer_grad_norms"]["first"]) == 2


def test_clipping_tames_an_exploding_net():
    [plain] = runs(SPECS / "exploding_linear.yaml", "--steps", 100)
    assert plain["status"] == "diverged" and plain["diverged_at"] == 1
    assert plain["loss"][1] > 1e12 * plain["loss"][0]
    [clipped] = runs(SPECS / "exploding_linear.yaml", "--steps", 100, "--clip", 1)
    assert clipped["status"] == "stopped" and clipped["steps"] == 100
    assert clipped["grad_norm"][0] > 1e5  # huge, and clipped to 1 before each step
    assert clipped["loss"][-1] < clipped["loss"][0] / 100


# -------------------------------------------------------------- bad input ---
@pytest.mark.parametrize("args, where, words", [
    (["x**2", "--lr", "0.1"], "--from", "give --from with a value for each of x"),
    (["x**2", "--from", "x=5"], "--lr", "an expression needs --lr RATE"),
    (["x**2"], "--lr", "--lr RATE and --from VAR=VALUE"),
    (["x*y", "--from", "x=1", "--lr", "0.1"], "--from", "no start value for y"),
    (["x**2", "--from", "z=1", "--lr", "0.1"], "--from", "'z' is not a variable"),
    (X2 + ["--lr", "0"], "--lr", "positive finite number, got 0.0"),
    (X2 + ["--lr", "-0.1"], "--lr", "positive finite number, got -0.1"),
    (X2 + ["--lr", "nan"], "--lr", "got nan"),
    (X2 + ["--lr", "inf"], "--lr", "got inf"),
    (X2 + ["--lr", "0.1", "--lr", "-1"], "--lr", "got -1.0"),
    (X2 + ["--lr", "0.1", "--steps", "0"], "--steps", "between 1 and 10,000,000, got 0"),
    (X2 + ["--lr", "0.1", "--steps", "10000001"], "--steps", "got 10000001"),
    (X2 + ["--lr", "0.1", "--clip", "0"], "--clip", "positive finite number, got 0.0"),
    (X2 + ["--lr", "0.1", "--clip", "-2"], "--clip", "got -2.0"),
    (X2 + ["--lr", "0.1", "--every", "0"], "--every", "got 0"),
    (X2 + ["--lr", "0.1", "--tol", "-1"], "--tol", "got -1.0"),
    (X2 + ["--lr", "0.1", "--max-memory", "lots"], "--max-memory", "got 'lots'"),
    (X2 + ["--lr", "0.1", "--save", "o.yaml"], "--save", "an expression has no file"),
    ([str(SPECS / "x_squared.yaml"), "--lr", "0.1", "--lr", "1", "--save", "o.yaml"],
     "--save", "give one --lr (got 2)"),
])
def test_bad_input_is_exit_2_naming_the_problem(args, where, words):
    result = CliRunner().invoke(app, ["train", *args, "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()[:1]
    assert line.startswith(f"error: {where}: ") and words in line, line


@pytest.mark.parametrize("size", ["512M", "2G", "100K", "1g", "4096"])
def test_max_memory_sizes_are_accepted(size):
    assert train(*X2, "--lr", 0.1, "--steps", 1, "--max-memory", size).exit_code == 0


def test_file_without_lr_needs_one(tmp_path):
    path = write(tmp_path, "nolr.yaml", "params: {x: 1}\nloss: x**2\n")
    result = train(path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --lr: no learning rate: give --lr RATE or put lr:")


def test_save_refuses_over_200000_parameters(tmp_path):
    path = write(tmp_path, "big.yaml", """\
        inputs:
          x: {shape: [1, 784], distribution: normal}
          y: [[0.5]]
        layers:
          - dense: {units: 256, activation: relu}
          - dense: {units: 1}
        loss: mse
        lr: 0.1
        """)
    result = train(path, "--save", tmp_path / "out.yaml")
    assert result.exit_code == 2 and not (tmp_path / "out.yaml").exists()
    assert result.stderr.startswith("error: --save: the network has 201,217 parameters; "
                                    "--save writes at most 200,000")


def test_nan_in_the_first_forward_pass_is_an_error_as_in_check(tmp_path):
    path = write(tmp_path, "bad.yaml", """\
        params:
          w: -1
        nodes:
          h: log(w)
        loss: h**2
        lr: 0.1
        """)
    result = train(path, "--json")
    checked = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == checked.exit_code == 2 and result.stdout == ""
    assert result.stderr == checked.stderr
    assert result.stderr.startswith(f"error: {path}:4:") and "log(-1)" in result.stderr


def test_nan_at_the_start_of_an_expression_points_at_the_operation():
    result = train("1 + log(x)", "--from", "x=-1", "--lr", 0.1)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: column 5: log(-1) is undefined (outside the function's domain) at x=-1",
        "  1 + log(x)", "      ^"]


def test_an_argument_with_a_slash_is_a_file():
    result = train("x/2", "--from", "x=1", "--lr", 0.1)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: x/2: no such file (an argument containing / is "
                                    "read as a file")


def test_tensor_functions_need_a_file():
    result = train("sum(x)", "--from", "x=1", "--lr", 0.1)
    assert result.exit_code == 2 and "sum needs tensors" in result.stderr


# ---------------------------------------------------------------- Ctrl-C ---
def test_ctrl_c_prints_the_runs_so_far_and_exits_130(monkeypatch):
    from gradcli.train import source

    real = source.Plan.__call__
    calls = {"n": 0}

    def interrupting(self, params):
        calls["n"] += 1
        if calls["n"] == 50 + 4:  # the second run, while evaluating step 4
            raise KeyboardInterrupt
        return real(self, params)

    monkeypatch.setattr(source.Plan, "__call__", interrupting)
    result = train(*X2, "--lr", 0.1, "--lr", 0.2, "--lr", 0.3, "--steps", 50, "--json")
    assert result.exit_code == 130
    assert result.stderr == "interrupted (Ctrl-C): the runs so far are printed\n"
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["status"] == "stopped" and first["steps"] == 50
    assert second["status"] == "interrupted" and second["steps"] == 3
    assert len(second["loss"]) == len(second["grad_norm"]) == 4
    calls["n"] = 0
    human = train(*X2, "--lr", 0.1, "--lr", 0.2, "--steps", 50)
    assert human.exit_code == 130 and "interrupted" in human.stdout


# --------------------------------------------------- start-up and threads ---
def _python(code: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=str(SPECS.parent), timeout=120)


def test_train_help_imports_neither_numpy_nor_the_plot():
    code = textwrap.dedent("""\
        import sys
        from gradcli.cli import main
        try:
            main(["train", "--help"])
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        loaded = [m for m in ("numpy", "gradcli.train.plot", "plotext", "plotille",
                              "gradcli.train", "sympy") if m in sys.modules]
        print("LOADED", loaded, file=sys.stderr)
        """)
    proc = _python(code)
    assert "--optimizer" in proc.stdout and "--clip" in proc.stdout
    assert "LOADED []" in proc.stderr, proc.stderr


def test_train_leaves_blas_threads_unset_other_commands_pin_one():
    code = textwrap.dedent("""\
        import os, sys
        from gradcli.cli import main
        try:
            main(sys.argv[1:])
        except SystemExit:
            pass
        print("THREADS", os.environ.get("OPENBLAS_NUM_THREADS"), file=sys.stderr)
        """)
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    trained = subprocess.run([sys.executable, "-c", code, "train", "x**2", "--from", "x=1",
                              "--lr", "0.1", "--steps", "1", "--json"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert trained.returncode == 0 and "THREADS None" in trained.stderr, trained.stderr
    derived = subprocess.run([sys.executable, "-c", code, "derive", "x**2"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert "THREADS 1" in derived.stderr


def test_command_name_skips_options():
    assert _command_name(["--lang", "ko", "train", "x"]) == "train"
    assert _command_name(["train", "--lang", "ko"]) == "train"
    assert _command_name(["--version"]) is None
    assert _command_name(["check", "train.yaml"]) == "check"
