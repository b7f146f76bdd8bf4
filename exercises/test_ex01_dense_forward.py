"""Grader of exercise 1: the dense forward pass against the notes' worked example and digitnet's Dense."""

import numpy as np

from digitnet.layers import Dense


def test_the_worked_example_of_the_notes(answer):
    # notes section 18: z1 = x W1 + b1 = (0.1 + 0.2 + 0.5 + 0.1, -0.2 + 0.15 - 0.2 - 0.1)
    x = np.array([[1.0, 0.5, -1.0]])
    W1 = np.array([[0.1, -0.2], [0.4, 0.3], [-0.5, 0.2]])
    b1 = np.array([0.1, -0.1])
    np.testing.assert_allclose(answer.dense_forward(x, W1, b1), [[0.9, -0.35]], atol=1e-12)


def test_a_batch_gets_the_bias_on_every_row_and_keeps_float32(answer):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 7)).astype(np.float32)
    W = rng.normal(size=(7, 3)).astype(np.float32)
    b = rng.normal(size=3).astype(np.float32)
    Z = answer.dense_forward(X, W, b)
    assert Z.shape == (5, 3), f"Z should be (n, n_out) = (5, 3), got {Z.shape}"
    assert Z.dtype == np.float32, f"float32 in should give float32 out, got {Z.dtype}"
    np.testing.assert_allclose(Z, Dense(W, b).forward(X), rtol=1e-6)
