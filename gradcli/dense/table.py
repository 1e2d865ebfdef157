"""The dense-network table: every activation and loss of the layer form, described once.

Each `Activation` row says which op of the op table it applies elementwise
(so the engine, SymPy and the explanations use that op's row), its graph
template, its in-place numpy form for the incremental finite differences
(`apply`), its derivative as the per-layer ledger writes it, and the
initialisation it gets.  Each `Loss` row gives its graph template over yhat,
y and the batch size B, its per-element terms for the finite differences,
the factor in front of the sum, and its stable forms: after the output
activation that makes them stable (softplus for sigmoid + binary
cross-entropy, log_softmax for softmax + cross-entropy) the loss is computed
from the logits z_L, the finite differences use the same form, and the
ledger shows the textbook shortcut delta_L = (yhat - y)/B.

A test checks the table against the op table and against the engine: the
finite-difference loss equals the engine's loss for every activation x loss.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from gradcli.errors import GradcliError
from gradcli.i18n import M


def _np():
    import numpy

    return numpy


# ------------------------------------------------------------ activations ---
def _linear(z, axis=-1, out=None):
    if out is None or out is z:
        return z
    _np().copyto(out, z)
    return out


def _sigmoid(z, axis=-1, out=None):
    np = _np()
    with np.errstate(over="ignore"):  # 1 / (1 + exp(-z))
        r = np.negative(z, out=out)
        np.exp(r, out=r)
        np.add(1.0, r, out=r)
        return np.divide(1.0, r, out=r)


def _tanh(z, axis=-1, out=None):
    return _np().tanh(z, out=out)


def _relu(z, axis=-1, out=None):
    return _np().maximum(z, 0.0, out=out)


def _softmax(z, axis=-1, out=None):
    np = _np()
    r = np.subtract(z, z.max(axis=axis, keepdims=True), out=out)  # exp(z - max) / sum
    np.exp(r, out=r)
    return np.divide(r, r.sum(axis=axis, keepdims=True), out=r)


@dataclass(frozen=True)
class Activation:
    name: str
    op: str | None  # the op-table row it applies (None: the identity)
    apply: Callable[..., Any]  # apply(z, axis=-1, out=None): in place when out is z
    derivative: str  # the local derivative in the ledger, over a{k} and z{k}
    init: str  # "he" (normal, for relu) or "glorot" (uniform)
    elementwise: bool = True  # softmax mixes the units of a row

    def template(self, k: int) -> str:
        """The graph-form expression of a{k}."""
        return f"z{k}" if self.op is None else f"{self.op}(z{k})"

    @property
    def piece(self) -> Callable[..., Any] | None:
        """The op's smooth-piece function (relu: the sign of z, 0 at the kink)."""
        from gradcli.ops import OPS

        return None if self.op is None else OPS[self.op].piece


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (
    Activation("linear", None, _linear, "1", "glorot"),
    Activation("sigmoid", "sigmoid", _sigmoid, "a{k}*(1 - a{k})", "glorot"),
    Activation("tanh", "tanh", _tanh, "(1 - a{k}**2)", "glorot"),
    Activation("relu", "relu", _relu, "(z{k} > 0)", "he"),
    Activation("softmax", "softmax", _softmax, "softmax'(z{k})", "glorot", elementwise=False),
)}


# ----------------------------------------------------------------- losses ---
def _ylog(y, p):
    """y * log(p), with 0 where y == 0 (so 0 log 0 = 0)."""
    np = _np()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y != 0, y * np.log(np.where(y != 0, p, 1.0)), 0.0)


def _squared(a, y, out=None):
    np = _np()
    d = np.subtract(a, y, out=out)
    return np.multiply(d, d, out=d)


def _half_squared(a, y, out=None):
    np = _np()
    d = np.subtract(a, y, out=out)
    np.multiply(d, d, out=d)
    return np.multiply(0.5, d, out=d)


def _bce(a, y, out=None):
    return -(_ylog(y, a) + _ylog(1.0 - y, 1.0 - a))


def _ce(a, y, out=None):
    return -_ylog(y, a)


def log_softmax(z, axis=-1, out=None, work=None):
    """z - logsumexp(z), with the maximum subtracted first; `work` is scratch."""
    np = _np()
    shifted = np.subtract(z, z.max(axis=axis, keepdims=True), out=out)
    s = np.exp(shifted, out=work).sum(axis=axis, keepdims=True)
    np.log(s, out=s)
    return np.subtract(shifted, s, out=shifted)


