"""The 1-2-1 network of seed note 004 with one bug: the sigmoid derivative of the
hidden unit h1, a_h1(1 - a_h1), is left out of dL/dz_h1 (so w1 and b1 are wrong)."""
import math


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def backward(params, inputs):
    w1, w2, w3, w4 = params["w1"], params["w2"], params["w3"], params["w4"]
    b1, b2, b3 = params["b1"], params["b2"], params["b3"]
    x, y = inputs["x"], inputs["y"]

    a_h1 = sigmoid(w1 * x + b1)
    a_h2 = sigmoid(w2 * x + b2)
    yhat = sigmoid(w3 * a_h1 + w4 * a_h2 + b3)

    dL_dzout = -(y - yhat) * yhat * (1 - yhat)
    dL_dzh1 = dL_dzout * w3                      # BUG: missing * a_h1 * (1 - a_h1)
    dL_dzh2 = dL_dzout * w4 * a_h2 * (1 - a_h2)

    return {
        "w3": dL_dzout * a_h1, "w4": dL_dzout * a_h2, "b3": dL_dzout,
        "w1": dL_dzh1 * x, "b1": dL_dzh1,
        "w2": dL_dzh2 * x, "b2": dL_dzh2,
    }
