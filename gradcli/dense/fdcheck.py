"""Finite-difference gradient checks for dense feed-forward ("layer") networks.

Conventions (the user contract)
-------------------------------
Dense layer k (k from 1): ``z_k = a_{k-1} @ W_k.T + b_k`` with ``W_k`` of shape
[units, inputs] (like ``torch.nn.Linear``) and ``b_k`` of shape [units];
``a_0 = x`` of shape [B, n_in] (one row per sample); ``a_k = act_k(z_k)``.
The activations and losses (and their stable forms from the logits) are the
rows of `gradcli.dense.table`, the same the layer form's graph is built from.

Everything here is *numeric*: it evaluates the forward function only and
never uses backward code, so it is an independent check of any backprop.

Full mode (:func:`numeric_gradients`)
-------------------------------------
A central difference ``(L(theta + h e) - L(theta - h e)) / 2h`` for every
parameter, with ``h = EPS**(1/3) * max(1, |theta|)`` per element.  Naively that
is two full forward passes per parameter.  Here the same function values are
organised incrementally from one cached forward pass:

* Perturbing ``W_k[i, j]`` by ``+-h`` changes only column i of ``z_k``, by
  ``+-h * a_{k-1}[:, j]`` (``b_k[i]``: by ``+-h``).  With an elementwise
  activation only column i of ``a_k`` changes, by ``t = act(z + dz) - act(z)``,
  so ``z_{k+1}`` changes by the rank-1 term ``t (outer) W_{k+1}[:, i]``.  That
  is evaluated for a block of P perturbations (both signs) at once, as one
  array of shape [n_{k+1}, 2P, rows] (units first: numpy reduces over a
  leading axis much faster than over a short last one); the layers above are
  recomputed in full, batched: one matmul ``W @ a`` per layer and block.
* Batch rows whose change ``t`` is exactly zero (a relu unit that stays off,
  an input that is 0) give identical loss terms on both sides and are skipped.
* In the output layer with an elementwise activation only unit i's loss term
  changes, so each perturbation costs O(B).  A softmax layer (output or
  hidden) gets its changed rows recomputed in full (log-sum-exp per row).
* The difference is summed per batch row, ``sum_b (l_b(+) - l_b(-))``, which
  equals ``L(+) - L(-)`` (L is a sum of per-row terms) but leaves out the
  rounding of the unchanged rows.  The steps actually taken,
  ``(theta + h) - theta`` and ``theta - (theta - h)``, are the denominators.

The activations and losses are evaluated by the same functions as
:func:`forward_loss`; the results agree with naive central differences to
the rounding floor of a central difference (~EPS |L| / h).

Blocks are cache-sized (1 MB arrays, 4 MB when the block goes through
matmuls, so BLAS calls are few and large) and always far below ~200 MB;
scratch arrays are reused across blocks.  For a two-layer net a parameter
costs O(B * n_out) instead of two forward passes of O(B * n_params): the
784-256-10 net with B = 8 (203,530 parameters) takes ~0.3 s of CPU on a
2-core machine (bench/bench_fullcheck.py).  Each layer between the
perturbed one and the output costs a full (batched) recomputation per
perturbation, so deeper nets cost more per parameter.

Kinks: a relu pre-activation that changes sign within +-h (in the perturbed
layer or any above) makes that entry's difference no derivative; each
entry's flag says so (`numeric_check(...).kinks`), computed from the same
arrays at the cost of one comparison per relu layer and block.

Caveat: with a multithreaded BLAS on a busy machine, small matmuls can be
slow (OPENBLAS_NUM_THREADS=1 avoids that).

Fast mode (directions, samples, bisection) is in `gradcli.dense.fastcheck`.

Names: tensors are "W1", "b1", "W2", ...; elements are named like ``W2[3, 7]``
and ``b1[4]``; rel_error = |a - n| / max(|a|, |n|, 1e-300).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

from gradcli.dense.table import ACTIVATIONS, LOSSES, activation, loss as loss_row, one_hot, targets
from gradcli.errors import GradcliError, NonFiniteError
from gradcli.i18n import M
from gradcli.numeric import EPS, kink_crossed

__all__ = ["Layer", "forward_loss", "numeric_gradients", "numeric_check", "one_hot", "EPS"]

#: EPS**(1/3): the relative step of the central differences.
CBRT_EPS = EPS ** (1.0 / 3.0)
#: Upper bound on the bytes one block of perturbations may use.
MEMORY_BUDGET = 200 * 2**20
#: Target number of float64 elements in one block's widest array: cache-sized
#: (1 MB) without matmuls; larger when the block goes through matmuls, so that
#: the BLAS calls are few and big (a threaded BLAS call on a busy machine can
#: cost milliseconds whatever its size).
_BLOCK_ELEMENTS = 1 << 17
_MATMUL_BLOCK_ELEMENTS = 1 << 19

Progress = Callable[[int, int], None]
Grads = Sequence[tuple[np.ndarray, np.ndarray]]


# ---------------------------------------------------------------------------
# Network, activations, losses, forward pass


@dataclass
class Layer:
    """A dense layer: ``z = a @ W.T + b``, ``a_out = activation(z)``."""

    W: np.ndarray
    b: np.ndarray
    activation: str = "linear"

    def __post_init__(self) -> None:
        self.W = np.asarray(self.W, dtype=np.float64)
        self.b = np.asarray(self.b, dtype=np.float64)
        if self.W.ndim != 2:
            raise GradcliError(M("W must be a matrix [units, inputs], got shape {shape}",
                                 shape=list(self.W.shape)))
        if self.b.shape != (self.W.shape[0],):
            raise GradcliError(M("b must have shape [{units}] to match W {W}, got {shape}",
                                 units=self.W.shape[0], W=list(self.W.shape),
                                 shape=list(self.b.shape)))
        activation(self.activation)

    @property
    def units(self) -> int:
        return self.W.shape[0]

    @property
    def inputs(self) -> int:
        return self.W.shape[1]

    @property
    def elementwise(self) -> bool:
        return ACTIVATIONS[self.activation].elementwise


def activate(z: np.ndarray, name: str, axis: int = -1, out: np.ndarray | None = None) -> np.ndarray:
    """The activation `name` applied to z (softmax over the units `axis`, the last by default).

    `out` (which may be z itself) receives the result; the operations are the
    same with or without it, so the values are identical.
    """
    return ACTIVATIONS[name].apply(z, axis, out)


def _elem_loss(z: np.ndarray, act: str, y: np.ndarray, loss: str) -> np.ndarray:
    """Per-element loss terms for an elementwise output activation (unscaled)."""
    form = LOSSES[loss].stable.get(act)
    if form is not None and form.elementwise:
        return form.terms(z, y)
    return LOSSES[loss].terms(activate(z, act), y)


def row_losses(z: np.ndarray, act: str, y: np.ndarray, loss: str, axis: int = -1,
               out: np.ndarray | None = None, work: np.ndarray | None = None) -> np.ndarray:
    """Unscaled loss of each batch row, from the output pre-activation z [..., B, K].

    `axis` is the axis of the output units (the incremental code keeps units
    first).  `out` (may be z itself) and `work` are optional scratch arrays of
    z's shape; the operations, and so the values, are the same without them.
    """
    form = LOSSES[loss].stable.get(act)
    if form is not None and form.elementwise:
        return form.terms(z, y, out=out, work=work).sum(axis=axis)
    if form is not None:
        return form.terms(z, y, axis, out=out, work=work).sum(axis=axis)
    a = activate(z, act, axis, out=out)
    scratch = None if (a is z and out is None) else a
    return LOSSES[loss].terms(a, y, out=scratch).sum(axis=axis)


def forward_batch(layers: Sequence[Layer], x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The forward pass: (zs, acts) with zs[k] = z_{k+1}, acts[0] = x, acts[k+1] = a_{k+1}.

    Lists are 0-based: zs[0] is the first layer's pre-activation.
    """
    a = np.asarray(x, dtype=np.float64)
    zs: list[np.ndarray] = []
    acts = [a]
    for layer in layers:
        z = a @ layer.W.T + layer.b
        a = activate(z, layer.activation)
        zs.append(z)
        acts.append(a)
    return zs, acts


