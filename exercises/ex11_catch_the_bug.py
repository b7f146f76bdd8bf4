"""Exercise 11: re-introduce the original notebook's bias bug and watch a gradient check catch it
(notes section 12 eq. (8), section 17 eq. (19); the tutorial notebook's section 10 (a)).

The original student notebook computed the bias gradient as ``db = 1/m * np.sum(dZ)``: one number,
the sum over the batch *and* over the neurons, given to every neuron. Here ``dZ`` already includes
the ``1/n`` of the mean loss.

1. ``buggy_bias_gradient(dZ)`` reproduces that bug: an array of shape ``(n_out,)`` whose every
   entry is the sum of all of ``dZ``.
2. ``central_differences(loss_value, b)`` estimates the gradient of the loss with respect to every
   entry of ``b`` by eq. (19). ``bias_gradient_error(bias_gradient)``, written for you, uses it
   on the first layer's bias ``b1`` of a small network and returns the relative error of the
   ``db1`` that ``bias_gradient`` computes: about 1e-10 for the right gradient, far from 0 for
   the bug.

Grade it: ``pytest exercises/test_ex11_catch_the_bug.py``. Hints: ``hints/ex11_catch_the_bug.md``.
"""

import numpy as np

from digitnet.gradcheck import relative_error
from digitnet.losses import SoftmaxCrossEntropy
from digitnet.network import Network


def right_bias_gradient(dZ: np.ndarray) -> np.ndarray:
    """notes eq. (8): the sum over the batch only."""
    return dZ.sum(axis=0)


def buggy_bias_gradient(dZ: np.ndarray) -> np.ndarray:
    """The original notebook's bias gradient: every neuron gets the sum of the whole of ``dZ``."""
    raise NotImplementedError("exercise 11: reproduce the bug")


def central_differences(loss_value, b: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """eq. (19) for every entry of the live array ``b``: ``(L(b_j + h) - L(b_j - h)) / (2h)``, where
    ``loss_value()`` computes the loss with ``b`` as it is at that moment. Puts ``b`` back as it was."""
    raise NotImplementedError("exercise 11: central differences in every entry of b")


def bias_gradient_error(bias_gradient, seed: int = 0) -> float:
    """Relative error of ``bias_gradient(dZ1)`` against central differences of the loss in ``b1``."""
    rng = np.random.default_rng(seed)
    network = Network.create([8, 6, 4], rng, activation="tanh", dtype=np.float64)
    X, labels, loss = rng.normal(size=(5, 8)), rng.integers(0, 4, size=5), SoftmaxCrossEntropy()
    hidden, activation, output = network.layers
    loss.forward(network.forward(X), labels)
    dZ1 = activation.backward(output.backward(loss.backward()))  # backward by hand down to dZ1
    numeric = central_differences(lambda: loss.forward(network.forward(X), labels), hidden.b)
    return relative_error(bias_gradient(dZ1), numeric)
