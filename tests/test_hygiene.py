"""Output hygiene of the real command: closed pipes, closed stderr, full disks, narrow
terminals, Ctrl-C, and options named as the place of their own errors (issue 8).

These run `python -m gradcli` in a child process: pipes, file descriptors,
encodings and signals are what is being tested.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bigspecs import scalar_sum_chain

SPECS = Path(__file__).resolve().parent.parent / "specs"
SIGMOID = SPECS / "sigmoid_121.yaml"
GRADCLI = [sys.executable, "-m", "gradcli"]


def run(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*GRADCLI, *map(str, args)], capture_output=True, timeout=300,
                          env=None if env is None else {**os.environ, **env}, **kwargs)


def into_closed_pipe(*args: str) -> subprocess.CompletedProcess:
    """`gradcli ARGS | head -0`: stdout is a pipe whose reader is gone before the first
    write (Python starts far slower than the parent closes its end)."""
    read, write = os.pipe()
    try:
        proc = subprocess.Popen([*GRADCLI, *map(str, args)], stdout=write,
                                stderr=subprocess.PIPE)
    finally:
        os.close(write)
        os.close(read)
    _, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, b"", err)


# ------------------------------------------------------------- closed pipe ---
@pytest.mark.parametrize("args, code", [
    (("check", SIGMOID), 0),
    (("check", SIGMOID, "--json"), 0),
    (("derive", "(x**2 + 1)**3", "--at", "x=2"), 0),
    (("derive", "(x**2 + 1)**3", "--at", "x=2", "--json"), 0),
    (("derive", "relu(x)", "--at", "x=0", "--rtol", "0"), 0),
    (("graph", SIGMOID), 0),
])
def test_a_closed_pipe_ends_quietly_with_the_results_own_code(args, code):
    done = into_closed_pipe(*args)
    assert done.stderr == b""
    assert done.returncode == code


def test_a_closed_pipe_keeps_a_failed_checks_code(tmp_path):
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(SIGMOID.read_text().replace("w3: -0.017", "w3: 0.017"))
    assert run("check", wrong).returncode == 1
    done = into_closed_pipe("check", wrong)
    assert (done.returncode, done.stderr) == (1, b"")


def test_head_dash_1_of_a_passing_check_is_0():
    shell = f"{sys.executable} -m gradcli check {SIGMOID} | head -1; exit ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith(str(SIGMOID))


# ------------------------------------------------------------ closed stderr ---
@pytest.mark.parametrize("args", [("derive", "x.y", "--json"), ("derive", "x.y"),
                                  ("check", "missing.yaml"), ("train", "x**2", "--lr", "0")])
def test_with_stderr_closed_an_error_prints_nothing_on_stdout(args):
    # with fd 2 closed, Python's sys.stderr is None and print(file=None) writes to stdout
    done = subprocess.run([*GRADCLI, *args], stdout=subprocess.PIPE, timeout=300,
                          preexec_fn=lambda: os.close(2))
    assert (done.returncode, done.stdout) == (2, b"")


@pytest.mark.parametrize("args", [("check", SIGMOID, "--json"), ("check", SIGMOID),
                                  ("derive", "x**2", "--at", "x=1", "--json")])
def test_with_stdout_closed_the_result_still_gives_the_exit_code(args):
    done = subprocess.run([*GRADCLI, *map(str, args)], stderr=subprocess.PIPE, timeout=300,
                          preexec_fn=lambda: os.close(1))
    assert (done.returncode, done.stderr) == (0, b"")


# ---------------------------------------------------------------- full disk ---
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("args", [("check", SIGMOID), ("check", SIGMOID, "--json"),
                                  ("derive", "x**2", "--at", "x=3"), ("graph", SIGMOID)])
def test_a_full_disk_is_an_error_on_stdout(args):
    with open("/dev/full", "w") as full:
        done = subprocess.run([*GRADCLI, *map(str, args)], stdout=full,
                              stderr=subprocess.PIPE, timeout=300, text=True)
    assert done.returncode == 2
    assert done.stderr == "error: stdout: cannot write: No space left on device\n"


# ---------------------------------------------------------------- encodings ---
@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"},
                                 {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}])
def test_terminals_that_cannot_show_the_symbols_get_ascii_forms(env):
    derive = run("derive", "(x**2 + 1)**3", "--at", "x=2", env=env)
    assert derive.returncode == 0, derive.stderr
    out = derive.stdout.decode("ascii")  # nothing but ASCII reached the terminal
    assert "df/dx = 6*x*(x**2 + 1)**2" in out and "300" in out
    check = run("check", SIGMOID, env=env)
    assert check.returncode == 0, check.stderr
    text = check.stdout.decode("ascii")
    assert "dL/dw3 = dL/dyhat * dyhat/dz_out * dz_out/dw3" in text
    assert text.rstrip().endswith("ok")


def test_korean_names_survive_a_cp949_terminal():
    done = run("derive", "가중치**2", "--no-steps", env={"PYTHONIOENCODING": "cp949"})
    assert done.returncode == 0, done.stderr
    assert "∂f/∂가중치 = 2*가중치" in done.stdout.decode("cp949")


# ------------------------------------------------------------------- Ctrl-C ---
def test_ctrl_c_prints_the_finished_files_and_exits_130(tmp_path):
    slow = tmp_path / "slow.yaml"
    slow.write_text(scalar_sum_chain(3000))  # ~18 million node evaluations: seconds
    proc = subprocess.Popen([*GRADCLI, "check", str(SIGMOID), str(slow), str(SIGMOID),
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            # a shell's background job ignores SIGINT, and so would the
                            # child (Python keeps an ignored SIGINT): restore the default
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    first = proc.stdout.readline()  # the first file is done
    time.sleep(0.5)  # well inside the second
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=300)
    assert proc.returncode == 130
    assert json.loads(first)["file"] == str(SIGMOID) and json.loads(first)["ok"]
    assert rest == ""  # the third file is not started
    assert err.strip() == "error: gradcli: interrupted"


# ---------------------------------------------------------- options as places ---
@pytest.mark.parametrize("rate", ["inf", "nan", "0", "-1", "-inf"])
def test_a_bad_lr_names_the_option(rate):
    done = run("check", SIGMOID, "--lr", rate)
    assert done.returncode == 2 and done.stdout == b""
    shown = {"inf": "inf", "nan": "nan", "0": "0.0", "-1": "-1.0", "-inf": "-inf"}[rate]
    assert done.stderr.decode() == ("error: --lr: the learning rate must be a positive finite "
                                    f"number, got {shown}\n")


def test_an_update_that_overflows_names_the_step_and_the_lr(tmp_path):
    steep = tmp_path / "steep.yaml"
    steep.write_text("params:\n  w: 10\nloss: w**2\n")
    done = run("check", steep, "--lr", "1e308")
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.decode() == (
        "error: --lr: the gradient-descent update w - lr·grad overflows with lr 1e+308 (the "
        "new value is not a finite number); use a smaller learning rate\n")
    in_file = tmp_path / "lr.yaml"
    in_file.write_text("params:\n  w: 10\nloss: w**2\nlr: 1e300\n")
    done = run("check", in_file)
    assert done.returncode == 2
    assert done.stderr.decode().startswith(
        f"error: {in_file}:4:5: the loss after the gradient-descent update with lr 1e+300 is "
        "not a finite number (pow(-2e+301, 2) (in 'L') overflows")


@pytest.mark.parametrize("args, code, slope", [(("--at", "x=1", "--at", "x=5"), 2, None),
                                               (("--at", "x=1,x=2"), 2, None),
                                               (("--at", "x=1", "--at", "x=1.0"), 0, 2.0),
                                               (("--at", "x=0.5", "--at", "x=1/2"), 0, 1.0)])
def test_a_variable_given_two_values_is_refused(args, code, slope):
    done = run("derive", "x**2", *args, "--json")
    assert done.returncode == code
    if code == 2:
        assert done.stdout == b""
        first, second = ("1", "5") if "x=5" in args else ("1", "2")
        assert done.stderr.decode() == (f"error: --at: 'x' is given two different values "
                                        f"({first} and {second})\n")
    else:
        assert json.loads(done.stdout)["gradient"][0]["reverse"] == slope
