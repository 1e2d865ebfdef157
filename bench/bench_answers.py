#!/usr/bin/env python
"""Grading a student's answers, whole process (a report, not a test: always exits 0).

a. `gradcli derive "(x**2+1)**3" --answer "6x(x^2+1)^2"` against the bare
   SymPy one-liner of bench_startup.py (target <= 1.4x), with `derive` without
   the answer as a reference row.
b. 200 graph-form files graded in one `gradcli check --json` call (target
   <= 3 s), as a grader gets them: one exercise, every file with its own
   answers.  The seed-note-004 network with the new answer kinds (error
   signals, updates graded on the step, formulas checked at 5 nearby points;
   file i's w3 update moved by (i mod 7 - 3) * 0.0005, so some are wrong and
   diagnosed) against sigmoid_121.yaml with plain numeric answers (node
   values, loss, parameter gradients; grad.w3 moved alike), timed in the same
   run (the ratio is the cost of the new kinds).  An information row gives
   200 *different* networks (x moved per file), where no SymPy result can be
   shared between files (gradcli.memo).

Commands are interleaved round-robin after warm-ups; medians are reported.
Usage:  python bench/bench_answers.py [--runs N] [--files N] [--only a,b] [--distinct]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import clean_env, gradcli_argv, run_report

REPO = Path(__file__).resolve().parent.parent
SYMPY_BASELINE = "import sympy as s; x=s.Symbol('x'); print(s.diff((x**2+1)**3, x))"
ANSWER_ARGS = ["derive", "(x**2+1)**3", "--answer", "6x(x^2+1)^2"]
DERIVE_TARGET = 1.4
FILES_TARGET = 3.0
NEW_KINDS = REPO / "specs" / "notes_004_update.yaml"
PLAIN = REPO / "specs" / "sigmoid_121.yaml"
ENV = clean_env()


#: CPU seconds (user + system) of each finished run, by command: on a shared machine
#: the wall time includes waiting for a core, the CPU time does not.
CPU: dict[str, list[float]] = {}


def timed(argv: list[str]) -> tuple[float, int, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          stdin=subprocess.DEVNULL, env=ENV, cwd=REPO)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, proc.returncode, cpu


def measure(cmds: dict[str, list[str]], runs: int, warmup: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in cmds}
    codes: dict[str, set[int]] = {k: set() for k in cmds}
    for _ in range(warmup):
        for argv in cmds.values():
            timed(argv)
    for _ in range(runs):
        for key, argv in cmds.items():
            t, code, cpu = timed(argv)
            times[key].append(t)
            CPU.setdefault(key, []).append(cpu)
            codes[key].add(code)
    for key, seen in codes.items():
        if seen - {0, 1}:  # 1 is a wrong answer among the files: expected
            print(f"  warning: {key} exited with {sorted(seen)}")
    return times


def part_a(runs: int) -> None:
    gc = gradcli_argv()
    cmds = {"sympy": [sys.executable, "-c", SYMPY_BASELINE],
            "answer": [*gc, *ANSWER_ARGS],
            "derive": [*gc, *ANSWER_ARGS[:2]]}
    t = measure(cmds, runs, warmup=2)
    base = statistics.median(t["sympy"])
    cpu = {k: statistics.median(v) for k, v in CPU.items()}
    print("a. derive --answer, whole process (median of %d; CPU ratio in brackets)" % runs)
    print(f"   sympy one-liner                        {base:.3f} s  baseline")
    for key, label in (("answer", 'derive ... --answer "6x(x^2+1)^2"'),
                       ("derive", "derive ... (no answer)")):
        m = statistics.median(t[key])
        ratio = m / base
        verdict = (" PASS" if ratio <= DERIVE_TARGET else " MISS") if key == "answer" else ""
        target = f"  target <= {DERIVE_TARGET}" if key == "answer" else ""
        print(f"   {label:38s} {m:.3f} s  ratio {ratio:.2f} "
              f"[{cpu[key] / cpu['sympy']:.2f}]{target}{verdict}")


def part_b(runs: int, count: int, distinct_row: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gradcli-answers-"))
    try:
        sets = {}
        variants = {
            "new": (NEW_KINDS, "    w3: 0.80852\n",
                    lambda i: f"    w3: {0.80852 + (i % 7 - 3) * 0.0005:.5f}\n"),
            "plain": (PLAIN, "    w3: -0.017\n",
                      lambda i: f"    w3: {-0.017 + (i % 7 - 3) * 0.0005:.4f}\n"),
            "distinct": (NEW_KINDS, "  x: 2\n", lambda i: f"  x: {2 + i / 1000:.3f}\n"),
        }
        if not distinct_row:
            del variants["distinct"]
        for kind, (source, line, varied) in variants.items():
            folder = tmp / kind
            folder.mkdir()
            text = source.read_text()
            assert line in text, (kind, line)
            for i in range(count):
                (folder / f"s{i:03d}.yaml").write_text(text.replace(line, varied(i), 1))
            sets[kind] = sorted(str(p) for p in folder.glob("*.yaml"))
        gc = gradcli_argv()
        cmds = {kind: [*gc, "check", "--json", *files] for kind, files in sets.items()}
        t = measure(cmds, runs, warmup=1)
        new, plain = statistics.median(t["new"]), statistics.median(t["plain"])
        verdict = "PASS" if new <= FILES_TARGET else "MISS"
        print(f"b. {count} graph-form files in one `gradcli check --json` (median of {runs})")
        cpu = {k: statistics.median(v) for k, v in CPU.items()}
        print(f"   plain answers (sigmoid_121.yaml, answers varied)      {plain:.2f} s  "
              f"(CPU {cpu['plain']:.2f} s)")
        print(f"   new answer kinds (notes_004_update.yaml, varied)      {new:.2f} s  "
              f"(CPU {cpu['new']:.2f} s)  target <= {FILES_TARGET} s {verdict}   "
              f"ratio to plain {new / plain:.2f}")
        if distinct_row:
            print(f"   info: {count} different networks (x varied), new kinds  "
                  f"{statistics.median(t['distinct']):.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--only", default="a,b")
    ap.add_argument("--distinct", action="store_true",
                    help="also time 200 different networks (slow: nothing is shared)")
    args = ap.parse_args()
    if hasattr(os, "getloadavg"):
        print(f"load average at start: {os.getloadavg()[0]:.2f}  cpus: {os.cpu_count()}")
    parts = set(args.only.split(","))
    if "a" in parts:
        part_a(max(1, args.runs))
        sys.stdout.flush()
    if "b" in parts:
        part_b(max(1, args.runs // 2 or 1), args.files, args.distinct)
    if hasattr(os, "getloadavg"):
        print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    run_report(main)
