"""YAML loading of large files: refusal and load times (a report, not a test).

Each case is timed in-process against a baseline measured in the same run:
`json.loads` of the same numbers (the fastest a Python reader of this text
can reasonably be).  Run: python bench/bench_yaml.py [--repeat N]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from gradcli import yamlio


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            fn()
        except Exception:  # noqa: BLE001 - refusals are what some cases measure
            pass
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    flat = lambda n: "[" + ", ".join("0.5" for _ in range(n)) + "]"  # noqa: E731
    rows = "[" + ", ".join("[" + ", ".join("0.123" for _ in range(784)) + "]"
                           for _ in range(300)) + "]"
    cases = [
        ("2.4M numbers (refused: count)", "params:\n  w: " + flat(2_400_000) + "\n", flat(2_400_000)),
        ("1.5M numbers (3 MB)", "params:\n  w: " + flat(1_500_000) + "\n", flat(1_500_000)),
        ("300 x 784 matrix", "params:\n  W: " + rows + "\n", rows),
        ("300k numbers (1.2 MB)", "params:\n  w: " + flat(300_000) + "\n", flat(300_000)),
    ]
    print(f"{'case':34} {'gradcli':>9} {'json':>9} {'ratio':>7}")
    for label, text, as_json in cases:
        ours = timed(lambda: yamlio.load_text(text, "bench.yaml"), args.repeat)
        base = timed(lambda: json.loads(as_json), args.repeat)
        print(f"{label:34} {ours:8.3f}s {base:8.3f}s {ours / base:6.1f}x")
    nodes = "inputs:\n  x: 1\nparams:\n  w: 1\nnodes:\n" + "".join(
        f"  n{i}: n{i - 1} + w\n" if i else "  n0: w*x\n" for i in range(300_000))

    def refuse_by_prescan():
        def check(scan):
            if scan.sections.get("nodes", (0, 0))[1] >= 50_000:
                raise ValueError("too many nodes")
        yamlio.load_text(nodes, "bench.yaml", check_prescan=check)

    print(f"{'300k named nodes, refused by prescan':34} {timed(refuse_by_prescan, args.repeat):8.3f}s")


if __name__ == "__main__":
    main()
