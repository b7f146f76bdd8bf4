"""Exercise 7, a solution: SGD with momentum and Nesterov momentum (notes eq. (13), (14))."""

import numpy as np


def sgd_step(
    w: np.ndarray, v: np.ndarray, g: np.ndarray, lr: float, mu: float, nesterov: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    v = mu * v + g
    return (w - lr * (g + mu * v) if nesterov else w - lr * v), v