def forward_loss(layers: Sequence[Layer], x: np.ndarray, y: np.ndarray, loss: str) -> float:
    """The loss L(theta) for batch x with targets y: the reference forward function."""
    layers, x, y = _check(layers, x, y, loss)
    zs, _ = forward_batch(layers, x)
    scale = loss_row(loss).scale(*y.shape)
    return float(scale * row_losses(zs[-1], layers[-1].activation, y, loss).sum())


def _check(layers: Sequence[Layer], x, y, loss: str) -> tuple[list[Layer], np.ndarray, np.ndarray]:
    layers = list(layers)
    if not layers:
        raise GradcliError(M("the network has no layers"))
    for n, layer in enumerate(layers, 1):
        if not isinstance(layer, Layer):
            raise GradcliError(M("layer {k} is not a Layer", k=n))
    row = loss_row(loss)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != layers[0].inputs:
        raise GradcliError(M("x must have shape [B, {inputs}], got {shape}",
                             inputs=layers[0].inputs, shape=list(x.shape)))
    for n in range(1, len(layers)):
        if layers[n].inputs != layers[n - 1].units:
            raise GradcliError(M("W{k} has {inputs} inputs but layer {prev} has {units} units",
                                 k=n + 1, inputs=layers[n].inputs, prev=n,
                                 units=layers[n - 1].units))
    if np.ndim(y) == 2 and np.shape(y) != (x.shape[0], layers[-1].units):
        raise GradcliError(M("y must have shape [{batch}, {units}], got {shape}",
                             batch=x.shape[0], units=layers[-1].units, shape=list(np.shape(y))))
    return layers, x, targets(y, x.shape[0], layers[-1].units, row)


