#!/usr/bin/env python
"""Whole-process benchmark of grading a class with `gradcli check FILE... --json`
(a report, not a test: always exits 0).

Files are generated in a temporary folder:
- same-shaped: the 1-2-1 sigmoid network of the worked example, every input and
  parameter drawn anew (what a class hands in);
- different-shaped: 1,000 graph-form networks that share no structure (1-4
  hidden units, four activations, three losses, and a weight penalty whose
  coefficient differs in every file), so no SymPy work can be shared.

Baselines, timed in this same run:
- `main`: the code before this feature (commit BASELINE_REF, or --baseline REF),
  checked out with `git worktree` into the temporary folder and run with
  PYTHONPATH pointing at it (nothing is installed);
- `cache off`: this code with GRADCLI_STRUCTURE_CACHE=0 (every file
  differentiated on its own, as before).

Printed: wall time and CPU time (user + sys of the process and its workers,
from getrusage), per file, the ratios and the growth from 1,000 to 10,000
files.  Targets: 10,000 same-shaped files <= 15 s on one core and <= 9 s with
--jobs 2; 1,000 different-shaped files no slower than main.

Usage: python bench/bench_batch.py [--quick] [--runs N] [--baseline REF]
       [--baseline-same N] [--skip-baseline]
"""
from __future__ import annotations

import argparse
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import clean_env, run_report

REPO = Path(__file__).resolve().parent.parent
#: the last commit before the batch feature (issue 14): today's main for this bench
BASELINE_REF = "3b9d753"
TARGET_SAME_S = 15.0
TARGET_SAME_JOBS2_S = 9.0

ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus")


def same_shaped(rng: random.Random) -> str:
    v = {k: round(rng.uniform(-1.5, 1.5), 3) for k in
         ("x", "w1", "w2", "w3", "w4", "b1", "b2", "b3")}
    v["y"] = rng.choice((0, 1))
    return (f"inputs:\n  x: {v['x']}\n  y: {v['y']}\nparams:\n"
            + "".join(f"  {k}: {v[k]}\n" for k in ("w1", "w2", "w3", "w4", "b1", "b2", "b3"))
            + "nodes:\n  z_h1: w1*x + b1\n  a_h1: sigmoid(z_h1)\n  z_h2: w2*x + b2\n"
            "  a_h2: sigmoid(z_h2)\n  z_out: w3*a_h1 + w4*a_h2 + b3\n  yhat: sigmoid(z_out)\n"
            "loss: 0.5*(y - yhat)**2\nlr: 0.5\nexpect:\n  yhat: 0.8\n  grad:\n    w3: -0.017\n"
            "tolerance:\n  rtol: 0.02\n")


