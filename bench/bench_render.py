#!/usr/bin/env python
"""Whole-process benchmark of the report formats (a report, not a test: always exits 0).

Ratios are against baselines timed in the same run, commands interleaved
round-robin after a warm-up; medians are shown.

a. `gradcli check specs/sigmoid_121.yaml --format html` (and markdown, latex) vs the
   text report of the same check                                  target html <= 1.3x
b. the text report now vs the text report of an earlier revision (default: the
   commit before the view model, `--baseline REV`), both run as `python -m gradcli`
   from a clean copy of the tree (`git archive`)                  target <= 1.05x
c. `gradcli derive "(x**2+1)**3" --at x=2 --format html` vs its text report

Usage:  python bench/bench_render.py [--runs N] [--baseline REV] [--no-baseline]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from benchlib import clean_env, gradcli_argv, run_report

REPO = Path(__file__).resolve().parent.parent
SPEC = "specs/sigmoid_121.yaml"
TARGET_HTML = 1.3
TARGET_TEXT = 1.05
BASELINE = "3b9d753"  # main before `gradcli.render` became a package with a view model
ENV = clean_env()


def timed(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                          cwd=REPO, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)}: exit {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace').strip()[:200]}")
    return elapsed


def medians(commands: dict[str, tuple[list[str], dict[str, str]]], runs: int
            ) -> dict[str, float]:
    for argv, env in commands.values():  # warm-up
        timed(argv, env)
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(runs):
        for key, (argv, env) in commands.items():
            times[key].append(timed(argv, env))
    return {k: statistics.median(v) for k, v in times.items()}


def verdict(ratio: float, target: float) -> str:
    return "PASS" if ratio <= target else "MISS"


def part_a(runs: int) -> None:
    exe = gradcli_argv() + ["check", SPEC]
    m = medians({fmt: (exe + ["--format", fmt], ENV)
                 for fmt in ("text", "html", "markdown", "latex")}, runs)
    print(f"a. check 1-2-1, whole process: text {m['text']:.3f} s")
    for fmt in ("html", "markdown", "latex"):
        ratio = m[fmt] / m["text"]
        note = f" (target <= {TARGET_HTML:g}: {verdict(ratio, TARGET_HTML)})" \
            if fmt == "html" else ""
        print(f"   {fmt:8s} {m[fmt]:.3f} s: {ratio:.2f}x text{note}")


def part_b(runs: int, revision: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        new = Path(tmp) / "new"
        for folder, rev in ((old, revision), (new, "HEAD")):
            folder.mkdir()
            archive = subprocess.run(["git", "archive", rev], cwd=REPO, capture_output=True,
                                     check=True).stdout
            with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
                tar.extractall(folder, filter="data")
        new_env = {**ENV, "PYTHONPATH": str(new)}
        old_env = {**ENV, "PYTHONPATH": str(old)}
        if _dirty():
            new_env["PYTHONPATH"] = str(REPO)  # measure the working tree itself
        argv = [sys.executable, "-m", "gradcli", "check", str(REPO / SPEC)]
        m = medians({"old": (argv, old_env), "new": (argv, new_env)}, runs)
    ratio = m["new"] / m["old"]
    print(f"b. check 1-2-1 text report, whole process: now {m['new']:.3f} s vs {revision} "
          f"{m['old']:.3f} s: {ratio:.2f}x (target <= {TARGET_TEXT:g}: "
          f"{verdict(ratio, TARGET_TEXT)})")


def _dirty() -> bool:
    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                          capture_output=True, text=True)
    return bool(done.stdout.strip())


def part_c(runs: int) -> None:
    exe = gradcli_argv() + ["derive", "(x**2+1)**3", "--at", "x=2"]
    m = medians({"text": (exe, ENV), "html": (exe + ["--format", "html"], ENV)}, runs)
    print(f"c. derive (x**2+1)**3 at x=2: text {m['text']:.3f} s, html {m['html']:.3f} s: "
          f"{m['html'] / m['text']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of part b")
    parser.add_argument("--no-baseline", action="store_true", help="skip part b")
    args = parser.parse_args()
    part_a(args.runs)
    if not args.no_baseline:
        part_b(args.runs, args.baseline)
    part_c(args.runs)


if __name__ == "__main__":
    run_report(main)
