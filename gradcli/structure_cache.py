"""Symbolic work once per structure, within one call of `gradcli check`.

A class's submissions are usually the same network with different numbers.
Files whose graphs are equal up to the values of their inputs and
parameters (same names, same expressions and constants, same shapes) share:

- the SymPy gradient: differentiated once with the inputs as symbols too,
  compiled into a flat op list (`symbolic.flat`), then evaluated at each
  file's own point.  The symbolic column is still the SymPy derivative at
  the file's point: where float64 cannot promise SymPy's 30-digit value to
  1e-11 (undefined points, kinks, cancellation), that file is differentiated
  on its own exactly as without the cache (`check.symbolic_now`).
- the ledger's local-derivative texts (they hold names only, no values);
- the YAML itself: a file that differs from an earlier one only in the
  numbers written after its keys is not composed again (`yamltemplate`);
- the parsed expressions (`shared_nodes`) and what is derived from the graph
  alone (`memo`: replay plans, ledger paths, the budget estimate).

The cache lives while a `scope()` is open (the batch runner opens one per
call, and one per worker process); outside a scope every check is computed
from scratch, as before.  `GRADCLI_STRUCTURE_CACHE=0` turns it off (the
benchmarks' same-run baseline).

Time budgets: a structure whose SymPy work runs past `--timeout` gets the
usual "skipped" note; the next file of that structure is then tried on its
own (inputs as numbers), and when that is too slow as well the note is kept
for the rest of the call: the budget is never spent more than twice.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

ENV_SWITCH = "GRADCLI_STRUCTURE_CACHE"
MAX_ENTRIES = 512  # structures remembered (least recently used first out) ...
#: ... and the graph nodes of all of them together, per table (memory: a structure
#: costs about a kilobyte a node with its plans, so each table stays under ~60 MB)
MAX_NODES = 60_000

# what an entry says to do for the next file of its structure
COMPILED = "compiled"  # evaluate the program at the file's point
ALONE = "alone"  # differentiate each file on its own (not compilable, or once too slow)
TRY_ALONE = "try-alone"  # too slow with symbolic inputs: try the next file on its own once
SKIP = "skip"  # too slow both ways: the same note for every file

_active: "StructureCache | None" = None


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip() != "0"


@contextmanager
def scope() -> Iterator["StructureCache | None"]:
    """Share symbolic work between the checks run inside the block."""
    global _active
    if not enabled():
        yield None
        return
    previous, _active = _active, StructureCache()
    try:
        yield _active
    finally:
        _active = previous


def active() -> "StructureCache | None":
    return _active


@dataclass
class Entry:
    state: str
    program: Any = None  # symbolic.flat.Program over the point's entries
    layout: list[tuple[str, tuple[int, ...] | None, int, int]] = field(default_factory=list)
    note: Any = None  # SKIP: the note every file gets


@dataclass
class Stats:
    """Work done, for tests and benchmarks (counting work, not timing it)."""

    structures: int = 0  # symbolic derivations of a structure
    reused: int = 0  # files that reused a structure's program
    alone: int = 0  # files differentiated on their own
    edge_texts: int = 0  # ledger text derivations
    graphs: int = 0  # graph-form expressions parsed
    graphs_reused: int = 0  # files whose expressions were parsed already


class StructureCache:
    def __init__(self) -> None:
        self._entries = Bounded()  # spec_key -> Entry
        self._texts = Bounded()  # the ledger's names and uses -> texts
        self._graphs = Bounded()  # _nodes_key -> GraphTemplate
        self.stats = Stats()
        from gradcli.yamltemplate import Templates

        self.yaml = Templates()  # files that differ only in numbers: YAML composed once

    # ------------------------------------------------------------ gradients
    def gradients(self, spec, budget: float) -> tuple[dict, Any]:
        """d loss / d parameter at the file's point, and the note when skipped
        (what `check.symbolic_now` returns, from the structure's shared work)."""
        from gradcli import check

        key = spec_key(spec)
        entry = self._entries.get(key)
        if entry is None:
            entry, note = _derive(spec, budget)
            self.stats.structures += 1
            size = len(entry.program.code) if entry.program is not None else 0
            self._entries.put(key, entry, spec.loss + 1 + size)
            if entry.state == TRY_ALONE:
                return {}, note
        if entry.state == SKIP:
            return {}, entry.note
        if entry.state == COMPILED:
            values = entry.program.run(_point(spec))
            if all(v is not None for v in values):
                self.stats.reused += 1
                return _assemble(entry.layout, values), None
        self.stats.alone += 1
        grads, note = check.symbolic_now(spec, budget)  # exactly as without the cache
        if entry.state == TRY_ALONE:
            entry.state, entry.note = (SKIP, note) if note is not None else (ALONE, None)
        return grads, note

    # --------------------------------------------------------- ledger texts
    def edge_texts(self, spec, ids: dict[str, int], uses: dict[str, list[str]],
                   compute: Callable[[], dict]) -> dict:
        """The ledger's local-derivative texts, once per structure."""
        key = (_known_graph_key(spec.graph, max(ids.values())), tuple(ids.items()),
               tuple((k, tuple(v)) for k, v in uses.items()))
        texts = self._texts.get(key)
        if texts is None:
            texts = compute()
            self.stats.edge_texts += 1
            self._texts.put(key, texts, max(ids.values()) + 1)
        return texts


def shared_nodes(spec, loaded, build: Callable[[Any, Any], None]) -> None:
    """The graph form's `nodes` and `loss` parsed into the spec's graph, once per
    structure: a file whose expressions, inputs and params are named and written
    as in an earlier file gets a copy of what parsing built then.

    Parsing reads only the names defined so far and the expression texts (the
    key); errors are never remembered, so a file that fails fails as before.
    Nodes are shared between the files' graphs: nothing changes a node after
    parsing.
    """
    cache = _active
    key = _nodes_key(spec, loaded) if cache is not None else None
    if key is None:
        build(spec, loaded)
        return
    template = cache._graphs.get(key)
    if template is not None:
        template.apply(spec)
        cache.stats.graphs_reused += 1
        return
    build(spec, loaded)
    cache.stats.graphs += 1
    cache._graphs.put(key, GraphTemplate.of(spec), len(spec.graph))


def _nodes_key(spec, loaded) -> tuple | None:
    """What parsing the expressions depends on (None: an odd file, parse it)."""
    data = loaded.data
    nodes = data.get("nodes")
    loss = data.get("loss")
    if nodes is not None and not isinstance(nodes, dict):
        return None
    written = []
    for raw in [*(nodes or {}).items(), ("", loss)]:
        name, value = raw
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) \
                or not isinstance(name, str):
            return None
        written.append((name, type(value).__name__, str(value)))
    return tuple(spec.named.items()), len(spec.graph), tuple(written)


