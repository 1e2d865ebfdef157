"""A numpy fully connected layer in the torch layout (W is [out, in]): y = x @ W.T + b.

    gradcli check-code examples/numpy_linear.py --make "Linear(784, 256)" --input Linear=8x784
"""
import numpy as np


class Linear:
    def __init__(self, in_features, out_features, seed=0):
        rng = np.random.default_rng(seed)
        bound = 1 / np.sqrt(in_features)
        self.weight = rng.uniform(-bound, bound, (out_features, in_features))
        self.bias = rng.uniform(-bound, bound, out_features)
        self.weight_grad = np.zeros_like(self.weight)
        self.bias_grad = np.zeros_like(self.bias)

    def forward(self, x):
        self.x = x
        return x @ self.weight.T + self.bias

    def backward(self, dout):
        self.weight_grad = dout.T @ self.x
        self.bias_grad = dout.sum(axis=0)
        return dout @ self.weight
