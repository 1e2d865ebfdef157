"""Update rules, exactly as PyTorch defines them (torch.optim, default settings).

Each optimizer takes the current parameter values and their (possibly
clipped) gradients, and returns NEW parameter values: the caller keeps the
old ones, so a step that produces NaN or infinity can be reported while the
last finite parameters are still at hand.  Values are Python floats (an
expression's variables: no numpy needed) or numpy arrays; the state (velocity,
moments) lives in the optimizer.

- sgd:       p <- p - lr*g
- momentum:  v <- mu*v + g (v = g on the first step), p <- p - lr*v, mu = 0.9
             (torch.optim.SGD(momentum=0.9), dampening 0, not Nesterov)
- adam:      m <- b1*m + (1-b1)*g,  v <- b2*v + (1-b2)*g*g,
             p <- p - (lr/(1 - b1^t)) * m / (sqrt(v)/sqrt(1 - b2^t) + eps)
             with b1 = 0.9, b2 = 0.999, eps = 1e-8: the bias-corrected step in
             the order of operations torch.optim.Adam uses.
"""
from __future__ import annotations

import math
from typing import Any

Value = Any  # float or numpy.ndarray

NAMES = ("sgd", "momentum", "adam")
MOMENTUM = 0.9
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8


def _sqrt(v: Value) -> Value:
    if isinstance(v, float):
        return math.sqrt(v)
    import numpy as np

    return np.sqrt(v)


class SGD:
    name = "sgd"

    def __init__(self, lr: float):
        self.lr = lr

    def step(self, params: list[Value], grads: list[Value]) -> list[Value]:
        lr = self.lr
        return [p - lr * g for p, g in zip(params, grads)]


class Momentum:
    """Heavy-ball momentum in PyTorch's form: the velocity sums gradients, lr scales it."""

    name = "momentum"

    def __init__(self, lr: float, mu: float = MOMENTUM):
        self.lr, self.mu = lr, mu
        self.velocity: list[Value] | None = None

    def step(self, params: list[Value], grads: list[Value]) -> list[Value]:
        if self.velocity is None:  # torch: buf = clone(grad) on the first step
            self.velocity = [g if isinstance(g, float) else g.copy() for g in grads]
        else:
            self.velocity = [self.mu * v + g for v, g in zip(self.velocity, grads)]
        lr = self.lr
        return [p - lr * v for p, v in zip(params, self.velocity)]


class Adam:
    name = "adam"

    def __init__(self, lr: float, beta1: float = BETA1, beta2: float = BETA2,
                 eps: float = EPS):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self.m: list[Value] | None = None
        self.v: list[Value] | None = None

    def step(self, params: list[Value], grads: list[Value]) -> list[Value]:
        b1, b2 = self.beta1, self.beta2
        self.t += 1
        if self.m is None:
            self.m = [0.0 * g for g in grads]
            self.v = [0.0 * g for g in grads]
        self.m = [b1 * m + (1.0 - b1) * g for m, g in zip(self.m, grads)]
        self.v = [b2 * v + (1.0 - b2) * g * g for v, g in zip(self.v, grads)]
        correction1 = 1.0 - b1 ** self.t
        correction2_sqrt = math.sqrt(1.0 - b2 ** self.t)
        step_size = self.lr / correction1
        eps = self.eps
        return [p - step_size * m / (_sqrt(v) / correction2_sqrt + eps)
                for p, m, v in zip(params, self.m, self.v)]


def make(name: str, lr: float):
    """The optimizer called `name` with learning rate `lr` (PyTorch's defaults)."""
    return {"sgd": SGD, "momentum": Momentum, "adam": Adam}[name](lr)
