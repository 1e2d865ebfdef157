"""YAML network definitions -> one expression graph (no derivative code here).

Two forms share everything downstream:
- graph form (`graph_form`): `inputs`, `params`, `nodes` (named expressions,
  in order), `loss`;
- layer form (`layer_form`): `inputs` (x, y), `layers` (dense), `loss` (a
  name), `seed`, optional `params`; layers expand into the named nodes z1, a1,
  ..., yhat, loss built from the same op table.
Both may carry `expect` (hand answers), `tolerance` and `lr` (`options`).
`common` holds the Spec they build and the location map that turns a graph
node back into `file:line:col` for error messages.
"""
from __future__ import annotations

from gradcli import structure_cache
from gradcli.budget import Budget
from gradcli.errors import GradcliError
from gradcli.graph import Graph, GraphTooLarge
from gradcli.i18n import M
from gradcli.spec.common import MAX_PARAMS, ExpectItem, Locations, Spec, unknown
from gradcli.yamlio import KEY, load_file

__all__ = ["load", "Spec", "ExpectItem", "MAX_PARAMS"]


def load(path: str, budget: Budget | None = None) -> Spec:
    """Read and validate a network definition; build its graph.

    `budget` (default: 2G of memory and the work budget of a check) is what the
    file may cost: a file estimated to need more is refused here, naming the
    file and the estimate, before anything big is allocated (`gradcli.budget`).
    """
    from gradcli.spec import budgets, graph_form, layer_form, options

    budget = budget or Budget()
    cache = structure_cache.active()
    loaded = load_file(path, check_prescan=lambda scan: budgets.check_sections(scan, path),
                       templates=cache.yaml if cache is not None else None)
    data = loaded.data
    form = layer_form if "layers" in data else graph_form
    for key in data:
        if key not in form.KEYS:
            raise GradcliError(unknown(key, form.KEYS, M("section")), loaded.where(key, KEY))
    spec = Spec(path, "layers" if form is layer_form else "graph", Graph(), loaded=loaded,
                locations=Locations(loaded), budget=budget)
    try:
        form.build(spec, loaded)
    except GraphTooLarge as exc:  # name the file and the node being built
        exc.where = spec.locations.where(len(spec.graph))
        raise
    options.read_options(spec, loaded)
    options.read_expect(spec, loaded)
    if spec.form == "graph":
        budgets.check_graph(spec, budget)
    return spec
