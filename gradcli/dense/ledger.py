"""The per-layer ledger of a layer-form check, and how the gradient flows back.

From the top layer down: delta_k = dL/dz_k and how it is obtained (the
textbook shortcut (yhat - y)/B after a stable output, checked against the
engine; dL/da_L ⊙ act'(z_L); (delta_{k+1} @ W_{k+1}) ⊙ act'(z_k)), then
dW_k = delta_kᵀ @ a_{k-1}, db_k = Σ_batch delta_k and the error signal passed
down, dL/da_{k-1} = delta_k @ W_k, in full.  With `weight_layout: in_out`
(z = x @ W + b) the formulas follow the file: dW_k = a_{k-1}ᵀ @ delta_k and
dL/da_{k-1} = delta_k @ W_kᵀ.  The norms ‖dL/da_k‖
show whether the gradient vanishes or explodes on its way back: a warning is
given when it changes more than FLOW_RATIO-fold between adjacent layers, or
from the last layer to the first.
"""
from __future__ import annotations

from gradcli.dense import table
from gradcli.i18n import M
from gradcli.report import FlowRow, LayerRow

#: ‖dL/da‖ changing more than this many times is a warning.
FLOW_RATIO = 1e3
#: The textbook shortcut must match the engine's delta within this (relative to the
#: largest entry): both are exact formulas, so they differ by rounding only.
IDENTITY_RTOL = 1e-8


def layer_rows(spec, values: list, adjoint: list) -> list[LayerRow]:
    """delta_k, dW_k, db_k per layer, from the top, with how delta_k is obtained."""
    import numpy as np

    net = spec.layers
    L = len(net.layers)
    loss = table.LOSSES[net.loss]
    in_out = getattr(net, "layout", "out_in") == "in_out"
    rows = []
    for k in range(L, 0, -1):
        act = table.ACTIVATIONS[net.layers[k - 1].activation]
        delta = adjoint[spec.named[f"z{k}"]]
        local = act.derivative.format(k=k)
        form = loss.stable.get(act.name) if k == L else None
        formula_diff, formula_ok = None, True
        if form is not None:
            how = form.shortcut
            shortcut = (values[spec.named["yhat"]] - values[spec.inputs["y"]]) / net.batch
            formula_diff = float(np.abs(shortcut - delta).max())
            # the identity holds to rounding, and to the targets' allowed deviation from
            # summing to 1 (delta is (yhat sum(y) - y)/B): a larger gap is a failed check
            scale = max(float(np.abs(delta).max()), float(np.abs(shortcut).max()), 1e-300)
            slack = table.ROW_SUM_TOLERANCE / net.batch if loss.classes else 0.0
            formula_ok = formula_diff <= IDENTITY_RTOL * scale + slack
        elif k == L:
            how = "dL/dyhat" if act.op is None else f"dL/da_L ⊙ {local}"
        else:
            upstream = _passed_down(k + 1, in_out)
            how = upstream if act.op is None else f"({upstream}) ⊙ {local}"
        below = f"a_{k - 1}" if k > 1 else "x"
        rows.append(LayerRow(
            layer=k, how=how, delta=delta, dW=adjoint[spec.params[f"W{k}"]],
            db=adjoint[spec.params[f"b{k}"]],
            dW_shape=list(spec.bindings[spec.params[f"W{k}"]].shape),
            dW_how=f"{below}ᵀ @ delta_{k}" if in_out else f"delta_{k}ᵀ @ {below}",
            db_how=f"Σ_batch delta_{k}", formula_max_diff=formula_diff,
            da_prev=adjoint[spec.named[f"a{k - 1}"]] if k > 1 else None,
            da_how=_passed_down(k, in_out) if k > 1 else None,
            formula_ok=formula_ok))
    return rows


def _passed_down(k: int, in_out: bool) -> str:
    """dL/da_{k-1} from delta_k: delta_k @ W_k, or delta_k @ W_kᵀ in the in_out layout."""
    return f"delta_{k} @ W{k}ᵀ" if in_out else f"delta_{k} @ W{k}"


def gradient_flow(spec, adjoint: list) -> list[FlowRow]:
    """‖dL/da_k‖ for the hidden layers, from the top (layer L-1) down to layer 1."""
    import numpy as np

    L = len(spec.layers.layers)
    rows = []
    for k in range(L - 1, 0, -1):
        da = adjoint[spec.named[f"a{k}"]]
        if da is not None:
            rows.append(FlowRow(k, float(np.linalg.norm(da))))
    return rows


def flow_warnings(flow: list[FlowRow]) -> list:
    """Vanishing or exploding gradients: between adjacent layers, and from the last
    hidden layer to the first (a slow decay over many layers adds up)."""
    warnings = [w for a, b in zip(flow, flow[1:]) if (w := _change(a, b)) is not None]
    if not warnings and len(flow) > 2:
        end_to_end = _change(flow[0], flow[-1])
        if end_to_end is not None:
            warnings.append(end_to_end)
    return warnings


def _change(a: FlowRow, b: FlowRow):
    if a.norm <= 0 or b.norm <= 0:
        return None
    ratio = b.norm / a.norm
    if ratio < 1 / FLOW_RATIO:
        return M("warning: dL/da shrinks {factor:.1e}× from layer {top} to layer {bottom} "
                 "(vanishing gradient)", factor=1 / ratio, top=a.layer, bottom=b.layer)
    if ratio > FLOW_RATIO:
        return M("warning: dL/da grows {factor:.1e}× from layer {top} to layer {bottom} "
                 "(exploding gradient)", factor=ratio, top=a.layer, bottom=b.layer)
    return None
