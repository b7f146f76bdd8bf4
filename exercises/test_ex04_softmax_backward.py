"""Grader of exercise 4: the softmax backward pass against the explicit Jacobian and against central
differences of the softmax itself."""

import numpy as np

from digitnet.functional import softmax


def batch(seed=0, n=4, k=5):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, k)) * 2
    return Z, softmax(Z), rng.normal(size=(n, k))


def test_softmax_backward_applies_the_jacobian_to_each_row(answer):
    Z, P, dP = batch()
    dZ = answer.softmax_backward(P, dP)
    assert dZ.shape == P.shape, f"dZ must have the shape of Z, {P.shape}, got {dZ.shape}"
    for p, dp, dz in zip(P, dP, dZ):
        jacobian = np.diag(p) - np.outer(p, p)  # dp_c / dz_j = p_c ([c = j] - p_j)
        np.testing.assert_allclose(dz, jacobian @ dp, rtol=1e-10, atol=1e-14)


def test_softmax_backward_matches_central_differences(answer):
    Z, P, dP = batch(1)
    h, numeric = 1e-6, np.zeros_like(Z)
    for index in np.ndindex(Z.shape):  # d(sum(dP * softmax(Z))) / dZ, one entry at a time
        nudged = Z.copy()
        nudged[index] += h
        plus = np.sum(dP * softmax(nudged))
        nudged[index] -= 2 * h
        numeric[index] = (plus - np.sum(dP * softmax(nudged))) / (2 * h)
    np.testing.assert_allclose(answer.softmax_backward(P, dP), numeric, rtol=1e-6, atol=1e-9)
