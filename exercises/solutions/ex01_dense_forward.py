"""Exercise 1, a solution: the dense layer's forward pass (notes eq. (1))."""

import numpy as np


def dense_forward(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Z = X W + b``; broadcasting adds ``b`` to every row."""
    return X @ W + b
