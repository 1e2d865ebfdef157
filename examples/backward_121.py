"""The 1-2-1 sigmoid network of seed note 004, backpropagated by hand (correct).

x -> hidden h1, h2 (sigmoid) -> output yhat (sigmoid), L = 1/2 (y - yhat)^2.
Every step is the note's chain rule written out with plain floats:
dL/dyhat, then dL/dz_out = dL/dyhat * yhat(1 - yhat), then the error signal
dL/da_h1 = dL/dz_out * w3 and dL/dz_h1 = dL/da_h1 * a_h1(1 - a_h1), and so on.

    gradcli check specs/sigmoid_121.yaml --backward examples/backward_121.py:backward
"""
import math


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def backward(params, inputs):
    w1, w2, w3, w4 = params["w1"], params["w2"], params["w3"], params["w4"]
    b1, b2, b3 = params["b1"], params["b2"], params["b3"]
    x, y = inputs["x"], inputs["y"]

    # forward pass (note 004, section 2)
    z_h1 = w1 * x + b1
    a_h1 = sigmoid(z_h1)
    z_h2 = w2 * x + b2
    a_h2 = sigmoid(z_h2)
    z_out = w3 * a_h1 + w4 * a_h2 + b3
    yhat = sigmoid(z_out)

    # backward pass (section 3)
    dL_dyhat = -(y - yhat)
    dL_dzout = dL_dyhat * yhat * (1 - yhat)
    dL_dah1 = dL_dzout * w3                 # the error signal sent back to h1
    dL_dah2 = dL_dzout * w4
    dL_dzh1 = dL_dah1 * a_h1 * (1 - a_h1)
    dL_dzh2 = dL_dah2 * a_h2 * (1 - a_h2)

    return {
        "w3": dL_dzout * a_h1, "w4": dL_dzout * a_h2, "b3": dL_dzout,
        "w1": dL_dzh1 * x, "b1": dL_dzh1,
        "w2": dL_dzh2 * x, "b2": dL_dzh2,
    }
