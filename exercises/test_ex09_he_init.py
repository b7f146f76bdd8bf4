"""Grader of exercise 9: the sample statistics of He's weights, reproducibility from the generator,
and a signal that neither vanishes nor explodes through ten ReLU layers."""

import numpy as np


def test_the_weights_have_mean_0_and_variance_2_over_n_in(answer):
    W = answer.he_normal(np.random.default_rng(0), 784, 256)
    assert W.shape == (784, 256)
    assert abs(W.mean()) < 0.002
    assert abs(W.var() / (2 / 784) - 1) < 0.02, f"variance {W.var():.5f}, expected 2/784 = {2 / 784:.5f}"


def test_the_same_seed_gives_the_same_weights(answer):
    first = answer.he_normal(np.random.default_rng(7), 30, 20)
    again = answer.he_normal(np.random.default_rng(7), 30, 20)
    other = answer.he_normal(np.random.default_rng(8), 30, 20)
    assert np.array_equal(first, again), "draw from the generator you are given, not np.random"
    assert not np.array_equal(first, other)


def test_the_signal_keeps_its_size_through_ten_relu_layers(answer):
    rng = np.random.default_rng(1)
    A = rng.uniform(0, 1, size=(1000, 256))
    first_variance = None
    for _ in range(10):
        Z = A @ answer.he_normal(rng, 256, 256)
        first_variance = first_variance or Z.var()
        A = np.maximum(Z, 0)
    assert 0.5 < Z.var() / first_variance < 2, (
        f"after 10 layers the variance changed {Z.var() / first_variance:.2f} times"
    )
