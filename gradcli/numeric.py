"""Central differences: step choice, kinks crossed, and the graph form's numeric gradients.

The step is scaled to the value (h = EPS**(1/3) * max(1, |x|), the choice
that balances truncation against rounding error), and two steps (h, h/2)
give both a Richardson-extrapolated derivative and an estimate of its error.

A finite difference across a kink (relu or abs changing its smooth piece
between the evaluated points) is not a derivative: `KinkWatch` watches the
points a difference evaluates and says when that happened, for scalars and
for every perturbed tensor entry alike (the dense-network check uses the
same `kink_crossed` test on its pre-activations).

Every numeric path returns a `NumericResult`; comparing it with reverse mode
is the check's job (`verdict.compare`).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from gradcli.errors import GradcliError, NonFiniteError
from gradcli.i18n import M, Msg
from gradcli.ops import OPS, Value

EPS = sys.float_info.epsilon

#: Graph form: above this many parameter entries, entries are sampled.
MAX_ENTRIES = 20_000
#: The progress callback is called after this many entries (and at the end).
PROGRESS_EVERY = 200


@dataclass(frozen=True)
class Difference:
    value: float  # Richardson-extrapolated central difference
    error: float  # estimated error of `value`
    step: float  # the larger of the two steps used


@dataclass
class NumericResult:
    """Central-difference gradients of one loss, by parameter name.

    `grads` has NaN where an entry was not computed (sampled or fast mode, or
    every step left the function's domain); `errors` the estimated error per
    entry; `kinks` True where a kink was crossed within the step; `mode` is
    "full", "sampled" (graph form) or "fast" (layer form); `failed_directions`
    the random directions along which the fast-mode check disagreed.
    """

    grads: dict[str, Value] = field(default_factory=dict)
    errors: dict[str, Value] = field(default_factory=dict)
    kinks: dict[str, Value] = field(default_factory=dict)
    notes: list[Msg] = field(default_factory=list)
    mode: str = "full"
    failed_directions: list[Any] = field(default_factory=list)
    #: node evaluations done (graph form): the work, which tests count
    evaluations: int = 0


def step_for(x: float) -> float:
    return EPS ** (1.0 / 3.0) * max(1.0, abs(x))


def central_difference(f: Callable[[float], float], x: float,
                       step: float | None = None, f0: float | None = None) -> Difference:
    """df/dx at x from central differences with steps h and h/2.

    `f0`, the value f(x) when the caller knows it, saves one evaluation (it
    only sizes the rounding-error estimate).
    """
    h = step_for(x) if step is None else step
    try:
        return _richardson(f, x, h, f0)
    except GradcliError:
        # The step left the function's domain (log or sqrt near 0): a step
        # smaller than |x| stays on the same side of 0.
        if step is not None or x == 0.0 or abs(x) / 4.0 >= h:
            raise
        return _richardson(f, x, abs(x) / 4.0, f0)


def _richardson(f: Callable[[float], float], x: float, h: float,
                f0: float | None) -> Difference:
    d1 = (f(x + h) - f(x - h)) / (2.0 * h)
    d2 = (f(x + h / 2) - f(x - h / 2)) / h
    value = (4.0 * d2 - d1) / 3.0
    # |d2 - d1| bounds the O(h^2) term; plus rounding in the differences.
    rounding = EPS * max(abs(f(x) if f0 is None else f0), 1e-300) / h
    return Difference(value, abs(d2 - d1) / 3.0 + rounding, h)


# ------------------------------------------------------------------ kinks ---
def kink_crossed(piece: Callable[..., Value], base: tuple, moved: tuple,
                 axis: int | tuple[int, ...] | None = None) -> Any:
    """Did the smooth piece change between the arguments `base` and `moved`?

    The one test of "a kink crossed inside the finite-difference step" (also
    true when a base element sits exactly at a kink and the step moves it).
    With `axis`, the answer is reduced over those axes only (one flag per
    perturbation in a batched difference); without, over everything.
    """
    changed = piece(*moved) != piece(*base)
    if isinstance(changed, bool):
        return changed
    if axis is None:
        return bool(changed.any())
    return changed.any(axis=axis)


class KinkWatch:
    """Watches the points a finite difference evaluates for kinks crossed.

    `nodes` are the graph nodes whose value the perturbation can change; those
    with a piecewise op are watched.  `seen(values)` is called with the
    values of each evaluated point and remembers whether a kink was crossed
    (`crossed`) and by which ops (`ops`); `reset()` starts a new difference.
    """

    def __init__(self, graph, values: list, nodes: list[int]):
        self.watched = []
        for i in nodes:
            node = graph.nodes[i]
            piece = OPS[node.op].piece if node.op in OPS else None
            if piece is not None:
                self.watched.append((i, node.op, piece, node.args,
                                     tuple(values[a] for a in node.args)))
        self.crossed = False
        self.ops: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self.watched)

    def reset(self) -> None:
        self.crossed = False
        self.ops = set()

    def seen(self, values: list) -> None:
        for _, op, piece, args, base in self.watched:
            if kink_crossed(piece, base, tuple(values[a] for a in args)):
                self.crossed = True
                self.ops.add(op)


# ------------------------------------------------------------- graph form ---
def graph_gradients(graph, values: list, params: dict[str, int], loss: int,
                    progress: Callable[[int, int], None] | None = None,
                    max_entries: int = MAX_ENTRIES) -> NumericResult:
    """Central differences of node `loss` for every parameter entry.

    Only the nodes that depend on the parameter are re-evaluated (found by a
    walk forward from it, and replayed in place: the cost of a parameter is
    the size of what depends on it); each entry's difference is watched for
    kinks.  Above `max_entries` entries in total, a seeded sample of each
    tensor's entries is computed (the others stay NaN).
    """
    from gradcli import engine

    result = NumericResult()
    sizes = {name: _size(values[nid]) for name, nid in params.items()}
    counts = entry_counts(sizes, {name: isinstance(values[nid], float)
                                  for name, nid in params.items()}, max_entries)
    sampled = sum(sizes.values()) > max_entries
    counter = _Counter(progress, sum(counts.values()))
    from gradcli.structure_cache import memo

    plans = memo(graph)  # same-shaped files in a batch share the dependents
    users = None
    replay = engine.Replay(graph, values, loss)
    for name, nid in params.items():
        key = ("dependents", nid, loss)
        dependents = plans.get(key) if plans is not None else None
        if dependents is None:
            if users is None:
                users = graph.consumers(loss)
            dependents = graph.dependents(nid, users) if nid <= loss else []
            if plans is not None:
                plans[key] = dependents
        replay.use(dependents, plans, ("dependents", nid))
        watch = KinkWatch(graph, values, dependents)

        def loss_at(v: Value, nid: int = nid, watch=watch) -> float:
            new = replay({nid: v})
            if watch:
                watch.seen(new)
            return new[loss]

        if isinstance(values[nid], float):
            _scalar_entry(result, name, values[nid], values[loss], loss_at, watch)
            counter.add(1)
        else:
            keep = counts[name] if counts[name] < sizes[name] else None
            _tensor_entries(result, name, values[nid], values[loss], loss_at, watch,
                            counter, keep)
    replay.restore()
    counter.finish()
    result.mode = "sampled" if sampled else "full"
    result.evaluations = replay.evaluations
    return result


def entry_counts(sizes: dict[str, int], scalar: dict[str, bool],
                 max_entries: int = MAX_ENTRIES) -> dict[str, int]:
    """Entries computed per parameter: all of them, or above `max_entries` in total,
    each tensor's share of the limit (scalars are always computed)."""
    total = sum(sizes.values())
    if total <= max_entries:
        return dict(sizes)
    return {name: n if scalar[name] else min(n, max(1, n * max_entries // total))
            for name, n in sizes.items()}


def _size(v: Value) -> int:
    return 1 if isinstance(v, float) else int(v.size)


class _Counter:
    """Progress: `callback(done, total)` every PROGRESS_EVERY entries and at the end."""

    def __init__(self, callback, total: int):
        self.callback, self.total, self.done, self.last = callback, total, 0, 0

    def add(self, n: int) -> None:
        self.done += n
        if self.callback and self.done - self.last >= PROGRESS_EVERY:
            self.last = self.done
            self.callback(self.done, self.total)

    def finish(self) -> None:
        if self.callback and self.last != self.done:
            self.callback(self.done, self.total)


def _scalar_entry(result: NumericResult, name: str, base: float, f0: float, loss_at,
                  watch: KinkWatch) -> None:
    watch.reset()
    try:
        diff = central_difference(loss_at, base, f0=f0)
    except NonFiniteError as exc:  # the point is fine; the FD step is not
        result.grads[name], result.errors[name], result.kinks[name] = float("nan"), 0.0, False
        result.notes.append(M("{name}: numeric skipped, every finite-difference step leaves "
                              "the domain ({reason})", name=name, reason=exc.what))
        return
    result.grads[name], result.errors[name] = diff.value, diff.error
    result.kinks[name] = watch.crossed


def _tensor_entries(result: NumericResult, name: str, base: Any, f0: float, loss_at,
                    watch: KinkWatch, counter: _Counter, keep: int | None) -> None:
    """Every entry of a tensor parameter, or a seeded sample of `keep` of them."""
    import numpy as np

    grad = np.full(base.shape, np.nan)
    err = np.zeros(base.shape)
    kinks = np.zeros(base.shape, dtype=bool)
    indices = list(np.ndindex(base.shape))
    if keep is not None:
        rng = np.random.default_rng(0)
        chosen = np.sort(rng.choice(len(indices), size=keep, replace=False))
        indices = [indices[k] for k in chosen]
        result.notes.append(M("{name}: {count:,} of {total:,} entries sampled (seed 0) and "
                              "checked numerically; the others are not computed (null)",
                              name=name, count=keep, total=int(base.size)))
    skipped = 0
    moved = base.copy()  # one entry at a time is changed, and put back
    with np.errstate(all="ignore"):
        for idx in indices:
            def entry_loss(t: float, idx=idx) -> float:
                moved[idx] = t
                try:
                    return loss_at(moved)
                finally:
                    moved[idx] = base[idx]

            watch.reset()
            try:
                diff = central_difference(entry_loss, float(base[idx]), f0=f0)
            except NonFiniteError:
                skipped += 1  # compared entries skip NaN
                continue
            finally:
                counter.add(1)
            grad[idx], err[idx], kinks[idx] = diff.value, diff.error, watch.crossed
    if skipped:
        result.notes.append(M("{name}: numeric skipped for {count:,} entries, the "
                              "finite-difference step leaves the domain", name=name,
                              count=skipped))
    result.grads[name], result.errors[name], result.kinks[name] = grad, err, kinks
