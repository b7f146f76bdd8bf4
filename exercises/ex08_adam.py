"""Exercise 8: Adam, bit for bit the same as ``digitnet.optimizers.Adam`` (notes section 15, eq. (15)).

Keep running means of the gradient and of its square, correct their bias towards 0, and scale
each parameter's step by its own gradient size. With ``t`` counting steps from 1:

    m <- b1 m + (1 - b1) g           v <- b2 v + (1 - b2) g g
    m_hat = m / (1 - b1^t)           v_hat = v / (1 - b2^t)
    w <- w - lr m_hat / (sqrt(v_hat) + eps)

``AdamState`` holds ``m``, ``v`` and ``t`` for one parameter array; ``step`` returns the new
weights. The grader compares ten float32 steps with digitnet's Adam **exactly**, bit for bit:
floating-point arithmetic is not associative, so write each formula in the order shown above.

Grade it: ``pytest exercises/test_ex08_adam.py``. Hints: ``hints/ex08_adam.md``.
"""

import numpy as np


class AdamState:
    """Adam's state for one parameter array of ``shape`` and ``dtype``: ``m`` and ``v`` (zeros at
    first, in ``dtype``), the step count ``t`` (0 at first) and the constants."""

    def __init__(self, shape, dtype=np.float32, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        raise NotImplementedError("exercise 8: keep the constants; m and v start as zeros, t at 0")

    def step(self, w: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        """Update ``m``, ``v``, ``t`` and return the new weights (``w`` itself is left alone)."""
        raise NotImplementedError("exercise 8: one Adam step, eq. (15)")
