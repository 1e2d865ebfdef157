#!/usr/bin/env python
"""Whole-process benchmark of `gradcli check` (a report, not a test: always exits 0).

Every ratio is measured in this run against a baseline timed in this run
(commands are interleaved round-robin after a warm-up; medians are shown),
so the numbers mean something on a noisy 2-core machine.

a. `gradcli check specs/sigmoid_121.yaml` vs the SymPy one-liner
   `python -c "import sympy as s; ... s.diff((x**2+1)**3, x)"`   target <= 1.5
b. generated graph-form specs of N named scalar nodes (N = 250 .. 2000,
   about N/10 parameters, each node uses one or two earlier nodes): time,
   ratio vs the 1-2-1 check (target for N=2000: < 10x), empirical growth
   exponent, and the dominant phase (in-process, CheckReport.timings).
c. layer form 784-256-10 relu/softmax/cross_entropy, batch 8, drawn x/y:
   whole process with --full (target <= 2 s); fast mode (whole process
   through a wrapper that sets gradcli.dense.numeric.FULL_MODE_MAX_PARAMS = 0, and
   in-process dense.numeric.numeric_gradients(full=False)); a >1M-parameter net
   where the CLI itself switches to fast mode; growth over ~10k/100k/1M params.
d. with a torch interpreter in a SEPARATE venv (--torch-python or
   $GRADCLI_TORCH_PYTHON, default /tmp/torchvenv/bin/python if it exists):
   a script building the same 784-256-10 float64 net and running
   torch.autograd.gradcheck(fast_mode=True), whole process; ratio
   gradcli-fast-whole-process / torch-script (target <= 1); optionally the
   full torch gradcheck (~45 s; --skip-torch-full skips it).

Usage:  python bench/bench_check.py [--runs N] [--quick] [--only a,b,c,d]
        [--torch-python PATH] [--skip-torch-full] [--profile]
"""
from __future__ import annotations

import argparse
import io
import math
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import clean_env, gradcli_argv, run_report

REPO = Path(__file__).resolve().parent.parent
SYMPY_BASELINE = "import sympy as s; x=s.Symbol('x'); print(s.diff((x**2+1)**3, x))"
TARGET_121 = 1.5
TARGET_GRAPH_2000 = 10.0
TARGET_LAYER_FULL_S = 2.0
TARGET_TORCH = 1.0
GRAPH_SIZES = (250, 500, 1000, 2000)
#: ~10k, ~100k, ~1M parameters (all <= 1,000,000, so the CLI runs them in full mode)
GROWTH_NETS = ((784, 12, 10), (784, 125, 10), (784, 1250, 10))
#: > FULL_MODE_MAX_PARAMS (1,000,000): the CLI picks fast mode by itself
BIG_FAST_NET = (784, 1300, 10)
BATCH = 8
SEED = 0

# Whole-process fast mode for a net below the threshold: the only change is
# the threshold (there is no CLI flag for fast mode).
FAST_WRAPPER = ("import sys, gradcli.dense.numeric as L; L.FULL_MODE_MAX_PARAMS = 0; "
                "from gradcli.cli import main; main(sys.argv[1:])")


ENV = clean_env()


@dataclass
class Cmd:
    label: str
    argv: list[str]
    times: list[float] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    err: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.nan

    @property
    def best(self) -> float:
        return min(self.times) if self.times else math.nan

    def status(self) -> str:
        bad = [c for c in self.codes if c not in (0, 1)]
        if not bad:
            return ""
        return f" [rc={sorted(set(bad))} in {len(bad)}/{len(self.codes)} runs: {self.err}]"


def run_once(cmd: Cmd, timeout: float | None = None) -> float:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, env=ENV, cwd=REPO, timeout=timeout)
        code = proc.returncode
        stderr = proc.stderr
    except subprocess.TimeoutExpired:
        code, stderr = -9, b"timed out"
    elapsed = time.perf_counter() - t0
    cmd.codes.append(code)
    if code not in (0, 1):  # 1 = a check failed: still a complete run
        lines = stderr.decode(errors="replace").strip().splitlines()
        cmd.err = lines[-1] if lines else ""
    return elapsed


