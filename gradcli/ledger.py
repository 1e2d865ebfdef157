"""The chain-rule ledger of a graph-form check, as a student writes it.

Edges join named values: an edge from `consumer` to `producer` carries the
local derivative ∂consumer/∂producer (every other named value held fixed),
shown symbolically in the file's own names (∂yhat/∂z_out = yhat*(1 - yhat))
and as a number.  For each parameter the ledger lists every path back from
the loss and the product of its factors (summed over paths); when the paths
are too many it shows the backprop recurrence instead: dL/dnode = sum over
consumers of dL/dconsumer · ∂consumer/∂node.

Notation: `d` for totals (what the chain rule adds up), `∂` for a node's
local derivative, so `dL/dw3 = ∂L/∂yhat · ∂yhat/∂z_out · ∂z_out/∂w3`.
Local derivatives print with the variable differentiated first, then the
others in the order the file writes them (`∂L/∂yhat = yhat - y`).
"""
from __future__ import annotations

import time
from typing import Any

from gradcli import engine
from gradcli.report import LedgerFactor, LedgerPath, RecurrenceRow, RecurrenceTerm
from gradcli.spec import Spec

MAX_SYMBOLIC_EDGES = 300  # above this many edges, local derivatives are numbers only
EDGE_BUDGET = 3.0  # seconds for all symbolic edge expressions


def _scalar(v: Any) -> bool:
    return isinstance(v, float)


def graph_names(spec: Spec) -> tuple[str, dict[str, int], dict[str, list[str]]]:
    """The loss's name, name -> node id, and name -> names it uses directly."""
    ids = dict(spec.named)
    root = spec.loss_name
    ids.setdefault(root, spec.loss)
    return root, ids, {n: list(spec.uses.get(n, [])) for n in ids}


def edge_values(spec: Spec, values: list, ids: dict[str, int],
                uses: dict[str, list[str]]) -> dict[tuple[str, str], Any]:
    """d consumer / d producer for every edge, other named values held fixed."""
    from gradcli.structure_cache import memo

    named_ids = set(ids.values())
    shared = memo(spec.graph)  # the plans depend on the names and the graph only
    result = {}
    for consumer, producers in uses.items():
        if not producers:
            continue
        cid = ids[consumer]
        if not _scalar(values[cid]):
            continue
        plan = None
        if shared is not None:
            plan = shared.get(("local-plan", cid))
            if plan is None:
                plan = shared[("local-plan", cid)] = engine.local_plan(spec.graph, cid,
                                                                        named_ids)
        partials = engine.local_partials(spec.graph, values, cid, named_ids, plan)
        for p in producers:
            # an alias (`n0: w`) is the same node: its local derivative is 1
            result[(consumer, p)] = 1.0 if ids[p] == cid else partials.get(ids[p], 0.0)
    return result


def local(consumer: str, producer: str) -> str:
    """The local derivative's symbol: ∂consumer/∂producer."""
    return f"∂{consumer}/∂{producer}"


def total(root: str, name: str) -> str:
    """A total derivative's symbol: droot/dname."""
    return f"d{root}/d{name}"


def _g(value: float, digits: int) -> str:
    """A number with `digits` significant digits, never a negative zero."""
    shown = f"{value + 0.0:.{digits}g}"
    return shown[1:] if shown.startswith("-") and float(shown) == 0 else shown


def reading_order(graph, cid: int, named_ids: dict[int, str]) -> list[str]:
    """The named values a node's expression uses, in the order it reads (pre-order,
    iterative; a named value is a leaf)."""
    order: list[str] = []
    stack, seen = [cid], set()
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        if i != cid and i in named_ids:
            order.append(named_ids[i])
            continue
        stack.extend(reversed(graph.nodes[i].args))
    return order


def _written_order(d, written: list[str], symbolic) -> dict[str, int]:
    """The order a local derivative prints in: the file's, except that a sum starts with
    a positive term where it has one (∂L/∂yhat = yhat - y, as students write it, not
    -y + yhat; ∂L/∂b = a + 2*b stays as written)."""
    order = {name: rank for rank, name in enumerate(written)}
    if not d.is_Add:
        return order
    terms = symbolic.ExpressionPrinter(order)._as_ordered_terms(d)
    if not terms[0].could_extract_minus_sign():
        return order
    first = next((t for t in terms if not t.could_extract_minus_sign()), None)
    if first is None or not first.free_symbols:
        return order
    lead = min((s.name for s in first.free_symbols), key=lambda n: order.get(n, len(order)))
    return {lead: -1, **{n: r for n, r in order.items() if n != lead}}


