"""Memory and work budgets: what a file will cost, estimated before it is computed.

A file of seven lines can ask for more than the machine has
(`x: {shape: [40000000, 2]}`), and a graph of 10,000 scalar parameters over
40,000 chained nodes asks for central differences that would run for hours.
Both are refused before anything big is allocated or run, with the estimate
and the file in the message (`LimitError`, exit 2):

- memory: the peak of the forward, backward and numeric passes (inputs,
  activations, their adjoints, the perturbations and results of the numeric
  check) and of the JSON output, from the shapes alone (`layer_memory` for a
  layer net, `graph_memory` for the graph form, with the shapes inferred by
  `infer_shapes` without evaluating anything).  The budget is `--max-memory`
  (default 2G).
- work: the graph form's central differences re-evaluate, for each computed
  parameter entry, every node that depends on that parameter, EVALUATIONS
  times (`numeric_work`, exact, from one pass of per-node parameter bitsets).
  One unit is one float operation; a node evaluation also costs NODE_COST
  units of interpreter overhead.  The budget is MAX_WORK.

The estimates are deliberately on the generous side (an upper bound within a
small factor: bench/bench_budget.py prints them beside the measured peak), so
a file under the budget does not run out of memory.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gradcli.errors import LimitError
from gradcli.i18n import M, Msg

GIB = 1024 ** 3
DEFAULT_MEMORY = 2 * GIB
#: The interpreter with numpy and SymPy loaded.
BASE_MEMORY = 120 * 1024 ** 2
FLOAT = 8
#: Bytes per tensor entry written as nested JSON lists: a Python float and its list
#: slot, the encoder's chunk, and the text itself (measured: ~100).
JSON_ENTRY = 120
#: Bytes of bookkeeping per graph node (the node, value and adjoint slots, labels).
PER_NODE = 1024
#: Evaluations of each dependent node per computed entry (central differences with
#: steps h and h/2).
EVALUATIONS = 4
#: Work units of one node evaluation besides its float operations: a unit is about
#: 1 ns (one float operation of numpy), a scalar node's evaluation about 0.5 µs.
NODE_COST = 500
#: The work budget of a check: about 10 s of central differences (20 million scalar
#: node evaluations).
MAX_WORK = 1e10
#: The layer form's numeric check works on blocks of perturbations of at most this.
NUMERIC_BLOCKS = 64 * 1024 ** 2


@dataclass(frozen=True)
class Budget:
    """What a command allows a file: memory in bytes, work in units (see the module)."""

    memory: int = DEFAULT_MEMORY
    work: float = MAX_WORK
    purpose: str = "check"  # "check": forward, backward and numeric; "train": steps
    full: bool = False  # --full: the layer form's element-by-element numeric check
    json_full: bool = False  # --json-full: tensors in full in the JSON output
    optimizer: str = "sgd"  # train: momentum keeps one copy of the params, adam two


@dataclass
class Estimate:
    """Bytes by part (inputs, forward pass, ...), in the order they are listed."""

    parts: list[tuple[Msg, float]] = field(default_factory=list)

    def add(self, what: Msg, elements: float, size: float = FLOAT) -> None:
        if elements > 0:
            self.parts.append((what, elements * size))

    @property
    def total(self) -> float:
        return BASE_MEMORY + sum(b for _, b in self.parts)

    def check(self, budget: Budget, where: str) -> None:
        """Refuse (LimitError at `where`) when the total is over the memory budget."""
        if self.total <= budget.memory:
            return
        shown = sorted(self.parts, key=lambda p: -p[1])[:4]
        # a list of messages, still lazy: JSON gets it in English, a person translated
        parts = M(", ".join(f"{{p{k}}}" for k in range(len(shown))),
                  **{f"p{k}": M("{part} {size}", part=what, size=size_text(b))
                     for k, (what, b) in enumerate(shown)})
        raise LimitError(M("needs about {total} of memory ({parts}), over the memory budget "
                           "of {budget} (--max-memory)", total=size_text(self.total),
                           parts=parts, budget=size_text(budget.memory)), where)


def size_text(n: float) -> str:
    """Bytes as the --max-memory option writes them: 512M, 2G, 7.8G, 1.2T."""
    for unit, scale in (("T", 1024 ** 4), ("G", GIB), ("M", 1024 ** 2), ("K", 1024)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f}{unit}" if value < 10 else f"{value:,.0f}{unit}"
    return f"{int(n)}B"


# -------------------------------------------------------------- layer form ---
def layer_memory(batch: int, n_in: int, units: list[int], budget: Budget,
                 linear: list[bool] | None = None) -> Estimate:
    """Peak memory of a layer net (batch B, n_in inputs, dense layers of `units`).

    Counted in floats: x and y; the weights; per layer the matmul, the bias sum
    and the activation (B x units each, not the activation for a linear layer),
    and a few loss terms; the same again as adjoints, plus the weights' gradient
    twice (transpose and weight); for `check`, the numeric check's cached
    activations, results and blocks (fast mode: a direction and the moved
    weights), the comparison's temporaries; for `train`, the optimizer state.
    """
    linear = linear or [False] * len(units)
    params, fan_in, widest = 0, n_in, 0
    for n in units:
        params += n * fan_in + n
        widest = max(widest, n * fan_in)
        fan_in = n
    acts = sum(batch * n * (2 if lin else 3) for n, lin in zip(units, linear))
    out = batch * units[-1]
    est = Estimate()
    est.add(M("inputs"), batch * n_in + out + max(batch * n_in, out))  # + drawing
    est.add(M("weights"), params + widest)
    est.add(M("forward pass"), acts + 3 * out)
    est.add(M("backward pass"), acts + 3 * out + 2 * params)
    if budget.purpose == "train":
        state = {"momentum": 1, "adam": 2}.get(budget.optimizer, 0)
        est.add(M("training steps"), (2 + state) * params)
        return est
    from gradcli.dense.numeric import FULL_MODE_MAX_PARAMS

    act_cache = 2 * batch * sum(units)
    if budget.full or params <= FULL_MODE_MAX_PARAMS:
        est.add(M("numeric check"), act_cache + 2.2 * params)
        est.add(M("numeric blocks"), NUMERIC_BLOCKS, 1)
    else:  # fast mode: a direction, the moved weights and their forward pass
        est.add(M("numeric check"), 2 * act_cache + 3.2 * params)
    est.add(M("comparison"), 4 * widest)
    if budget.json_full:
        entries = (batch * n_in + 2 * out + 3 * batch * sum(units) + 4 * params)
        est.add(M("JSON output"), entries, JSON_ENTRY)
    return est


# -------------------------------------------------------------- graph form ---
Shape = tuple  # of ints; () for a scalar


def infer_shapes(graph, bindings: dict[int, Any], upto: int) -> list[Shape | None]:
    """The shape of every node 0..upto from the shapes of the bound values, without
    evaluating anything (None where the shapes do not fit: the forward pass says so)."""
    from gradcli.graph import CONST, VAR
    from gradcli.ops import OPS

    shapes: list[Shape | None] = [None] * (upto + 1)
    for i in range(upto + 1):
        node = graph.nodes[i]
        if node.op == CONST:
            shapes[i] = tuple(getattr(node.value, "shape", ()))
        elif node.op == VAR:
            v = bindings.get(i)
            shapes[i] = tuple(getattr(v, "shape", ())) if v is not None else ()
        else:
            args = [shapes[a] for a in node.args]
            if any(a is None for a in args):
                continue
            shapes[i] = _shape_of(node.op, OPS[node.op].elementwise, args)
    return shapes


def _shape_of(op: str, elementwise: bool, args: list[Shape]) -> Shape | None:
    if op in ("sum", "mean"):
        return ()
    if op == "transpose":
        a = args[0]
        return a[:-2] + (a[-1], a[-2]) if len(a) >= 2 else a
    if op in ("softmax", "log_softmax"):
        return args[0]
    if op == "matmul":
        return _matmul_shape(*args)
    return _broadcast(*args) if elementwise else args[0]


def _broadcast(*shapes: Shape) -> Shape | None:
    """numpy's broadcasting of shapes (None where they do not fit), without numpy: a
    scalar graph never imports it."""
    out: list[int] = []
    for k in range(1, max(map(len, shapes)) + 1):
        sizes = {s[-k] for s in shapes if len(s) >= k} - {1}
        if len(sizes) > 1:
            return None
        out.append(sizes.pop() if sizes else 1)
    return tuple(reversed(out))


def _matmul_shape(a: Shape, b: Shape) -> Shape | None:
    if not a or not b:
        return None
    if len(a) == 1 and len(b) == 1:
        return () if a == b else None
    if len(a) == 1:
        return b[:-2] + b[-1:] if a[0] == b[-2] else None
    if len(b) == 1:
        return a[:-1] if a[-1] == b[0] else None
    if a[-1] != b[-2]:
        return None
    batch = _broadcast(a[:-2], b[:-2])
    return None if batch is None else batch + (a[-2], b[-1])


def _size(shape: Shape | None) -> int:
    return 0 if shape is None else math.prod(shape)


def node_costs(graph, shapes: list[Shape | None]) -> list[float]:
    """Work units of one evaluation of each node: NODE_COST, plus its elements, plus
    the multiply-adds of a matrix product."""
    costs = []
    for i, shape in enumerate(shapes):
        node = graph.nodes[i]
        cost = NODE_COST + _size(shape)
        if node.op == "matmul" and shape is not None:
            inner = shapes[node.args[0]]
            cost += _size(shape) * (inner[-1] if inner else 1)
        costs.append(cost)
    return costs


def graph_memory(graph, shapes: list[Shape | None], params: list[int], named: list[int],
                 budget: Budget) -> Estimate:
    """Peak memory of the graph form: every node's value, its adjoint, the numeric
    check's replayed values and results, and the JSON of the named values."""
    values = sum(_size(s) for s in shapes if s)  # scalars are in PER_NODE
    param_entries = sum(_size(shapes[p]) for p in params if p < len(shapes))
    est = Estimate()
    est.add(M("graph"), len(graph.nodes), PER_NODE)
    est.add(M("forward pass"), values)
    est.add(M("backward pass"), values)
    if budget.purpose == "train":
        est.add(M("training steps"), values + 3 * param_entries)
        return est
    est.add(M("numeric check"), values + 3 * param_entries)
    if budget.json_full:
        entries = sum(_size(shapes[i]) for i in named if i < len(shapes))
        est.add(M("JSON output"), entries + 3 * param_entries, JSON_ENTRY)
    return est


