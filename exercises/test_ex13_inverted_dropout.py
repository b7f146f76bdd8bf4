"""Grader of exercise 13: the fraction dropped, the scaling of the survivors, the kept mean, the
backward pass through the same mask, and reproducibility."""

import numpy as np


def test_a_quarter_is_dropped_and_the_rest_scaled_so_the_mean_is_kept(answer):
    A = np.random.default_rng(0).uniform(0, 2, size=(400, 250)).astype(np.float32)
    out, mask = answer.dropout_forward(A, 0.25, np.random.default_rng(1))
    assert out.shape == mask.shape == A.shape and out.dtype == np.float32
    kept = mask > 0
    assert abs(1 - kept.mean() - 0.25) < 0.01, f"dropped {1 - kept.mean():.3f} of the activations, not 0.25"
    np.testing.assert_allclose(mask[kept], 1 / 0.75, rtol=1e-6)
    np.testing.assert_allclose(out, A * mask, rtol=1e-6)
    assert abs(out.mean() / A.mean() - 1) < 0.01, "inverted dropout keeps the expected activation"


def test_the_backward_pass_uses_the_same_mask(answer):
    A = np.ones((50, 40))
    _, mask = answer.dropout_forward(A, 0.5, np.random.default_rng(2))
    dA_out = np.random.default_rng(3).normal(size=A.shape)
    np.testing.assert_array_equal(answer.dropout_backward(dA_out, mask), dA_out * mask)


def test_the_same_seed_drops_the_same_units_and_rate_0_drops_none(answer):
    A = np.ones((20, 30))
    first = answer.dropout_forward(A, 0.5, np.random.default_rng(4))[1]
    again = answer.dropout_forward(A, 0.5, np.random.default_rng(4))[1]
    assert np.array_equal(first, again), "draw the mask from the generator you are given"
    np.testing.assert_array_equal(answer.dropout_forward(A, 0.0, np.random.default_rng(5))[0], A)
