#!/usr/bin/env python
"""Benchmark of `gradcli train` (a report: always exits 0).

a. Whole process: `gradcli train specs/xor_train.yaml --steps 1000 --json`
   (1,000 SGD steps of seed note 002's XOR net), median of --runs, next to
   `gradcli --help` timed in the same run (the start-up share).
   Target: <= 1 s.
b. In-process: 100 SGD steps (lr 0.1) of a 784-256-10 relu/softmax
   cross-entropy net, batch 64, float64: gradcli's training loop
   (`train.loop.run` on the problem `train.source.from_file` builds) against a
   hand-written numpy loop of the same net on the same arrays (forward,
   backprop, update; the loss and gradient at all 101 points, as gradcli
   computes them), repeats interleaved, medians; both end at the same loss.
   Target: gradcli/numpy <= 1.3.
c. Optional: the same 100 steps with torch CPU float64 autograd and
   torch.optim.SGD, timed inside a python of a SEPARATE venv
   (--torch-python, $GRADCLI_TORCH_PYTHON, or /tmp/torchvenv/bin/python);
   skipped with a message when none is found.  Target: gradcli/torch <= 1.5.

BLAS threads are left as the environment has them (as `gradcli train` does:
it uses the machine's threads); --blas-threads N pins them for a comparison.

Usage:  python bench/bench_train.py [--runs N] [--repeat N] [--blas-threads N]
        [--torch-python PATH] [--no-torch]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from benchlib import clean_env, run_report

ROOT = Path(__file__).resolve().parent.parent
TARGET_XOR_S = 1.0
TARGET_NUMPY = 1.3
TARGET_TORCH = 1.5
STEPS, LR, SIZES, BATCH = 100, 0.1, (784, 256, 10), 64

NET_YAML = textwrap.dedent(f"""\
    inputs:
      x: {{shape: [{BATCH}, {SIZES[0]}], distribution: normal}}
      y: {{shape: [{BATCH}], distribution: classes}}
    layers:
      - dense: {{units: {SIZES[1]}, activation: relu}}
      - dense: {{units: {SIZES[2]}, activation: softmax}}
    loss: cross_entropy
    seed: 0
    """)


def gradcli_command() -> list[str]:
    script = Path(sys.executable).with_name("gradcli")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gradcli"]


def whole_process(args) -> None:
    cmd = gradcli_command()
    xor = cmd + ["train", str(ROOT / "specs" / "xor_train.yaml"), "--steps", "1000", "--json"]
    help_cmd = cmd + ["--help"]
    env = clean_env()
    times, outputs = {"train": [], "help": []}, {}
    for _ in range(args.runs):  # interleaved
        for key, c in (("train", xor), ("help", help_cmd)):
            t0 = time.perf_counter()
            proc = subprocess.run(c, capture_output=True, text=True, env=env)
            times[key].append(time.perf_counter() - t0)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(c)} exited {proc.returncode}: {proc.stderr}")
            outputs[key] = proc.stdout
    final = json.loads(outputs["train"])["loss"][-1]
    t_train, t_help = (statistics.median(times[k]) for k in ("train", "help"))
    verdict = "PASS" if t_train <= TARGET_XOR_S else "MISS"
    print(f"a. XOR 2-4-2, 1,000 SGD steps, whole process (median of {args.runs}): "
          f"{t_train:.3f} s (target <= {TARGET_XOR_S} s) {verdict}; `gradcli --help` "
          f"{t_help:.3f} s, so start-up is {t_help / t_train:.0%} of it; final loss "
          f"{final:.4g}")


# ------------------------------------------------------------- in-process ---
def numpy_training(Ws, bs, x, y, steps, lr):
    """Hand-written loop: loss and gradient at every point, SGD update between."""
    import numpy as np

    Ws, bs = [W.copy() for W in Ws], [b.copy() for b in bs]
    B = x.shape[0]
    losses = []
    for step in range(steps + 1):
        z1 = x @ Ws[0].T + bs[0]
        a1 = np.maximum(z1, 0.0)
        z2 = a1 @ Ws[1].T + bs[1]
        m = z2.max(axis=1, keepdims=True)
        e = np.exp(z2 - m)
        s = e.sum(axis=1, keepdims=True)
        losses.append(-float((y * (z2 - m - np.log(s))).sum()) / B)
        dz2 = (e / s - y) / B
        dW2, db2 = dz2.T @ a1, dz2.sum(axis=0)
        dz1 = (dz2 @ Ws[1]) * (z1 > 0)
        dW1, db1 = dz1.T @ x, dz1.sum(axis=0)
        if step == steps:
            break
        Ws[0] -= lr * dW1  # in place, as seed note 002's update() writes it
        bs[0] -= lr * db1
        Ws[1] -= lr * dW2
        bs[1] -= lr * db2
    return losses


TORCH_WORKER = r"""
import json, sys, time
import numpy as np
import torch
torch.set_num_threads(int(sys.argv[2]))
d = np.load(sys.argv[1])
x, y = torch.from_numpy(d["x"]), torch.from_numpy(d["y"])
steps, lr = int(sys.argv[3]), float(sys.argv[4])
B = x.shape[0]

def train():
    ps = [torch.from_numpy(d[k].copy()).requires_grad_() for k in ("W1", "b1", "W2", "b2")]
    opt = torch.optim.SGD(ps, lr=lr)
    for step in range(steps + 1):
        opt.zero_grad()
        z = torch.relu(x @ ps[0].T + ps[1]) @ ps[2].T + ps[3]
        loss = -(y * torch.log_softmax(z, dim=1)).sum() / B
        loss.backward()
        if step < steps:
            opt.step()
    return float(loss)

