#!/usr/bin/env python
"""In-process benchmark of gradcli's reverse-mode engine (a report: always exits 0).

For each ReLU MLP (float64) the expanded layer-form graph is built through
gradcli.spec.load on a temporary YAML, and one forward + backward
(gradcli.engine.forward, then engine.backward with respect to every
parameter) is timed against a hand-written numpy forward + backprop of the
same net on the same arrays, in the same run (timeit-style: gc off, loops
per repeat chosen so a repeat lasts >= --min-time, repeats interleaved,
median per-iteration time).

  784-256-10 batch 64, 784-1024-1024-10 batch 128: relu hidden layers, softmax
      output, cross-entropy (loss -sum(y*log_softmax(z))/B);  target gradcli/numpy <= 1.3
  2-3-1 and 16-16-1 batch 1: relu hidden layer, linear output, squared error
      (a 1-unit softmax is constant); ratio vs numpy and, when a torch
      interpreter in a SEPARATE venv is given (--torch-python,
      $GRADCLI_TORCH_PYTHON, default /tmp/torchvenv/bin/python), vs torch CPU
      float64 autograd with torch.set_num_threads(2), timed in a subprocess of
      that venv on the same arrays;  target: gradcli faster than torch.

On a busy 2-core machine multi-threaded OpenBLAS can stall badly (a 64x784
@ 784x256 product measured 1.2 ms single-threaded and 6-80 ms with two BLAS
threads while other processes ran).  --blas-threads (default 1, as the gradcli
CLI sets it; 0 = leave the environment alone) pins numpy's BLAS for gradcli and
the numpy baseline alike (they share np.matmul); --torch-threads sets
torch.set_num_threads (default 2).

Usage:  python bench/bench_engine.py [--repeat N] [--min-time S] [--profile]
        [--blas-threads N] [--torch-threads N] [--torch-python PATH] [--no-torch]
"""
from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from benchlib import run_report

np = None  # numpy, imported in main() after --blas-threads is applied

TARGET_NUMPY = 1.3
CASES = [
    # (label, sizes, batch, loss, target vs numpy, compare with torch)
    ("784-256-10 B=64", (784, 256, 10), 64, "cross_entropy", TARGET_NUMPY, True),
    ("784-1024-1024-10 B=128", (784, 1024, 1024, 10), 128, "cross_entropy", TARGET_NUMPY, True),
    ("2-3-1 B=1", (2, 3, 1), 1, "squared_error", None, True),
    ("16-16-1 B=1", (16, 16, 1), 1, "squared_error", None, True),
]


def spec_text(sizes, batch, loss, seed=0) -> str:
    layers = []
    for i, units in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        act = ("softmax" if loss == "cross_entropy" else "linear") if last else "relu"
        layers.append(f"  - dense: {{units: {units}, activation: {act}}}")
    y = (f"{{shape: [{batch}], distribution: classes}}" if loss == "cross_entropy"
         else f"{{shape: [{batch}, {sizes[-1]}], distribution: normal}}")
    return textwrap.dedent(f"""\
        inputs:
          x: {{shape: [{batch}, {sizes[0]}], distribution: normal}}
          y: {y}
        layers:
        """) + "\n".join(layers) + f"\nloss: {loss}\nseed: {seed}\n"


# ------------------------------------------------------------------ numpy ---
def numpy_step(Ws, bs, x, y, loss):
    """Hand-written forward + backprop; returns (loss, [(dW, db), ...])."""
    acts, zs = [x], []
    n = len(Ws)
    for k in range(n):
        z = acts[-1] @ Ws[k].T + bs[k]
        zs.append(z)
        if k < n - 1:
            acts.append(np.maximum(z, 0.0))
    z = zs[-1]
    B = x.shape[0]
    if loss == "cross_entropy":
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
        value = -float((y * (z - m - np.log(s))).sum()) / B
        dz = (e / s - y) / B  # rows of y sum to 1
    else:
        r = z - y
        value = float((r * r).sum()) / B
        dz = 2.0 * r / B
    grads = [None] * n
    for k in range(n - 1, -1, -1):
        grads[k] = (dz.T @ acts[k], dz.sum(axis=0))
        if k:
            dz = (dz @ Ws[k]) * (zs[k - 1] > 0)
    return value, grads


