"""Grader of exercise 2: each activation's backward pass against central differences of its forward
pass (float64) and against digitnet's derivatives."""

import numpy as np

from digitnet.functional import ACTIVATIONS


def central_difference_backward(forward, Z, dA, h=1e-6):
    """d(sum(dA * f(Z)))/dZ, entry by entry: what the backward pass must return."""
    return dA * (forward(Z + h) - forward(Z - h)) / (2 * h)


def random_batch(seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(6, 5)) * 2
    Z[np.abs(Z) < 1e-3] = 0.5  # keep away from the kink of leaky ReLU
    return Z, rng.normal(size=Z.shape)


def test_leaky_relu_backward_matches_central_differences(answer):
    Z, dA = random_batch()
    expected = central_difference_backward(ACTIVATIONS["leaky_relu"].forward, Z, dA)
    np.testing.assert_allclose(answer.leaky_relu_backward(dA, Z), expected, rtol=1e-6, atol=1e-9)


def test_leaky_relu_backward_takes_the_slope_at_zero_and_keeps_float32(answer):
    Z = np.array([[-2.0, 0.0, 3.0]], dtype=np.float32)
    dA = np.ones_like(Z)
    dZ = answer.leaky_relu_backward(dA, Z, slope=0.1)
    np.testing.assert_allclose(dZ, [[0.1, 0.1, 1.0]], rtol=1e-6)
    assert dZ.dtype == np.float32


def test_tanh_backward_matches_central_differences_and_digitnet(answer):
    Z, dA = random_batch(1)
    A = np.tanh(Z)
    dZ = answer.tanh_backward(dA, A)
    np.testing.assert_allclose(dZ, central_difference_backward(np.tanh, Z, dA), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dZ, dA * ACTIVATIONS["tanh"].derivative(Z, A), rtol=1e-12)