def _softplus_minus_yz(z, y, out=None, work=None):
    """softplus(z) - y z per element: binary cross-entropy from the logits."""
    np = _np()
    t = np.logaddexp(0.0, z, out=work)
    return np.subtract(t, np.multiply(y, z, out=out), out=t)


def _minus_y_log_softmax(z, y, axis=-1, out=None, work=None):
    """-y log_softmax(z) per element: cross-entropy from the logits (rows mix)."""
    np = _np()
    t = log_softmax(z, axis, out=out, work=work)
    return np.negative(np.multiply(y, t, out=t), out=t)


@dataclass(frozen=True)
class StableForm:
    """A loss computed from the logits z_L after the activation that makes it stable."""

    template: str  # over z{L}, y and {B}
    terms: Callable[..., Any]  # per-element terms from z and y
    shortcut: str  # delta_L as the ledger writes it
    elementwise: bool = True  # False: terms(z, y, axis, ...) needs whole rows


@dataclass(frozen=True)
class Loss:
    name: str
    template: str  # over yhat, y and {B}
    terms: Callable[..., Any]  # per-element terms from the output a and y (unscaled)
    per_element_mean: bool = False  # mse: 1/(B K) in front instead of 1/B
    probabilities: bool = False  # targets must lie in [0, 1]
    classes: bool = False  # targets may be class indices
    stable: dict[str, StableForm] = field(default_factory=dict)

    def scale(self, batch: int, outputs: int) -> float:
        """The factor in front of the sum: 1/(B K) for mse, 1/B otherwise."""
        return 1.0 / (batch * outputs) if self.per_element_mean else 1.0 / batch

    def graph_text(self, output: str, last: int, batch: int) -> str:
        """The loss as an expression over yhat (or z{last}), y and the batch size."""
        form = self.stable.get(output)
        text = form.template if form else self.template
        return text.format(B=batch, L=last)


LOSSES: dict[str, Loss] = {l.name: l for l in (
    Loss("squared_error", "sum((yhat - y)**2)/{B}", _squared),
    Loss("half_squared_error", "0.5*sum((yhat - y)**2)/{B}", _half_squared),
    Loss("mse", "mean((yhat - y)**2)", _squared, per_element_mean=True),
    Loss("binary_cross_entropy", "-sum(y*log(yhat) + (1 - y)*log(1 - yhat))/{B}", _bce,
         probabilities=True,
         stable={"sigmoid": StableForm("sum(softplus(z{L}) - y*z{L})/{B}",
                                       _softplus_minus_yz, "(yhat - y)/B")}),
    Loss("cross_entropy", "-sum(y*log(yhat))/{B}", _ce, probabilities=True, classes=True,
         stable={"softmax": StableForm("-sum(y*log_softmax(z{L}))/{B}",
                                       _minus_y_log_softmax, "(yhat - y)/B",
                                       elementwise=False)}),
)}


# ------------------------------------------------------------- validation ---
def activation(name: Any, where: str | None = None, layer: int | None = None) -> Activation:
    """The table row of an activation, or an error listing the known ones."""
    if isinstance(name, str) and name in ACTIVATIONS:
        return ACTIVATIONS[name]
    known = ", ".join(ACTIVATIONS)
    if layer is None:
        raise GradcliError(M("unknown activation '{name}'; known activations: {known}",
                             name=name, known=known), where)
    raise GradcliError(M("layer {k}: unknown activation '{name}'; known activations: "
                         "{known}", k=layer, name=name, known=known), where)


def loss(name: Any, where: str | None = None) -> Loss:
    """The table row of a loss, or an error listing the known ones."""
    if isinstance(name, str) and name in LOSSES:
        return LOSSES[name]
    raise GradcliError(M("unknown loss '{name}'; known losses: {known}", name=name,
                         known=", ".join(LOSSES)), where)


def one_hot(labels: Any, classes: int, where: str | None = None) -> Any:
    """Class indices [B] -> one-hot rows [B, classes]; indices must be integers in range."""
    np = _np()
    labels = np.asarray(labels, dtype=float).ravel()
    if (labels != np.round(labels)).any():
        raise GradcliError(M("class indices must be integers"), where)
    bad = [int(c) for c in labels if c < 0 or c >= classes]
    if bad:
        raise GradcliError(M("class index {index} out of range for {units} output units "
                             "(0 to {last})", index=bad[0], units=classes, last=classes - 1),
                           where)
    out = np.zeros((labels.size, classes))
    out[np.arange(labels.size), labels.astype(np.int64)] = 1.0
    return out


