#!/usr/bin/env python
"""Startup benchmark for gradcli (a report, not a test: always exits 0).

Measures WHOLE-PROCESS wall time of `gradcli` invocations against baselines
run by the same interpreter (sys.executable) in the same session, so the
ratios are meaningful on a noisy machine:

1. `gradcli --help`          vs  `python -c "import typer"`       target <= 1.5
   plus a check that `--help` imports neither sympy nor numpy.
2. `gradcli derive "(x**2+1)**3" --at x=2 --json`
                             vs  `python -c "import sympy ...; print(s.diff(...))"`
                                                                   target <= 1.3

gradcli is run both as `python -m gradcli` and through the console script
next to sys.executable (when it exists); the console-script number is the
headline.  Commands are interleaved round-robin (after warm-ups) so that
machine noise hits every command alike; the median is reported.

Usage:  python bench/bench_startup.py [--runs N] [--warmup N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import clean_env, run_report

EXPR = "(x**2+1)**3"
DERIVE_ARGS = ["derive", EXPR, "--at", "x=2", "--json"]
TYPER_BASELINE = "import typer"
SYMPY_BASELINE = "import sympy as s; x=s.Symbol('x'); print(s.diff((x**2+1)**3, x))"
HELP_TARGET = 1.5
DERIVE_TARGET = 1.3
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Cmd:
    key: str
    label: str
    argv: list[str]
    times: list[float] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    stderr_tail: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)


ENV = clean_env()


def run_once(cmd: Cmd) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env=ENV, cwd=REPO)
    elapsed = time.perf_counter() - t0
    cmd.codes.append(proc.returncode)
    if proc.returncode not in (0, 1):
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        cmd.stderr_tail = lines[-1] if lines else ""
    return elapsed


def console_script() -> Path | None:
    bindir = Path(sys.executable).parent
    for name in ("gradcli", "gradcli.exe"):
        path = bindir / name
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def imported_modules(argv_tail: list[str]) -> tuple[set[str], int, dict[str, int]]:
    """Modules imported by `python -X importtime -m gradcli ...`.

    Returns (every module name and its top-level package name, exit code,
    cumulative microseconds of each
    package root and each gradcli module, as -X importtime reports them;
    nested entries overlap, e.g. sympy includes mpmath).
    """
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "gradcli", *argv_tail],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env=ENV, cwd=REPO)
    tops: set[str] = set()
    cumulative: dict[str, int] = {}
    for line in proc.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue  # the header line
        raw = parts[2]
        name = raw.strip()
        top = name.split(".")[0]
        tops.update((top, name))
        if "." not in name or top == "gradcli":  # a package root is reported once
            cumulative[name] = int(parts[1])
    return tops, proc.returncode, cumulative


def bad_codes(cmd: Cmd) -> str:
    """'' when every timed run exited 0 or 1, else e.g. ' (rc=2 in 3/15 runs!)'."""
    bad = [c for c in cmd.codes if c not in (0, 1)]
    if not bad:
        return ""
    kinds = ",".join(str(c) for c in sorted(set(bad)))
    return f" (rc={kinds} in {len(bad)}/{len(cmd.codes)} runs!)"


def fmt_status(ratio: float, target: float, cmd: Cmd) -> str:
    return ("PASS" if ratio <= target else "MISS") + bad_codes(cmd)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="timed runs per command (default 15)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed warm-up runs (default 2)")
    ap.add_argument("--no-steps-row", action="store_true",
                    help="skip the extra informational `derive --no-steps` row")
    args = ap.parse_args()
    runs = max(1, args.runs)
    py = sys.executable
    script = console_script()

    cmds: list[Cmd] = [
        Cmd("typer", 'python -c "import typer"', [py, "-c", TYPER_BASELINE]),
        Cmd("help_m", "python -m gradcli --help", [py, "-m", "gradcli", "--help"]),
        Cmd("sympy", "python -c <sympy diff one-liner>", [py, "-c", SYMPY_BASELINE]),
        Cmd("derive_m", "python -m gradcli derive ... --json", [py, "-m", "gradcli", *DERIVE_ARGS]),
    ]
    if not args.no_steps_row:
        cmds.append(Cmd("derive_ns_m", "python -m gradcli derive ... --json --no-steps",
                        [py, "-m", "gradcli", *DERIVE_ARGS, "--no-steps"]))
    if script:
        cmds += [
            Cmd("help_s", "gradcli --help", [str(script), "--help"]),
            Cmd("derive_s", "gradcli derive ... --json", [str(script), *DERIVE_ARGS]),
        ]
        if not args.no_steps_row:
            cmds.append(Cmd("derive_ns_s", "gradcli derive ... --json --no-steps",
                            [str(script), *DERIVE_ARGS, "--no-steps"]))
    by = {c.key: c for c in cmds}

    print(f"python: {py} ({sys.version.split()[0]})")
    print(f"console script: {script or 'not found next to sys.executable'}")
    print(f"cpus: {os.cpu_count()}  runs: {runs}  warm-ups: {args.warmup}  "
          f"(round-robin, median of runs)")
    print(f"derive expression: {EXPR!r} --at x=2 --json")
    if hasattr(os, "getloadavg"):
        print(f"load average at start: {os.getloadavg()[0]:.2f}")
    sys.stdout.flush()

    for _ in range(max(0, args.warmup)):
        for c in cmds:
            run_once(c)
    for c in cmds:  # warm-up exit codes do not count
        c.codes.clear()
    for _ in range(runs):
        for c in cmds:
            c.times.append(run_once(c))

    # ---------------------------------------------------------------- table ---
    rows: list[tuple[str, ...]] = []

    def add(key: str, base: str | None, target: float | None) -> None:
        c = by.get(key)
        if c is None:
            return
        if base is None:
            rows.append((c.label, f"{c.median:.3f}", f"{c.best:.3f}", "-", "-", "-", "baseline"))
            return
        ratio = c.median / by[base].median
        min_ratio = c.best / by[base].best
        tgt = f"<= {target}" if target is not None else "-"
        status = fmt_status(ratio, target, c) if target is not None else "info"
        if target is None:
            status += bad_codes(c)
        rows.append((c.label, f"{c.median:.3f}", f"{c.best:.3f}", f"{ratio:.2f}",
                     f"{min_ratio:.2f}", tgt, status))

    add("typer", None, None)
    add("help_s", "typer", HELP_TARGET)
    add("help_m", "typer", HELP_TARGET)
    add("sympy", None, None)
    add("derive_s", "sympy", DERIVE_TARGET)
    add("derive_m", "sympy", DERIVE_TARGET)
    add("derive_ns_s", "sympy", None)
    add("derive_ns_m", "sympy", None)

    header = ("command", "median s", "min s", "ratio", "min-ratio", "target", "result")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    print()
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))

    print("ratio = median / baseline median (the verdict); min-ratio = min / baseline min "
          "(less sensitive to a busy machine)")
    if hasattr(os, "getloadavg"):
        print(f"load average at end: {os.getloadavg()[0]:.2f}")

    # ------------------------------------------------------------ headline ---
    print()
    h_key = "help_s" if script else "help_m"
    d_key = "derive_s" if script else "derive_m"
    help_ratio = by[h_key].median / by["typer"].median
    derive_ratio = by[d_key].median / by["sympy"].median
    print(f"HEADLINE ({'console script' if script else 'python -m'}): "
          f"--help {help_ratio:.2f}x typer (target <= {HELP_TARGET}, "
          f"{'PASS' if help_ratio <= HELP_TARGET else 'MISS'}); "
          f"derive {derive_ratio:.2f}x sympy one-liner (target <= {DERIVE_TARGET}, "
          f"{'PASS' if derive_ratio <= DERIVE_TARGET else 'MISS'}); "
          f"derive excess {1000 * (by[d_key].median - by['sympy'].median):+.0f} ms")

    failures = [c for c in cmds if any(x not in (0, 1) for x in c.codes)]
    for c in failures:
        print(f"WARNING: `{c.label}`{bad_codes(c)}"
              + (f": {c.stderr_tail}" if c.stderr_tail else "")
              + " -- its time is not that of a successful run")

    # ------------------------------------------------------- import checks ---
    print()
    def yn(mod: str, names: set[str]) -> str:
        return "yes" if mod in names else "no"

    tops, code, _ = imported_modules(["--help"])
    heavy = [m for m in ("sympy", "numpy") if m in tops]
    print(f"`gradcli --help` imports sympy: {yn('sympy', tops)}, numpy: {yn('numpy', tops)} -> "
          f"{'MISS: must import neither' if heavy else 'PASS'}"
          f"  (info: rich {yn('rich', tops)}, pydantic {yn('pydantic', tops)})"
          + (f" (exit code {code})" if code else ""))
    tops_d, code_d, cum = imported_modules(DERIVE_ARGS)
    print("`gradcli derive ... --json` imports: "
          + ", ".join(f"{m} {yn(m, tops_d)}" for m in (
              "sympy", "numpy", "rich", "pydantic", "typer", "sympy.physics.units",
              "sympy.tensor.tensor"))
          + (f" (exit code {code_d})" if code_d else ""))
    print("  (numpy/rich are never needed for --json; pydantic comes from typer's parameter "
          "coercion; sympy.physics.units from sympy.simplify)")
    biggest = sorted(cum.items(), key=lambda kv: -kv[1])[:10]
    print("derive import cost, cumulative, nested entries overlap "
          "(one -X importtime run, ms):\n  "
          + ", ".join(f"{k} {v / 1000:.0f}" for k, v in biggest))
    return 0


if __name__ == "__main__":
    run_report(main)
