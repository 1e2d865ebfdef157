"""Bounded cases of issue 8: whole-process time and peak memory (a report, not a test).

Every case runs `gradcli` in a child process, through a small wrapper that
reports the child's peak resident memory (resource.getrusage), and is compared
with the baseline measured in the same run: `gradcli check specs/sigmoid_121.yaml`.

- chains of named nodes (10,000 / 20,000 / 49,990): time and growth exponent
  log(t2/t1)/log(n2/n1) (1 = linear; the ledger made it ~2 before);
- scalar parameters summed by a balanced tree (2,500 / 5,000) and one after
  another (2,500 accepted; 5,000 refused by the work budget, with its estimate);
- 10 M parameters (a 3162-3162 tanh layer, batch 4, seeded) with --json:
  time, peak memory and the size of the JSON;
- refusals (memory, node count, work): time and peak memory, and the largest;
- derive over 800 variables with --at and the default 5 s SymPy budget;
- the memory estimate of layer nets beside their measured peak.

Run: python bench/bench_bounds.py [--runs N] [--quick]
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import clean_env, run_report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bigspecs import chain, scalar_sum_chain, scalar_tree  # noqa: E402 - the tests' files

ROOT = Path(__file__).resolve().parent.parent
SIGMOID = ROOT / "specs" / "sigmoid_121.yaml"
WRAPPER = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
           "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE); "
           "t = time.perf_counter() - t; "
           "print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode, "
           "len(p.stdout)); sys.stderr.write(p.stderr.decode()[:300])")


def gradcli(*args: str) -> list[str]:
    return [sys.executable, "-m", "gradcli", *map(str, args)]


def measure(cmd: list[str], runs: int) -> tuple[float, float, int, int, str]:
    """Median seconds, peak MB, exit code, stdout bytes and stderr head of `cmd`."""
    times, peaks = [], []
    code = size = 0
    err = ""
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], capture_output=True,
                              text=True, env=clean_env())
        seconds, peak, code, size = done.stdout.split()
        times.append(float(seconds))
        peaks.append(int(peak) / 1024)
        err = done.stderr
    return statistics.median(times), max(peaks), int(code), int(size), err


# ------------------------------------------------------------- the files ---
def layer(x: str, units: str, extra: str = "") -> str:
    rows = x.strip("[]").split(",")[0]
    layers = "".join(f"  - dense: {{units: {u}, activation: {a}}}\n"
                     for u, a in (part.split(":") for part in units.split()))
    y_units = units.split()[-1].split(":")[0]
    return (f"inputs:\n  x: {{shape: {x}}}\n  y: {{shape: [{rows}, {y_units}]}}\n"
            f"layers:\n{layers}loss: squared_error\nseed: 1\n{extra}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run each, fewer cases")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    tmp = Path(tempfile.mkdtemp(prefix="gradcli-bounds-"))

    def file(name: str, text: str) -> Path:
        path = tmp / name
        path.write_text(text)
        return path

    base, base_mb, *_ = measure(gradcli("check", SIGMOID), runs)
    print(f"baseline: gradcli check sigmoid_121.yaml  {base:.2f} s  {base_mb:.0f} MB\n")
    print(f"{'case':46} {'time':>8} {'x base':>7} {'peak':>8} {'exit':>4}  note")

    def row(label: str, cmd: list[str], note: str = "") -> tuple[float, float]:
        t, mb, code, size, err = measure(cmd, runs)
        if not note and code == 2:
            note = err.strip().split(": ", 2)[-1][:70]
        print(f"{label:46} {t:7.2f}s {t / base:6.1f}x {mb:6.0f}MB {code:4}  {note}")
        return t, mb

    sizes = (10_000, 20_000) if args.quick else (10_000, 20_000, 49_990)
    times = {n: row(f"chain of {n:,} named nodes", gradcli("check", file(
        f"chain{n}.yaml", chain(n)), "--json"))[0] for n in sizes}
    first, last = sizes[0], sizes[-1]
    print(f"{'  growth exponent (1 = linear)':46} "
          f"{math.log(times[last] / times[first]) / math.log(last / first):7.2f}")
    trees = {p: row(f"{p:,} scalar params, balanced sum", gradcli("check", file(
        f"tree{p}.yaml", scalar_tree(p)), "--json"))[0] for p in (2_500, 5_000)}
    print(f"{'  growth exponent (1 = linear)':46} "
          f"{math.log(trees[5_000] / trees[2_500]) / math.log(2):7.2f}")
    row("2,500 scalar params, added in a chain", gradcli("check", file(
        "sum2500.yaml", scalar_sum_chain(2_500)), "--json"))
    refusals = []
    refusals.append(row("5,000 scalar params, added in a chain", gradcli("check", file(
        "sum5000.yaml", scalar_sum_chain(5_000)), "--json")))

    t, mb, code, size, _ = measure(gradcli("check", file("p10m.yaml", layer(
        "[4, 3162]", "3162:tanh")), "--json"), runs)
    print(f"{'10 M parameters (3162-3162 tanh), --json':46} {t:7.2f}s {t / base:6.1f}x "
          f"{mb:6.0f}MB {code:4}  JSON {size / 1024:.0f} KB")

    refusals.append(row("refused: x [40000000, 2], 2-3-1", gradcli("check", file(
        "b40m.yaml", layer("[40000000, 2]", "3:sigmoid 1:sigmoid")))))
    refusals.append(row("refused: x [100000, 10], 9,000 units", gradcli("check", file(
        "w9k.yaml", layer("[100000, 10]", "9000:sigmoid 1:sigmoid")))))
    refusals.append(row("refused: 300,000 named nodes", gradcli("check", file(
        "n300k.yaml", "params:\n  w: 0.5\nnodes:\n"
        + "".join(f"  a{i}: w\n" for i in range(300_000)) + "loss: a0\n"))))
    refusals.append(row("refused: 50,000 inputs in a flow mapping", gradcli("check", file(
        "flow.yaml", "inputs: {" + ", ".join(f"a{i}: 1" for i in range(50_000))
        + "}\nparams:\n  w: 1.0\nloss: w*a0\n"))))
    refusals.append(row("refused: 50,000 x 50,000 broadcast", gradcli("check", file(
        "outer.yaml", "inputs:\n  a: " + str([[1.0]] * 50_000)
        + "\nparams:\n  w: 1.0\nnodes:\n  c: a*transpose(a)*w\nloss: sum(c)\n"))))
    worst = max(refusals)
    print(f"{'  largest refusal':46} {worst[0]:7.2f}s {'':7} {worst[1]:6.0f}MB")

    expression = "*".join(f"sin(v{i})" for i in range(800))
    point = ",".join(f"v{i}={0.1 + 0.001 * i:.3f}" for i in range(800))
    row("derive 800 variables --at (5 s SymPy budget)",
        gradcli("derive", expression, "--at", point, "--json"))

    if not args.quick:
        from gradcli import budget

        print("\nmemory estimate of layer nets against the measured peak")
        for label, x, units, batch, n_in, widths in (
                ("784-256-10, batch 8", "[8, 784]", "256:relu 10:linear", 8, 784, [256, 10]),
                ("2-3-1, batch 3,000,000", "[3000000, 2]", "3:sigmoid 1:sigmoid", 3_000_000, 2,
                 [3, 1]),
                ("3162-3162 tanh, batch 4", "[4, 3162]", "3162:tanh", 4, 3162, [3162])):
            estimate = budget.layer_memory(batch, n_in, widths, budget.Budget()).total
            t, mb, code, *_ = measure(gradcli("check", file("e.yaml", layer(x, units)),
                                              "--json", "--max-memory", "8G"), 1)
            print(f"  {label:30} estimate {estimate / 2**20:6.0f} MB, measured "
                  f"{mb:6.0f} MB ({estimate / 2**20 / mb:.2f}x), {t:.1f} s, exit {code}")


if __name__ == "__main__":
    os.chdir(ROOT)
    run_report(main)
