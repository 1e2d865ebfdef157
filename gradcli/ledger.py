"""The chain-rule ledger of a graph-form check, as a student writes it.

Edges join named values: an edge from `consumer` to `producer` carries the
local derivative d consumer / d producer, shown symbolically in the file's
own names (dyhat/dz_out = yhat*(1 - yhat)) and as a number.  For each
parameter the ledger lists every path back from the loss and the product of
its factors (summed over paths); when the paths are too many it shows the
backprop recurrence instead: dL/dnode = sum over consumers of
dL/dconsumer * dconsumer/dnode.
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
    named_ids = set(ids.values())
    result = {}
    for consumer, producers in uses.items():
        if not producers:
            continue
        cid = ids[consumer]
        if not _scalar(values[cid]):
            continue
        partials = engine.local_partials(spec.graph, values, cid, named_ids)
        for p in producers:
            # an alias (`n0: w`) is the same node: its local derivative is 1
            result[(consumer, p)] = 1.0 if ids[p] == cid else partials.get(ids[p], 0.0)
    return result


def edge_expressions(spec: Spec, ids: dict[str, int], uses: dict[str, list[str]],
                     budget: float = EDGE_BUDGET) -> dict[tuple[str, str], str]:
    """Local derivatives as text in the file's names (within a time budget)."""
    if sum(len(p) for p in uses.values()) > MAX_SYMBOLIC_EDGES:
        return {}
    from gradcli import symbolic

    named_ids = {nid: name for name, nid in ids.items()}
    out: dict[tuple[str, str], str] = {}
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
                for p in producers:
                    if ids[p] == cid:  # an alias (`y: z`) is the same value
                        out[(consumer, p)] = "1"
                        continue
                    d = expr.diff(symbolic.symbol(p))
                    if expr.free_symbols and not expr.is_Symbol:
                        d = d.xreplace({expr: own})
                    out[(consumer, p)] = symbolic.to_text(d)
    except symbolic.SymbolicTimeout:
        pass
    return out


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
    texts = edge_expressions(spec, ids, uses) if scalar and symbolic else {}
    # the check's own backward pass: every value that depends on a parameter
    # has its adjoint (inputs, which do not, are left out of the recurrence)
    adjoint = {n: back.adjoint[i] if i <= spec.loss else None for n, i in ids.items()}
    counts = count_paths(root, uses)
    consumers = _consumers(uses)
    budget = MAX_LISTED_FACTORS
    for p in report.params:
        total = counts.get(p.name, 0)
        p.paths_total = total
        if not scalar or total > paths_cap:
            continue
        found, steps = _walk(root, p.name, uses, counts, consumers, max(budget, 0))
        budget -= steps  # walks that give up count too: the total stays bounded
        if found is None:  # too long to list: the recurrence still shows every step
            continue
        for path in found:
            factors, product = [], 1.0
            for consumer, producer in zip(path, path[1:]):
                value = numbers.get((consumer, producer), 0.0)
                product *= value
                factors.append(LedgerFactor(f"d{consumer}/d{producer}",
                                            texts.get((consumer, producer)), value))
            p.chain.append(LedgerPath(path, factors, product))
    inputs = set(spec.inputs)
    report.recurrence = [row for row in _recurrence(root, uses, adjoint, numbers, texts)
                         if row.node not in inputs]
    report.ledger_root = root


def _recurrence(root: str, uses: dict[str, list[str]], adjoint: dict[str, Any],
                numbers: dict, texts: dict) -> list[RecurrenceRow]:
    consumers = _consumers(uses)
    rows = []
    for name in _topological(root, uses):
        if name == root:
            continue
        terms = [RecurrenceTerm(c, adjoint.get(c), numbers.get((c, name)), texts.get((c, name)))
                 for c in consumers.get(name, []) if adjoint.get(c) is not None]
        rows.append(RecurrenceRow(name, adjoint.get(name), terms))
    return rows


def chain_line(chain: list[LedgerPath], param: str, root: str, digits: int = 4) -> str:
    """dL/dw3 = dL/dyhat · dyhat/dz_out · dz_out/dw3 = (-0.1649)(0.1378)(0.7503) = -0.01704"""
    parts = []
    for path in chain:
        names = " · ".join(f.edge for f in path.factors)
        nums = "".join(f"({f.value:.{digits}g})" for f in path.factors)
        parts.append((names, nums, path.product))
    lhs = f"d{root}/d{param}"
    if len(chain) == 1 and len(chain[0].factors) == 1:  # a direct edge: nothing to chain
        return f"{lhs} = {chain[0].product:.{digits}g}"
    if len(parts) == 1:
        names, nums, prod = parts[0]
        return f"{lhs} = {names} = {nums} = {prod:.{digits}g}"
    names = " + ".join(p[0] for p in parts)
    nums = " + ".join(p[1] for p in parts)
    total = sum(p[2] for p in parts)
    return f"{lhs} = {names} = {nums} = {total:.{digits}g}"
