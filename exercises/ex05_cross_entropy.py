"""Exercise 5: the cross-entropy loss and its gradient (P - Y)/n (notes section 11, eq. (5) and (6)).

For logits ``Z`` ``(n, k)`` and integer labels ``y`` ``(n,)`` (classes counted from 0):

* ``cross_entropy_loss``: ``L = -(1/n) sum_i log p_{i, y_i}``, with ``p = softmax(z)``, computed
  through a log-softmax so it stays finite for huge logits;
* ``cross_entropy_gradient``: ``dL/dZ = (P - Y) / n``, ``Y`` the one-hot labels.

You may use ``digitnet.functional.log_softmax`` (or your exercise 3). Derive (6) before you code it.

Grade it: ``pytest exercises/test_ex05_cross_entropy.py``. Hints: ``hints/ex05_cross_entropy.md``.
"""

import numpy as np


def cross_entropy_loss(Z: np.ndarray, y: np.ndarray) -> float:
    """The mean cross-entropy of the batch, a Python float."""
    raise NotImplementedError("exercise 5: L = -mean of log p of the true class")


def cross_entropy_gradient(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dL/dZ`` ``(n, k)``."""
    raise NotImplementedError("exercise 5: dZ = (P - Y) / n")
