"""Exercise 13, a solution: inverted dropout (notes eq. (21))."""

import numpy as np


def dropout_forward(A: np.ndarray, rate: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    keep = rng.random(A.shape) >= rate
    mask = (keep / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_backward(dA_out: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return dA_out * mask
