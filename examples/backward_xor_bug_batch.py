"""Backprop for specs/xor_relu_softmax.yaml with one bug: the 1/B of the mean
cross-entropy is left out (every gradient is B = 4 times too large)."""
import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def backward(params, inputs):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    x, y = inputs["x"], inputs["y"]
    B = x.shape[0]

    z1 = x @ W1.T + b1                 # [B, 4]
    a1 = np.maximum(z1, 0.0)
    z2 = a1 @ W2.T + b2                # [B, 2]
    yhat = softmax(z2)

    delta2 = yhat - y                  # BUG: missing / B
    dW2 = delta2.T @ a1                # [2, B] @ [B, 4] -> W2's shape [2, 4]
    db2 = delta2.sum(axis=0)
    delta1 = (delta2 @ W2) * (z1 > 0)  # dL/dz1: back through W2, then relu'
    dW1 = delta1.T @ x
    db1 = delta1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
