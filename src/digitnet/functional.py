"""Pure math: activations, their derivatives, and a numerically stable softmax.

Every function takes and returns NumPy arrays of any shape and keeps their dtype. The equation
numbers refer to the math notes, ``docs/my_note.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

LEAKY_RELU_SLOPE = 0.01  # alpha of notes eq. (2b); the exports (ONNX, the static page) carry this value


def relu(z: np.ndarray) -> np.ndarray:
    """ReLU, notes eq. (2): ``a = max(0, z)``."""
    return np.maximum(z, 0)


def relu_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """dReLU/dz, notes eq. (2): 1 where ``z > 0``, else 0 (we take 0 at the kink)."""
    return (z > 0).astype(z.dtype)


def leaky_relu(z: np.ndarray, slope: float = LEAKY_RELU_SLOPE) -> np.ndarray:
    """Leaky ReLU, notes eq. (2b): ``a = z`` for ``z > 0``, else ``slope * z``."""
    return np.where(z > 0, z, z * z.dtype.type(slope))


def leaky_relu_derivative(z: np.ndarray, a: np.ndarray, slope: float = LEAKY_RELU_SLOPE) -> np.ndarray:
    """d(leaky ReLU)/dz, notes eq. (2b): 1 for ``z > 0``, else ``slope``."""
    return np.where(z > 0, z.dtype.type(1), z.dtype.type(slope))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic sigmoid, notes eq. (2c): ``a = 1 / (1 + exp(-z))``.

    Written as ``(1 + tanh(z/2)) / 2``, the same function, because ``exp(-z)`` overflows for
    very negative ``z`` while ``tanh`` never does.
    """
    half = z.dtype.type(0.5)
    return half * (1 + np.tanh(half * z))


def sigmoid_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """dsigmoid/dz, notes eq. (2c): ``a (1 - a)``, computed from the cached output."""
    return a * (1 - a)


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, notes eq. (2d)."""
    return np.tanh(z)


def tanh_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """dtanh/dz, notes eq. (2d): ``1 - a**2``, computed from the cached output."""
    return 1 - a * a


class ActivationFunctions(NamedTuple):
    """An activation and its derivative; the derivative gets both ``z`` and ``a = f(z)``."""

    forward: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]


ACTIVATIONS: dict[str, ActivationFunctions] = {
    "relu": ActivationFunctions(relu, relu_derivative),
    "leaky_relu": ActivationFunctions(leaky_relu, leaky_relu_derivative),
    "sigmoid": ActivationFunctions(sigmoid, sigmoid_derivative),
    "tanh": ActivationFunctions(tanh, tanh_derivative),
}


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax, notes eq. (4): ``log p = z - m - log(sum(exp(z - m)))``.

    ``m`` is the row maximum (log-sum-exp trick): after the shift the largest exponent is
    ``exp(0) = 1``, so nothing overflows and the sum is at least 1, so the log is finite.
    Shape ``(n, k)`` in and out.
    """
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, notes eq. (3): ``p_k = exp(z_k - m) / sum_j exp(z_j - m)``.

    Shape ``(n, k)`` in and out; each row sums to 1. The max shift ``m`` changes nothing
    mathematically (it cancels) but keeps ``exp`` from overflowing.
    """
    exps = np.exp(z - z.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def one_hot(labels: np.ndarray, n_classes: int, dtype=np.float32) -> np.ndarray:
    """One-hot encode integer labels: shape ``(n,)`` -> ``(n, n_classes)``, notes eq. (5)."""
    encoded = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    encoded[np.arange(labels.shape[0]), labels] = 1
    return encoded
