"""Exercise 1: the dense layer's forward pass (notes section 8, eq. (1)).

A dense layer turns a batch ``X`` of shape ``(n, n_in)`` into ``Z = X W + b`` of shape
``(n, n_out)``, with ``W`` of shape ``(n_in, n_out)`` and the bias ``b`` of shape ``(n_out,)``
added to every row. Write it without a Python loop over the examples.

Grade it: ``pytest exercises/test_ex01_dense_forward.py``. Stuck? ``hints/ex01_dense_forward.md``.
"""

import numpy as np


def dense_forward(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Z = X W + b``: ``X`` ``(n, n_in)``, ``W`` ``(n_in, n_out)``, ``b`` ``(n_out,)`` -> ``(n, n_out)``,
    in the dtype of ``X``."""
    raise NotImplementedError("exercise 1: compute Z = X W + b")
