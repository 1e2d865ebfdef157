"""`gradcli graph` end to end: formats from extensions, atomic --output, exit
codes (0 whenever it drew, 2 for everything check and derive refuse), limits."""
from __future__ import annotations

import io
import os
import shutil
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from gradcli import cli

SPECS = Path(__file__).resolve().parent.parent / "specs"
SIGMOID = str(SPECS / "sigmoid_121.yaml")


@dataclass
class Run:
    code: int
    out: str
    err: str


def gradcli(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = None
    with redirect_stdout(out), redirect_stderr(err):
        try:
            cli.main(list(args))
        except SystemExit as exc:
            code = exc.code
    assert isinstance(code, int), code
    return Run(code, out.getvalue(), err.getvalue())


def error_line(run: Run) -> str:
    """Exit 2, one `error:` line on stderr (maybe a caret after it), nothing on stdout."""
    assert run.code == 2, (run.code, run.out[:200], run.err[:300])
    assert run.out == "" and "Traceback" not in run.err
    lines = run.err.splitlines()
    assert lines[0].startswith("error: ") and "error: internal" not in lines[0], lines[0]
    assert sum(line.startswith("error:") for line in lines) == 1
    return lines[0]


# ----------------------------------------------------------------- output ---
def test_expression_to_stdout_defaults_to_dot():
    run = gradcli("graph", "(2*x+1)**3", "--at", "x=1")
    assert run.code == 0 and run.err == ""
    assert run.out.startswith("digraph gradcli {")
    assert "value 27" in run.out and "grad 54" in run.out


@pytest.mark.parametrize("ext,start", [(".dot", "digraph"), (".gv", "digraph"),
                                       (".mmd", "graph LR"), (".svg", "<?xml"),
                                       (".html", "<!DOCTYPE html>"), (".HTML", "<!DOCTYPE")])
def test_format_from_the_output_extension(tmp_path, ext, start):
    out = tmp_path / f"picture{ext}"
    run = gradcli("graph", SIGMOID, "--output", str(out), "--layout", "builtin")
    assert (run.code, run.out, run.err) == (0, "", "")
    text = out.read_text(encoding="utf-8")
    assert text.startswith(start)
    assert "-0.01704" in text
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left


def test_leading_minus_expression_and_dash_output():
    run = gradcli("graph", "-x**2", "--at", "x=3", "-o", "-", "--format", "mermaid")
    assert run.code == 0 and run.out.startswith("graph LR")
    assert "grad -6" in run.out  # d(-x**2)/dx = -2x


def test_format_option_wins_over_the_extension(tmp_path):
    out = tmp_path / "picture.txt"
    assert gradcli("graph", SIGMOID, "-o", str(out), "--format", "mermaid").code == 0
    assert out.read_text().startswith("graph LR")
    run = gradcli("graph", "x*y", "--at", "x=1,y=2", "--format", "svg", "--layout", "builtin")
    assert run.code == 0
    ET.fromstring(run.out.encode())


def test_unknown_extension_is_refused_before_any_work(tmp_path):
    out = tmp_path / "picture.png"
    line = error_line(gradcli("graph", SIGMOID, "-o", str(out)))
    assert line == (f"error: {out}: unknown extension '.png': use .dot .gv .mmd .svg .html "
                    f".htm, or --format")
    assert not out.exists()
    line = error_line(gradcli("graph", SIGMOID, "-o", str(tmp_path / "noext")))
    assert "unknown extension '(none)'" in line


def test_missing_directory_and_unwritable_paths(tmp_path):
    missing = tmp_path / "nope" / "g.svg"
    assert error_line(gradcli("graph", SIGMOID, "-o", str(missing))) == \
        f"error: {missing}: directory '{missing.parent}' does not exist"
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    assert error_line(gradcli("graph", SIGMOID, "-o", str(afile / "g.svg"))) == \
        f"error: {afile / 'g.svg'}: '{afile}' is not a directory"
    assert error_line(gradcli("graph", SIGMOID, "-o", str(tmp_path), "--format", "svg")) == \
        f"error: {tmp_path}: is a directory"
    if os.path.isdir("/proc/self"):  # even root cannot create files here
        line = error_line(gradcli("graph", SIGMOID, "-o", "/proc/self/g.svg"))
        assert line.startswith("error: /proc/self/g.svg: ")


def test_output_is_atomic_never_partial(tmp_path, monkeypatch):
    out = tmp_path / "g.svg"
    out.write_text("old picture")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    line = error_line(gradcli("graph", SIGMOID, "-o", str(out), "--layout", "builtin"))
    assert line == f"error: {out}: cannot write: No space left on device"
    assert out.read_text() == "old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]


def test_output_replaces_an_existing_file(tmp_path):
    out = tmp_path / "g.dot"
    out.write_text("old")
    assert gradcli("graph", "x**2", "--at", "x=3", "-o", str(out)).code == 0
    assert "grad 6" in out.read_text()


# -------------------------------------------------------------- exit codes ---
def test_exit_0_when_it_drew_whatever_the_checks_say(tmp_path):
    spec = tmp_path / "wrong.yaml"
    spec.write_text("params: {w: 2}\nnodes: {u: w*w}\nloss: u\nexpect: {grad: {w: 5}}\n")
    assert gradcli("check", str(spec)).code == 1
    run = gradcli("graph", str(spec))
    assert run.code == 0 and run.err == ""
    assert "✗ expected grad.w = 5, actual 4" in run.out
    assert "expect answers: 0 right, 1 wrong" in run.out
    quiet = gradcli("graph", str(spec), "--no-check")
    assert quiet.code == 0 and "✗" not in quiet.out


BAD_SPECS = {
    "unknown-name": "params: {w: 1}\nnodes: {u: w*yhta}\nloss: u\n",
    "log-of-negative": "params: {w: -1}\nnodes: {u: log(w)}\nloss: u\n",
    "tensor-loss": "params: {w: [1, 2]}\nloss: w*w\n",
    "cycle": "params: {w: 1}\nnodes: {a: b*w, b: a}\nloss: a\n",
    "no-params": "inputs: {x: 1}\nparams: {}\nloss: x\n",
    "bad-expect": "params: {w: 1}\nloss: w\nexpect: {grad: {v: 1}}\n",
    "expect-shape": "params: {w: [1.0, 2.0]}\nloss: sum(w*w)\nexpect: {grad: {w: [1, 2, 3]}}\n",
    "yaml-tag": "params: !!python/object {w: 1}\nloss: w\n",
    "not-yaml": "params: [\n",
    "layer-units": "inputs: {x: [[1]], y: [[1]]}\nlayers:\n  - dense: {units: 0}\n"
                   "loss: mse\n",
}


@pytest.mark.parametrize("name", sorted(BAD_SPECS))
def test_graph_refuses_what_check_refuses_the_same_way(tmp_path, name):
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(BAD_SPECS[name])
    expected = error_line(gradcli("check", str(spec)))
    assert error_line(gradcli("graph", str(spec))) == expected


def test_missing_file_and_file_detection(tmp_path):
    missing = str(tmp_path / "absent.yaml")
    assert error_line(gradcli("graph", missing)) == error_line(gradcli("check", missing))
    # containing '/' makes it a file, even without .yaml
    assert error_line(gradcli("graph", "a/b")) == ("error: a/b: no such file (an argument "
                                                   "containing '/' is read as a file, not "
                                                   "as an expression)")
    assert error_line(gradcli("graph", "nope/x.yml")) == \
        error_line(gradcli("check", "nope/x.yml"))
    # anything else is an expression
    assert gradcli("graph", "spec.txt").code == 2  # 'spec.txt' is not an expression
    assert gradcli("graph", "x", "--at", "x=1").code == 0


def test_graph_refuses_hostile_expressions_as_derive_does(hostile):
    if "/" in hostile:  # a file by the contract's rule (tested below)
        assert error_line(gradcli("graph", hostile)).endswith(
            "no such file (an argument containing '/' is read as a file, not as an "
            "expression)")
        return
    derived = gradcli("derive", hostile, "--no-steps", "--timeout", "0")
    drawn = gradcli("graph", hostile)
    if derived.code == 2:
        assert error_line(drawn) == error_line(derived)
        assert drawn.err == derived.err  # the caret line too
    else:  # accepted by derive: drawn, unless it has too many boxes
        assert drawn.code == 0 or "boxes" in error_line(drawn)


@pytest.mark.parametrize("args,where", [
    (["x**2", "--at", "y=1"], "--at"),
    (["x**2", "--at", "x=nan"], "--at x"),
    (["x**2", "--at", "x"], "--at"),
    (["log(x)", "--at", "x=-1"], "column 1"),
    (["sum(x)", "--at", "x=1"], "column 1"),  # tensor functions: derive refuses them
    (["x", "--layout", "neato"], "--layout"),
    (["x", "--format", "png"], "--format"),
    (["x", "--max-boxes", "0"], "--max-boxes"),
    (["x", "--max-boxes", "1000000"], "--max-boxes"),
    ([SIGMOID, "--at", "x=1"], "--at"),
])
def test_bad_options_and_points(args, where):
    line = error_line(gradcli("graph", *args))
    assert line.startswith(f"error: {where}: ") or line.startswith(f"error: {where} "), line
    if args[0] in ("x**2", "log(x)", "sum(x)") and args[1] == "--at":
        derived = gradcli("derive", *args, "--no-steps", "--timeout", "0")
        assert line == error_line(derived)


def test_gradient_undefined_at_the_point_is_drawn():
    """sqrt(x) at x = 0 has a value and no derivative: derive reports the derivative
    undefined for x (exit 0), and graph draws it so, instead of refusing."""
    derived = gradcli("derive", "sqrt(x)*y + y", "--at", "x=0,y=2", "--json", "--no-steps")
    assert derived.code == 0
    drawn = gradcli("graph", "sqrt(x)*y + y", "--at", "x=0,y=2", "--format", "mermaid")
    assert drawn.code == 0, drawn.err
    out = drawn.out
    assert "the gradient is undefined here: the derivative of sqrt(0) divides by zero" in out
    assert '["<b>x</b><br/>variable<br/>value 0<br/>grad undefined"]' in out
    # y's gradient is still there: df/dy = sqrt(0) + 1 = 1; sqrt's own is y = 2
    assert '["<b>y</b><br/>variable<br/>value 2<br/>grad 1"]' in out
    assert "value 0<br/>grad 2" in out
    assert gradcli("graph", "sqrt(x)", "--at", "x=0", "--format", "svg").code == 0


def test_layout_dot_without_graphviz_is_refused(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    line = error_line(gradcli("graph", "x", "--format", "svg", "--layout", "dot"))
    assert line == ("error: --layout: Graphviz 'dot' is not installed (use --layout builtin "
                    "or auto)")
    assert gradcli("graph", "x", "--format", "svg").code == 0  # auto: built-in


# ----------------------------------------------------------------- limits ---
def test_large_graph_form_file_is_refused_with_the_count(tmp_path):
    lines = ["params: {p: 0.5}", "nodes:", "  n0: p*p"]
    lines += [f"  n{i}: sin(n{i - 1})" for i in range(1, 2500)]
    spec = tmp_path / "big.yaml"
    spec.write_text("\n".join(lines + ["loss: n2499"]) + "\n")
    assert error_line(gradcli("graph", str(spec))) == (
        f"error: {spec}: the graph has 2,501 boxes; at most 2,000 are drawn "
        f"(--max-boxes N draws more, up to 10,000)")
    out = tmp_path / "big.svg"
    run = gradcli("graph", str(spec), "--max-boxes", "2501", "-o", str(out))
    assert run.code == 0
    shown = ET.parse(out).getroot()
    assert sum(1 for g in shown.iter("{http://www.w3.org/2000/svg}g")
               if g.get("class", "").startswith("box")) == 2501


def test_layer_networks_are_small_pictures():
    run = gradcli("graph", str(SPECS / "mnist_784_128_10.yaml"), "--format", "svg",
                  "--layout", "builtin", "--no-check")
    assert run.code == 0
    assert len(run.out) < 100_000  # 784-128-10: one box per tensor operation
    assert "[128, 784]" in run.out
