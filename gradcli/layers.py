"""The layer form: a list of dense layers expanded into graph nodes.

Each dense layer k becomes the named nodes `z{k} = a{k-1} @ transpose(W{k}) + b{k}`
and `a{k} = activation(z{k})`, parsed by the same expression parser, so the
engine, the SymPy path and the explanations are those of the graph form; no
layer holds derivative code.  The loss is an expression too, in its stable
form where one exists (log_softmax for softmax + cross-entropy, softplus for
sigmoid + binary cross-entropy).

Only the numeric side differs: central differences of a dense network are
evaluated incrementally by `mlpcheck` (a true finite difference of the same
forward function, independent of the backward pass).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gradcli.errors import GradcliError, LimitError
from gradcli.parse import parse
from gradcli.spec import MAX_PARAMS, Spec, check_name, section, to_value
from gradcli.yamlio import KEY, Loaded

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "softmax")
LOSSES = ("squared_error", "half_squared_error", "mse", "binary_cross_entropy",
          "cross_entropy")
DISTRIBUTIONS = ("normal", "uniform", "classes", "zeros", "ones")
LAYER_KEYS = ("units", "activation")
#: Above this many parameters the numeric check runs in fast mode (unless --full).
FULL_MODE_MAX_PARAMS = 1_000_000
MAX_ELEMENTS = 100_000_000  # any one drawn tensor


@dataclass
class Dense:
    units: int
    activation: str


@dataclass
class Network:
    layers: list[Dense]
    loss: str
    seed: int
    batch: int
    n_in: int


# ------------------------------------------------------------------ build ---
def build(spec: Spec, loaded: Loaded) -> None:
    seed = _seed(loaded)
    layers = _layers(loaded)
    loss = loaded.data.get("loss")
    if not isinstance(loss, str) or loss not in LOSSES:
        raise GradcliError(f"unknown loss '{loss}'; known losses: {', '.join(LOSSES)}",
                           loaded.where("loss"))
    inputs = section(loaded, "inputs")
    for key in inputs:
        if key not in ("x", "y"):
            raise GradcliError(f"unknown input '{key}': the layer form takes x (a batch, "
                               f"rows are examples) and y (targets)",
                               loaded.where("inputs", key, KEY))
    for key in ("x", "y"):
        if key not in inputs:
            raise GradcliError(f"missing input '{key}'", loaded.where("inputs"))
    shape = inputs["x"].get("shape") if isinstance(inputs["x"], dict) else None
    if (isinstance(shape, list) and shape and not isinstance(shape[-1], bool)
            and isinstance(shape[-1], int) and shape[-1] > 0):
        _check_param_count(layers, shape[-1], loaded)  # before drawing x
    x = _input(inputs["x"], loaded, ("inputs", "x"), seed, 1000)
    if isinstance(x, float):
        x = _np().array([[x]])
    elif x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2:
        raise GradcliError(f"x must be a batch [examples, features], got shape "
                           f"{list(x.shape)}", loaded.where("inputs", "x"))
    batch, n_in = x.shape
    _check_param_count(layers, n_in, loaded)
    net = Network(layers, loss, seed, batch, n_in)
    spec.layers = net
    y = _targets(inputs["y"], loaded, net, seed)
    g = spec.graph
    for name, value in (("x", x), ("y", y)):
        spec.inputs[name] = spec.named[name] = g.var(name)
        spec.bindings[g.var(name)] = value
    params = section(loaded, "params", required=False)
    expected = {}
    fan_in = n_in
    for k, layer in enumerate(layers, start=1):
        expected[f"W{k}"] = (layer.units, fan_in)
        expected[f"b{k}"] = (layer.units,)
        fan_in = layer.units
    for name in params:
        check_name(name, loaded, "params", name)
        if name not in expected:
            raise GradcliError(f"unknown parameter '{name}': this network has "
                               f"{', '.join(expected)}", loaded.where("params", name, KEY))
    fan_in = n_in
    for k, layer in enumerate(layers, start=1):
        for name in (f"W{k}", f"b{k}"):
            shape = expected[name]
            if name in params:
                value = _input(params[name], loaded, ("params", name), seed, k)
                value = _np().atleast_1d(_np().asarray(value, dtype=float))
                if value.shape != shape:
                    raise GradcliError(f"{name} has shape {list(value.shape)}, expected "
                                       f"{list(shape)} ([units, inputs] = [{shape[0]}, "
                                       f"{fan_in}])" if name.startswith("W") else
                                       f"{name} has shape {list(value.shape)}, expected "
                                       f"{list(shape)}", loaded.where("params", name))
            else:
                value = initial(name, shape, layer.activation, seed, k)
            nid = g.var(name)
            spec.params[name] = spec.named[name] = nid
            spec.bindings[nid] = value
        fan_in = layer.units
    _nodes(spec, net)


def _np():
    import numpy

    return numpy


def _seed(loaded: Loaded) -> int:
    seed = loaded.data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise GradcliError("seed must be a non-negative integer", loaded.where("seed"))
    return seed


def _layers(loaded: Loaded) -> list[Dense]:
    raw = loaded.data["layers"]
    if not isinstance(raw, list) or not raw:
        raise GradcliError("'layers' must be a non-empty list of layers such as "
                           "- dense: {units: 3, activation: sigmoid}", loaded.where("layers"))
    layers = []
    for i, entry in enumerate(raw):
        where = loaded.where("layers", i)
        if not isinstance(entry, dict) or list(entry) != ["dense"]:
            kind = list(entry)[0] if isinstance(entry, dict) and entry else entry
            raise GradcliError(f"layer {i + 1} must be '- dense: {{units: N, activation: A}}'"
                               f" (got {kind!r}; only dense layers are supported)", where)
        body = entry["dense"]
        if not isinstance(body, dict):
            raise GradcliError(f"layer {i + 1}: dense needs a mapping {{units: N, "
                               f"activation: A}}", loaded.where("layers", i, "dense"))
        for key in body:
            if key not in LAYER_KEYS:
                raise GradcliError(f"layer {i + 1}: unknown key '{key}' (known: units, "
                                   f"activation)", loaded.where("layers", i, "dense", key, KEY))
        units = body.get("units")
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise GradcliError(f"layer {i + 1}: units must be a positive integer, got "
                               f"{units!r}", loaded.where("layers", i, "dense", "units")
                               if "units" in body else where)
        act = body.get("activation", "linear")
        if act not in ACTIVATIONS:
            raise GradcliError(f"layer {i + 1}: unknown activation '{act}'; known "
                               f"activations: {', '.join(ACTIVATIONS)}",
                               loaded.where("layers", i, "dense", "activation"))
        layers.append(Dense(units, act))
    for i, layer in enumerate(layers[:-1]):
        if layer.activation == "softmax":
            raise GradcliError(f"layer {i + 1}: softmax is supported on the last layer only",
                               loaded.where("layers", i))
    return layers


def _check_param_count(layers: list[Dense], n_in: int, loaded: Loaded) -> None:
    total, fan_in = 0, n_in
    for layer in layers:
        total += layer.units * fan_in + layer.units
        fan_in = layer.units
    if total > MAX_PARAMS:
        raise LimitError(f"network too large: {total:,} parameters (the limit is "
                         f"{MAX_PARAMS:,})", loaded.where("layers"))


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
            raise GradcliError(f"unknown key '{key}' in a drawn value (known: shape, "
                               f"distribution, scale)", loaded.where(*path, key, KEY))
    shape = raw.get("shape")
    if (not isinstance(shape, list) or not shape
            or any(isinstance(n, bool) or not isinstance(n, int) or n <= 0 for n in shape)):
        raise GradcliError("shape must be a list of positive integers, e.g. [8, 784]", where)
    size = math.prod(shape)
    if size > MAX_ELEMENTS:
        raise LimitError(f"drawn value too large: {size:,} elements (the limit is "
                         f"{MAX_ELEMENTS:,})", where)
    dist = raw.get("distribution", "normal")
    if dist not in DISTRIBUTIONS:
        raise GradcliError(f"unknown distribution '{dist}' (known: "
                           f"{', '.join(DISTRIBUTIONS)})", where)
    scale = raw.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
        raise GradcliError("scale must be a finite number", where)
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
        raise GradcliError("distribution 'classes' is for cross_entropy targets", where)
    return rng.integers(0, classes, size=shape).astype(float)


def initial(name: str, shape: tuple, activation: str, seed: int, k: int) -> Any:
    """Seeded initial weights: He (normal) for relu, Glorot (uniform) otherwise; b = 0.

    Each tensor has its own stream, numpy's PCG64 seeded with [seed, k], so
    the values do not depend on which other tensors were given explicitly.
    """
    np = _np()
    if name.startswith("b"):
        return np.zeros(shape)
    fan_out, fan_in = shape
    rng = np.random.default_rng([seed, k])
    if activation == "relu":
        return rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)


def _targets(raw: Any, loaded: Loaded, net: Network, seed: int) -> Any:
    np = _np()
    where = loaded.where("inputs", "y")
    out_units = net.layers[-1].units
    if isinstance(raw, dict):
        y = _drawn(raw, loaded, ("inputs", "y"), seed, 1001, classes=out_units)
    else:
        y = to_value(raw, where, "'y'")
    y = np.atleast_1d(np.asarray(y, dtype=float))
    one_hot_row = (net.batch == 1 and y.ndim == 1 and y.size == out_units > 1
                   and set(y.tolist()) <= {0.0, 1.0} and y.sum() == 1)
    if net.loss == "cross_entropy" and y.ndim == 1 and not one_hot_row:
        if y.shape[0] != net.batch:
            raise GradcliError(f"y has {y.shape[0]} class indices for a batch of {net.batch}",
                               where)
        if (y != np.round(y)).any():
            raise GradcliError("class indices must be integers", where)
        bad = [int(c) for c in y if c < 0 or c >= out_units]
        if bad:
            raise GradcliError(f"class index {bad[0]} out of range for {out_units} output "
                               f"units (0 to {out_units - 1})", where)
        onehot = np.zeros((net.batch, out_units))
        onehot[np.arange(net.batch), y.astype(int)] = 1.0
        return onehot
    if y.ndim == 1 and y.size == net.batch * out_units:
        y = y.reshape(net.batch, out_units)
    if y.shape != (net.batch, out_units):
        raise GradcliError(f"y has shape {list(y.shape)}, but the output is "
                           f"[{net.batch}, {out_units}] (batch, units of the last layer)",
                           where)
    if net.loss in ("binary_cross_entropy", "cross_entropy") and ((y < 0) | (y > 1)).any():
        raise GradcliError(f"{net.loss} targets must lie in [0, 1]", where)
    return y


def _nodes(spec: Spec, net: Network) -> None:
    """z_k, a_k, yhat and the loss, as expressions over the op table."""
    g = spec.graph
    prev = "x"
    L = len(net.layers)
    for k, layer in enumerate(net.layers, start=1):
        _node(spec, f"z{k}", f"{prev} @ transpose(W{k}) + b{k}", [prev, f"W{k}", f"b{k}"])
        if layer.activation == "linear":
            spec.named[f"a{k}"] = spec.named[f"z{k}"]
            spec.node_names.append(f"a{k}")
            spec.node_text[f"a{k}"] = f"z{k}"
            spec.uses[f"a{k}"] = [f"z{k}"]
        else:
            _node(spec, f"a{k}", f"{layer.activation}(z{k})", [f"z{k}"])
        prev = f"a{k}"
    spec.named["yhat"] = spec.named[f"a{L}"]
    spec.node_text["yhat"] = f"a{L}"
    last = net.layers[-1].activation
    B = net.batch
    text = {
        "squared_error": f"sum((yhat - y)**2)/{B}",
        "half_squared_error": f"0.5*sum((yhat - y)**2)/{B}",
        "mse": "mean((yhat - y)**2)",
        "binary_cross_entropy": (f"sum(softplus(z{L}) - y*z{L})/{B}" if last == "sigmoid"
                                 else f"-sum(y*log(yhat) + (1 - y)*log(1 - yhat))/{B}"),
        "cross_entropy": (f"-sum(y*log_softmax(z{L}))/{B}" if last == "softmax"
                          else f"-sum(y*log(yhat))/{B}"),
    }[net.loss]
    _node(spec, "loss", text, ["yhat", "y"] if "yhat" in text else [f"z{L}", "y"])
    spec.loss = spec.named["loss"]
    spec.loss_name = "loss"
    spec.loss_text = text
    g.labels.setdefault(spec.loss, "loss")


def _node(spec: Spec, name: str, text: str, uses: list[str]) -> None:
    def resolve(n: str, col: int) -> int:
        return spec.named[n]

    parsed = parse(text, spec.graph, resolve, where=name)
    spec.named[name] = parsed.root
    spec.graph.labels.setdefault(parsed.root, name)
    spec.node_names.append(name)
    spec.node_text[name] = text
    spec.uses[name] = uses


# ---------------------------------------------------------------- numeric ---
def mlp_layers(spec: Spec) -> list:
    from gradcli import mlpcheck

    net: Network = spec.layers
    return [mlpcheck.Layer(spec.bindings[spec.params[f"W{k}"]],
                           spec.bindings[spec.params[f"b{k}"]], layer.activation)
            for k, layer in enumerate(net.layers, start=1)]


def numeric_gradients(spec: Spec, back, rtol: float, atol: float, full: bool,
                      progress) -> tuple[dict, dict, dict, list]:
    """Full element-by-element central differences, or fast mode for big nets."""
    from gradcli import mlpcheck

    np = _np()
    net: Network = spec.layers
    layers = mlp_layers(spec)
    x, y = spec.bindings[spec.inputs["x"]], spec.bindings[spec.inputs["y"]]
    count = sum(L.W.size + L.b.size for L in layers)
    grads, errors, kinks, notes = {}, {}, {}, []
    if full or count <= FULL_MODE_MAX_PARAMS:
        numeric = mlpcheck.numeric_gradients(layers, x, y, net.loss, progress=progress)
        for k, (dW, db) in enumerate(numeric, start=1):
            grads[f"W{k}"], grads[f"b{k}"] = dW, db
        spec_mode = "full"
    else:
        spec_mode = "fast"
        reverse = [(back.adjoint[spec.params[f"W{k}"]], back.adjoint[spec.params[f"b{k}"]])
                   for k in range(1, len(layers) + 1)]
        for k, L in enumerate(layers, start=1):
            grads[f"W{k}"] = np.full(L.W.shape, np.nan)
            grads[f"b{k}"] = np.full(L.b.shape, np.nan)
        directions = mlpcheck.directional_check(layers, x, y, net.loss, reverse, seed=net.seed)
        entries = mlpcheck.sampled_entries(layers, x, y, net.loss, reverse, seed=net.seed)
        failed = [d for d in directions if not d.ok]
        if failed:
            entries += mlpcheck.localize(layers, x, y, net.loss, reverse, seed=net.seed)
        for e in entries:
            grads[e.tensor][e.index] = e.numeric
        notes.append(f"fast mode ({count:,} parameters > {FULL_MODE_MAX_PARAMS:,}; --full "
                     f"forces the full check): {len(directions)} random directions (seeds "
                     f"{', '.join(str(d.seed) for d in directions)}) and "
                     f"{len(entries)} sampled entries")
        for d in directions:
            notes.append(f"direction seed {d.seed}: v·grad {d.reverse:.10g}, numeric "
                         f"{d.numeric:.10g}, rel error {d.rel_error:.1e} "
                         f"{'ok' if d.ok else 'FAIL'}")
        if failed:
            notes.append("directional check failed; worst elements: " + ", ".join(
                f"{e.name} (reverse {e.reverse:.6g}, numeric {e.numeric:.6g}, rel error "
                f"{e.rel_error:.1e})" for e in entries[-5:]))
            # a failed direction fails the check even if no sampled entry shows it
            first = failed[0]
            grads["__directional__"] = (first.reverse, first.numeric)
    for name in spec.params:
        errors[name] = 0.0
        kinks[name] = False
    spec.numeric_mode = spec_mode
    if "__directional__" in grads:
        rev, num = grads.pop("__directional__")
        notes.append(f"gradient check FAILED along a random direction ({rev:.6g} vs {num:.6g})")
        spec.directional_failed = True
    return grads, errors, kinks, notes


# ----------------------------------------------------------------- ledger ---
def attach_ledger(spec: Spec, values: list, back, report) -> None:
    """Per layer from the top: delta_k = dL/dz_k, how it is obtained, dW_k, db_k."""
    np = _np()
    net: Network = spec.layers
    L = len(net.layers)
    back_all = back.adjoint
    rows, flow = [], []
    for k in range(L, 0, -1):
        act = net.layers[k - 1].activation
        delta = back_all[spec.named[f"z{k}"]]
        if k == L and ((act == "softmax" and net.loss == "cross_entropy")
                       or (act == "sigmoid" and net.loss == "binary_cross_entropy")):
            how = "(yhat - y)/B"
            formula = (values[spec.named["yhat"]] - values[spec.inputs["y"]]) / net.batch
        elif k == L:
            how = "dL/da_L ⊙ " + _derivative_text(act, k) if act != "linear" else "dL/dyhat"
            formula = None
        else:
            how = f"(delta_{k + 1} @ W{k + 1}) ⊙ {_derivative_text(act, k)}" \
                if act != "linear" else f"delta_{k + 1} @ W{k + 1}"
            formula = None
        row = {"layer": k, "how": how, "delta": delta, "delta_shape": list(np.shape(delta)),
               "dW": back.adjoint[spec.params[f"W{k}"]], "db": back.adjoint[spec.params[f"b{k}"]],
               "dW_shape": list(spec.bindings[spec.params[f"W{k}"]].shape),
               "dW_how": f"delta_{k}ᵀ @ a_{k - 1}" if k > 1 else "delta_1ᵀ @ x",
               "db_how": f"Σ_batch delta_{k}"}
        if formula is not None:
            row["formula_max_diff"] = float(np.abs(formula - delta).max())
        rows.append(row)
        da = back_all[spec.named[f"a{k}"]] if k < L else None
        if da is not None:
            flow.append({"layer": k, "norm": float(np.linalg.norm(da))})
    report.extra["layers"] = rows
    report.extra["gradient_flow"] = flow
    report.extra["mode"] = spec.numeric_mode
    lines = []
    for a, b in zip(flow, flow[1:]):
        if a["norm"] > 0 and b["norm"] > 0:
            ratio = b["norm"] / a["norm"]
            if ratio < 1e-3:
                lines.append(f"warning: dL/da shrinks {1 / ratio:.1e}× from layer {a['layer']} "
                             f"to layer {b['layer']} (vanishing gradient)")
            elif ratio > 1e3:
                lines.append(f"warning: dL/da grows {ratio:.1e}× from layer {a['layer']} "
                             f"to layer {b['layer']} (exploding gradient)")
    report.extra["flow_lines"] = [f"‖dL/da_{f['layer']}‖ = {f['norm']:.4g}" for f in flow] + lines
    if spec.directional_failed:
        for p in report.params:
            p.ok = False
            p.attribution = p.attribution or "directional check failed (see notes)"


def _derivative_text(act: str, k: int) -> str:
    return {"sigmoid": f"a{k}*(1 - a{k})", "tanh": f"(1 - a{k}**2)",
            "relu": f"(z{k} > 0)", "softmax": f"softmax'(z{k})"}.get(act, "1")
