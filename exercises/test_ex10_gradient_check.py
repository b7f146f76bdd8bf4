"""Grader of exercise 10: central differences on a function with a known gradient (a one-sided
difference is not accurate enough to pass), on a digitnet network against its backward pass, and
the relative error."""

import numpy as np

from digitnet.losses import SoftmaxCrossEntropy
from digitnet.network import Network


def test_central_differences_are_accurate_to_order_h_squared(answer):
    x = np.random.default_rng(0).normal(size=(3, 4))
    before = x.copy()
    estimate = answer.numerical_gradient(lambda a: float(np.sum(a**3)), x, h=1e-4)
    assert np.array_equal(x, before), "numerical_gradient must put every entry of x back"
    # the error of a central difference is h^2 f'''/6 = 1e-8 here; a one-sided one would be 3 x h ~ 3e-4
    np.testing.assert_allclose(estimate, 3 * x**2, rtol=0, atol=2e-8)


def test_it_agrees_with_backpropagation_on_a_network(answer):
    rng = np.random.default_rng(1)
    network = Network.create([6, 5, 3], rng, activation="tanh", dtype=np.float64)
    X, labels, loss = rng.normal(size=(4, 6)), rng.integers(0, 3, size=4), SoftmaxCrossEntropy()
    loss.forward(network.forward(X), labels)
    network.backward(loss.backward())
    for name, parameter in network.parameters().items():
        numeric = answer.numerical_gradient(lambda _: loss.forward(network.forward(X), labels), parameter)
        error = answer.relative_error(network.gradients()[name], numeric)
        assert error < 1e-7, f"{name}: relative error {error:.1e}"


def test_the_relative_error(answer):
    assert answer.relative_error(np.array([3.0, 4.0]), np.array([3.0, 4.0])) == 0.0
    assert answer.relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert abs(answer.relative_error(np.array([1.0, 0.0]), np.array([0.0, 1.0])) - np.sqrt(2) / 2) < 1e-12
