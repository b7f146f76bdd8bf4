"""Exercise 9: He initialisation, and why it keeps a deep ReLU network's signal alive (notes section 16,
eq. (17)).

Return a weight matrix ``(n_in, n_out)`` drawn from ``N(0, 2 / n_in)`` using the generator you are
given (never NumPy's global one, so the same seed gives the same weights).

Grade it: ``pytest exercises/test_ex09_he_init.py``. Hints: ``hints/ex09_he_init.md``.
"""

import numpy as np


def he_normal(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """``W ~ N(0, 2 / n_in)``, shape ``(n_in, n_out)``, float64."""
    raise NotImplementedError("exercise 9: W ~ N(0, 2 / n_in)")
