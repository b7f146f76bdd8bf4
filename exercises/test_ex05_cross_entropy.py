"""Grader of exercise 5: the cross-entropy against digitnet's, its gradient against central differences
of the learner's own loss, and the mean over the batch."""

import numpy as np

from digitnet.losses import SoftmaxCrossEntropy


def batch(seed=0, n=6, k=10):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, k)) * 2, rng.integers(0, k, size=n)


def test_the_loss_matches_digitnet_and_stays_finite(answer):
    Z, y = batch()
    assert abs(answer.cross_entropy_loss(Z, y) - SoftmaxCrossEntropy().forward(Z, y)) < 1e-12
    confidently_wrong = np.array([[1000.0, -1000.0]], dtype=np.float32)
    assert answer.cross_entropy_loss(confidently_wrong, np.array([1])) == 2000.0


def test_the_gradient_is_the_derivative_of_the_loss(answer):
    Z, y = batch(1)
    h, numeric = 1e-6, np.zeros_like(Z)
    for index in np.ndindex(Z.shape):
        nudged = Z.copy()
        nudged[index] += h
        plus = answer.cross_entropy_loss(nudged, y)
        nudged[index] -= 2 * h
        numeric[index] = (plus - answer.cross_entropy_loss(nudged, y)) / (2 * h)
    np.testing.assert_allclose(answer.cross_entropy_gradient(Z, y), numeric, rtol=1e-6, atol=1e-9)


def test_the_loss_is_a_mean_over_the_batch(answer):
    Z, y = batch(2)
    doubled_Z, doubled_y = np.concatenate([Z, Z]), np.concatenate([y, y])
    assert abs(answer.cross_entropy_loss(doubled_Z, doubled_y) - answer.cross_entropy_loss(Z, y)) < 1e-12
    np.testing.assert_allclose(
        answer.cross_entropy_gradient(doubled_Z, doubled_y)[: len(y)],
        answer.cross_entropy_gradient(Z, y) / 2,
        rtol=1e-12,
    )
