"""The 1-2-1 network of seed note 004, but the file raises when it is imported:
a check of the learning rate at module level fails before backward is defined."""
import math

LEARNING_RATE = -0.5


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


if LEARNING_RATE <= 0:
    raise ValueError("the learning rate must be positive")


def backward(params, inputs):
    return {}