def edge_expressions(spec: Spec, ids: dict[str, int], uses: dict[str, list[str]],
                     budget: float = EDGE_BUDGET) -> dict[tuple[str, str], tuple]:
    """Local derivatives in the file's names (within a time budget): per edge the text,
    the SymPy expression and the term order it prints in."""
    if sum(len(p) for p in uses.values()) > MAX_SYMBOLIC_EDGES:
        return {}
    from gradcli import symbolic

    named_ids = {nid: name for name, nid in ids.items()}
    out: dict[tuple[str, str], tuple] = {}
    deadline = time.monotonic() + budget
    try:
        with symbolic.time_limit(budget):
            for consumer, producers in uses.items():
                if not producers or time.monotonic() > deadline:
                    continue
                cid = ids[consumer]
                leaves = {nid: symbolic.symbol(name) for nid, name in named_ids.items()
                          if nid != cid}
                expr = symbolic.to_sympy(spec.graph, cid, leaves)
                if type(expr).__name__ == "ndarray":
                    continue
                own = symbolic.symbol(consumer)
                written = reading_order(spec.graph, cid, named_ids)
                for p in producers:
                    if ids[p] == cid:  # an alias (`y: z`) is the same value
                        out[(consumer, p)] = ("1", None, None)
                        continue
                    d = expr.diff(symbolic.symbol(p))
                    if expr.free_symbols and not expr.is_Symbol:
                        d = d.xreplace({expr: own})
                    order = _written_order(d, written, symbolic)
                    out[(consumer, p)] = (symbolic.to_text(d, order), d, order)
    except symbolic.SymbolicTimeout:
        pass  # the texts found so far; the rest are numbers only
    return out


def _edge_texts(spec: Spec, ids: dict[str, int], uses: dict[str, list[str]]) -> dict:
    """edge_expressions, shared by same-shaped files within a batch (structure_cache)."""
    from gradcli import structure_cache

    cache = structure_cache.active()
    if cache is None or sum(len(p) for p in uses.values()) > MAX_SYMBOLIC_EDGES:
        return edge_expressions(spec, ids, uses)
    shared = structure_cache.memo(spec.graph)  # names and uses are the structure's
    texts = shared.get(("edge-texts",)) if shared is not None else None
    if texts is None:
        texts = cache.edge_texts(spec, ids, uses, lambda: edge_expressions(spec, ids, uses))
        if shared is not None:
            shared[("edge-texts",)] = texts
    return texts


def count_paths(root: str, uses: dict[str, list[str]]) -> dict[str, int]:
    """Number of paths root -> each name (exact: Python integers do not overflow)."""
    order = _topological(root, uses)
    count = {name: 0 for name in order}
    count[root] = 1
    for name in order:
        for p in uses.get(name, []):
            if p in count:
                count[p] += count[name]
    return count


def _topological(root: str, uses: dict[str, list[str]]) -> list[str]:
    """Names reachable from root, consumers before producers (iterative DFS)."""
    seen, order, stack = set(), [], [(root, False)]
    while stack:
        name, done = stack.pop()
        if done:
            order.append(name)
            continue
        if name in seen:
            continue
        seen.add(name)
        stack.append((name, True))
        for p in uses.get(name, []):
            if p not in seen:
                stack.append((p, False))
    return order[::-1]


def paths(root: str, target: str, uses: dict[str, list[str]],
          counts: dict[str, int] | None = None,
          consumers: dict[str, list[str]] | None = None,
          limit: int | None = None) -> list[list[str]] | None:
    """Every path root -> ... -> target through `uses`, in the order a walk from the
    root meets them; None when they hold more than `limit` edges in all."""
    return _walk(root, target, uses, counts, consumers, limit)[0]


def _walk(root: str, target: str, uses: dict[str, list[str]],
          counts: dict[str, int] | None, consumers: dict[str, list[str]] | None,
          limit: int | None) -> tuple[list[list[str]] | None, int]:
    """`paths`, and the steps the walk took (at most `limit` + 1 when it gives up).

    The walk goes up from the target through consumers that the root reaches
    (`counts`, from count_paths), so every branch ends at the root and the cost is
    the size of the answer, never of the graph (a walk down from the root would
    also explore every branch that misses the target).
    """
    counts = count_paths(root, uses) if counts is None else counts
    consumers = _consumers(uses) if consumers is None else consumers
    if counts.get(target, 0) == 0:
        return [], 0
    out: list[list[str]] = []
    edges = steps = 0
    up = [target]
    stack = [iter(consumers.get(target, []))]
    while stack:
        if up[-1] == root:
            out.append(up[::-1])
            edges += len(up) - 1
            stack.pop()
            up.pop()
            continue
        nxt = next(stack[-1], None)
        steps += 1
        if nxt is None:
            stack.pop()
            up.pop()
        elif counts.get(nxt, 0):
            up.append(nxt)
            if limit is not None and edges + len(up) - 1 > limit:
                return None, steps  # more than may still be listed
            stack.append(iter(consumers.get(nxt, [])))
    if len(out) > 1:  # the order of a walk down from the root, through `uses` in order
        out.sort(key=lambda path: [uses[a].index(b) for a, b in zip(path, path[1:])])
    return out, steps


