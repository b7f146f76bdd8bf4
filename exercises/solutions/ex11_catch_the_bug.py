"""Exercise 11, a solution: the original notebook's bias bug, and the gradient check that catches it."""

import numpy as np

from digitnet.gradcheck import relative_error
from digitnet.losses import SoftmaxCrossEntropy
from digitnet.network import Network


def right_bias_gradient(dZ: np.ndarray) -> np.ndarray:
    return dZ.sum(axis=0)


def buggy_bias_gradient(dZ: np.ndarray) -> np.ndarray:
    return np.full(dZ.shape[1], dZ.sum())


def central_differences(loss_value, b: np.ndarray, h: float = 1e-6) -> np.ndarray:
    numeric = np.zeros_like(b)
    for j in range(len(b)):
        original = b[j]
        b[j] = original + h
        plus = loss_value()
        b[j] = original - h
        minus = loss_value()
        b[j] = original
        numeric[j] = (plus - minus) / (2 * h)
    return numeric


def bias_gradient_error(bias_gradient, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    network = Network.create([8, 6, 4], rng, activation="tanh", dtype=np.float64)
    X, labels, loss = rng.normal(size=(5, 8)), rng.integers(0, 4, size=5), SoftmaxCrossEntropy()
    hidden, activation, output = network.layers
    loss.forward(network.forward(X), labels)
    dZ1 = activation.backward(output.backward(loss.backward()))
    numeric = central_differences(lambda: loss.forward(network.forward(X), labels), hidden.b)
    return relative_error(bias_gradient(dZ1), numeric)
