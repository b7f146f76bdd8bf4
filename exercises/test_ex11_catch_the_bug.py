"""Grader of exercise 11: the bug reproduced exactly, and the learner's central differences passing the
right bias gradient of a small network and catching the buggy one."""

import numpy as np
import pytest

from digitnet.gradcheck import relative_error
from digitnet.losses import SoftmaxCrossEntropy
from digitnet.network import Network


def bias_gradient_error(answer, bias_gradient, seed: int) -> float:
    """The relative error of ``bias_gradient(dZ1)`` against the learner's central differences of the
    loss in the first layer's bias ``b1``."""
    rng = np.random.default_rng(seed)
    network = Network.create([8, 6, 4], rng, activation="tanh", dtype=np.float64)
    X, labels, loss = rng.normal(size=(5, 8)), rng.integers(0, 4, size=5), SoftmaxCrossEntropy()
    hidden, activation, output = network.layers
    loss.forward(network.forward(X), labels)
    dZ1 = activation.backward(output.backward(loss.backward()))  # backward by hand down to dZ1
    numeric = answer.central_differences(lambda: loss.forward(network.forward(X), labels), hidden.b)
    return relative_error(bias_gradient(dZ1), numeric)


def test_the_bug_gives_every_neuron_the_sum_of_everything(answer):
    dZ = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(answer.buggy_bias_gradient(dZ), [66.0, 66.0, 66.0])


@pytest.mark.parametrize("seed", [0, 1])
def test_the_check_passes_the_right_gradient_and_catches_the_bug(answer, seed):
    right = bias_gradient_error(answer, lambda dZ: dZ.sum(axis=0), seed)
    buggy = bias_gradient_error(answer, answer.buggy_bias_gradient, seed)
    assert right < 1e-8, f"the right bias gradient (eq. (8)) should pass: relative error {right:.1e}"
    assert buggy > 0.1, f"the bug should be caught: relative error {buggy:.1e}"
