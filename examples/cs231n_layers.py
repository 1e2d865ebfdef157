"""Forward/backward function pairs in the CS231n assignment convention (correct).

NAME_forward(inputs...) returns (out, cache); NAME_backward(dout, cache)
returns the gradient of each input, in order.
"""
import numpy as np


def affine_forward(x, w, b):
    """out = x @ w + b, with x reshaped to rows (N, D)."""
    out = x.reshape(x.shape[0], -1) @ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    x = cache
    return dout * (x > 0)


def sigmoid(x):
    """A plain function with its gradient function beside it (f and f_grad)."""
    return float(np.sum(1 / (1 + np.exp(-x))))


def sigmoid_grad(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)