@dataclass
class GraphTemplate:
    """What parsing a graph form's expressions added to a spec (see shared_nodes)."""

    nodes: list
    variables: dict
    labels: dict
    named: dict
    node_names: list
    node_text: dict
    uses: dict
    loss: int
    loss_name: str
    loss_text: str
    starts: list
    pieces: list
    #: what later steps derive from the graph alone (numeric's replay plans, the
    #: ledger's paths), shared by every file of the structure; see `memo`
    memo: dict = field(default_factory=dict)

    @classmethod
    def of(cls, spec) -> "GraphTemplate":
        g, where = spec.graph, spec.locations
        template = cls(list(g.nodes), dict(g.variables), dict(g.labels), dict(spec.named),
                       list(spec.node_names), dict(spec.node_text),
                       {k: list(v) for k, v in spec.uses.items()}, spec.loss, spec.loss_name,
                       spec.loss_text, list(where._starts), list(where._pieces))
        template.memo["size"] = len(g.nodes)  # the nodes every file of it has
        g.structure_memo = template.memo
        return template

    def apply(self, spec) -> None:
        g, where = spec.graph, spec.locations
        g.nodes[:] = self.nodes
        g.variables.update(self.variables)
        g.labels.update(self.labels)
        spec.named.update(self.named)
        spec.node_names[:] = self.node_names
        spec.node_text.update(self.node_text)
        spec.uses.update({k: list(v) for k, v in self.uses.items()})
        spec.loss, spec.loss_name, spec.loss_text = self.loss, self.loss_name, self.loss_text
        where._starts[:] = self.starts
        where._pieces[:] = self.pieces
        g.structure_memo = self.memo


def memo(graph) -> dict | None:
    """A dict shared by every graph of the same structure in this call (None when the
    graph was not built through `shared_nodes`): for things derived from the
    nodes alone, keyed by what else they depend on (node ids).  Its "size" is
    the number of nodes the structure has: a node added later (after parsing)
    may differ from file to file, and nothing about it is shared."""
    return getattr(graph, "structure_memo", None)


