"""One training run: gradient descent at one learning rate, and its result.

At each point k (k = 0 is the start) the loop has the loss and the gradient;
before taking step k+1 it records the gradient's global norm and stops as
`converged` when that norm is below `tol`.  Then it clips (optional), asks
the optimizer for new parameters and evaluates them.  The run ends:

- `converged`: the gradient norm fell below `tol` (checked before each step);
- `diverged`: a parameter or the loss became NaN or infinite, or the loss
  exceeded 1e12·max(|initial loss|, 1), at the named 1-based step (a result,
  not an error);
- `stopped`: every step was taken;
- `interrupted`: Ctrl-C; everything computed so far is kept.

`loss[k]` is the loss at point k (before step k+1), so a complete run has
steps + 1 entries; a run that stops early ends with its last finite loss.
`grad_norm[k]` is the global norm, before clipping, at the point of `loss[k]`
(NaN, shown as null, where the gradient was not finite).
"""
from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import Any, Callable

from gradcli.errors import NonFiniteError
from gradcli.i18n import N_, english
from gradcli.train import optimizers
from gradcli.train.clipping import clip, global_norm
from gradcli.train.source import LayerNorms, Problem, layer_norms

Value = Any

CONVERGED, DIVERGED, STOPPED, INTERRUPTED = (N_("converged"), N_("diverged"), N_("stopped"),
                                             N_("interrupted"))
DEFAULT_TOL = 1e-8
DIVERGENCE_FACTOR = 1e12
MAX_STEPS = 10_000_000


@dataclass
class RunResult:
    lr: float
    optimizer: str
    steps: int  # steps taken
    status: str
    diverged_at: int | None
    loss: array  # 'd': loss[k] at point k
    grad_norm: array  # 'd': NaN where the gradient was not finite
    names: list[str]
    params: list[Value]  # the final (last finite) parameter values
    clip: float | None = None
    first_layers: LayerNorms | None = None
    last_layers: LayerNorms | None = None
    warnings: list = field(default_factory=list)  # Msg

    @property
    def final_loss(self) -> float:
        return self.loss[-1]

    def to_json(self) -> dict:
        out = {"lr": self.lr, "optimizer": self.optimizer, "steps": self.steps,
               "status": self.status, "diverged_at": self.diverged_at,
               "loss": self.loss.tolist(),
               "params": {n: _plain(v) for n, v in zip(self.names, self.params)},
               "grad_norm": [v if math.isfinite(v) else None for v in self.grad_norm],
               "clip": self.clip}
        if self.first_layers is not None:
            out["layer_grad_norms"] = {
                "first": _finite_or_none(self.first_layers.norms),
                "last": _finite_or_none(self.last_layers.norms) if self.last_layers else None}
        out["warnings"] = [english(w) for w in self.warnings]
        return out


def _plain(v: Value) -> Any:
    return v if isinstance(v, float) else v.tolist()


def _finite_or_none(values: list[float]) -> list:
    return [v if math.isfinite(v) else None for v in values]


def _owned_copy(value: Value, grad: Value) -> Value:
    """A copy of a starting value for the run to own, laid out in memory like its
    gradient: a layer's dL/dW arrives transposed (the VJP of x @ transpose(W)),
    and an update reading both arrays in the same order runs several times faster."""
    if isinstance(value, float):
        return value
    import numpy as np

    transposed = (not isinstance(grad, float) and grad.flags.f_contiguous
                  and not grad.flags.c_contiguous)
    return np.array(value, order="F" if transposed else "C", copy=True)


def _all_finite(values: list[Value]) -> bool:
    for v in values:
        if isinstance(v, float):
            if not math.isfinite(v):
                return False
            continue
        import numpy as np

        flat = v.ravel(order="K")
        # one BLAS pass: NaN and infinity always reach the sum of squares; only
        # when it is not finite (or huge entries overflowed it) look closer
        if math.isfinite(float(np.dot(flat, flat))):
            continue
        if not np.isfinite(flat).all():
            return False
    return True


PROGRESS_EVERY = 256  # steps between calls of the progress callback


def run(problem: Problem, lr: float, steps: int, optimizer: str = "sgd",
        clip_norm: float | None = None, tol: float = DEFAULT_TOL,
        start: tuple[float, list[Value]] | None = None,
        progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Train from `problem.start` with learning rate `lr` for at most `steps` steps.

    `start` is the (loss, gradient) at the starting point when already known
    (several runs share it); otherwise `problem.first()` computes it.
    `progress(done, steps)` is called every PROGRESS_EVERY steps.
    """
    if start is None:
        start = problem.first()
    args = (problem, lr, steps, optimizer, clip_norm, tol, start, progress)
    if all(isinstance(v, float) for v in problem.start):
        return _run(*args)
    import numpy as np

    # overflow on the way to a divergence is a result, not a warning to print
    with np.errstate(all="ignore"):
        return _run(*args)


def _run(problem: Problem, lr: float, steps: int, optimizer: str, clip_norm: float | None,
         tol: float, start: tuple[float, list[Value]], progress) -> RunResult:
    loss, grads = start
    first_grads = grads
    opt = optimizers.make(optimizer, lr)
    params = [_owned_copy(v, g) for v, g in zip(problem.start, grads)]
    losses, norms = array("d", [loss]), array("d")
    limit = DIVERGENCE_FACTOR * max(abs(loss), 1.0)
    evaluate = problem.evaluate
    status, diverged_at = STOPPED, None
    # (step, params, loss, grads) of the last point reached, assigned in one
    # statement so that Ctrl-C never leaves them out of step with each other
    point = (0, params, loss, grads)
    try:
        for k in range(steps):
            _, params, loss, grads = point
            norm = global_norm(grads)
            norms.append(norm)
            if norm < tol:
                status = CONVERGED
                break
            new = opt.step(params, clip(grads, norm, clip_norm))
            if not _all_finite(new):
                status, diverged_at = DIVERGED, k + 1
                break
            try:
                new_loss, new_grads = evaluate(new)
            except NonFiniteError:
                status, diverged_at = DIVERGED, k + 1
                break
            point = (k + 1, new, new_loss, new_grads)
            losses.append(new_loss)
            if new_loss > limit:
                status, diverged_at = DIVERGED, k + 1
                break
            if progress is not None and not (k + 1) % PROGRESS_EVERY:
                progress(k + 1, steps)
    except KeyboardInterrupt:
        status = INTERRUPTED
    at, params, loss, grads = point
    if len(losses) < at + 1:  # interrupted between reaching the point and recording it
        losses.append(loss)
    if len(norms) < len(losses):  # the norm at the last point reached
        norms.append(global_norm(grads))
    taken = diverged_at if status == DIVERGED else at
    result = RunResult(lr, optimizer, taken, status, diverged_at, losses, norms,
                       list(problem.names), params, clip_norm)
    if problem.layer_weights:
        result.first_layers = layer_norms(problem, first_grads)
        result.last_layers = layer_norms(problem, grads)
        result.warnings = _flow_warnings(result.first_layers, result.last_layers, at)
    return result


def _flow_warnings(first: LayerNorms, last: LayerNorms, last_step: int) -> list:
    """The first step's warning, and the last step's when it says something else."""
    out = first.warnings(0)
    kinds = {kind for kind, _ in out}
    out += [(kind, w) for kind, w in last.warnings(last_step) if kind not in kinds]
    return [w for _, w in out]
