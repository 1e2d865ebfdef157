"""The layer form: a list of dense layers expanded into graph nodes.

Each dense layer k becomes the named nodes `z{k} = a{k-1} @ transpose(W{k}) + b{k}`
(`weight_layout: out_in`, the default, W of shape [units, inputs] as in
torch.nn.Linear) or `z{k} = a{k-1} @ W{k} + b{k}` (`weight_layout: in_out`,
seed note 002's layout, W of shape [inputs, units]; seeded weights are the
transpose of the out_in draw, so a seed gives the same network either way)
and `a{k} = activation(z{k})`, parsed by the same expression parser, so the
engine, the SymPy path and the explanations are those of the graph form; no
layer holds derivative code.  The activations and losses are the rows of
`gradcli.dense.table` (the loss in its stable form where one exists:
log_softmax for softmax + cross-entropy, softplus for sigmoid + binary
cross-entropy).
"""
from __future__ import annotations

import math
from typing import Any

from gradcli.dense import table
from gradcli.dense.table import Dense, Network
from gradcli.errors import GradcliError, LimitError
from gradcli.i18n import M
from gradcli.parse import parse
from gradcli.spec import budgets
from gradcli.spec.common import MAX_PARAMS, Spec, check_name, section, to_value
from gradcli.yamlio import KEY, Loaded

KEYS = ("inputs", "params", "layers", "loss", "seed", "expect", "tolerance", "lr", "name",
        "description", "weight_layout")
LAYOUTS = ("out_in", "in_out")
DISTRIBUTIONS = ("normal", "uniform", "classes", "zeros", "ones")
LAYER_KEYS = ("units", "activation")
MAX_ELEMENTS = 100_000_000  # any one drawn tensor
#: the random streams of the drawn inputs (weights use [seed, k])
X_STREAM, Y_STREAM = 1000, 1001


def _np():
    import numpy

    return numpy


# ------------------------------------------------------------------ build ---
def build(spec: Spec, loaded: Loaded) -> None:
    seed = _seed(loaded)
    layout = _layout(loaded)
    layers = _layers(loaded)
    loss = table.loss(loaded.data.get("loss"), loaded.where("loss"))
    table.check_output(layers, loss, loaded.where("loss"),
                       lambda k: loaded.where("layers", k - 1))
    x_raw, y_raw = _inputs(loaded)
    shape = x_raw.get("shape") if isinstance(x_raw, dict) else None
    if (isinstance(shape, list) and shape and all(isinstance(n, int) and not isinstance(
            n, bool) and n > 0 for n in shape)):
        _check_param_count(layers, shape[-1], loaded)  # before drawing x
        if math.prod(shape) <= MAX_ELEMENTS:  # else the drawing names its own limit
            budgets.check_layers(spec, math.prod(shape[:-1]), shape[-1], layers)
    x = _batch(_input(x_raw, loaded, ("inputs", "x"), seed, X_STREAM), loaded)
    batch, n_in = x.shape
    _check_param_count(layers, n_in, loaded)
    budgets.check_layers(spec, batch, n_in, layers)
    net = Network(layers, loss.name, seed, batch, n_in, layout)
    spec.layers = net
    y = _targets(y_raw, loaded, net, seed)
    g = spec.graph
    for name, value in (("x", x), ("y", y)):
        spec.locations.add(len(g), ("inputs", name), written=False)
        spec.inputs[name] = spec.named[name] = g.var(name)
        spec.bindings[g.var(name)] = value
    _params(spec, loaded, net, seed)
    _nodes(spec, net)


def _inputs(loaded: Loaded) -> tuple[Any, Any]:
    inputs = section(loaded, "inputs")
    for key in inputs:
        if key not in ("x", "y"):
            raise GradcliError(M("unknown input '{key}': the layer form takes x (a batch, rows "
                                 "are examples) and y (targets)", key=key),
                               loaded.where("inputs", key, KEY))
    for key in ("x", "y"):
        if key not in inputs:
            raise GradcliError(M("missing input '{key}'", key=key), loaded.where("inputs"))
    return inputs["x"], inputs["y"]


def _batch(x: Any, loaded: Loaded) -> Any:
    """x as a batch [examples, features] (one example may leave out the batch axis)."""
    if isinstance(x, float):
        return _np().array([[x]])
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim != 2:
        raise GradcliError(M("x must be a batch [examples, features], got shape {shape}",
                             shape=list(x.shape)), loaded.where("inputs", "x"))
    return x