# ---------------------------------------------------------------- timing ---
def local_timer(fn):
    def timer(loops: int) -> float:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        return time.perf_counter() - t0

    return timer


def loops_for(timer, min_time: float) -> int:
    """timeit.autorange: 1, 2, 5, 10, 20, 50, ... until one batch takes >= min_time."""
    n = 1
    while True:
        for k in (1, 2, 5):
            if timer(n * k) >= min_time:
                return n * k
        n *= 10


def time_interleaved(timers: dict, repeat: int, min_time: float) -> dict[str, float]:
    """Median seconds per call of each timer, repeats interleaved (gc off).

    A timer is a callable(loops) -> seconds for that many calls.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        loops = {k: loops_for(t, min_time) for k, t in timers.items()}
        samples = {k: [] for k in timers}
        for _ in range(repeat):
            for k, t in timers.items():
                samples[k].append(t(loops[k]) / loops[k])
    finally:
        if enabled:
            gc.enable()
    return {k: statistics.median(v) for k, v in samples.items()}


TORCH_WORKER = r"""
import gc, json, sys, time
import numpy as np
import torch
gc.disable()
out = sys.stdout
step = None
for line in sys.stdin:
    req = json.loads(line)
    if req["cmd"] == "setup":
        torch.set_num_threads(req["threads"])
        data = np.load(req["npz"])
        n = req["layers"]
        x = torch.from_numpy(data["x"])
        y = torch.from_numpy(data["y"])
        params = []
        for k in range(1, n + 1):
            params.append(torch.from_numpy(data[f"W{k}"]).requires_grad_())
            params.append(torch.from_numpy(data[f"b{k}"]).requires_grad_())
        B = x.shape[0]
        ce = req["loss"] == "cross_entropy"

        def step(n=n, x=x, y=y, params=params, B=B, ce=ce):
            a = x
            for k in range(n):
                z = a @ params[2 * k].T + params[2 * k + 1]
                a = torch.relu(z) if k < n - 1 else z
            if ce:
                loss = -(y * torch.log_softmax(a, dim=1)).sum() / B
            else:
                loss = ((a - y) ** 2).sum() / B
            return loss, torch.autograd.grad(loss, params)

        loss, grads = step()
        reply = {"loss": float(loss), "torch": torch.__version__,
                 "threads": torch.get_num_threads(),
                 "grads": [g.numpy().tolist() for g in grads]
                 if sum(g.numel() for g in grads) < 5000 else None}
    else:  # {"cmd": "time", "loops": n}
        loops = req["loops"]
        t0 = time.perf_counter()
        for _ in range(loops):
            step()
        reply = {"seconds": time.perf_counter() - t0}
    out.write(json.dumps(reply) + "\n")
    out.flush()