def _check_grads(layers: Sequence[Layer], grads: Grads) -> list[tuple[np.ndarray, np.ndarray]]:
    grads = list(grads)
    if len(grads) != len(layers):
        raise GradcliError(M("expected gradients for {count} layers, got {got}",
                             count=len(layers), got=len(grads)))
    out = []
    for k, (layer, pair) in enumerate(zip(layers, grads), 1):
        dW, db = (np.zeros(shape) if g is None else np.asarray(g, dtype=np.float64)
                  for g, shape in zip(pair, (layer.W.shape, layer.b.shape)))  # None: no dependence
        if dW.shape != layer.W.shape or db.size != layer.b.size:
            raise GradcliError(M("gradient of layer {k} has shapes {dW}, {db}; expected {W}, "
                                 "{b}", k=k, dW=list(dW.shape), db=list(db.shape),
                                 W=list(layer.W.shape), b=list(layer.b.shape)))
        out.append((dW, db.reshape(layer.b.shape)))
    return out


# ---------------------------------------------------------------------------
# The incremental central difference


class _Net:
    """One cached forward pass and the incremental central differences from it."""

    def __init__(self, layers: Sequence[Layer], x, y, loss: str):
        self.layers, self.x, self.y = _check(layers, x, y, loss)
        self.loss = loss
        self.zs, self.acts = forward_batch(self.layers, self.x)
        self.batch, self.outputs = self.y.shape
        self.scale = loss_row(loss).scale(self.batch, self.outputs)
        out = self.layers[-1]
        self.value = float(self.scale * row_losses(self.zs[-1], out.activation, self.y, loss).sum())
        if not np.isfinite(self.value):
            raise NonFiniteError(M("the loss is not finite at the given parameters"))
        #: per layer, the smooth-piece function of its activation (relu: sign), or None
        self.pieces = [ACTIVATIONS[L.activation].piece for L in self.layers]
        self.crossed = False  # set by loss_along when a kink was crossed
        self._bufs: dict[int, np.ndarray] = {}

    # -- tensors -----------------------------------------------------------

    def tensors(self) -> Iterator[tuple[int, bool]]:
        for k in range(len(self.layers)):
            yield k, False
            yield k, True

    def param(self, k: int, bias: bool) -> np.ndarray:
        return self.layers[k].b if bias else self.layers[k].W

    @staticmethod
    def name(k: int, bias: bool) -> str:
        return f"{'b' if bias else 'W'}{k + 1}"

    # -- block sizes -----------------------------------------------------------

    def _start(self, k: int) -> int:
        """The layer whose pre-activation a perturbation of layer k is propagated from."""
        return k + 1 if self.layers[k].elementwise else k

    def block_size(self, k: int, bias: bool) -> int:
        """Perturbations per block: cache-sized, and far below the memory budget."""
        layers, last = self.layers, len(self.layers) - 1
        if k == last and layers[k].elementwise:
            width, target = 1, _BLOCK_ELEMENTS  # only unit i's loss term
        else:
            start = self._start(k)
            width = max(layer.units for layer in layers[start:])
            target = _MATMUL_BLOCK_ELEMENTS if start < last else _BLOCK_ELEMENTS
        per = 2 * self.batch * width  # elements per perturbation, both signs
        cap = max(1, MEMORY_BUDGET // (8 * 8 * per))  # ~8 arrays of that size
        size = max(1, min(cap, target // per))
        if not bias:
            n_in = self.layers[k].inputs
            if n_in <= size:  # whole units
                size = n_in * (size // n_in)
            else:  # equal chunks of one unit's inputs
                size = -(-n_in // -(-n_in // size))
        return size

    def blocks(self, k: int, bias: bool) -> Iterator[np.ndarray]:
        n = self.param(k, bias).size
        size = self.block_size(k, bias)
        for lo in range(0, n, size):
            yield np.arange(lo, min(n, lo + size))

    # -- central differences -------------------------------------------------

    def steps(self, theta: np.ndarray, step: float | None) -> tuple[np.ndarray, np.ndarray]:
        """The actual steps up and down, as represented: (theta+h)-theta, theta-(theta-h)."""
        h = CBRT_EPS * np.maximum(1.0, np.abs(theta)) if step is None else np.full_like(theta, step)
        return (theta + h) - theta, theta - (theta - h)

    def grad_block(self, k: int, bias: bool, flat: np.ndarray,
                   step: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Central differences dL/dtheta for the entries `flat` of W_{k+1} (or b_{k+1}),
        and for each whether its step crossed a kink (a relu pre-activation changing
        sign, in this layer or any above)."""
        flat = np.asarray(flat, dtype=np.int64)
        layers, last = self.layers, len(self.layers) - 1
        layer = layers[k]
        if bias:
            units = flat
            theta = layer.b[flat]
            coef = np.ones((flat.size, self.batch))
        else:
            units, j = np.divmod(flat, layer.inputs)
            theta = layer.W.ravel()[flat]
            coef = self.acts[k].T[j]  # a_{k-1}[:, j] for each perturbation: [P, B]
        hp, hm = self.steps(theta, step)
        dz_up = hp[:, None] * coef
        dz_down = -hm[:, None] * coef
        zcol = self.zs[k].T[units]  # [P, B]
        act = layer.activation
        piece = self.pieces[k]
        crossed = np.zeros(flat.size, dtype=bool)
        if piece is not None and layer.elementwise:  # unit i's own pre-activation
            crossed = (kink_crossed(piece, (zcol,), (zcol + dz_up,), axis=1)
                       | kink_crossed(piece, (zcol,), (zcol + dz_down,), axis=1))
        if layer.elementwise and k == last:
            # Only unit i's loss term changes.
            ycol = self.y.T[units]
            with np.errstate(all="ignore"):
                diff = (_elem_loss(zcol + dz_up, act, ycol, self.loss)
                        - _elem_loss(zcol + dz_down, act, ycol, self.loss)).sum(axis=1)
        elif layer.elementwise:
            # Only column i of a_k changes: a rank-1 change of z_{k+1}.
            base = activate(zcol, act)
            diff, above = self._rank1(k + 1, activate(zcol + dz_up, act) - base,
                                      activate(zcol + dz_down, act) - base,
                                      layers[k + 1].W.T[units])
            crossed |= above
        else:
            # softmax: the whole row of a_k changes; start from z_k + dz e_i.
            e = np.zeros((flat.size, layer.units))
            e[np.arange(flat.size), units] = 1.0
            diff, crossed = self._rank1(k, dz_up, dz_down, e)
        return self.scale * diff / (hp + hm), crossed

    def _buf(self, slot: int, shape: tuple[int, ...]) -> np.ndarray:
        """A reusable scratch array of the given shape (contiguous)."""
        n = int(np.prod(shape))
        buf = self._bufs.get(slot)
        if buf is None or buf.size < n:
            buf = self._bufs[slot] = np.empty(n)
        return buf[:n].reshape(shape)

    def _rank1(self, m: int, t_up: np.ndarray, t_down: np.ndarray,
               w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """sum_b [l_b(z_m + t_up w) - l_b(z_m + t_down w)] for each perturbation,
        and whether it crossed a kink in layer m or above.

        t_up, t_down: [P, B] changes; w: [P, n_m] directions; z_m is layer m's
        pre-activation (0-based).  Rows whose change is exactly 0 on both sides
        contribute exactly 0 and are skipped.
        """
        P = t_up.shape[0]
        live = np.flatnonzero((t_up != 0).any(axis=0) | (t_down != 0).any(axis=0))
        crossed = np.zeros(2 * P, dtype=bool)
        if live.size == 0:
            return np.zeros(P), crossed[:P]
        rows_of = (lambda a: a[live]) if live.size < self.batch else (lambda a: a)
        if live.size < self.batch:
            t_up, t_down = t_up[:, live], t_down[:, live]
        z0, y = rows_of(self.zs[m]), rows_of(self.y)
        # Units first, [n, 2P, R]: reductions over units then run over the
        # outer axis, which numpy does far faster than over a short last axis.
        # The arrays live in reused buffers (fresh ~MB temporaries per block
        # cost page faults); activations, matmuls and the loss are computed
        # with the same operations as in forward_loss.
        R = z0.shape[0]
        wT = w.T[:, :, None]
        z = self._buf(0, (w.shape[1], 2 * P, R))
        np.multiply(wT, t_up[None], out=z[:, :P])
        np.multiply(wT, t_down[None], out=z[:, P:])
        z += z0.T[:, None, :]  # z_m + t w
        layers = self.layers
        slot = 0
        with np.errstate(all="ignore"):
            for q in range(m, len(layers)):
                if self.pieces[q] is not None:  # a relu of layer q changing sign
                    base = rows_of(self.zs[q]).T[:, None, :]
                    crossed |= kink_crossed(self.pieces[q], (base,), (z,), axis=(0, 2))
                if q == len(layers) - 1:
                    break
                a = activate(z, layers[q].activation, axis=0, out=z)
                nxt = layers[q + 1]
                slot = 1 - slot
                z = self._buf(slot, (nxt.units, 2 * P, R))
                np.matmul(nxt.W, a.reshape(a.shape[0], -1), out=z.reshape(nxt.units, -1))
                z += nxt.b[:, None, None]
            rows = row_losses(z, layers[-1].activation, y.T[:, None, :], self.loss, axis=0,
                              out=z, work=self._buf(2, z.shape))  # [2P, R]
        return (rows[:P] - rows[P:]).sum(axis=1), crossed[:P] | crossed[P:]

    # -- directional probes ----------------------------------------------------

    def loss_with(self, k: int, W: np.ndarray | None = None, b: np.ndarray | None = None) -> float:
        """L with layer k's W and/or b replaced (the layers below are reused)."""
        a = self.acts[k]
        for q in range(k, len(self.layers)):
            layer = self.layers[q]
            Wq = W if (q == k and W is not None) else layer.W
            bq = b if (q == k and b is not None) else layer.b
            z = a @ Wq.T + bq
            a = activate(z, layer.activation)
        return float(self.scale * row_losses(z, self.layers[-1].activation, self.y, self.loss).sum())

    def loss_along(self, v: list[tuple[np.ndarray, np.ndarray]], t: float) -> float:
        """L(theta + t v); sets `self.crossed` when a relu pre-activation changed sign."""
        layers = [Layer(L.W + t * vW, L.b + t * vb, L.activation)
                  for L, (vW, vb) in zip(self.layers, v)]
        zs, _ = forward_batch(layers, self.x)
        for piece, z, z0 in zip(self.pieces, zs, self.zs):
            if piece is not None and kink_crossed(piece, (z0,), (z,)):
                self.crossed = True
        rows = row_losses(zs[-1], layers[-1].activation, self.y, self.loss)
        return float(self.scale * rows.sum())


# ---------------------------------------------------------------------------
# Full mode


@dataclass
class FullCheck:
    """Full mode: every entry's central difference, and where its step crossed a kink."""

    grads: list[tuple[np.ndarray, np.ndarray]]  # [(dW1, db1), ...]
    kinks: list[tuple[np.ndarray, np.ndarray]]  # boolean masks of the same shapes
    loss: float = 0.0  # L at the unperturbed parameters

    def crossed(self) -> list[tuple[str, list[int]]]:
        """Per tensor with kinks, the units (rows of W, entries of b) whose steps crossed one."""
        out = []
        for k, (kW, kb) in enumerate(self.kinks, start=1):
            for name, mask in ((f"W{k}", kW), (f"b{k}", kb)):
                rows = mask.reshape(mask.shape[0], -1).any(axis=1) if mask.ndim else mask
                if mask.any():
                    out.append((name, [int(i) for i in np.flatnonzero(rows)]))
        return out


def numeric_check(layers: Sequence[Layer], x, y, loss: str, step: float | None = None,
                  progress: Progress | None = None) -> FullCheck:
    """Central-difference dL/dW_k and dL/db_k for every element, with kinks crossed.

    Each entry is ``(L(theta + h) - L(theta - h)) / 2h`` of the forward function
    (:func:`forward_loss`) with ``h = EPS**(1/3) * max(1, |theta|)`` (or the
    fixed `step`), evaluated incrementally (see the module docstring).
    `progress(done, total)` is called after each block of parameters.
    """
    net = _Net(layers, x, y, loss)
    total = sum(net.param(k, bias).size for k, bias in net.tensors())
    done = 0
    grads, kinks = [], []
    for k, layer in enumerate(net.layers):
        pair, masks = [], []
        for bias in (False, True):
            p = net.param(k, bias)
            g = np.empty(p.size)
            crossed = np.zeros(p.size, dtype=bool)
            for flat in net.blocks(k, bias):
                g[flat], crossed[flat] = net.grad_block(k, bias, flat, step)
                done += flat.size
                if progress is not None:
                    progress(done, total)
            pair.append(g.reshape(p.shape))
            masks.append(crossed.reshape(p.shape))
        grads.append((pair[0], pair[1]))
        kinks.append((masks[0], masks[1]))
    return FullCheck(grads, kinks, net.value)


def numeric_gradients(layers: Sequence[Layer], x, y, loss: str, step: float | None = None,
                      progress: Progress | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Central-difference dL/dW_k and dL/db_k for every element, as [(dW1, db1), ...]
    (see `numeric_check`, which also says where a kink was crossed)."""
    return numeric_check(layers, x, y, loss, step, progress).grads