def _params(spec: Spec, loaded: Loaded, net: Network, seed: int) -> None:
    """W{k} and b{k}: given in `params`, else drawn from the seed."""
    params = section(loaded, "params", required=False)
    expected = net.shapes()
    for name in params:
        check_name(name, loaded, "params", name)
        if name not in expected:
            raise GradcliError(M("unknown parameter '{name}': this network has {known}",
                                 name=name, known=", ".join(expected)),
                               loaded.where("params", name, KEY))
    g = spec.graph
    for k, layer in enumerate(net.layers, start=1):
        for name in (f"W{k}", f"b{k}"):
            shape = expected[name]
            if name in params:
                value = _input(params[name], loaded, ("params", name), seed, k)
                value = _np().atleast_1d(_np().asarray(value, dtype=float))
                if value.shape != shape:
                    raise GradcliError(_shape_message(name, value.shape, shape, net.layout),
                                       loaded.where("params", name))
                spec.locations.add(len(g), ("params", name), written=False)
            else:
                value = initial(name, shape, layer.activation, seed, k, net.layout)
                spec.locations.add(len(g), ("layers", k - 1), written=False)
            nid = g.var(name)
            spec.params[name] = spec.named[name] = nid
            spec.bindings[nid] = value


def _shape_message(name: str, got: tuple, shape: tuple, layout: str = "out_in"):
    if name.startswith("W") and layout == "in_out":
        return M("{name} has shape {got}, expected {shape} ([inputs, units] = [{inputs}, "
                 "{units}] with weight_layout: in_out)", name=name, got=list(got),
                 shape=list(shape), inputs=shape[0], units=shape[1])
    if name.startswith("W"):
        return M("{name} has shape {got}, expected {shape} ([units, inputs] = [{units}, "
                 "{inputs}])", name=name, got=list(got), shape=list(shape), units=shape[0],
                 inputs=shape[1])
    return M("{name} has shape {got}, expected {shape}", name=name, got=list(got),
             shape=list(shape))


def _layout(loaded: Loaded) -> str:
    layout = loaded.data.get("weight_layout", "out_in")
    if layout not in LAYOUTS:
        raise GradcliError(M("weight_layout must be out_in (W is [units, inputs], z = x @ W.T "
                             "+ b) or in_out (W is [inputs, units], z = x @ W + b), got "
                             "{value}", value=repr(layout)), loaded.where("weight_layout"))
    return layout


def _seed(loaded: Loaded) -> int:
    seed = loaded.data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise GradcliError(M("seed must be a non-negative integer"), loaded.where("seed"))
    return seed


def _layers(loaded: Loaded) -> list[Dense]:
    raw = loaded.data["layers"]
    if not isinstance(raw, list) or not raw:
        raise GradcliError(M("'layers' must be a non-empty list of layers such as "
                             "- dense: {units: 3, activation: sigmoid}"), loaded.where("layers"))
    layers = [_layer(entry, i, loaded) for i, entry in enumerate(raw)]
    for i, layer in enumerate(layers[:-1]):
        if not table.ACTIVATIONS[layer.activation].elementwise:
            raise GradcliError(M("layer {k}: {activation} is supported on the last layer only",
                                 k=i + 1, activation=layer.activation), loaded.where("layers", i))
    return layers


def _layer(entry: Any, i: int, loaded: Loaded) -> Dense:
    where = loaded.where("layers", i)
    if not isinstance(entry, dict) or list(entry) != ["dense"]:
        kind = list(entry)[0] if isinstance(entry, dict) and entry else entry
        raise GradcliError(M("layer {k} must be '- dense: {{units: N, activation: A}}' (got "
                             "{kind}; only dense layers are supported)", k=i + 1,
                             kind=repr(kind)), where)
    body = entry["dense"]
    if not isinstance(body, dict):
        raise GradcliError(M("layer {k}: dense needs a mapping {{units: N, activation: A}}",
                             k=i + 1), loaded.where("layers", i, "dense"))
    for key in body:
        if key not in LAYER_KEYS:
            raise GradcliError(M("layer {k}: unknown key '{key}' (known: units, activation)",
                                 k=i + 1, key=key),
                               loaded.where("layers", i, "dense", key, KEY))
    units = body.get("units")
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise GradcliError(M("layer {k}: units must be a positive integer, got {units}",
                             k=i + 1, units=repr(units)),
                           loaded.where("layers", i, "dense", "units") if "units" in body
                           else where)
    act = table.activation(body.get("activation", "linear"),
                           loaded.where("layers", i, "dense", "activation"), layer=i + 1)
    return Dense(units, act.name)


def _check_param_count(layers: list[Dense], n_in: int, loaded: Loaded) -> None:
    total = table.parameter_count([layer.units for layer in layers], n_in)
    if total > MAX_PARAMS:
        raise LimitError(M("network too large: {total:,} parameters (the limit is "
                           "{limit:,})", total=total, limit=MAX_PARAMS), loaded.where("layers"))


def _input(raw: Any, loaded: Loaded, path: tuple, seed: int, stream: int) -> Any:
    """A literal value, or `{shape: [..], distribution: normal}` drawn from the seed."""
    if not isinstance(raw, dict):
        return to_value(raw, loaded.where(*path), f"'{path[-1]}'")
    return _drawn(raw, loaded, path, seed, stream)