def measure(cmds: list[Cmd], runs: int, warmup: int = 1) -> None:
    """Round-robin: warm-ups (not counted), then `runs` timed rounds."""
    for _ in range(warmup):
        for c in cmds:
            run_once(c)
    for c in cmds:
        c.codes.clear()
    for _ in range(runs):
        for c in cmds:
            c.times.append(run_once(c))


def fmt_ratio(r: float, target: float | None, op: str = "<=") -> str:
    if target is None:
        return f"{r:.2f}x"
    ok = r <= target if op == "<=" else r < target
    return f"{r:.2f}x (target {op} {target:g}: {'PASS' if ok else 'MISS'})"


def growth(sizes: list[float], times: list[float]) -> list[str]:
    out = []
    for (n0, t0), (n1, t1) in zip(zip(sizes, times), zip(sizes[1:], times[1:])):
        if t0 > 0 and t1 > 0 and n1 != n0:
            out.append(f"{n0:,.0f}->{n1:,.0f}: {math.log(t1 / t0) / math.log(n1 / n0):.2f}")
    return out


def flush() -> None:
    sys.stdout.flush()


# ------------------------------------------------------------ spec writers ---
def graph_spec_text(n: int) -> str:
    """A graph-form spec of n named scalar nodes and about n/10 parameters.

    Node i uses node i-1 and (for i >= 2) a long-range skip to node i//2, so the
    graph is deep (a chain of n) and wide (many paths); values stay bounded
    (tanh/sigmoid).  The loss is a scalar of the last and a middle node.
    """
    n_params = max(2, n // 10)
    lines = ["# generated by bench/bench_check.py", "inputs:", "  x: 0.7", "  y: 0.3",
             "params:"]
    for k in range(n_params):
        lines.append(f"  p{k}: {0.1 + 0.8 * ((k * 37) % 101) / 101:.6f}")
    lines.append("nodes:")
    lines.append("  n0: tanh(p0*x + p1)")
    for i in range(1, n):
        a = i % n_params
        b = (i * 7 + 3) % n_params
        prev = f"n{i - 1}"
        if i >= 2 and i % 3 != 0:  # two earlier nodes
            skip = f"n{i // 2}"
            act = "tanh" if i % 2 else "sigmoid"
            lines.append(f"  n{i}: {act}(p{a}*{prev} + p{b}*{skip})")
        else:  # one earlier node
            lines.append(f"  n{i}: tanh(p{a}*{prev} + p{b})")
    lines.append(f"loss: (n{n - 1} - y)**2 + 0.1*n{n // 2}**2")
    return "\n".join(lines) + "\n"


def layer_spec_text(sizes: tuple[int, ...], batch: int = BATCH, seed: int = SEED) -> str:
    layers = []
    for i, units in enumerate(sizes[1:]):
        act = "softmax" if i == len(sizes) - 2 else "relu"
        layers.append(f"  - dense: {{units: {units}, activation: {act}}}")
    return textwrap.dedent(f"""\
        # generated by bench/bench_check.py
        inputs:
          x: {{shape: [{batch}, {sizes[0]}], distribution: uniform}}
          y: {{shape: [{batch}], distribution: classes}}
        layers:
        """) + "\n".join(layers) + f"\nloss: cross_entropy\nseed: {seed}\n"


def n_params(sizes: tuple[int, ...]) -> int:
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def name(sizes: tuple[int, ...]) -> str:
    return "-".join(map(str, sizes))


# --------------------------------------------------------------- in-process ---
def phases(path: str, full: bool = False, repeat: int = 3) -> dict[str, float]:
    """Median in-process seconds of load, check.run phases and text rendering."""
    from gradcli import check, render, spec as specs

    samples: dict[str, list[float]] = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        loaded = specs.load(path)
        t_load = time.perf_counter() - t0
        report = check.run(loaded, full=full)
        t1 = time.perf_counter()
        with redirect_stdout(io.StringIO()):
            render.check_report(report, "text", show_paths=False, show_recurrence=False)
        t_render = time.perf_counter() - t1
        row = {"load": t_load, **report.timings, "render": t_render}
        note = None if report.symbolic_note is None else str(report.symbolic_note)
        known = sum(v for k, v in report.timings.items() if k != "total")
        row["ledger+grading+other"] = report.timings["total"] - known
        for k, v in row.items():
            samples.setdefault(k, []).append(v)
    out = {k: statistics.median(v) for k, v in samples.items()}
    out["symbolic_note"] = note
    return out


def isolated(fn_name: str, *args, timeout: float = 1800):
    """Run a function of this file in a fresh interpreter (no state left by earlier
    parts, e.g. SymPy caches) and return its JSON result; raises on failure.

    BLAS is pinned to one thread as the CLI pins it: with threaded OpenBLAS on a
    busy 2-core machine, fast mode's small products measured 25x slower.
    """
    import json

    env = dict(ENV)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # as gradcli.cli.main does: one BLAS thread
    proc = subprocess.run([sys.executable, __file__, "--_call", fn_name, json.dumps(args)],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout)
    if proc.returncode != 0 or not proc.stdout.strip():
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise RuntimeError(f"{fn_name} failed in a subprocess: {tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _reverse(spec) -> dict:
    from gradcli import engine

    values = engine.forward(spec.graph, spec.bindings, spec.loss)
    back = engine.backward(spec.graph, values, spec.loss, list(spec.params.values()))
    return {name: back.adjoint[nid] for name, nid in spec.params.items()}


def fast_vs_full(path: str, repeat: int = 7) -> dict:
    """In-process dense.numeric.numeric_gradients: fast mode (threshold 0) vs full, medians."""
    from gradcli import spec as specs
    from gradcli.dense import numeric as layers

    spec = specs.load(path)
    reverse = _reverse(spec)
    saved = layers.FULL_MODE_MAX_PARAMS
    t_fast, t_full, note = [], [], ""
    try:
        for _ in range(repeat):
            layers.FULL_MODE_MAX_PARAMS = 0
            t0 = time.perf_counter()
            notes = layers.numeric_gradients(spec, reverse, False, None).notes
            t_fast.append(time.perf_counter() - t0)
            note = str(notes[0]) if notes else ""
            layers.FULL_MODE_MAX_PARAMS = saved
            t0 = time.perf_counter()
            layers.numeric_gradients(spec, reverse, True, None)
            t_full.append(time.perf_counter() - t0)
    finally:
        layers.FULL_MODE_MAX_PARAMS = saved
    return {"fast": statistics.median(t_fast), "full": statistics.median(t_full),
            "fast_all": t_fast, "note": note}


def profile_check(path: str, full: bool) -> str:
    from gradcli import check, spec as specs

    return profile_top(lambda: check.run(specs.load(path), full=full))


def profile_fast(path: str) -> str:
    from gradcli import spec as specs
    from gradcli.dense import numeric as layers

    spec = specs.load(path)
    reverse = _reverse(spec)

    def fast_numeric():
        layers.FULL_MODE_MAX_PARAMS = 0
        layers.numeric_gradients(spec, reverse, False, None)

    return profile_top(fast_numeric)


def graph_nodes(path) -> int:
    from gradcli import spec as specs

    return len(specs.load(str(path)).graph.nodes)


def show_phases(ph: dict[str, float], indent: str = "    ") -> str:
    parts = [(k, v) for k, v in ph.items() if k not in ("total", "symbolic_note")]
    top = max(parts, key=lambda kv: kv[1])
    body = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in parts)
    return (f"{indent}in-process phases (median): {body}; check.run total "
            f"{ph.get('total', math.nan) * 1000:.0f} ms\n{indent}-> dominant phase: {top[0]} "
            f"({top[1] / sum(v for _, v in parts) * 100:.0f}% of load+run+render)")


def profile_top(fn, limit: int = 12) -> str:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("cumulative")
    stats.print_stats(limit)
    buf2 = io.StringIO()
    pstats.Stats(prof, stream=buf2).strip_dirs().sort_stats("tottime").print_stats(limit)
    keep = lambda s: "\n".join(l for l in s.splitlines()  # noqa: E731
                               if l.strip() and not l.startswith(("   Ordered", "         ")))
    return ("  -- cProfile by cumulative time --\n" + keep(buf.getvalue())
            + "\n  -- cProfile by own time --\n" + keep(buf2.getvalue()))


# ------------------------------------------------------------------- parts ---
def part_a(args, gc: list[str]) -> float:
    print("\n== a. gradcli check specs/sigmoid_121.yaml vs SymPy one-liner (whole process) ==")
    c_check = Cmd("gradcli check specs/sigmoid_121.yaml", gc + ["check", "specs/sigmoid_121.yaml"])
    c_sympy = Cmd("python -c <sympy diff one-liner>", [sys.executable, "-c", SYMPY_BASELINE])
    measure([c_sympy, c_check], args.runs, warmup=2)
    for c in (c_sympy, c_check):
        print(f"  {c.label:<42} median {c.median:.3f} s  min {c.best:.3f} s{c.status()}")
    ratio = c_check.median / c_sympy.median
    print(f"  ratio check/sympy: {fmt_ratio(ratio, TARGET_121)}")
    flush()
    return c_check.median


def part_b(args, gc: list[str], tmp: Path) -> None:
    print("\n== b. generated graph-form specs (whole process, N named scalar nodes) ==")
    sizes = GRAPH_SIZES[:2] if args.quick else GRAPH_SIZES
    c_121 = Cmd("1-2-1", gc + ["check", "specs/sigmoid_121.yaml"])
    cmds = [c_121]
    paths = {}
    for n in sizes:
        p = tmp / f"graph_{n}.yaml"
        p.write_text(graph_spec_text(n))
        paths[n] = p
        cmds.append(Cmd(f"N={n}", gc + ["check", str(p)]))
    runs = max(3, args.runs // 3)
    measure(cmds, runs, warmup=1)
    base = c_121.median
    print(f"  {'spec':<8} {'params':>6} {'median s':>9} {'min s':>8} {'vs 1-2-1':>10}")
    print(f"  {'1-2-1':<8} {7:>6} {base:9.3f} {c_121.best:8.3f} {'1.00x':>10}{c_121.status()}")
    for n, c in zip(sizes, cmds[1:]):
        print(f"  {c.label:<8} {max(2, n // 10):>6} {c.median:9.3f} {c.best:8.3f} "
              f"{c.median / base:9.2f}x{c.status()}")
    last = cmds[-1]
    if sizes[-1] == 2000:
        print(f"  N=2000 vs 1-2-1: {fmt_ratio(last.median / base, TARGET_GRAPH_2000, '<')}")
    print("  growth exponent, whole process (log t ratio / log N ratio): "
          + ", ".join(growth(list(sizes), [c.median for c in cmds[1:]])))
    excess = [c.median - base for c in cmds[1:]]
    print("  growth exponent of the time above the 1-2-1 run (startup removed): "
          + ", ".join(growth(list(sizes), excess)))
    flush()
    print("  in-process phases (graph form):")
    in_times, no_sym = [], []
    for n in sizes:
        ph = isolated("phases", str(paths[n]), False, 1 if n >= 1000 else 3)
        in_times.append(ph["load"] + ph["total"] + ph["render"])
        no_sym.append(in_times[-1] - ph.get("symbolic", 0.0))
        print(f"   N={n} ({graph_nodes(paths[n])} graph nodes; symbolic: "
              f"{ph.get('symbolic_note') or 'ran'}):")
        print(show_phases(ph, indent="    "))
        flush()
    print("  growth exponent, in-process load+run+render: "
          + ", ".join(growth(list(sizes), in_times)))
    print("  growth exponent, in-process without the symbolic phase (SymPy runs only below "
          "3,000 graph nodes, with a 10 s budget): " + ", ".join(growth(list(sizes), no_sym)))
    if args.profile:
        n = sizes[-1]
        print(f"  profile of spec.load + check.run for N={n}:")
        print(isolated("profile_check", str(paths[n]), False))
    flush()


def part_c(args, gc: list[str], tmp: Path) -> dict:
    print("\n== c. layer form, relu/softmax/cross_entropy, batch 8, drawn x/y ==")
    out = {}
    main_sizes = (784, 256, 10)
    p_main = tmp / "net_784_256_10.yaml"
    p_main.write_text(layer_spec_text(main_sizes))
    c_121 = Cmd("1-2-1 (reference)", gc + ["check", "specs/sigmoid_121.yaml"])
    c_full = Cmd("784-256-10 --full", gc + ["check", str(p_main), "--full"])
    c_fast = Cmd("784-256-10 fast (wrapper, threshold 0)",
                 [sys.executable, "-c", FAST_WRAPPER, "check", str(p_main)])
    cmds = [c_121, c_full, c_fast]
    big = None
    if not args.quick:
        p_big = tmp / f"net_{name(BIG_FAST_NET)}.yaml"
        p_big.write_text(layer_spec_text(BIG_FAST_NET))
        big = Cmd(f"{name(BIG_FAST_NET)} default (CLI fast mode)", gc + ["check", str(p_big)])
        cmds.append(big)
    measure(cmds, max(3, args.runs // 2), warmup=1)
    print(f"  784-256-10 has {n_params(main_sizes):,} parameters")
    for c in cmds:
        print(f"  {c.label:<48} median {c.median:.3f} s  min {c.best:.3f} s  "
              f"({c.median / c_121.median:.2f}x the 1-2-1 check){c.status()}")
    print(f"  784-256-10 --full whole process: {c_full.median:.3f} s "
          f"(target <= {TARGET_LAYER_FULL_S} s: "
          f"{'PASS' if c_full.median <= TARGET_LAYER_FULL_S else 'MISS'})")
    if big is not None:
        print(f"  {name(BIG_FAST_NET)} = {n_params(BIG_FAST_NET):,} params > 1,000,000: the CLI "
              f"uses fast mode by itself")
    out["fast_wrapper"] = c_fast
    flush()

    # in-process (fresh interpreters): phases with --full, numeric_gradients fast vs full
    ph = isolated("phases", str(p_main), True, 3)
    print("  784-256-10 --full:")
    print(show_phases(ph))
    fv = isolated("fast_vs_full", str(p_main), 7)
    mf, mF = fv["fast"], fv["full"]
    samples = ", ".join(f"{t * 1000:.0f}" for t in fv["fast_all"])
    print(f"  in-process dense.numeric.numeric_gradients 784-256-10: fast mode "
          f"(FULL_MODE_MAX_PARAMS=0) {mf * 1000:.1f} ms, full {mF * 1000:.1f} ms "
          f"(fast = {mf / mF:.2f}x full), medians of 7 (fast samples, ms: {samples}); "
          f"fast mode did: {fv['note']}")
    flush()

    # growth over parameter counts, whole process --full
    nets = GROWTH_NETS[:2] if args.quick else GROWTH_NETS
    gcmds = []
    for sizes in nets:
        p = tmp / f"net_{name(sizes)}.yaml"
        p.write_text(layer_spec_text(sizes))
        gcmds.append(Cmd(name(sizes), gc + ["check", str(p), "--full"]))
    measure(gcmds, max(3, args.runs // 3), warmup=1)
    print("  growth with parameter count (whole process, --full; the layer form never imports "
          "SymPy, so these can be faster than the 1-2-1 check):")
    counts = [n_params(s) for s in nets]
    base_t, base_p = gcmds[0].median, counts[0]
    in_run = []
    for sizes, c, P in zip(nets, gcmds, counts):
        ph = isolated("phases", str(tmp / f"net_{name(sizes)}.yaml"), True, 1)
        in_run.append(ph["total"])
        marginal = (f"  +{(c.median - base_t) / (P - base_p) * 1e6:5.2f} us/param vs "
                    f"{name(nets[0])}" if P != base_p else "")
        print(f"    {name(sizes):>12}: {P:>9,} params  median {c.median:7.3f} s  "
              f"min {c.best:7.3f} s  ({c.median / base_t:5.2f}x {name(nets[0])}){marginal}; "
              f"in-process check.run {ph['total'] * 1000:7.1f} ms "
              f"(numeric {ph.get('numeric', 0) * 1000:.1f} ms){c.status()}")
    print("    growth exponent (whole process): "
          + ", ".join(growth(counts, [c.median for c in gcmds])))
    print("    growth exponent (in-process check.run): " + ", ".join(growth(counts, in_run)))
    ph_big = isolated("phases", str(tmp / f"net_{name(nets[-1])}.yaml"), True, 1)
    print(f"  {name(nets[-1])} --full:")
    print(show_phases(ph_big))
    if args.profile:
        print("  profile of spec.load + check.run(full=True) for 784-256-10:")
        print(isolated("profile_check", str(p_main), True))
        print("  profile of dense.numeric.numeric_gradients fast mode (threshold 0) for "
              "784-256-10:")
        print(isolated("profile_fast", str(p_main)))
    flush()
    out["path"] = p_main
    return out


TORCH_SCRIPT = r'''
import sys, time
t0 = time.perf_counter()
import numpy as np
import torch
torch.set_num_threads(2)
fast = sys.argv[1] == "fast"
sizes = (784, 256, 10)
B = 8
rng = np.random.default_rng(0)
x = torch.from_numpy(rng.random((B, sizes[0])))
labels = torch.from_numpy(rng.integers(0, sizes[-1], B))
params = []
for n_in, n_out in zip(sizes[:-1], sizes[1:]):
    W = torch.from_numpy(rng.standard_normal((n_out, n_in)) * (2.0 / n_in) ** 0.5)
    b = torch.zeros(n_out, dtype=torch.float64)
    params += [W.requires_grad_(), b.requires_grad_()]

def loss_fn(W1, b1, W2, b2):
    a1 = torch.relu(x @ W1.T + b1)
    z2 = a1 @ W2.T + b2
    return torch.nn.functional.cross_entropy(z2, labels)

t1 = time.perf_counter()
ok = torch.autograd.gradcheck(loss_fn, tuple(params), fast_mode=fast, eps=1e-6,
                              atol=1e-5, rtol=1e-3)
t2 = time.perf_counter()
print(f"ok={ok} setup={t1 - t0:.3f} gradcheck={t2 - t1:.3f}")
'''


def part_d(args, gc: list[str], tmp: Path, c_info: dict | None) -> None:
    print("\n== d. torch.autograd.gradcheck on 784-256-10 float64 (separate venv) ==")
    tp = args.torch_python
    if not tp or not Path(tp).exists():
        print(f"  skipped: no torch interpreter (give --torch-python PATH or set "
              f"GRADCLI_TORCH_PYTHON; tried {tp!r})")
        return
    probe = subprocess.run([tp, "-c", "import torch, numpy; print(torch.__version__)"],
                           capture_output=True, text=True, env=ENV)
    if probe.returncode != 0:
        print(f"  skipped: {tp} cannot import torch and numpy: "
              f"{(probe.stderr.strip().splitlines() or ['?'])[-1]}")
        return
    print(f"  torch {probe.stdout.strip()} at {tp} (set_num_threads(2))")
    script = tmp / "torch_gradcheck.py"
    script.write_text(TORCH_SCRIPT)
    p_main = c_info["path"] if c_info else tmp / "net_784_256_10.yaml"
    if not p_main.exists():
        p_main.write_text(layer_spec_text((784, 256, 10)))
    c_fast = Cmd("gradcli 784-256-10 fast (wrapper)",
                 [sys.executable, "-c", FAST_WRAPPER, "check", str(p_main)])
    c_torch = Cmd("torch gradcheck fast_mode=True script", [tp, str(script), "fast"])
    c_import = Cmd("torch venv: python -c 'import torch'", [tp, "-c", "import torch"])
    measure([c_torch, c_fast, c_import], max(3, args.runs // 2), warmup=1)
    for c in (c_import, c_torch, c_fast):
        print(f"  {c.label:<42} median {c.median:.3f} s  min {c.best:.3f} s{c.status()}")
    detail = subprocess.run([tp, str(script), "fast"], capture_output=True, text=True, env=ENV)
    print(f"  torch script self-report (one run): {detail.stdout.strip() or detail.stderr[-200:]}")
    ratio = c_fast.median / c_torch.median
    print(f"  ratio gradcli-fast / torch-fast-gradcheck (whole process): "
          f"{fmt_ratio(ratio, TARGET_TORCH)}")
    flush()
    if args.skip_torch_full:
        print("  full torch gradcheck: skipped (--skip-torch-full)")
        return
    c_tfull = Cmd("torch gradcheck full script", [tp, str(script), "full"])
    c_gfull = Cmd("gradcli check 784-256-10 --full", gc + ["check", str(p_main), "--full"])
    measure([c_tfull, c_gfull], 1, warmup=0)
    print(f"  torch full gradcheck whole process (1 run): {c_tfull.median:.2f} s{c_tfull.status()}")
    print(f"  gradcli --full whole process (same round): {c_gfull.median:.2f} s -> "
          f"gradcli-full / torch-full = {c_gfull.median / c_tfull.median:.3f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9, help="timed rounds for part a (default 9; "
                    "other parts use fewer)")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    ap.add_argument("--only", default="a,b,c,d", help="parts to run, e.g. a,c")
    default_tp = os.environ.get("GRADCLI_TORCH_PYTHON") or (
        "/tmp/torchvenv/bin/python" if Path("/tmp/torchvenv/bin/python").exists() else "")
    ap.add_argument("--torch-python", default=default_tp,
                    help="python of a separate venv with torch and numpy "
                         "(default $GRADCLI_TORCH_PYTHON or /tmp/torchvenv/bin/python)")
    ap.add_argument("--skip-torch-full", action="store_true",
                    help="skip the ~45 s full torch gradcheck")
    ap.add_argument("--profile", action="store_true", help="print cProfile summaries")
    args = ap.parse_args()
    if args.quick:
        args.runs = min(args.runs, 3)
    parts = set(args.only.split(","))
    gc = gradcli_argv()
    print(f"python: {sys.executable} ({sys.version.split()[0]}); gradcli: {' '.join(gc)}")
    print(f"cpus: {os.cpu_count()}; load average at start: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; medians of round-robin runs")
    flush()
    c_info = None
    with tempfile.TemporaryDirectory(prefix="gradcli-bench-") as d:
        tmp = Path(d)
        for part, fn in (("a", lambda: part_a(args, gc)), ("b", lambda: part_b(args, gc, tmp)),
                         ("c", lambda: part_c(args, gc, tmp)),
                         ("d", lambda: part_d(args, gc, tmp, c_info))):
            if part not in parts:
                continue
            try:
                result = fn()
                if part == "c":
                    c_info = result
            except Exception as exc:  # a report: keep going
                import traceback

                print(f"  part {part} failed: {type(exc).__name__}: {exc}")
                traceback.print_exc(file=sys.stdout)
            flush()
    print(f"\nload average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--_call":  # see isolated()
        import json

        print(json.dumps(globals()[sys.argv[2]](*json.loads(sys.argv[3]))))
        sys.exit(0)
    run_report(main)