class Bounded:
    """A table of structures, least recently used first out: at most MAX_ENTRIES of
    them, and at most MAX_NODES graph nodes (each entry's weight) in all."""

    def __init__(self) -> None:
        self._table: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self.weight = 0

    def __len__(self) -> int:
        return len(self._table)

    def get(self, key: tuple) -> Any:
        found = self._table.get(key)
        if found is None:
            return None
        self._table.move_to_end(key)
        return found[0]

    def put(self, key: tuple, value: Any, weight: int) -> None:
        old = self._table.pop(key, None)
        if old is not None:
            self.weight -= old[1]
        self._table[key] = (value, weight)
        self.weight += weight
        while len(self._table) > 1 and (len(self._table) > MAX_ENTRIES
                                         or self.weight > MAX_NODES):
            _, (_, dropped) = self._table.popitem(last=False)
            self.weight -= dropped


# ------------------------------------------------------------------ keys ---
def _const_key(value: Any) -> Any:
    if value is None or isinstance(value, float):
        return value
    return ("array", value.shape, value.tobytes())


def _shape(value: Any) -> tuple[int, ...] | None:
    return None if isinstance(value, float) else tuple(value.shape)


def graph_key(graph, upto: int) -> tuple:
    """The graph's nodes 0..upto by operation, arguments, names and constants
    (columns left out: spacing does not change a graph)."""
    return tuple((n.op, n.args, n.name, _const_key(n.value)) for n in graph.nodes[:upto + 1])


def memo_upto(graph, node: int) -> dict | None:
    """`memo(graph)` for a question about nodes 0..node, when they are all the
    structure's own (None otherwise: compute it for this file alone)."""
    shared = memo(graph)
    return shared if shared is not None and node < shared.get("size", 0) else None


def _known_graph_key(graph, upto: int) -> tuple:
    """graph_key, made once per structure for a graph parsed through shared_nodes."""
    shared = memo_upto(graph, upto)
    if shared is None:
        return graph_key(graph, upto)
    nodes = shared.get(("graph-key", upto))
    if nodes is None:
        nodes = shared[("graph-key", upto)] = graph_key(graph, upto)
    return nodes


def spec_key(spec) -> tuple:
    """Equal for files that differ only in the values of inputs and parameters."""
    leaves = list(spec.inputs.items()) + list(spec.params.items())
    return (_known_graph_key(spec.graph, spec.loss), spec.loss, tuple(spec.inputs.items()),
            tuple(spec.params.items()),
            tuple(_shape(spec.bindings[nid]) for _, nid in leaves))


# ------------------------------------------------------- the shared work ---
def _point(spec) -> list[float]:
    """Inputs then parameters, tensors flattened in C order (the symbols' order)."""
    point: list[float] = []
    for _, nid in list(spec.inputs.items()) + list(spec.params.items()):
        v = spec.bindings[nid]
        if isinstance(v, float):
            point.append(v)
        else:
            point.extend(v.ravel().tolist())
    return point


def _derive(spec, budget: float) -> tuple[Entry, Any]:
    """Differentiate the structure once (inputs as symbols too) and compile it."""
    from gradcli import check
    from gradcli.symbolic import flat

    def work() -> Entry:
        try:
            return _compiled(spec)
        except flat.NotCompilable:
            return Entry(ALONE)

    entry, note = check.symbolic_guarded(budget, work)
    if note is not None:
        return Entry(TRY_ALONE), note
    return entry, None


def _compiled(spec) -> Entry:
    from gradcli import symbolic
    from gradcli.symbolic import flat

    leaves: dict[int, Any] = {}
    symbols: list[Any] = []
    wrt: list[Any] = []
    layout = []
    for kind, table in (("input", spec.inputs), ("param", spec.params)):
        for name, nid in table.items():
            value = spec.bindings[nid]
            if isinstance(value, float):
                sym = symbolic.symbol(name)
                leaves[nid] = sym
                names = [sym]
            else:
                import numpy as np

                grid = np.empty(value.shape, dtype=object)
                for idx in np.ndindex(value.shape):
                    grid[idx] = symbolic.symbol(f"{name}[{','.join(map(str, idx))}]")
                leaves[nid] = grid
                names = list(grid.flat)
            symbols.extend(names)
            if kind == "param":
                layout.append((name, _shape(value), len(wrt), len(wrt) + len(names)))
                wrt.extend(names)
    expr = symbolic.to_sympy(spec.graph, spec.loss, leaves)
    derivatives = [expr.diff(s) for s in wrt]
    return Entry(COMPILED, flat.compile_exprs(derivatives, symbols), layout)


def _assemble(layout, values: list[float]) -> dict:
    grads: dict[str, Any] = {}
    for name, shape, start, stop in layout:
        if shape is None:
            grads[name] = values[start]
        else:
            import numpy as np

            grads[name] = np.array(values[start:stop], dtype=float).reshape(shape)
    return grads
