"""A file's budgets, checked while it loads (the estimates are `gradcli.budget`'s).

- `check_sections`: before the YAML is parsed, a graph-form file defining
  MAX_NODES values or more (its `inputs`, `params` and `nodes` entries,
  counted by the loader's scan) is refused at once, naming the file: 300,000
  named nodes are refused in milliseconds instead of being composed, built
  and then refused as an anonymous "expression".
- `check_layers`: a layer net's peak memory, from the batch and layer sizes,
  before x or any weight is drawn.
- `check_graph`: a built graph's memory (shapes inferred, nothing evaluated)
  and the work of its central differences.
"""
from __future__ import annotations

from typing import Any

from gradcli import budget as estimates
from gradcli.errors import LimitError
from gradcli.graph import MAX_NODES
from gradcli.i18n import M

#: Sections whose entries each make at least one node of a graph-form file.
NODE_SECTIONS = ("inputs", "params", "nodes")


def check_sections(scan, path: str) -> None:
    """Refuse a graph-form file that defines MAX_NODES values or more (YAML not parsed)."""
    if "layers" in scan.sections:
        return
    count = sum(scan.entries.get(key, 0) for key in NODE_SECTIONS)
    if count >= MAX_NODES:
        line = scan.sections.get("nodes", scan.sections.get("params", (1, 0)))[0]
        raise LimitError(M("the file defines {count:,} values (inputs, params and nodes): "
                           "graphs of {limit:,} nodes or more are refused", count=count,
                           limit=MAX_NODES), f"{path}:{line}")


def check_layers(spec, batch: int, n_in: int, layers: list) -> None:
    """Refuse a layer net whose estimated peak memory is over the budget."""
    from gradcli.dense.table import ACTIVATIONS

    budget = spec.budget or estimates.Budget()
    estimate = estimates.layer_memory(batch, n_in, [layer.units for layer in layers], budget,
                                      [ACTIVATIONS[layer.activation].op is None
                                       for layer in layers])
    estimate.check(budget, spec.file)


def check_graph(spec, budget: Any) -> None:
    """Refuse a graph-form file over the memory budget, or (for a check) over the work
    budget of its central differences.

    The estimates depend on the graph and the shapes of its values only: a
    batch's files of one structure (`structure_cache.memo`) that pass with the
    same shapes and budget are estimated once."""
    from gradcli import structure_cache

    shared = structure_cache.memo(spec.graph)
    if shared is None:
        _check_graph(spec, budget)
        return
    key = ("budget", budget, tuple(getattr(spec.bindings[nid], "shape", None)
                                   for nid in [*spec.inputs.values(), *spec.params.values()]),
           spec.loss, tuple(spec.named.values()))
    if key not in shared:
        _check_graph(spec, budget)
        shared[key] = True  # passed (a refusal raised above and is not remembered)


def _check_graph(spec, budget: Any) -> None:
    from gradcli import numeric

    g = spec.graph
    last = max([spec.loss, *spec.named.values()])
    shapes = estimates.infer_shapes(g, spec.bindings, last)
    params = list(spec.params.values())
    estimates.graph_memory(g, shapes, params, list(spec.named.values()), budget) \
        .check(budget, spec.file)
    if budget.purpose != "check":
        return
    sizes = {name: estimates._size(shapes[nid]) for name, nid in spec.params.items()}
    scalar = {name: shapes[nid] == () for name, nid in spec.params.items()}
    counts = numeric.entry_counts(sizes, scalar)
    work = estimates.numeric_work(g, estimates.node_costs(g, shapes),
                                  {spec.params[name]: n for name, n in counts.items()},
                                  spec.loss)
    work.check(budget, spec.file)
