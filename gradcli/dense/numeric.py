"""The layer form's numeric gradients, full (`fdcheck`) or fast (`fastcheck`): a NumericResult.

Up to FULL_MODE_MAX_PARAMS parameters every entry gets its incremental
central difference (full mode); above, fast mode compares v·grad along random
directions, samples entries of every tensor, and localises the worst entries
when a direction fails.  Kinks crossed within a step are reported per entry
(and, in the notes, by layer and unit).  Comparing with reverse mode is the
check's job.
"""
from __future__ import annotations

from typing import Any

from gradcli.i18n import M
from gradcli.numeric import NumericResult

#: Above this many parameters the numeric check runs in fast mode (unless --full).
FULL_MODE_MAX_PARAMS = 1_000_000


def fd_layers(spec) -> list:
    """The spec's network as fdcheck layers (sharing the spec's arrays).  fdcheck works
    in the out_in layout; an in_out file's W{k} is given to it transposed (a copy)."""
    import numpy as np

    from gradcli.dense.fdcheck import Layer

    def weights(k: int):
        W = spec.bindings[spec.params[f"W{k}"]]
        return np.ascontiguousarray(W.T) if _in_out(spec) else W

    return [Layer(weights(k), spec.bindings[spec.params[f"b{k}"]], layer.activation)
            for k, layer in enumerate(spec.layers.layers, start=1)]


def _in_out(spec) -> bool:
    return getattr(spec.layers, "layout", "out_in") == "in_out"


def _to_file_layout(spec, result: NumericResult) -> NumericResult:
    """fdcheck's W results (out_in) in the file's layout."""
    if _in_out(spec):
        for k in range(1, len(spec.layers.layers) + 1):
            for table in (result.grads, result.kinks, result.errors):
                value = table.get(f"W{k}")
                if getattr(value, "ndim", 0) == 2:
                    table[f"W{k}"] = value.T
    return result


def numeric_gradients(spec, reverse: dict[str, Any], full: bool = False,
                      progress=None) -> NumericResult:
    """Full element-by-element central differences, or fast mode for big nets.

    `reverse` (gradients by parameter name) is what fast mode's directions
    test; full mode does not look at it.
    """
    layers = fd_layers(spec)
    count = sum(L.W.size + L.b.size for L in layers)
    if full or count <= FULL_MODE_MAX_PARAMS:
        return _to_file_layout(spec, _full(spec, layers, progress))
    if _in_out(spec):  # fast mode's directions test the gradient in fdcheck's layout
        reverse = {name: g.T if name.startswith("W") else g for name, g in reverse.items()}
    return _to_file_layout(spec, _fast(spec, layers, reverse, count))


def _data(spec) -> tuple[Any, Any, str]:
    return (spec.bindings[spec.inputs["x"]], spec.bindings[spec.inputs["y"]],
            spec.layers.loss)


def _full(spec, layers: list, progress) -> NumericResult:
    from gradcli.dense import fdcheck

    x, y, loss = _data(spec)
    found = fdcheck.numeric_check(layers, x, y, loss, progress=progress)
    result = NumericResult(mode="full")
    for k, ((dW, db), (kW, kb), L) in enumerate(zip(found.grads, found.kinks, layers), start=1):
        result.grads[f"W{k}"], result.grads[f"b{k}"] = dW, db
        result.kinks[f"W{k}"], result.kinks[f"b{k}"] = kW, kb
        result.errors[f"W{k}"] = _rounding(found.loss, L.W)
        result.errors[f"b{k}"] = _rounding(found.loss, L.b)
    for name, units in found.crossed():
        result.notes.append(_kink_note(name, units, _in_out(spec)))
    return result


def _rounding(loss: float, theta: Any) -> Any:
    """The rounding floor of a plain central difference, EPS |L| / h per entry (its
    truncation error, O(h^2), is not estimated)."""
    import numpy as np

    from gradcli.dense.fdcheck import CBRT_EPS, EPS

    return EPS * max(abs(loss), 1e-300) / (CBRT_EPS * np.maximum(1.0, np.abs(theta)))


def _kink_note(name: str, units: list[int], in_out: bool = False):
    shown = ", ".join(str(u) for u in units[:10]) + (", ..." if len(units) > 10 else "")
    layer = name[1:]
    if name.startswith("W") and in_out:
        return M("{name}: the finite-difference step crosses a relu kink in the columns of "
                 "units {units} (layer {layer} and above): those entries are at a kink, not "
                 "checked as derivatives", name=name, units=shown, layer=layer)
    if name.startswith("W"):
        return M("{name}: the finite-difference step crosses a relu kink in the rows of "
                 "units {units} (layer {layer} and above): those entries are at a kink, not "
                 "checked as derivatives", name=name, units=shown, layer=layer)
    return M("{name}: the finite-difference step crosses a relu kink at entries {units} "
             "(layer {layer} and above): those entries are at a kink, not checked as "
             "derivatives", name=name, units=shown, layer=layer)


def _fast(spec, layers: list, reverse: dict[str, Any], count: int) -> NumericResult:
    import numpy as np

    from gradcli.dense import fastcheck

    x, y, loss = _data(spec)
    seed = spec.layers.seed
    grads = [(reverse[f"W{k}"], reverse[f"b{k}"]) for k in range(1, len(layers) + 1)]
    result = NumericResult(mode="fast")
    for k, L in enumerate(layers, start=1):
        for name, p in ((f"W{k}", L.W), (f"b{k}", L.b)):
            result.grads[name] = np.full(p.shape, np.nan)
            result.kinks[name] = np.zeros(p.shape, dtype=bool)
            result.errors[name] = 0.0
    directions = fastcheck.directional_check(layers, x, y, loss, grads, seed=seed)
    entries = fastcheck.sampled_entries(layers, x, y, loss, grads, seed=seed)
    failed = [d for d in directions if not d.ok]
    worst = fastcheck.localize(layers, x, y, loss, grads, seed=seed) if failed else []
    for e in entries + worst:
        result.grads[e.tensor][e.index] = e.numeric
        result.kinks[e.tensor][e.index] = e.kink
    result.failed_directions = failed
    result.notes.append(M("fast mode ({count:,} parameters > {limit:,}; --full forces the full "
                          "check): {directions} random directions (seeds {seeds}) and {entries} "
                          "sampled entries", count=count, limit=FULL_MODE_MAX_PARAMS,
                          directions=len(directions),
                          seeds=", ".join(str(d.seed) for d in directions),
                          entries=len(entries)))
    for d in directions:
        result.notes.append(_direction_note(d))
    if failed:
        result.notes.append(M("directional check failed; worst elements: {count}",
                              count=len(worst[:5])))
        result.notes += [M("worst element {name}: reverse {reverse:.6g}, numeric {numeric:.6g}, "
                           "rel error {rel:.1e}", name=e.name, reverse=e.reverse,
                           numeric=e.numeric, rel=e.rel_error) for e in worst[:5]]
    return result


def _direction_note(d):
    if d.kink:
        return M("direction seed {seed}: v·grad {reverse:.10g}, numeric {numeric:.10g}: a relu "
                 "kink is crossed even with the step shrunk to {step:.1e}; not checked (kink)",
                 seed=d.seed, reverse=d.reverse, numeric=d.numeric, step=d.step)
    word = M("ok") if d.ok else M("FAIL")
    return M("direction seed {seed}: v·grad {reverse:.10g}, numeric {numeric:.10g}, rel error "
             "{rel:.1e} {verdict}", seed=d.seed, reverse=d.reverse, numeric=d.numeric,
             rel=d.rel_error, verdict=word)
