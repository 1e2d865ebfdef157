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

from gradcli.errors import GradcliError
from gradcli.graph import Graph
from gradcli.i18n import M
from gradcli.spec.common import MAX_PARAMS, ExpectItem, Locations, Spec, unknown
from gradcli.yamlio import KEY, load_file

__all__ = ["load", "Spec", "ExpectItem", "MAX_PARAMS"]


def load(path: str) -> Spec:
    """Read and validate a network definition; build its graph."""
    from gradcli.spec import graph_form, layer_form, options

    loaded = load_file(path)
    data = loaded.data
    form = layer_form if "layers" in data else graph_form
    for key in data:
        if key not in form.KEYS:
            raise GradcliError(unknown(key, form.KEYS, M("section")), loaded.where(key, KEY))
    spec = Spec(path, "layers" if form is layer_form else "graph", Graph(), loaded=loaded,
                locations=Locations(loaded))
    form.build(spec, loaded)
    options.read_options(spec, loaded)
    options.read_expect(spec, loaded)
    return spec
