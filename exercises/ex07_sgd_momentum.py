"""Exercise 7: one step of SGD with momentum, plain or Nesterov (notes section 15, eq. (13) and (14)).

With the velocity ``v`` (zeros before the first step), the gradient ``g``, the learning rate
``lr`` and the momentum ``mu``:

* momentum, eq. (13): ``v <- mu v + g``, then ``w <- w - lr v``;
* Nesterov, eq. (14): the same ``v``, then ``w <- w - lr (g + mu v)``.

Return the new ``w`` and ``v`` without changing the arrays passed in. ``mu = 0`` is plain SGD.

Grade it: ``pytest exercises/test_ex07_sgd_momentum.py``. Hints: ``hints/ex07_sgd_momentum.md``.
"""

import numpy as np


def sgd_step(
    w: np.ndarray, v: np.ndarray, g: np.ndarray, lr: float, mu: float, nesterov: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(new w, new v)`` after one update."""
    raise NotImplementedError("exercise 7: v = mu v + g; w = w - lr v (or lr (g + mu v))")
