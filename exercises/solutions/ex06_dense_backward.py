"""Exercise 6, a solution: the dense layer's backward pass (notes eq. (7)-(9))."""

import numpy as np


def dense_backward(X: np.ndarray, W: np.ndarray, dZ: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return X.T @ dZ, dZ.sum(axis=0), dZ @ W.T
