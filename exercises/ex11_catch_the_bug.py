"""Exercise 11: re-introduce the original notebook's bias bug and watch a gradient check catch it
(notes section 12 eq. (8), section 17 eq. (19); the tutorial notebook's section 10 (a)).

The original student notebook computed the bias gradient as ``db = 1/m * np.sum(dZ)``: one number,
the sum over the batch *and* over the neurons, given to every neuron. Here ``dZ`` already includes
the ``1/n`` of the mean loss.

1. ``buggy_bias_gradient(dZ)`` reproduces that bug: an array of shape ``(n_out,)`` whose every
   entry is the sum of all of ``dZ``.
2. ``central_differences(loss_value, b)`` estimates the gradient of the loss with respect to every
   entry of ``b`` by eq. (19).

The grader then checks a small network's first-layer bias gradient both ways against your
central differences: the right one (``dZ.sum(axis=0)``, eq. (8)) must agree to about 1e-10, your
buggy one must be caught, far from 0. Its messages print both relative errors.

Grade it: ``pytest exercises/test_ex11_catch_the_bug.py``. Hints: ``hints/ex11_catch_the_bug.md``.
"""

import numpy as np


def buggy_bias_gradient(dZ: np.ndarray) -> np.ndarray:
    """The original notebook's bias gradient: every neuron gets the sum of the whole of ``dZ``."""
    raise NotImplementedError("exercise 11: reproduce the bug")


def central_differences(loss_value, b: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """eq. (19) for every entry of the live array ``b``: ``(L(b_j + h) - L(b_j - h)) / (2h)``, where
    ``loss_value()`` computes the loss with ``b`` as it is at that moment. Puts ``b`` back as it was."""
    raise NotImplementedError("exercise 11: central differences in every entry of b")
