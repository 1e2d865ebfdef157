"""The 1-2-1 network of seed note 004 with a mistake that raises inside the function:
a parameter looked up under a name the file does not have ("w5")."""
import math


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def backward(params, inputs):
    x, y = inputs["x"], inputs["y"]
    a_h1 = sigmoid(params["w1"] * x + params["b1"])
    a_h2 = sigmoid(params["w2"] * x + params["b2"])
    z_out = params["w3"] * a_h1 + params["w5"] * a_h2 + params["b3"]   # KeyError: 'w5'
    yhat = sigmoid(z_out)
    d = -(y - yhat) * yhat * (1 - yhat)
    return {"w3": d * a_h1, "w4": d * a_h2, "b3": d}