@dataclass
class Work:
    """The central differences of a graph-form check, counted before they are run."""

    units: float  # work units in all
    evaluations: float  # node evaluations in all
    entries: int  # parameter entries differenced

    def check(self, budget: Budget, where: str) -> None:
        if self.units <= budget.work:
            return
        raise LimitError(M("the numeric check would need about {units:.1e} operations "
                           "({evaluations:.1e} node evaluations for {entries:,} parameter "
                           "entries), over the work budget of {budget:.0e}; make the graph "
                           "smaller or use fewer scalar parameters (a tensor parameter is "
                           "sampled)", units=self.units, evaluations=self.evaluations,
                           entries=self.entries, budget=budget.work), where)


def numeric_work(graph, costs: list[float], params: dict[int, int], loss: int) -> Work:
    """Exact work of the graph form's central differences: sum over parameters p of
    entries(p) x EVALUATIONS x (cost of each node that depends on p).

    One pass in node order carries, per node, the set of parameters it depends on
    as a Python int used as a bitset (one bit per parameter); a node's set is
    dropped after its last use.  Parameters with the same number of entries share
    a weight class (at most ~24 classes: counts are rounded up to powers of 2 past
    16 classes, an upper bound), so the cost per node is a few big-int operations.
    `params` maps each parameter's node to its computed entries.
    """
    order = sorted(p for p in params if p <= loss)
    bit = {nid: k for k, nid in enumerate(order)}
    counts = {params[nid] for nid in order}
    rounded = len(counts) > 16
    classes: dict[int, int] = {}
    for nid in order:
        n = params[nid]
        w = 1 << (n - 1).bit_length() if rounded else n
        classes[w] = classes.get(w, 0) | (1 << bit[nid])
    last_use = [0] * (loss + 1)
    nodes = graph.nodes
    for i in range(loss + 1):
        for a in nodes[i].args:
            last_use[a] = i
    sets: list[int] = [0] * (loss + 1)  # a parameter's own set is made when used
    units = evaluations = 0.0
    only_weight = next(iter(classes)) if len(classes) == 1 else None
    for i in range(loss + 1):
        if i in bit:
            continue
        d = 0
        args = nodes[i].args
        for a in args:
            k = bit.get(a)
            d |= sets[a] if k is None else 1 << k
        for a in args:  # after the loop: an argument may be used twice (x*x)
            if last_use[a] == i:
                sets[a] = 0
        if not d:
            continue
        sets[i] = d
        if only_weight is not None:
            weight = only_weight * d.bit_count()
        else:
            weight = sum(w * (d & mask).bit_count() for w, mask in classes.items())
        evaluations += weight
        units += weight * costs[i]
    return Work(units * EVALUATIONS, evaluations * EVALUATIONS,
                sum(params[nid] for nid in order))
