"""Pure math: activations, their derivatives, and a numerically stable softmax.

Every function takes and returns NumPy arrays of any shape and keeps their dtype. The equation
numbers refer to the math notes, ``docs/my_note.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

LEAKY_RELU_SLOPE = 0.01  # alpha of notes eq. (2b); the exports (ONNX, the static page) carry this value


def relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """ReLU, notes eq. (2): ``a = max(0, z)``."""
    return np.maximum(z, 0, out=out)


def relu_derivative(z: np.ndarray, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """dReLU/dz, notes eq. (2): 1 where ``z > 0``, else 0 (we take 0 at the kink)."""
    return np.greater(z, 0, out=np.empty_like(z) if out is None else out)  # True/False land as 1.0/0.0


def leaky_relu(z: np.ndarray, slope: float = LEAKY_RELU_SLOPE, out: np.ndarray | None = None) -> np.ndarray:
    """Leaky ReLU, notes eq. (2b): ``a = z`` for ``z > 0``, else ``slope * z``.

    Written ``max(z, slope z)``, the same function for ``0 < slope < 1``, so it can fill ``out``.
    """
    scaled = np.multiply(z, z.dtype.type(slope), out=out)
    return np.maximum(z, scaled, out=scaled)


def leaky_relu_derivative(
    z: np.ndarray, a: np.ndarray, slope: float = LEAKY_RELU_SLOPE, out: np.ndarray | None = None
) -> np.ndarray:
    """d(leaky ReLU)/dz, notes eq. (2b): 1 for ``z > 0``, else ``slope``."""
    derivative = np.empty_like(z) if out is None else out
    derivative.fill(slope)
    np.copyto(derivative, 1, where=z > 0)
    return derivative


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic sigmoid, notes eq. (2c): ``a = 1 / (1 + exp(-z))``.

    Written as ``(1 + tanh(z/2)) / 2``, the same function, because ``exp(-z)`` overflows for
    very negative ``z`` while ``tanh`` never does.
    """
    half = z.dtype.type(0.5)
    a = np.multiply(z, half, out=out)
    np.tanh(a, out=a)
    a += 1
    a *= half
    return a


def sigmoid_derivative(z: np.ndarray, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """dsigmoid/dz, notes eq. (2c): ``a (1 - a)``, computed from the cached output."""
    derivative = np.subtract(1, a, out=out)
    derivative *= a
    return derivative


def tanh(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Hyperbolic tangent, notes eq. (2d)."""
    return np.tanh(z, out=out)


def tanh_derivative(z: np.ndarray, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """dtanh/dz, notes eq. (2d): ``1 - a**2``, computed from the cached output."""
    derivative = np.multiply(a, a, out=out)
    np.subtract(1, derivative, out=derivative)
    return derivative


class ActivationFunctions(NamedTuple):
    """An activation and its derivative; the derivative gets both ``z`` and ``a = f(z)``.

    Both take an optional ``out=`` array of ``z``'s shape to write into (the layers' training
    buffers); without it they return a new array.
    """

    forward: Callable[..., np.ndarray]
    derivative: Callable[..., np.ndarray]


ACTIVATIONS: dict[str, ActivationFunctions] = {
    "relu": ActivationFunctions(relu, relu_derivative),
    "leaky_relu": ActivationFunctions(leaky_relu, leaky_relu_derivative),
    "sigmoid": ActivationFunctions(sigmoid, sigmoid_derivative),
    "tanh": ActivationFunctions(tanh, tanh_derivative),
}


def log_softmax(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Row-wise log-softmax, notes eq. (4): ``log p = z - m - log(sum(exp(z - m)))``.

    ``m`` is the row maximum (log-sum-exp trick): after the shift the largest exponent is
    ``exp(0) = 1``, so nothing overflows and the sum is at least 1, so the log is finite.
    Shape ``(n, k)`` in and out (into ``out`` when given).
    """
    shifted = np.subtract(z, row_max(z), out=out)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, notes eq. (3): ``p_k = exp(z_k - m) / sum_j exp(z_j - m)``.

    Shape ``(n, k)`` in and out; each row sums to 1. The max shift ``m`` changes nothing
    mathematically (it cancels) but keeps ``exp`` from overflowing.
    """
    exps = np.exp(z - row_max(z))
    return exps / exps.sum(axis=1, keepdims=True)


def row_max(z: np.ndarray) -> np.ndarray:
    """``(n, k)`` -> ``(n, 1)``: the largest entry of each row, ``z.max(axis=1, keepdims=True)``.

    Computed on a transposed copy: NumPy reduces a short contiguous row one element at a time
    (about 90 ns per row of 10 logits here), a whole column of the copy at once (4 times faster
    for a batch of 128). A maximum is exact, so the result is the same.
    """
    return np.ascontiguousarray(z.T).max(axis=0)[:, None]


def one_hot(labels: np.ndarray, n_classes: int, dtype=np.float32) -> np.ndarray:
    """One-hot encode integer labels: shape ``(n,)`` -> ``(n, n_classes)``, notes eq. (5)."""
    encoded = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    encoded[np.arange(labels.shape[0]), labels] = 1
    return encoded
