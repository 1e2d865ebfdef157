"""Seed note 002's layers with one bug: Linear's dW is built row by row and the last row
uses the wrong input column.
"""
import numpy as np


class Linear:
    """A fully connected layer."""

    def __init__(self, in_features, out_features):
        self.W = np.random.randn(in_features, out_features) * np.sqrt(2 / in_features)
        self.b = np.zeros(out_features)
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x                       # kept for backward
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = np.zeros_like(self.W)
        rows = self.W.shape[0]
        for i in range(rows - 1):
            self.dW[i] = self.x[:, i] @ dout
        self.dW[rows - 1] = self.x[:, 0] @ dout   # bug: column 0 instead of rows - 1
        self.db = dout.sum(axis=0)       # summed over the batch
        return dout @ self.W.T           # [B, out] @ [out, in]


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class Softmax:
    """Forward only: with cross-entropy the combined gradient is (pred - target)/B."""

    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.out = e / e.sum(axis=1, keepdims=True)
        return self.out


class CrossEntropyLoss:
    def forward(self, pred, target):
        self.pred = pred
        self.target = target
        batch = pred.shape[0]
        return -np.sum(target * np.log(pred + 1e-8)) / batch

    def backward(self):
        # the gradient with respect to the softmax's input (the logits), not pred
        batch = self.pred.shape[0]
        return (self.pred - self.target) / batch


class NeuralNetwork:
    def __init__(self, input_dim, hidden_dim, output_dim):
        self.layers = [Linear(input_dim, hidden_dim), ReLU(),
                       Linear(hidden_dim, output_dim), Softmax()]
        self.loss_fn = CrossEntropyLoss()

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self):
        dout = self.loss_fn.backward()
        for layer in reversed(self.layers[:-1]):   # the softmax is folded into the loss
            dout = layer.backward(dout)

    def train_step(self, x, y, lr=0.5):
        pred = self.forward(x)
        loss = self.loss_fn.forward(pred, y)
        self.backward()
        for layer in self.layers:
            if hasattr(layer, "W"):
                layer.W -= lr * layer.dW
                layer.b -= lr * layer.db
        return loss


