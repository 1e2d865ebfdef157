#!/usr/bin/env python
"""Whole-process benchmark of `gradcli check-code` (a report, not a test: always exits 0).

Commands are run round-robin after a warm-up, medians shown; every ratio is
against a baseline timed in the same run.

a. seed note 002's classes in one file (examples/layers.py: Linear, ReLU,
   Softmax, CrossEntropyLoss, and the XOR training loop that runs at import)
   target <= 1 s whole process; ratio vs `python -c "import numpy"`.
b. the Value-class battery on seed note 001's class (examples/value.py)
   target <= 1 s whole process; same baseline.
c. a numpy Linear(784, 256) with batch 8 (examples/numpy_linear.py): the
   default check, whole process, vs a whole-process script running
   torch.autograd.gradcheck(fast_mode=True) on the same computation in float64
   (target ratio <= 1).  Torch is optional: --torch-python,
   $GRADCLI_TORCH_PYTHON or /tmp/torchvenv/bin/python; skipped with a message
   when absent (to create one: python3 -m venv /tmp/torchvenv &&
   /tmp/torchvenv/bin/pip install torch==2.13.0 numpy).  Then the same layer
   with one wrong element of dW: the check still names it (printed).

Usage:  python bench/bench_check_code.py [--runs N] [--torch-python PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import clean_env, run_report

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
ENV = dict(clean_env(), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
LINEAR = ["--make", "Linear(784, 256)", "--input", "Linear=8x784"]

TORCH_SCRIPT = """
import torch
torch.manual_seed(0)
x = torch.randn(8, 784, dtype=torch.float64, requires_grad=True)
W = torch.randn(256, 784, dtype=torch.float64, requires_grad=True)
b = torch.randn(256, dtype=torch.float64, requires_grad=True)
assert torch.autograd.gradcheck(lambda x, W, b: x @ W.T + b, (x, W, b), fast_mode=True)
"""

WRONG = (EXAMPLES / "numpy_linear.py").read_text().replace(
    "        self.bias_grad = dout.sum(axis=0)",
    "        self.weight_grad[17, 345] += 0.5   # one wrong element\n"
    "        self.bias_grad = dout.sum(axis=0)")


def gradcli() -> list[str]:
    exe = Path(sys.executable).parent / "gradcli"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "gradcli"]


CPU: dict[str, float] = {}


def timed(argv: list[str]) -> tuple[float, int, str]:
    """Wall time, exit code, stdout; the CPU time of the process tree goes to CPU[last]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=ENV, cwd=REPO, timeout=600)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, proc.returncode, proc.stdout.decode(errors="replace")


def measure(cmds: dict[str, list[str]], runs: int) -> tuple[dict[str, float], dict[str, float]]:
    """Medians of wall-clock and of CPU time (user + sys of the whole process tree,
    which a busy machine inflates far less than wall-clock time)."""
    times: dict[str, list[float]] = {k: [] for k in cmds}
    cpu: dict[str, list[float]] = {k: [] for k in cmds}
    for k, argv in cmds.items():  # warm-up
        _, code, _ = timed(argv)
        if code not in (0, 1):
            print(f"  {k}: exit {code} (not a complete run)")
    for _ in range(runs):
        for k, argv in cmds.items():
            times[k].append(timed(argv)[0])
            cpu[k].append(CPU["last"])
    return ({k: statistics.median(v) for k, v in times.items()},
            {k: statistics.median(v) for k, v in cpu.items()})


def torch_python(given: str | None) -> str | None:
    for candidate in (given, os.environ.get("GRADCLI_TORCH_PYTHON"), "/tmp/torchvenv/bin/python"):
        if candidate and Path(candidate).is_file():
            ok = subprocess.run([candidate, "-c", "import torch"], capture_output=True)
            if ok.returncode == 0:
                return candidate
    return None


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--torch-python")
    args = parser.parse_args()
    g = gradcli()
    cmds = {
        "baseline: python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
        "a. check-code examples/layers.py": g + ["check-code", str(EXAMPLES / "layers.py")],
        "b. check-code examples/value.py": g + ["check-code", str(EXAMPLES / "value.py")],
        "c. check-code Linear(784, 256), batch 8": g + ["check-code",
                                                        str(EXAMPLES / "numpy_linear.py"),
                                                        *LINEAR],
    }
    tp = torch_python(args.torch_python)
    if tp:
        script = Path(tempfile.mkdtemp()) / "torch_gradcheck.py"
        script.write_text(TORCH_SCRIPT)
        cmds["c. torch gradcheck(fast_mode=True), same layer"] = [tp, str(script)]
    else:
        print("torch baseline skipped: no python with torch (--torch-python, "
              "$GRADCLI_TORCH_PYTHON or /tmp/torchvenv/bin/python)")
    med, cpu = measure(cmds, args.runs)
    base = med["baseline: python -c 'import numpy'"]
    print(f"\nmedians of {args.runs} runs (whole process; wall clock, and CPU time of the "
          f"process tree):")
    for k, v in med.items():
        print(f"  {k:50s} {v:6.3f} s  (CPU {cpu[k]:.3f} s)  {v / base:5.2f}x import numpy")
    for key in ("a. check-code examples/layers.py", "b. check-code examples/value.py"):
        print(f"{key}: {med[key]:.3f} s wall, {cpu[key]:.3f} s CPU (target <= 1 s: "
              f"{verdict(med[key], 1.0)} wall, {verdict(cpu[key], 1.0)} CPU)")
    lin = med["c. check-code Linear(784, 256), batch 8"]
    if tp:
        t = med["c. torch gradcheck(fast_mode=True), same layer"]
        print(f"c. Linear(784, 256) vs torch fast gradcheck: {lin:.3f} s / {t:.3f} s = "
              f"{lin / t:.2f}x (target <= 1: {verdict(lin / t, 1.0)})")
    with tempfile.TemporaryDirectory() as tmp:
        wrong = Path(tmp) / "numpy_linear_wrong.py"
        wrong.write_text(WRONG)
        elapsed, code, out = timed(g + ["check-code", str(wrong), *LINEAR, "--json"])
        dw = {c["name"]: c for c in json.loads(out.splitlines()[0])["checks"]}["dweight"]
        print(f"c. with one wrong element of dW (17, 345): exit {code} in {elapsed:.2f} s, "
              f"worst_index {dw['worst_index']}, expected {dw['expected']:.6g}, actual "
              f"{dw['actual']:.6g}; {dw['method']}")


if __name__ == "__main__":
    run_report(main)