print(json.dumps({"loss": train(), "torch": torch.__version__,
                  "threads": torch.get_num_threads()}), flush=True)
for line in sys.stdin:  # one timed training per request, interleaved by the caller
    t0 = time.perf_counter()
    train()
    print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)
"""


class TorchWorker:
    """A python of the torch venv that trains once per request (so torch's samples
    interleave with gradcli's and numpy's)."""

    def __init__(self, tp: str, tmp: Path, spec, threads: int):
        import numpy as np

        arrays = {"x": spec.bindings[spec.inputs["x"]], "y": spec.bindings[spec.inputs["y"]]}
        for name, nid in spec.params.items():
            arrays[name] = spec.bindings[nid]
        np.savez(tmp / "net.npz", **arrays)
        (tmp / "torch_train.py").write_text(TORCH_WORKER)
        env = dict(os.environ)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.pop(var, None)  # torch's threads come from set_num_threads
        self.proc = subprocess.Popen(
            [tp, str(tmp / "torch_train.py"), str(tmp / "net.npz"), str(threads), str(STEPS),
             str(LR)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env)
        self.info = self._reply()

    def _reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read().strip().splitlines()
            raise RuntimeError("torch worker died: " + (err[-1] if err else "?"))
        return json.loads(line)

    def time_once(self) -> float:
        self.proc.stdin.write("time\n")
        self.proc.stdin.flush()
        return self._reply()["seconds"]

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()


def torch_worker(args, tmp: Path, spec):
    tp = None if args.no_torch else args.torch_python
    if not tp or not Path(tp).exists():
        print("c. torch: skipped (no torch python: pass --torch-python PATH, set "
              "$GRADCLI_TORCH_PYTHON, or create /tmp/torchvenv)")
        return None
    try:
        return TorchWorker(tp, tmp, spec, args.torch_threads or os.cpu_count() or 1)
    except Exception as exc:  # noqa: BLE001 - a report: go on without torch
        print(f"c. torch: failed to start: {exc}")
        return None


def in_process(args) -> None:
    from gradcli.train import loop, source

    with tempfile.TemporaryDirectory(prefix="gradcli-train-bench-") as d:
        path = Path(d) / "net.yaml"
        path.write_text(NET_YAML)
        problem = source.from_file(str(path))
        spec = problem.spec
        x, y = spec.bindings[spec.inputs["x"]], spec.bindings[spec.inputs["y"]]
        Ws = [spec.bindings[spec.params[k]] for k in ("W1", "W2")]
        bs = [spec.bindings[spec.params[k]] for k in ("b1", "b2")]

        def f_gradcli():
            return loop.run(problem, LR, STEPS, start=problem.first())

        def f_numpy():
            return numpy_training(Ws, bs, x, y, STEPS, LR)

        ours, ref = f_gradcli(), f_numpy()
        diff = max(abs(a - b) for a, b in zip(ours.loss, ref))
        worker = torch_worker(args, Path(d), spec)
        timers = {"gradcli": _timed(f_gradcli), "numpy": _timed(f_numpy)}
        if worker is not None:
            timers["torch"] = worker.time_once
        try:
            samples = {k: [] for k in timers}
            for _ in range(args.repeat):  # interleaved
                for key, timer in timers.items():
                    samples[key].append(timer())
        finally:
            if worker is not None:
                worker.close()
    t = {k: statistics.median(v) for k, v in samples.items()}
    ratio = t["gradcli"] / t["numpy"]
    print(f"b. {'-'.join(map(str, SIZES))} B={BATCH}, {STEPS} SGD steps in-process "
          f"(median of {args.repeat}): gradcli {t['gradcli']:.3f} s, numpy "
          f"{t['numpy']:.3f} s, ratio {ratio:.2f} (target <= {TARGET_NUMPY}) "
          f"{'PASS' if ratio <= TARGET_NUMPY else 'MISS'}; final loss "
          f"{ours.loss[-1]:.6f}, max |loss diff| vs numpy {diff:.1e}")
    if worker is not None:
        ratio = t["gradcli"] / t["torch"]
        print(f"c. torch {worker.info['torch']} ({worker.info['threads']} threads), "
              f"interleaved: {t['torch']:.3f} s; gradcli/torch {ratio:.2f} (target <= "
              f"{TARGET_TORCH}) {'PASS' if ratio <= TARGET_TORCH else 'MISS'}; final loss "
              f"{worker.info['loss']:.6f} (gradcli {ours.loss[-1]:.6f})")


def _timed(fn):
    def timer() -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    return timer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="whole-process runs (median)")
    ap.add_argument("--repeat", type=int, default=5, help="in-process repeats (median)")
    ap.add_argument("--blas-threads", type=int, default=0,
                    help="pin OPENBLAS/OMP/MKL_NUM_THREADS (default 0: leave them, as "
                         "gradcli train does)")
    ap.add_argument("--torch-threads", type=int, default=0,
                    help="torch.set_num_threads (default: the machine's cores)")
    default_tp = os.environ.get("GRADCLI_TORCH_PYTHON") or (
        "/tmp/torchvenv/bin/python" if Path("/tmp/torchvenv/bin/python").exists() else "")
    ap.add_argument("--torch-python", default=default_tp)
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args()
    if args.blas_threads > 0:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)
    print(f"python {sys.version.split()[0]}, cpus {os.cpu_count()}, load average "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset (all cores)')}")
    sys.stdout.flush()
    whole_process(args)
    sys.stdout.flush()
    in_process(args)


if __name__ == "__main__":
    run_report(main)
