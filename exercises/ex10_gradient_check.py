"""Exercise 10: a gradient check by central differences (notes section 17, eq. (19)).

``numerical_gradient(f, x)`` estimates the gradient of a scalar function ``f`` of the array ``x``,
one entry at a time: ``(f(x + h e_i) - f(x - h e_i)) / (2h)``, an error of order ``h^2``. It must
leave ``x`` as it found it. ``relative_error(a, b)`` is ``||a - b|| / (||a|| + ||b||)`` (0 when both
are 0): about 1e-9 or less when backpropagation is right, about 1e-1 when it is wrong.

Grade it: ``pytest exercises/test_ex10_gradient_check.py``. Hints: ``hints/ex10_gradient_check.md``.
"""

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The central-difference estimate of ``df/dx``, an array of the shape of ``x``."""
    raise NotImplementedError("exercise 10: central differences, entry by entry")


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / (||a|| + ||b||)``, or 0.0 when both are zero."""
    raise NotImplementedError("exercise 10: the relative error")
