"""Exercise 13: inverted dropout, forward and backward (notes section 20, eq. (21)).

While training, keep each activation with probability ``1 - rate`` and scale the kept ones by
``1 / (1 - rate)``: ``A_out = A * M`` with ``M = Bernoulli(1 - rate) / (1 - rate)``, so the
expected value of every activation is unchanged. The backward pass sends the gradient through the
same mask: ``dA = dA_out * M``.

``dropout_forward`` draws the mask from the generator it is given (so a seed repeats it), returns
the output and the mask, and keeps the dtype of ``A``.

Grade it: ``pytest exercises/test_ex13_inverted_dropout.py``. Hints: ``hints/ex13_inverted_dropout.md``.
"""

import numpy as np


def dropout_forward(A: np.ndarray, rate: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(A_out, M)``: the activations after dropout and the mask used (both the shape of ``A``)."""
    raise NotImplementedError("exercise 13: A_out = A * M, M = Bernoulli(1 - rate) / (1 - rate)")


def dropout_backward(dA_out: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``dA = dA_out * M``."""
    raise NotImplementedError("exercise 13: the gradient through the same mask")
