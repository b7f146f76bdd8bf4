"""Exercise 4: backward through the softmax (notes section 9, the Jacobian, and eq. (12)).

Given the softmax's output ``P`` (shape ``(n, k)``) and the gradient of the loss with respect to
it, ``dP``, return ``dZ``, the gradient with respect to the logits. Derive it first: with
``dp_c / dz_j = p_c ([c = j] - p_j)``, row by row ``dz = J dp`` with ``J = diag(p) - p p^T``.
Then write it without building the ``k x k`` matrix ``J``: it simplifies to one line.

Grade it: ``pytest exercises/test_ex04_softmax_backward.py``. Hints: ``hints/ex04_softmax_backward.md``.
"""

import numpy as np


def softmax_backward(P: np.ndarray, dP: np.ndarray) -> np.ndarray:
    """``dZ`` ``(n, k)`` from the softmax output ``P`` ``(n, k)`` and ``dP = dL/dP`` ``(n, k)``."""
    raise NotImplementedError("exercise 4: dZ = P * (dP - row sums of dP * P)")
