"""Exercise 2: backward through leaky ReLU and tanh (notes section 8, eq. (2b) and (2d), and eq. (10)).

An element-wise activation ``A = f(Z)`` passes the gradient back as ``dZ = dA * f'(Z)``
(element by element, eq. (10)). Write it for

* leaky ReLU, ``f(z) = z`` for ``z > 0`` and ``slope * z`` otherwise (take the slope at ``z = 0``
  to be ``slope``, as digitnet does);
* tanh, using its output ``A = tanh(Z)``: ``f'(z) = 1 - tanh(z)^2 = 1 - a^2``.

Grade it: ``pytest exercises/test_ex02_activation_backward.py``. Hints: ``hints/ex02_activation_backward.md``.
"""

import numpy as np


def leaky_relu_backward(dA: np.ndarray, Z: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """``dZ = dA * leaky'(Z)``, any shape, the dtype of ``dA``."""
    raise NotImplementedError("exercise 2: leaky ReLU backward")


def tanh_backward(dA: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``dZ = dA * (1 - A^2)``, where ``A = tanh(Z)`` is the forward pass's output."""
    raise NotImplementedError("exercise 2: tanh backward")
