"""Benchmark of the full-mode numeric gradient check (gradcli.dense.fdcheck).

Run:  python bench/bench_fullcheck.py [--repeat N]

Builds a seeded 784-256-10 relu/softmax/cross_entropy net with batch 8, times
numeric_gradients (central differences of every parameter) and compares it
with a hand-written numpy forward+backward of the same net (one pass) and
with naive central differences (two forward_loss calls per parameter,
extrapolated from timing a few hundred parameters).  Then it shows how the
time grows with the parameter count.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from gradcli.dense.fdcheck import EPS, Layer, forward_loss, numeric_gradients, one_hot


def make_net(sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(n_in)  # like torch.nn.Linear's default init
        layers.append(Layer(rng.uniform(-bound, bound, (n_out, n_in)),
                            rng.uniform(-bound, bound, n_out), "relu"))
    layers[-1].activation = "softmax"
    x = rng.uniform(0.0, 1.0, (batch, sizes[0]))
    y = one_hot(rng.integers(0, sizes[-1], batch), sizes[-1])
    return layers, x, y


def backprop(layers, x, y):
    """Hand-written forward + backward for relu hidden layers, softmax + cross-entropy."""
    acts, zs = [x], []
    for L in layers:
        z = acts[-1] @ L.W.T + L.b
        zs.append(z)
        if L.activation == "relu":
            acts.append(np.maximum(z, 0.0))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            acts.append(e / e.sum(axis=1, keepdims=True))
    dz = (acts[-1] - y) / x.shape[0]
    grads = [None] * len(layers)
    for k in range(len(layers) - 1, -1, -1):
        grads[k] = (dz.T @ acts[k], dz.sum(axis=0))
        if k:
            dz = (dz @ layers[k].W) * (zs[k - 1] > 0)
    return grads


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def naive_time_per_param(layers, x, y, count=200, seed=1):
    """Seconds per parameter of naive central differences, timed on `count` entries."""
    rng = np.random.default_rng(seed)
    picks = []
    for k, L in enumerate(layers):  # entries from every tensor, in proportion to size
        for p in (L.W, L.b):
            n = max(1, round(count * p.size / sum(M.W.size + M.b.size for M in layers)))
            picks += [(p, int(i)) for i in rng.choice(p.size, size=min(n, p.size), replace=False)]
    t0 = time.perf_counter()
    for p, i in picks:
        flat = p.reshape(-1)
        old = flat[i]
        h = EPS ** (1 / 3) * max(1.0, abs(old))
        flat[i] = old + h
        up = forward_loss(layers, x, y, "cross_entropy")
        flat[i] = old - h
        down = forward_loss(layers, x, y, "cross_entropy")
        flat[i] = old
        _ = (up - down) / (2 * h)
    return (time.perf_counter() - t0) / len(picks)


def errors(num, ana, floor=1e-4):
    """(max entrywise rel err over entries with |g| > floor, max abs err, max normwise rel err).

    A central difference has an absolute rounding floor of about EPS |L| / h
    (~4e-11 here), so entrywise relative errors only mean something for
    entries well above it.
    """
    rel = absolute = norm = 0.0
    for pair_n, pair_a in zip(num, ana):
        for n, a in zip(pair_n, pair_a):
            d = np.abs(n - a)
            scale = np.maximum(np.abs(n), np.abs(a))
            big = scale > floor
            if big.any():
                rel = max(rel, float((d[big] / scale[big]).max()))
            absolute = max(absolute, float(d.max()))
            norm = max(norm, float(np.linalg.norm(n - a) / max(np.linalg.norm(a), 1e-300)))
    return rel, absolute, norm


def n_params(layers):
    return sum(L.W.size + L.b.size for L in layers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="timing repeats (best is shown)")
    args = ap.parse_args()

    sizes, batch = (784, 256, 10), 8
    layers, x, y = make_net(sizes, batch)
    name = "-".join(map(str, sizes))
    P = n_params(layers)

    t_full, num = best_time(lambda: numeric_gradients(layers, x, y, "cross_entropy"), args.repeat)
    t_bp, ana = best_time(lambda: backprop(layers, x, y), max(args.repeat, 20))
    rel, absolute, norm = errors(num, ana)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"(numpy {np.__version__}, {os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS={threads}, "
          f"load average {os.getloadavg()[0]:.1f}; best of {args.repeat})")
    if os.getloadavg()[0] > (os.cpu_count() or 1) and threads != "1":
        print("  note: the machine is busy; a multithreaded BLAS then makes every matmul "
              "slow (the backprop baseline, naive differences, deeper nets): "
              "try OPENBLAS_NUM_THREADS=1")
    print(f"full check {name} B={batch}: {t_full:.2f} s ({P:,} params), "
          f"max rel err vs backprop {rel:.1e} (entries |g| > 1e-4; "
          f"max abs err {absolute:.1e}, normwise {norm:.1e})")
    print(f"  one hand-written numpy forward+backward: {t_bp * 1e3:.3f} ms "
          f"-> full check costs {t_full / t_bp:,.0f} backprop passes")
    t_naive = naive_time_per_param(layers, x, y)
    print(f"  naive central differences: {t_naive * 1e6:.0f} us/param (timed on ~200 params) "
          f"-> {t_naive * P:.1f} s extrapolated, {t_naive * P / t_full:.0f}x slower than full check")

    print("growth with parameter count (relu/softmax/cross_entropy, B=8):")
    for sizes in [(100, 90, 10), (784, 125, 10), (784, 1270, 10), (784, 256, 128, 10)]:
        layers, x, y = make_net(sizes, batch, seed=1)
        P = n_params(layers)
        t, _ = best_time(lambda: numeric_gradients(layers, x, y, "cross_entropy"),
                         1 if P > 500_000 else args.repeat)
        print(f"  {'-'.join(map(str, sizes)):>16}: {P:>9,} params  {t:7.3f} s  "
              f"{t / P * 1e6:6.2f} us/param")


if __name__ == "__main__":
    main()
