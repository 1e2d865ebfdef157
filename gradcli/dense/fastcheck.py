"""Fast mode of the dense-network finite differences: for nets too big to check
every entry.

* :func:`directional_check`: ``v . grad`` against a Richardson-extrapolated
  central difference of ``t -> L(theta + t v)`` along random Gaussian
  directions v (each direction's seed is recorded).  Cost: 4 forward passes
  per direction (more when a kink is crossed and the step is shrunk).
* :func:`sampled_entries`: randomly sampled single entries of every tensor
  (biases included), each checked with the incremental difference above.
* :func:`localize`: finds the worst elements once a directional check fails,
  without a full scan; see its docstring for the cost.

All of them evaluate the forward function only (the incremental differences
and probes of `gradcli.dense.fdcheck`); none uses backward code.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from gradcli.dense.fdcheck import CBRT_EPS, Grads, Layer, _check_grads, _Net
from gradcli.numeric import central_difference
from gradcli.verdict import agrees, rel_error

#: Default tolerances of the fast-mode checks.
RTOL = 1e-6
#: A directional difference that crosses a kink is retried with steps this
#: many times smaller, up to SHRINKS times, before the direction is reported
#: as crossing a kink.
SHRINK = 10.0
SHRINKS = 3


@dataclass(frozen=True)
class Direction:
    """One directional check: v . grad against the central difference along v."""

    index: int
    seed: int  # random_direction(layers, seed) gives v again
    reverse: float  # v . grad (the supplied gradient)
    numeric: float  # Richardson-extrapolated d/dt L(theta + t v) at t = 0
    rel_error: float
    error: float  # estimated error of `numeric`
    step: float  # the step used (shrunk when a larger one crossed a kink)
    ok: bool
    kink: bool = False  # even the smallest step crossed a kink: not a failure


@dataclass(frozen=True)
class Entry:
    """One gradient element: supplied (reverse) against numeric."""

    tensor: str  # "W2", "b1", ...
    index: tuple[int, ...]
    reverse: float
    numeric: float
    rel_error: float
    ok: bool = True
    kink: bool = False  # the step crossed a kink: a disagreement is not a failure

    @property
    def name(self) -> str:
        return f"{self.tensor}[{', '.join(str(i) for i in self.index)}]"

    @property
    def abs_error(self) -> float:
        return abs(self.reverse - self.numeric)


def random_direction(layers: Sequence[Layer], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The Gaussian direction [(vW1, vb1), ...] of a given seed."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(L.W.shape), rng.standard_normal(L.b.shape)) for L in layers]


def _atol(net: _Net, atol: float | None) -> float:
    # The rounding noise of a central difference is about EPS |L| / h ~ 4e-11 |L|.
    return 1e-9 * max(1.0, abs(net.value)) if atol is None else atol


def directional_check(layers: Sequence[Layer], x, y, loss: str, grads: Grads,
                      n_directions: int = 3, seed: int = 0, rtol: float = RTOL,
                      atol: float | None = None) -> list[Direction]:
    """Compare v . grad with the central difference of L along random directions v.

    Direction d uses ``v = random_direction(layers, seed + d)`` (Gaussian
    entries in every tensor) and step ``h = EPS**(1/3) * max(1, max|theta|)``,
    with Richardson extrapolation from h and h/2.  Cost: 4 forward passes
    per direction.  A direction passes when the two numbers agree by
    `verdict.agrees` (within `rtol`, `atol`, or the difference's error estimate).

    Along a random direction in a wide relu net, some pre-activation often
    changes sign within the step (a kink: the difference is then no
    derivative, and a right gradient would fail).  Such a direction is
    measured again with a step SHRINK times smaller, up to SHRINKS times;
    if even the smallest step crosses a kink, the direction is reported
    with `kink` set and does not fail.  Each retry costs 5 more passes.
    """
    net = _Net(layers, x, y, loss)
    grads = _check_grads(net.layers, grads)
    atol = _atol(net, atol)
    theta_max = max(max(float(np.abs(L.W).max(initial=0)), float(np.abs(L.b).max(initial=0)))
                    for L in net.layers)
    h0 = CBRT_EPS * max(1.0, theta_max)
    out = []
    for d in range(n_directions):
        s = seed + d
        v = random_direction(net.layers, s)
        reverse = float(sum(np.vdot(vW, gW) + np.vdot(vb, gb)
                            for (vW, vb), (gW, gb) in zip(v, grads)))
        h = h0
        for _ in range(SHRINKS + 1):
            net.crossed = False
            diff = central_difference(lambda t: net.loss_along(v, t), 0.0, step=h,
                                      f0=net.value)
            if not net.crossed:
                break
            h /= SHRINK
        ok = bool(agrees(reverse, diff.value, diff.error, rtol, atol))
        out.append(Direction(d, s, reverse, diff.value, rel_error(reverse, diff.value),
                             diff.error, diff.step, ok or net.crossed, kink=net.crossed))
    return out


def _entries(net: _Net, grads, k: int, bias: bool, flat: np.ndarray, rtol: float,
             atol: float) -> list[Entry]:
    numeric, kinks = net.grad_block(k, bias, flat)
    g = grads[k][1 if bias else 0].ravel()
    shape = net.param(k, bias).shape
    name = net.name(k, bias)
    agree = agrees(g[flat], numeric, 0.0, rtol, atol)
    out = []
    for f, n, ok, kink in zip(flat.tolist(), numeric.tolist(), agree.tolist(), kinks.tolist()):
        a = float(g[f])
        idx = tuple(int(i) for i in np.unravel_index(f, shape))
        out.append(Entry(name, idx, a, n, rel_error(a, n), ok or kink, kink))
    return out


def sampled_entries(layers: Sequence[Layer], x, y, loss: str, grads: Grads,
                    per_tensor: int = 8, seed: int = 0, rtol: float = RTOL,
                    atol: float | None = None) -> list[Entry]:
    """Check `per_tensor` randomly chosen entries of every tensor (biases included).

    Each entry is the same incremental central difference as full mode, so the
    cost is tiny: O(per_tensor * B * width of the layers above) per tensor.
    """
    net = _Net(layers, x, y, loss)
    grads = _check_grads(net.layers, grads)
    atol = _atol(net, atol)
    rng = np.random.default_rng(seed)
    out: list[Entry] = []
    for k, bias in net.tensors():
        n = net.param(k, bias).size
        flat = np.sort(rng.choice(n, size=min(per_tensor, n), replace=False))
        out.extend(_entries(net, grads, k, bias, flat, rtol, atol))
    return out


def localize(layers: Sequence[Layer], x, y, loss: str, grads: Grads, worst: int = 5,
             seed: int = 0, rtol: float = RTOL, atol: float | None = None,
             leaf: int = 16, max_probes: int = 400, stats: dict | None = None) -> list[Entry]:
    """The worst wrong gradient elements, found without a full scan.

    1. One directional probe per tensor (v Gaussian on that tensor only,
       zero elsewhere) finds the guilty tensors.
    2. Within a guilty tensor the flat index range is bisected: each half gets
       its own block-restricted probe (``v_S . grad_S`` against the difference
       of L along v_S) and only halves that still disagree are split further,
       largest disagreement first.
    3. Blocks of at most `leaf` elements are checked element by element with
       the incremental central difference of full mode.

    Returns the failing elements (at most `worst`), worst relative error first
    (ties: larger absolute error first); an empty list if every tensor passes.

    Cost: a probe of layer k is 5 forward passes through layers k..L (the
    layers below are cached), so step 1 costs 2L probes; one wrong element in
    a tensor of n entries costs about 2 log2(n / leaf) more probes plus `leaf`
    single-entry differences; m wrong elements cost about m times that.  For
    784-256-10 (n = 200,704 in W1) that is ~30 probes, milliseconds, instead
    of 203,530 entries.  After `max_probes` probes (e.g. when a whole tensor is
    wrong) the remaining suspicious blocks are scanned with the incremental
    differences, which costs at most a full-mode pass over those tensors.
    `stats`, if given, receives {"probes", "entries"} (the counts spent).
    """
    net = _Net(layers, x, y, loss)
    search = _Bisection(net, _check_grads(net.layers, grads), rtol, _atol(net, atol), seed)
    heap: list[tuple[float, int, int, bool, int, int]] = []
    for k, bias in net.tensors():
        n = net.param(k, bias).size
        bad = search.probe(k, bias, 0, n)
        if bad is not None:
            heapq.heappush(heap, (-bad, len(heap), k, bias, 0, n))
    counter = len(heap)
    while heap:
        _, _, k, bias, lo, hi = heapq.heappop(heap)
        if hi - lo <= leaf or search.probes >= max_probes:
            search.scan(k, bias, lo, hi)
            continue
        mid = (lo + hi) // 2
        flagged = False
        for a, b in ((lo, mid), (mid, hi)):
            bad = search.probe(k, bias, a, b)
            if bad is not None:
                flagged = True
                counter += 1
                heapq.heappush(heap, (-bad, counter, k, bias, a, b))
        if not flagged:  # the disagreement is spread too thinly to bisect
            search.scan(k, bias, lo, hi)
    if stats is not None:
        stats.update(probes=search.probes, entries=search.checked)
    found = sorted(search.found, key=lambda e: (-e.rel_error, -e.abs_error))
    return found[:worst]


class _Bisection:
    """The probes and scans of `localize`, with their counts."""

    def __init__(self, net: _Net, grads, rtol: float, atol: float, seed: int):
        self.net, self.grads, self.rtol, self.atol = net, grads, rtol, atol
        self.rng = np.random.default_rng(seed)
        self.probes = self.checked = 0
        self.found: list[Entry] = []

    def probe(self, k: int, bias: bool, lo: int, hi: int) -> float | None:
        """|v_S . g_S - FD| if the block [lo, hi) disagrees, else None."""
        self.probes += 1
        net = self.net
        p = net.param(k, bias)
        flat = p.ravel()
        v = self.rng.standard_normal(hi - lo)
        a = float(np.dot(v, self.grads[k][1 if bias else 0].ravel()[lo:hi]))
        h = CBRT_EPS * max(1.0, float(np.abs(flat[lo:hi]).max()))

        def f(t: float) -> float:
            q = flat.copy()
            q[lo:hi] += t * v
            q = q.reshape(p.shape)
            return net.loss_with(k, b=q) if bias else net.loss_with(k, W=q)

        diff = central_difference(f, 0.0, step=h)
        if agrees(a, diff.value, diff.error, self.rtol, self.atol):
            return None
        return abs(a - diff.value)

    def scan(self, k: int, bias: bool, lo: int, hi: int) -> None:
        """Entry by entry: the failing ones join `found`."""
        self.checked += hi - lo
        size = self.net.block_size(k, bias)
        for start in range(lo, hi, size):
            flat = np.arange(start, min(hi, start + size))
            self.found.extend(e for e in _entries(self.net, self.grads, k, bias, flat,
                                                  self.rtol, self.atol) if not e.ok)