def different_shaped(i: int, rng: random.Random) -> str:
    units = 1 + i % 4
    act = ACTIVATIONS[(i // 4) % 4]
    loss = ("0.5*(y - yhat)**2", "(yhat - y)**2", "(yhat - y)**2 + 0.5*(yhat - y)**4")[i % 3]
    params = {}
    nodes = []
    for u in range(1, units + 1):
        params[f"w{u}"] = round(rng.uniform(-1, 1), 3)
        params[f"b{u}"] = round(rng.uniform(-1, 1), 3)
        params[f"v{u}"] = round(rng.uniform(-1, 1), 3)
        nodes.append(f"  h{u}: {act}(w{u}*x + b{u})")
    nodes.append("  yhat: " + " + ".join(f"v{u}*h{u}" for u in range(1, units + 1)) + " + c")
    params["c"] = round(rng.uniform(-1, 1), 3)
    penalty = f" + {0.0001 * (i + 1):.4f}*w1**2"  # a different constant: another structure
    return (f"inputs:\n  x: {round(rng.uniform(-2, 2), 3)}\n  y: {round(rng.uniform(-1, 1), 3)}\n"
            "params:\n" + "".join(f"  {k}: {v}\n" for k, v in params.items())
            + "nodes:\n" + "\n".join(nodes) + f"\nloss: {loss}{penalty}\n")


def write_files(folder: Path, texts: list[str]) -> list[str]:
    folder.mkdir(parents=True)
    names = []
    for i, text in enumerate(texts):
        path = folder / f"s{i:05d}.yaml"
        path.write_text(text)
        names.append(str(path))
    return names


def timed(argv: list[str], env: dict, cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + sys of the process and its children), exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        print(f"  ! exit {proc.returncode}: {proc.stderr.decode(errors='replace')[:300]}",
              flush=True)
    return wall, cpu, proc.returncode


def baseline_tree(tmp: Path, ref: str) -> Path | None:
    where = tmp / "baseline"
    try:
        subprocess.run(["git", "worktree", "add", "--detach", str(where), ref], cwd=REPO,
                       check=True, capture_output=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        print(f"  baseline {ref} unavailable ({exc}); skipped", flush=True)
        return None
    return where


def remove_tree(where: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=REPO,
                   capture_output=True)


class Runner:
    def __init__(self, tmp: Path, runs: int):
        self.tmp, self.runs = tmp, runs
        self.env = clean_env()
        self.env.pop("GRADCLI_STRUCTURE_CACHE", None)

    def run(self, label: str, files_arg: list[str], extra: list[str] = (),
            env_extra: dict | None = None, code: Path | None = None) -> tuple[float, float]:
        """Median wall and CPU of `runs` whole-process runs."""
        env = dict(self.env, **(env_extra or {}))
        if code is not None:
            env["PYTHONPATH"] = str(code)
        argv = [sys.executable, "-m", "gradcli", "check", *files_arg, "--json", *extra]
        walls, cpus = [], []
        for _ in range(self.runs):
            wall, cpu, _ = timed(argv, env, self.tmp)
            walls.append(wall)
            cpus.append(cpu)
        walls.sort()
        cpus.sort()
        wall, cpu = walls[len(walls) // 2], cpus[len(cpus) // 2]
        n = len(files_arg)
        print(f"  {label:<46} {n:>6} files  wall {wall:7.2f} s  CPU {cpu:7.2f} s  "
              f"({1000 * cpu / n:.2f} ms CPU/file)", flush=True)
        return wall, cpu


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "over"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 and 100 files instead")
    ap.add_argument("--runs", type=int, default=1, help="runs per measurement (median)")
    ap.add_argument("--baseline", default=BASELINE_REF, help="git ref of today's main")
    ap.add_argument("--baseline-same", type=int, default=1000,
                    help="same-shaped files given to the baseline (it is slow; 0 skips)")
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()
    big = 1000 if args.quick else 10_000
    small = big // 10
    different = 100 if args.quick else 1000

    tmp = Path(tempfile.mkdtemp(prefix="gradcli-bench-batch-"))
    try:
        rng = random.Random(14)
        same = write_files(tmp / "same", [same_shaped(rng) for _ in range(big)])
        other = write_files(tmp / "different",
                            [different_shaped(i, rng) for i in range(different)])
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"bench_batch: {os.cpu_count()} cores, load average {load:.1f}, "
              f"python {sys.version.split()[0]}", flush=True)
        r = Runner(tmp, args.runs)

        print("\na. same-shaped files (the 1-2-1 network, values drawn anew)", flush=True)
        w_small, c_small = r.run("this code, one process", same[:small])
        w_big, c_big = r.run("this code, one process", same)
        w_jobs, c_jobs = r.run("this code, --jobs 2", same, ["--jobs", "2"])
        growth = math.log(w_big / w_small) / math.log(big / small)
        growth_cpu = math.log(c_big / c_small) / math.log(big / small)
        print(f"  growth {small:,} -> {big:,} files: wall x{w_big / w_small:.1f} "
              f"(exponent {growth:.2f}), CPU x{c_big / c_small:.1f} (exponent {growth_cpu:.2f})")
        if not args.quick:
            print(f"  target: one process <= {TARGET_SAME_S:g} s: wall {w_big:.1f} s "
                  f"({verdict(w_big, TARGET_SAME_S)}), CPU {c_big:.1f} s "
                  f"({verdict(c_big, TARGET_SAME_S)})")
            print(f"  target: --jobs 2 <= {TARGET_SAME_JOBS2_S:g} s: wall {w_jobs:.1f} s "
                  f"({verdict(w_jobs, TARGET_SAME_JOBS2_S)}); --jobs 2 vs one process: "
                  f"x{w_jobs / w_big:.2f} wall")

        base = None if args.skip_baseline else baseline_tree(tmp, args.baseline)
        print("\nb. different-shaped files (no structure shared)", flush=True)
        w_new, c_new = r.run("this code", other)
        w_off, c_off = r.run("this code, GRADCLI_STRUCTURE_CACHE=0", other,
                             env_extra={"GRADCLI_STRUCTURE_CACHE": "0"})
        print(f"  this code / cache off: wall x{w_new / w_off:.2f}, CPU x{c_new / c_off:.2f}")
        if base is not None:
            w_main, c_main = r.run(f"main ({args.baseline})", other, code=base)
            print(f"  this code / main: wall x{w_new / w_main:.2f}, CPU x{c_new / c_main:.2f} "
                  f"(target <= 1: {verdict(c_new / c_main, 1.0)} by CPU)")
            if args.baseline_same:
                n = min(args.baseline_same, len(same))
                print(f"\nc. main on {n:,} same-shaped files", flush=True)
                w_ms, c_ms = r.run(f"main ({args.baseline})", same[:n], code=base)
                w_ns, c_ns = (w_small, c_small) if n == small else r.run("this code", same[:n])
                print(f"  this code / main on the same {n:,} files: wall x{w_ns / w_ms:.3f}, "
                      f"CPU x{c_ns / c_ms:.3f} (main extrapolated to {big:,} files: "
                      f"{c_ms * big / n:.0f} s CPU)")
            remove_tree(base)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    run_report(main)
