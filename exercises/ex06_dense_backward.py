"""Exercise 6: the dense layer's backward pass (notes section 12, eq. (7), (8) and (9)).

For ``Z = X W + b`` and the incoming gradient ``dZ = dL/dZ`` ``(n, n_out)``, return

* ``dW = X^T dZ``, shape ``(n_in, n_out)``, the shape of ``W``;
* ``db``, shape ``(n_out,)``: ``dZ`` summed over the **batch** only, one number per neuron (the
  original student notebook summed over every axis and gave all neurons the same number);
* ``dX = dZ W^T``, shape ``(n, n_in)``, passed on to the layer below.

Grade it: ``pytest exercises/test_ex06_dense_backward.py``. Hints: ``hints/ex06_dense_backward.md``.
"""

import numpy as np


def dense_backward(X: np.ndarray, W: np.ndarray, dZ: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dW, db, dX)`` for ``Z = X W + b``."""
    raise NotImplementedError("exercise 6: dW = X^T dZ, db = sum of dZ over the batch, dX = dZ W^T")
