#!/usr/bin/env python
"""In-process benchmark of gradcli's expression parser (a report: always exits 0).

Times `gradcli.parse.parse` (tokens -> graph nodes, with constant folding and
every check) on expressions of about 10,000 and 100,000 characters, against
`ast.parse` of the same plain Python text measured in the same run: the
syntax tree only, no graph, no checks.  ast.parse recurses on long sums, so
the baseline runs with a raised recursion limit in a thread with a 256 MB
stack (the parser itself needs neither).

Texts (valid Python, so both read the same characters):
  mixed: terms like `w12*sigmoid(x3 + b4)**2 - exp(-a5)/2` joined by ` + `
  flat:  `x1 + x2 + ... ` (a long left-leaning sum)
  deep:  150 nested parentheses around a short sum, repeated (ast.parse refuses
         more than 200 levels; gradcli takes 1,000)

Usage:  python bench/bench_parse.py [--repeat N]
"""
from __future__ import annotations

import argparse
import ast
import gc
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import run_report  # noqa: E402


def joined(size: int, term) -> str:
    """Terms `term(i)` joined by ' + ', as many as fit in `size` characters."""
    terms, n, i = [], 0, 0
    while True:
        t = term(i)
        if n + len(t) + 3 > size:
            return " + ".join(terms)
        terms.append(t)
        n += len(t) + 3
        i += 1


def mixed(size: int) -> str:
    return joined(size, lambda i: f"w{i % 97}*sigmoid(x{i % 13} + b{i % 7})**2 - exp(-a{i % 5})/2")


def flat(size: int) -> str:
    return joined(size, lambda i: f"x{i % 1000}")


def deep(size: int) -> str:
    block = "(" * 150 + "x + y" + ")" * 150  # ast.parse stops at 200 levels
    count = max(1, size // (len(block) + 3))
    return " + ".join([block] * count)


def timed(fn, text: str, repeat: int) -> float:
    """Median seconds of `fn(text)` over `repeat` runs (gc off while timing)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn(text)
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return statistics.median(times)


def in_big_thread(job):
    """Run `job()` in a thread with a large stack and a raised recursion limit."""
    out: dict = {}

    def run():
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(1_000_000)
        try:
            out["value"] = job()
        except BaseException as exc:  # reported, not lost in the thread
            out["error"] = exc
        finally:
            sys.setrecursionlimit(old)

    previous = threading.stack_size(256 << 20)
    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(previous)
    if "error" in out:
        raise out["error"]
    return out["value"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from gradcli.parse import parse

    print(f"{'text':<8}{'chars':>9}{'nodes':>8}{'gradcli':>12}{'ast.parse':>12}{'ratio':>8}")
    for name, make in (("mixed", mixed), ("flat", flat), ("deep", deep)):
        for size in (10_000, 100_000):
            text = make(size)
            nodes = len(parse(text).graph)
            ours = timed(parse, text, args.repeat)
            base = in_big_thread(lambda: timed(lambda t: ast.parse(t, mode="eval"), text,
                                               args.repeat))
            print(f"{name:<8}{len(text):>9,}{nodes:>8,}{ours * 1e3:>10.1f}ms"
                  f"{base * 1e3:>10.1f}ms{ours / base:>7.1f}x")
    print("ratio = gradcli.parse / ast.parse of the same text, medians of "
          f"{args.repeat} runs in this process")


if __name__ == "__main__":
    run_report(main)
