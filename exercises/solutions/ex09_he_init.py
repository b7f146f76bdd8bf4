"""Exercise 9, a solution: He initialisation (notes eq. (17))."""

import numpy as np


def he_normal(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