def _consumers(uses: dict[str, list[str]]) -> dict[str, list[str]]:
    consumers: dict[str, list[str]] = {}
    for c, producers in uses.items():
        for p in producers:
            consumers.setdefault(p, []).append(c)
    return consumers


#: Steps of the walks listing chain-rule paths, over all parameters: past this, a
#: parameter's paths are counted, not listed (a sum of 2,500 terms would list ~3 million
#: factors).
MAX_LISTED_FACTORS = 20_000


def attach(spec: Spec, values: list, back, report, paths_cap: int = 16,
           symbolic: bool = True) -> None:
    """Fill each ParamResult's chain and the report's recurrence from the check's
    backward pass (the values are the forward pass's); `symbolic=False` leaves the
    local derivatives as numbers only (no SymPy)."""
    root, ids, uses = graph_names(spec)
    scalar = all(_scalar(values[i]) for i in ids.values())
    numbers = edge_values(spec, values, ids, uses) if scalar else {}
    texts = _edge_texts(spec, ids, uses) if scalar and symbolic else {}
    # the check's own backward pass: every value that depends on a parameter
    # has its adjoint (inputs, which do not, are left out of the recurrence)
    adjoint = {n: back.adjoint[i] if i <= spec.loss else None for n, i in ids.items()}
    shape = _Shape(spec.graph, root)
    counts = shape.get(("counts",), lambda: count_paths(root, uses))
    consumers = shape.get(("consumers",), lambda: _consumers(uses))
    budget = MAX_LISTED_FACTORS
    for p in report.params:
        total = counts.get(p.name, 0)
        p.paths_total = total
        if not scalar or total > paths_cap:
            continue
        found, steps = shape.get(
            ("walk", p.name, budget),
            lambda: _walk(root, p.name, uses, counts, consumers, max(budget, 0)))
        budget -= steps  # walks that give up count too: the total stays bounded
        if found is None:  # too long to list: the recurrence still shows every step
            continue
        for path in found:
            factors, product = [], 1.0
            for consumer, producer in zip(path, path[1:]):
                value = numbers.get((consumer, producer), 0.0)
                product *= value
                shown, sym, order = texts.get((consumer, producer), (None, None, None))
                factors.append(LedgerFactor(local(consumer, producer), shown, value,
                                            consumer, producer, sym, order))
            p.chain.append(LedgerPath(path, factors, product))
    inputs = set(spec.inputs)
    order = shape.get(("order",), lambda: _consumers_in_order(root, uses))
    report.recurrence = [row for row in _recurrence(root, order, adjoint, numbers, texts)
                         if row.node not in inputs]
    report.ledger_root = root


class _Shape:
    """What the ledger derives from names alone: computed once per structure
    within a batch (`structure_cache.memo`), else every time."""

    def __init__(self, graph, root: str):
        from gradcli.structure_cache import memo

        self.memo = memo(graph)
        self.root = root

    def get(self, key: tuple, compute):
        if self.memo is None:
            return compute()
        key = ("ledger", self.root) + key
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


def _consumers_in_order(root: str, uses: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """Each name reachable from root (consumers first) with the names that use it."""
    consumers = _consumers(uses)
    return [(name, consumers.get(name, [])) for name in _topological(root, uses)]


def _recurrence(root: str, order: list[tuple[str, list[str]]], adjoint: dict[str, Any],
                numbers: dict, texts: dict) -> list[RecurrenceRow]:
    rows = []
    for name, consumers in order:
        if name == root:
            continue
        terms = []
        for c in consumers:
            if adjoint.get(c) is None:
                continue
            shown, sym, order = texts.get((c, name), (None, None, None))
            terms.append(RecurrenceTerm(c, adjoint.get(c), numbers.get((c, name)), shown,
                                        sym, order))
        rows.append(RecurrenceRow(name, adjoint.get(name), terms))
    return rows


def chain_line(chain: list[LedgerPath], param: str, root: str, digits: int = 4) -> str:
    """dL/dw3 = ∂L/∂yhat · ∂yhat/∂z_out · ∂z_out/∂w3 = (-0.1649)(0.1377)(0.7503) = -0.01704

    (`gradcli.render` typesets the same equation from the same data.)"""
    lhs = total(root, param)
    names = " + ".join(" · ".join(f.edge for f in path.factors) for path in chain)
    total_value = _g(sum(path.product for path in chain), digits)
    if all(len(path.factors) == 1 for path in chain):  # direct edges: nothing to multiply
        if len(chain) == 1:
            return f"{lhs} = {names} = {total_value}"
        nums = " + ".join(_g(path.product, digits) for path in chain)
        return f"{lhs} = {names} = {nums} = {total_value}"
    nums = " + ".join("".join(f"({_g(f.value, digits)})" for f in path.factors)
                      for path in chain)
    return f"{lhs} = {names} = {nums} = {total_value}"