def _drawn(raw: dict, loaded: Loaded, path: tuple, seed: int, stream: int,
           classes: int | None = None) -> Any:
    np = _np()
    where = loaded.where(*path)
    for key in raw:
        if key not in ("shape", "distribution", "scale"):
            raise GradcliError(M("unknown key '{key}' in a drawn value (known: shape, "
                                 "distribution, scale)", key=key), loaded.where(*path, key, KEY))
    shape = raw.get("shape")
    if (not isinstance(shape, list) or not shape
            or any(isinstance(n, bool) or not isinstance(n, int) or n <= 0 for n in shape)):
        raise GradcliError(M("shape must be a list of positive integers, e.g. [8, 784]"), where)
    size = math.prod(shape)
    if size > MAX_ELEMENTS:
        raise LimitError(M("drawn value too large: {size:,} elements (the limit is "
                           "{limit:,})", size=size, limit=MAX_ELEMENTS), where)
    dist = raw.get("distribution", "normal")
    if dist not in DISTRIBUTIONS:
        raise GradcliError(M("unknown distribution '{name}' (known: {known})", name=dist,
                             known=", ".join(DISTRIBUTIONS)), where)
    scale = raw.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
        raise GradcliError(M("scale must be a finite number"), where)
    rng = np.random.default_rng([seed, stream])
    if dist == "normal":
        return rng.standard_normal(shape) * float(scale)
    if dist == "uniform":
        return rng.random(shape) * float(scale)
    if dist == "zeros":
        return np.zeros(shape)
    if dist == "ones":
        return np.ones(shape) * float(scale)
    if classes is None:
        raise GradcliError(M("distribution 'classes' is for cross_entropy targets"), where)
    return rng.integers(0, classes, size=shape).astype(float)


def initial(name: str, shape: tuple, activation: str, seed: int, k: int,
            layout: str = "out_in") -> Any:
    """Seeded initial weights: He (normal) for relu, Glorot (uniform) otherwise; b = 0.

    Each tensor has its own stream, numpy's PCG64 seeded with [seed, k], so
    the values do not depend on which other tensors were given explicitly.
    In the in_out layout W is the transpose of the out_in draw: a seed gives
    the same network in either layout.
    """
    np = _np()
    if name.startswith("b"):
        return np.zeros(shape)
    if layout == "in_out":
        return np.ascontiguousarray(initial(name, shape[::-1], activation, seed, k).T)
    fan_out, fan_in = shape
    rng = np.random.default_rng([seed, k])
    if table.ACTIVATIONS[activation].init == "he":
        return rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)


def _targets(raw: Any, loaded: Loaded, net: Network, seed: int) -> Any:
    where = loaded.where("inputs", "y")
    units = net.layers[-1].units
    if isinstance(raw, dict):
        y = _drawn(raw, loaded, ("inputs", "y"), seed, Y_STREAM, classes=units)
    else:
        y = to_value(raw, where, "'y'")
    loss = table.LOSSES[net.loss]
    y = table.targets(y, net.batch, units, loss, where)
    table.check_probabilities(y, loss, where)
    return y


# ------------------------------------------------------------------ nodes ---
def _nodes(spec: Spec, net: Network) -> None:
    """z_k, a_k, yhat and the loss, as expressions over the op table."""
    prev = "x"
    L = len(net.layers)
    for k, layer in enumerate(net.layers, start=1):
        where = ("layers", k - 1)
        weights = f"W{k}" if net.layout == "in_out" else f"transpose(W{k})"
        _node(spec, f"z{k}", f"{prev} @ {weights} + b{k}", [prev, f"W{k}", f"b{k}"], where)
        act = table.ACTIVATIONS[layer.activation]
        if act.op is None:  # the identity: a{k} is z{k}
            spec.named[f"a{k}"] = spec.named[f"z{k}"]
            spec.node_names.append(f"a{k}")
            spec.node_text[f"a{k}"] = f"z{k}"
            spec.uses[f"a{k}"] = [f"z{k}"]
        else:
            _node(spec, f"a{k}", act.template(k), [f"z{k}"], where)
        prev = f"a{k}"
    spec.named["yhat"] = spec.named[f"a{L}"]
    spec.node_text["yhat"] = f"a{L}"
    text = table.LOSSES[net.loss].graph_text(net.layers[-1].activation, L, net.batch)
    _node(spec, "loss", text, ["yhat", "y"] if "yhat" in text else [f"z{L}", "y"], ("loss",))
    spec.loss = spec.named["loss"]
    spec.loss_name = "loss"
    spec.loss_text = text
    spec.graph.labels.setdefault(spec.loss, "loss")


def _node(spec: Spec, name: str, text: str, uses: list[str], where: tuple) -> None:
    def resolve(n: str, col: int) -> int:
        return spec.named[n]

    spec.locations.add(len(spec.graph), where, written=False)
    parsed = parse(text, spec.graph, resolve, where=name)
    spec.named[name] = parsed.root
    spec.graph.labels.setdefault(parsed.root, name)
    spec.node_names.append(name)
    spec.node_text[name] = text
    spec.uses[name] = uses