def targets(y: Any, batch: int, units: int, loss_row: Loss, where: str | None = None) -> Any:
    """Targets in the output's shape [batch, units].

    Accepted: that shape; a flat list of batch*units values (one row, or one
    output); and, for cross-entropy, a flat list of class indices (one per
    example; a single one-hot row of a one-example batch stays one-hot).
    """
    np = _np()
    y = np.atleast_1d(np.asarray(y, dtype=float))
    one_hot_row = (batch == 1 and y.ndim == 1 and y.size == units > 1
                   and set(y.tolist()) <= {0.0, 1.0} and y.sum() == 1)
    if loss_row.classes and y.ndim == 1 and not one_hot_row:
        if y.shape[0] != batch:
            raise GradcliError(M("y has {count} class indices for a batch of {batch}",
                                 count=y.shape[0], batch=batch), where)
        return one_hot(y, units, where)
    if y.ndim == 1 and y.size == batch * units:
        y = y.reshape(batch, units)
    if y.shape != (batch, units):
        raise GradcliError(M("y has shape {shape}, but the output is [{batch}, {units}] "
                             "(batch, units of the last layer)", shape=list(y.shape),
                             batch=batch, units=units), where)
    return y


#: Cross-entropy target rows must sum to 1 within this.
ROW_SUM_TOLERANCE = 1e-6


def check_probabilities(y: Any, loss_row: Loss, where: str | None = None) -> None:
    """Cross-entropy targets are probabilities (a file's targets are checked at loading):
    each in [0, 1], and for cross_entropy each row a distribution (summing to 1), else
    the loss is not a cross-entropy and the textbook delta (yhat - y)/B does not hold."""
    if loss_row.probabilities and ((y < 0) | (y > 1)).any():
        raise GradcliError(M("{loss} targets must lie in [0, 1]", loss=loss_row.name), where)
    if loss_row.classes:  # cross_entropy: rows are distributions over the classes
        np = _np()
        sums = y.sum(axis=-1)
        bad = np.flatnonzero(np.abs(sums - 1.0) > ROW_SUM_TOLERANCE)
        if bad.size:
            raise GradcliError(M("{loss} targets must be probability distributions: row "
                                 "{row} sums to {total:.6g}, not 1 (each row of y must sum "
                                 "to 1 within {tol:g}; or give class indices)",
                                 loss=loss_row.name, row=int(bad[0]) + 1,
                                 total=float(sums[bad[0]]), tol=ROW_SUM_TOLERANCE), where)


#: Output activations each loss needs: it takes the log of the outputs, which must
#: be probabilities whatever the weights (else the file works for one seed only).
OUTPUTS = {"binary_cross_entropy": ("sigmoid",), "cross_entropy": ("softmax", "sigmoid")}


def check_output(layers: list, loss_row: Loss, where: str | None = None,
                 layer_where: Callable[[int], str] | None = None) -> None:
    """The last layer must suit the loss (`where`: the loss's place); a softmax over
    one unit is refused (at `layer_where(k)`, layer k's place)."""
    last = layers[-1]
    needed = OUTPUTS.get(loss_row.name)
    if needed and last.activation not in needed:
        raise GradcliError(M("{loss} needs a {needed} output layer (its outputs must be "
                             "probabilities for any weights), but the last layer is "
                             "{activation}", loss=loss_row.name,
                             needed=" or ".join(needed), activation=last.activation), where)
    for k, layer in enumerate(layers, start=1):
        if layer.activation == "softmax" and layer.units == 1:
            raise GradcliError(M("layer {k}: softmax over one unit is always 1, so the "
                                 "gradient is always 0 and the loss a constant; use 2 or "
                                 "more units, or sigmoid for one output", k=k),
                               layer_where(k) if layer_where else where)


# ---------------------------------------------------------------- networks ---
@dataclass
class Dense:
    units: int
    activation: str


@dataclass
class Network:
    """A layer-form network: its dense layers, loss, seed and data sizes."""

    layers: list[Dense]
    loss: str
    seed: int
    batch: int
    n_in: int
    layout: str = "out_in"  # W{k} as [units, inputs]; "in_out": [inputs, units]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """W{k}: [units, inputs] (in_out: [inputs, units]) and b{k}: [units], in order."""
        out, fan_in = {}, self.n_in
        for k, layer in enumerate(self.layers, start=1):
            out[f"W{k}"] = ((fan_in, layer.units) if self.layout == "in_out"
                            else (layer.units, fan_in))
            out[f"b{k}"] = (layer.units,)
            fan_in = layer.units
        return out


def parameter_count(units: list[int], n_in: int) -> int:
    total, fan_in = 0, n_in
    for n in units:
        total += n * fan_in + n
        fan_in = n
    return total
