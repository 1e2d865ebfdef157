"""Unusable input to `gradcli check`: exit 2, exactly one `error:` line on
stderr (file:line:col where known), never a traceback, nothing on stdout
with --json.  Several files: each is reported, the exit code is the worst."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcli.cli import app

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

GOOD = "params:\n  w: 2\nnodes:\n  a: w*w\nloss: a\n"
LAYER_XY = "inputs:\n  x: [[1, 2]]\n  y: [[1]]\n"


def cli(*args):
    return CliRunner().invoke(app, ["check", *map(str, args)])


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def refused(path: Path | str, *more: str) -> str:
    """Run check --json on a bad file; assert the contract; return the error line."""
    result = cli(path, "--json", *more)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    # --json: one complete line for the file, so a grader's table never drops it
    assert error_json(result.stdout) == [{"file": str(path), "ok": False, "exit": 2,
                                          "error": lines[0]}]
    # the text mode refuses it the same way
    text = cli(path, *more)
    assert text.exit_code == 2 and text.stdout == ""
    assert error_lines(text.stderr) == lines
    return lines[0]


def error_json(stdout: str) -> list[dict]:
    """The JSON lines of a --json run (an unusable file's is {file, ok, exit, error})."""
    return [json.loads(line) for line in stdout.splitlines()]


def located(line: str, path: Path, row: int | None = None, col: int | None = None) -> None:
    """The line is `error: FILE:LINE:COL: ...` (at LINE:COL when given)."""
    m = re.match(rf"error: {re.escape(str(path))}:(\d+):(\d+)(:\d+)?: ", line)
    assert m, line
    if row is not None:
        assert int(m.group(1)) == row, line
    if col is not None:
        assert int(m.group(2)) == col, line


def bad(tmp_path: Path, text: str | bytes, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


# ----------------------------------------------------------------- YAML ---
def test_yaml_syntax_error(tmp_path):
    path = bad(tmp_path, "params:\n  w: [1, 2\nloss: w\n")
    line = refused(path)
    located(line, path, row=3)
    assert "YAML syntax error" in line


def test_billion_laughs(tmp_path):
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        rows.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = bad(tmp_path, "\n".join(rows) + "\n")
    start = time.monotonic()
    line = refused(path)
    assert time.monotonic() - start < 5
    located(line, path, row=2)
    assert "alias" in line


def test_python_tag_never_runs(tmp_path):
    marker = tmp_path / "PWNED"
    path = bad(tmp_path, f'params:\n  w: !!python/object/apply:os.system ["touch {marker}"]\n'
                         "loss: w\n")
    line = refused(path)
    located(line, path, row=2, col=6)
    assert "tag" in line and "not allowed" in line
    assert not marker.exists()
    # and in a separate process, as a user runs it
    proc = subprocess.run([sys.executable, "-m", "gradcli", "check", str(path), "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert len(error_lines(proc.stderr)) == 1 and "Traceback" not in proc.stderr
    assert error_json(proc.stdout) == [{"file": str(path), "ok": False, "exit": 2,
                                        "error": error_lines(proc.stderr)[0]}]
    assert not marker.exists()


@pytest.mark.parametrize("text", ["- inputs\n- params\n", "42\n", "just text\n"],
                         ids=["list", "int", "string"])
def test_top_level_not_a_mapping(tmp_path, text):
    path = bad(tmp_path, text)
    line = refused(path)
    located(line, path, row=1, col=1)
    assert "top level must be a mapping" in line


def test_unknown_top_level_key(tmp_path):
    path = bad(tmp_path, "params:\n  w: 1\nnode:\n  a: w\nloss: w\n")
    line = refused(path)
    located(line, path, row=3, col=1)
    assert "unknown section 'node'" in line and "did you mean 'nodes'" in line


# ---------------------------------------------------------- expressions ---
def test_cycle(tmp_path):
    path = bad(tmp_path, "params:\n  w: 1\nnodes:\n  a: b + 1\n  b: a + 1\nloss: a\n")
    line = refused(path)
    located(line, path, row=4)
    assert "cycle" in line and "a -> b -> a" in line


def test_forward_reference(tmp_path):
    path = bad(tmp_path, "params:\n  w: 1\nnodes:\n  a: b*w\n  b: w + 1\nloss: a\n")
    line = refused(path)
    located(line, path, row=4)
    assert "defined later" in line


def test_undefined_name_suggests(tmp_path):
    path = bad(tmp_path, "params:\n  weight: 1\nnodes:\n  a: wieght*2\nloss: a\n")
    line = refused(path)
    located(line, path, row=4)
    assert "'wieght'" in line and "did you mean 'weight'" in line


def test_loss_names_missing_node(tmp_path):
    path = bad(tmp_path, "params:\n  w: 1\nnodes:\n  hidden: w*2\nloss: hiden\n")
    line = refused(path)
    located(line, path, row=5)
    assert "'hiden'" in line and "did you mean 'hidden'" in line


def test_expression_syntax_error(tmp_path):
    path = bad(tmp_path, "params:\n  w: 1\nnodes:\n  a: w + * 2\nloss: a\n")
    line = refused(path)
    located(line, path, row=4)
    assert "invalid syntax" in line


def test_non_numeric_value(tmp_path):
    path = bad(tmp_path, "params:\n  w: abc\nloss: w\n")
    line = refused(path)
    located(line, path, row=2, col=6)
    assert "number" in line


@pytest.mark.parametrize("value, col", [(".nan", 6), (".inf", 6), ("-.inf", 6),
                                        ("[1, .nan]", 10), ("[[1, 2], [.inf, 3]]", 16)])
def test_nan_and_inf(tmp_path, value, col):
    path = bad(tmp_path, f"params:\n  w: {value}\nloss: sum(w)\n")
    line = refused(path)
    located(line, path, row=2, col=col)  # the non-finite number itself
    assert "finite" in line


def test_tensor_shape_mismatch(tmp_path):
    path = bad(tmp_path, "params:\n  A: [[1, 2, 3], [4, 5, 6]]\n  B: [[1, 2, 3], [4, 5, 6]]\n"
                         "nodes:\n  C: A @ B\nloss: sum(C)\n")
    line = refused(path)
    located(line, path, row=5)
    assert "matmul" in line and "[2, 3]" in line


def test_error_while_evaluating_is_located(tmp_path):
    path = bad(tmp_path, "params:\n  w: -1\nnodes:\n  a: w*2\n  b: log(a)\nloss: b\n")
    line = refused(path)
    located(line, path, row=5)
    assert "log" in line


def test_expect_names_missing_node(tmp_path):
    path = bad(tmp_path, GOOD + "expect:\n  aa: 4\n")
    line = refused(path)
    located(line, path, row=7, col=3)
    assert "'aa'" in line and "did you mean 'a'" in line


@pytest.mark.parametrize("expect", ["grad.v: 1", "grad:\n    v: 1"])
def test_expect_names_missing_param(tmp_path, expect):
    path = bad(tmp_path, GOOD + f"expect:\n  {expect}\n")
    line = refused(path)
    located(line, path)
    assert "'v'" in line


# ----------------------------------------------------------------- files ---
def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    line = refused(path)
    assert line == f"error: {path}: no such file"


def test_directory(tmp_path):
    line = refused(tmp_path)
    assert "directory" in line and str(tmp_path) in line


def test_binary_file(tmp_path):
    path = bad(tmp_path, b"\x7fELF\x02\x01\x01\x00\x00\x00\xff\xfe" * 20, "bin.yaml")
    line = refused(path)
    assert "not a text file" in line


def test_not_utf8(tmp_path):
    path = bad(tmp_path, b"params:\n  w: \xff\xfe1\nloss: w\n")
    line = refused(path)
    located(line, path, row=2, col=6)
    assert "UTF-8" in line


def test_fifty_megabytes(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: no disk used
    start = time.monotonic()
    line = refused(path)
    assert time.monotonic() - start < 3
    assert "too large" in line


def test_empty_file(tmp_path):
    line = refused(bad(tmp_path, ""))
    assert "empty" in line


# ------------------------------------------------------------ layer form ---
def test_unknown_activation(tmp_path):
    path = bad(tmp_path, LAYER_XY + "layers:\n  - dense: {units: 1, activation: swish}\n"
                                    "loss: mse\n")
    line = refused(path)
    located(line, path, row=5)
    assert "'swish'" in line
    for name in ("linear", "sigmoid", "tanh", "relu", "softmax"):
        assert name in line


def test_unknown_loss(tmp_path):
    path = bad(tmp_path, LAYER_XY + "layers:\n  - dense: {units: 1, activation: sigmoid}\n"
                                    "loss: hinge\n")
    line = refused(path)
    located(line, path, row=6, col=7)
    assert "'hinge'" in line and "cross_entropy" in line


@pytest.mark.parametrize("units", ["0", "-3", "2.5", "'3'"])
def test_bad_units(tmp_path, units):
    path = bad(tmp_path, LAYER_XY + f"layers:\n  - dense: {{units: {units}, activation: tanh}}\n"
                                    "  - dense: {units: 1}\nloss: mse\n")
    line = refused(path)
    located(line, path, row=5)
    assert "units must be a positive integer" in line


@pytest.mark.parametrize("entry", ["- conv: {}", "- dense", "- 3",
                                   "- dense: {units: 1}\n    pool: 2"],
                         ids=["conv", "string", "number", "two-keys"])
def test_layer_entry_of_wrong_type(tmp_path, entry):
    path = bad(tmp_path, LAYER_XY + f"layers:\n  {entry}\nloss: mse\n")
    line = refused(path)
    located(line, path, row=5)
    assert "dense" in line


def test_unknown_layer_key(tmp_path):
    path = bad(tmp_path, LAYER_XY + "layers:\n  - dense: {units: 1, activaton: tanh}\nloss: mse\n")
    line = refused(path)
    located(line, path, row=5)
    assert "activaton" in line


def test_weights_of_wrong_shape(tmp_path):
    path = bad(tmp_path, LAYER_XY + "layers:\n  - dense: {units: 3, activation: sigmoid}\n"
                                    "  - dense: {units: 1, activation: sigmoid}\n"
                                    "loss: mse\nparams:\n  W1: [[1, 2], [3, 4]]\n")
    line = refused(path)
    located(line, path, row=9)
    assert "W1 has shape [2, 2]" in line and "expected [3, 2]" in line


def test_unknown_weight_name(tmp_path):
    path = bad(tmp_path, LAYER_XY + "layers:\n  - dense: {units: 1}\nloss: mse\n"
                                    "params:\n  W2: [[1]]\n")
    line = refused(path)
    located(line, path, row=8)
    assert "W2" in line and "W1" in line


def test_targets_of_wrong_shape(tmp_path):
    path = bad(tmp_path, "inputs:\n  x: [[1, 2]]\n  y: [[1, 0, 1]]\n"
                         "layers:\n  - dense: {units: 1, activation: sigmoid}\nloss: mse\n")
    line = refused(path)
    located(line, path, row=3)
    assert "y has shape [1, 3]" in line and "[1, 1]" in line


def test_class_index_out_of_range(tmp_path):
    path = bad(tmp_path, "inputs:\n  x: [[1, 2], [3, 4]]\n  y: [0, 3]\n"
                         "layers:\n  - dense: {units: 3, activation: softmax}\n"
                         "loss: cross_entropy\n")
    line = refused(path)
    located(line, path, row=3)
    assert "class index 3 out of range" in line


def test_missing_target(tmp_path):
    path = bad(tmp_path, "inputs:\n  x: [[1, 2]]\nlayers:\n  - dense: {units: 1}\nloss: mse\n")
    line = refused(path)
    assert "missing input 'y'" in line


def test_huge_network_refused_before_allocating(tmp_path):
    path = bad(tmp_path, """\
inputs:
  x: {shape: [1, 20000], distribution: normal}
  y: {shape: [1, 20000], distribution: normal}
layers:
  - dense: {units: 20000, activation: relu}
  - dense: {units: 20000, activation: relu}
  - dense: {units: 20000, activation: linear}
loss: mse
""")
    start = time.monotonic()
    result = cli(path, "--json")
    elapsed = time.monotonic() - start
    assert elapsed < 3
    assert result.exit_code == 2
    [line] = error_lines(result.stderr)
    assert error_json(result.stdout) == [{"file": str(path), "ok": False, "exit": 2,
                                          "error": line}]
    located(line, path, row=5)
    assert "network too large" in line and "100,000,000" in line


def test_huge_drawn_input_refused(tmp_path):
    path = bad(tmp_path, "inputs:\n  x: {shape: [100000, 100000]}\n  y: [[1]]\n"
                         "layers:\n  - dense: {units: 1}\nloss: mse\n")
    start = time.monotonic()
    line = refused(path)
    assert time.monotonic() - start < 6
    assert "too large" in line


# --------------------------------------------------------- several files ---
def test_several_files_worst_exit_code(tmp_path):
    good = SPECS / "xy_plus_x.yaml"
    wrong = bad(tmp_path, "params:\n  x: 2\n  y: 3\nnodes:\n  z: x*y + x\nloss: z\n"
                          "expect:\n  grad.x: -4\n", "wrong.yaml")
    broken = bad(tmp_path, "params:\n  w: [1, 2\n", "broken.yaml")

    result = cli(good, broken, wrong, "--json")
    assert result.exit_code == 2
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in reports] == [str(good), str(broken), str(wrong)]
    assert [r["ok"] for r in reports] == [True, False, False]
    [line] = error_lines(result.stderr)
    assert line.startswith(f"error: {broken}:")
    assert reports[1] == {"file": str(broken), "ok": False, "exit": 2, "error": line}
    assert "Traceback" not in result.stderr

    result = cli(good, wrong, "--json")
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr == ""

    result = cli(good, good, "--json")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 2

    result = cli(broken, tmp_path / "missing.yaml", "--json")
    assert result.exit_code == 2
    assert len(error_lines(result.stderr)) == 2
    assert [r["error"] for r in error_json(result.stdout)] == error_lines(result.stderr)

    # text mode: the good and wrong files are printed, the broken one is an error line
    result = cli(wrong, broken, good)
    assert result.exit_code == 2
    assert str(wrong) in result.stdout and str(good) in result.stdout
    assert len(error_lines(result.stderr)) == 1


def test_subprocess_streams_are_separate(tmp_path):
    path = bad(tmp_path, "params:\n  w: 1\nnodes:\n  a: b + 1\n  b: a + 1\nloss: a\n")
    proc = subprocess.run([sys.executable, "-m", "gradcli", "check", str(path),
                           str(SPECS / "add_mul.yaml"), "--json"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2
    unusable, good = error_json(proc.stdout)
    assert good["file"] == str(SPECS / "add_mul.yaml") and good["ok"] is True
    assert proc.stderr.splitlines() == [f"error: {path}:4:6: cycle: a -> b -> a"]
    assert unusable == {"file": str(path), "ok": False, "exit": 2,
                        "error": f"error: {path}:4:6: cycle: a -> b -> a"}