"""


class TorchWorker:
    """A long-lived python of the torch venv that times `loops` torch steps on request,
    so torch samples can be interleaved with the in-process ones."""

    def __init__(self, tp: str, tmp: Path, threads: int):
        script = tmp / "torch_worker.py"
        script.write_text(TORCH_WORKER)
        env = dict(os.environ)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.pop(var, None)  # torch threads come from set_num_threads
        self.threads = threads
        self.proc = subprocess.Popen([tp, str(script)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)

    def ask(self, req: dict) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read().strip().splitlines()
            raise RuntimeError("torch worker died: " + (err[-1] if err else "?"))
        return json.loads(line)

    def setup(self, tmp: Path, label: str, spec, n_layers: int, loss: str) -> dict:
        arrays = {"x": spec.bindings[spec.inputs["x"]], "y": spec.bindings[spec.inputs["y"]]}
        for name, nid in spec.params.items():
            arrays[name] = spec.bindings[nid]
        npz = tmp / (label.replace(" ", "_").replace("=", "") + ".npz")
        np.savez(npz, **arrays)
        return self.ask({"cmd": "setup", "npz": str(npz), "layers": n_layers, "loss": loss,
                         "threads": self.threads})

    def timer(self):
        return lambda loops: self.ask({"cmd": "time", "loops": loops})["seconds"]

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()


def profile_top(fn, calls: int, limit: int = 14) -> str:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime").print_stats(limit)
    lines = [l for l in buf.getvalue().splitlines()
             if l.strip() and not l.startswith(("   Ordered", "         "))]
    return "\n".join("    " + l for l in lines)


def fmt_t(s: float) -> str:
    if s >= 1e-1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.1f} us"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=9, help="repeats per timing (median shown)")
    ap.add_argument("--min-time", type=float, default=0.2,
                    help="seconds per repeat, as timeit.autorange (default 0.2)")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile gradcli forward+backward per case (own time)")
    default_tp = os.environ.get("GRADCLI_TORCH_PYTHON") or (
        "/tmp/torchvenv/bin/python" if Path("/tmp/torchvenv/bin/python").exists() else "")
    ap.add_argument("--torch-python", default=default_tp,
                    help="python of a separate venv with torch (default "
                         "$GRADCLI_TORCH_PYTHON or /tmp/torchvenv/bin/python)")
    ap.add_argument("--no-torch", action="store_true", help="skip the torch comparison")
    ap.add_argument("--blas-threads", type=int, default=1,
                    help="set OPENBLAS/OMP/MKL_NUM_THREADS for numpy (default 1, as "
                         "gradcli.cli.main sets it; 0 leaves the environment alone)")
    ap.add_argument("--torch-threads", type=int, default=2,
                    help="torch.set_num_threads in the torch subprocess (default 2)")
    args = ap.parse_args()
    if args.blas_threads > 0:
        if "numpy" in sys.modules:
            print("warning: numpy already imported; --blas-threads may not apply")
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)
    global np
    import numpy as np  # noqa: F811

    tp = None if args.no_torch else (args.torch_python or None)
    if tp and not Path(tp).exists():
        print(f"torch: {tp} not found; torch columns skipped")
        tp = None
    elif tp is None:
        print("torch: no torch interpreter given (--torch-python or GRADCLI_TORCH_PYTHON); "
              "torch columns skipped")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, cpus {os.cpu_count()}, "
          f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "unset (OpenBLAS default: all cores)")
    print(f"timing: median of {args.repeat} interleaved repeats, each >= {args.min_time} s, "
          f"gc off; OPENBLAS_NUM_THREADS={blas}")
    print("gradcli = engine.forward(graph, bindings, loss) + engine.backward(graph, values, "
          "loss, params); numpy = hand-written forward + backprop")
    sys.stdout.flush()
    rows = []
    notes = []
    with tempfile.TemporaryDirectory(prefix="gradcli-engine-") as d:
        tmp = Path(d)
        worker = TorchWorker(tp, tmp, args.torch_threads) if tp else None
        try:
            run_cases(args, tmp, worker, rows, notes)
        finally:
            if worker is not None:
                worker.close()
    print_table(rows, notes)
    return 0


def run_cases(args, tmp: Path, worker, rows: list, notes: list) -> None:
    from gradcli import engine, spec as specs

    for label, sizes, batch, loss, target, with_torch in CASES:
        try:
            path = tmp / (label.replace(" ", "_").replace("=", "") + ".yaml")
            path.write_text(spec_text(sizes, batch, loss))
            spec = specs.load(str(path))
            g, bindings, root = spec.graph, spec.bindings, spec.loss
            wrt = list(spec.params.values())
            n = len(sizes) - 1
            Ws = [bindings[spec.params[f"W{k}"]] for k in range(1, n + 1)]
            bs = [bindings[spec.params[f"b{k}"]] for k in range(1, n + 1)]
            x, y = bindings[spec.inputs["x"]], bindings[spec.inputs["y"]]

            def f_gradcli():
                values = engine.forward(g, bindings, root)
                return values, engine.backward(g, values, root, wrt)

            def f_numpy():
                return numpy_step(Ws, bs, x, y, loss)

            # correctness first: same loss and gradients
            values, back = f_gradcli()
            ref_loss, ref = f_numpy()
            err = abs(values[root] - ref_loss)
            for k in range(n):
                for got, want in ((back.adjoint[spec.params[f"W{k + 1}"]], ref[k][0]),
                                  (back.adjoint[spec.params[f"b{k + 1}"]], ref[k][1])):
                    err = max(err, float(np.max(np.abs(got - want))))
            timers = {"gradcli": local_timer(f_gradcli), "numpy": local_timer(f_numpy)}
            res = None
            if worker is not None and with_torch:
                try:
                    res = worker.setup(tmp, label, spec, n, loss)
                    timers["torch"] = worker.timer()
                except Exception as exc:  # noqa: BLE001
                    notes.append(f"{label}: torch failed: {exc}")
                    worker = None
            t = time_interleaved(timers, args.repeat, args.min_time)
            row = {"label": label, "nodes": len(g.nodes), "gradcli": t["gradcli"],
                   "numpy": t["numpy"], "target": target, "maxdiff": err,
                   "torch": t.get("torch")}
            if res is not None:
                tdiff = abs(res["loss"] - ref_loss)
                if res["grads"] is not None:
                    for k in range(n):
                        tdiff = max(tdiff, float(np.max(np.abs(
                            np.array(res["grads"][2 * k]) - ref[k][0]))))
                row["torch_diff"] = tdiff
                row["torch_ver"] = f"{res['torch']} threads={res['threads']}"
            rows.append(row)
            r = row["gradcli"] / row["numpy"]
            print(f"  measured {label}: gradcli {fmt_t(row['gradcli'])}, numpy "
                  f"{fmt_t(row['numpy'])} ({r:.2f}x)"
                  + (f", torch {fmt_t(row['torch'])}" if row["torch"] else ""))
            sys.stdout.flush()
            if args.profile:
                calls = max(1, int(1.0 / max(row["gradcli"], 1e-6)))
                print(f"  cProfile, gradcli forward+backward x{calls}, {label}, by own time:")
                print(profile_top(f_gradcli, calls))
                sys.stdout.flush()
        except Exception as exc:  # a report: keep going
            notes.append(f"{label}: failed: {type(exc).__name__}: {exc}")


def print_table(rows: list, notes: list) -> None:
    print()
    header = ("net", "graph nodes", "gradcli", "numpy", "gradcli/numpy", "target", "torch",
              "gradcli/torch", "result", "max |grad diff| vs numpy")
    table = []
    for r in rows:
        ratio = r["gradcli"] / r["numpy"]
        if r["target"] is not None:
            result = "PASS" if ratio <= r["target"] else "MISS"
            tgt = f"<= {r['target']}"
        else:
            tgt = "faster than torch"
            if r["torch"]:
                result = "PASS" if r["gradcli"] < r["torch"] else "MISS"
            else:
                result = "n/a (no torch)"
        table.append((r["label"], str(r["nodes"]), fmt_t(r["gradcli"]), fmt_t(r["numpy"]),
                      f"{ratio:.2f}x", tgt, fmt_t(r["torch"]) if r["torch"] else "-",
                      f"{r['gradcli'] / r['torch']:.2f}x" if r["torch"] else "-", result,
                      f"{r['maxdiff']:.1e}"))
    widths = [max(len(t[i]) for t in table + [header]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    print(line)
    print("-" * len(line))
    for t in table:
        print("  ".join(v.ljust(w) for v, w in zip(t, widths)))
    vers = {r.get("torch_ver") for r in rows if r.get("torch_ver")}
    if vers:
        print(f"torch: {', '.join(sorted(vers))} (separate venv, a worker process whose "
              f"timed batches are interleaved with gradcli's and numpy's); max |diff| torch vs numpy: "
              + ", ".join(f"{r['label']} {r['torch_diff']:.1e}" for r in rows if "torch_diff" in r))
    for n in notes:
        print("note: " + n)


if __name__ == "__main__":
    run_report(main)
