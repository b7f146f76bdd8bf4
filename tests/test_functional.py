"""Activations, softmax and log-softmax: values, derivatives, stability, dtypes."""

import numpy as np
import pytest

from digitnet.functional import ACTIVATIONS, log_softmax, one_hot, softmax


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_matches_central_differences(name):
    forward, derivative = ACTIVATIONS[name]
    z = np.random.default_rng(0).normal(0, 2, size=(50, 7))
    z = z[np.abs(z) > 1e-3].reshape(-1)  # stay off the ReLU kink, where no derivative exists
    h = 1e-6
    numeric = (forward(z + h) - forward(z - h)) / (2 * h)
    np.testing.assert_allclose(derivative(z, forward(z)), numeric, rtol=1e-7, atol=1e-9)


def test_derivatives_at_exactly_zero_are_the_ones_the_notes_define():
    # notes eq. (2): relu'(z) = 0 for z <= 0, so the kink itself passes no gradient; eq. (2b):
    # leaky ReLU's slope there. Central differences cannot see this (they straddle the kink).
    z = np.array([-0.0, 0.0, -1e-30, 1e-30], dtype=np.float32)
    relu, leaky = ACTIVATIONS["relu"], ACTIVATIONS["leaky_relu"]
    np.testing.assert_array_equal(relu.derivative(z, relu.forward(z)), [0, 0, 0, 1])
    np.testing.assert_array_equal(leaky.derivative(z, leaky.forward(z)), np.float32([0.01, 0.01, 0.01, 1]))


def test_activation_values_on_hand_picked_inputs():
    z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(ACTIVATIONS["relu"].forward(z), [0.0, 0.0, 3.0])
    np.testing.assert_allclose(ACTIVATIONS["leaky_relu"].forward(z), [-0.02, 0.0, 3.0])
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"].forward(z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    np.testing.assert_allclose(ACTIVATIONS["tanh"].forward(z), np.tanh(z))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_keep_float32(name):
    z = np.linspace(-3, 3, 12, dtype=np.float32)
    forward, derivative = ACTIVATIONS[name]
    assert forward(z).dtype == np.float32
    assert derivative(z, forward(z)).dtype == np.float32


def test_sigmoid_does_not_overflow_for_very_negative_inputs():
    with np.errstate(all="raise"):
        values = ACTIVATIONS["sigmoid"].forward(np.array([-1000.0, 1000.0], dtype=np.float32))
    np.testing.assert_array_equal(values, [0.0, 1.0])


def test_softmax_hand_example():
    # exp([0, ln 2, ln 5]) = [1, 2, 5], sum 8
    p = softmax(np.array([[0.0, np.log(2), np.log(5)]]))
    np.testing.assert_allclose(p, [[1 / 8, 2 / 8, 5 / 8]], rtol=1e-15)


def test_softmax_rows_sum_to_one_and_are_shift_invariant():
    z = np.random.default_rng(1).normal(0, 5, size=(20, 10))
    p = softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(softmax(z + 123.0), p, rtol=1e-12)


@pytest.mark.parametrize("magnitude", [1e2, 1e3, 1e4])
def test_softmax_and_log_softmax_stay_finite_for_huge_logits_in_float32(magnitude):
    z = np.array([[magnitude, 0.0, -magnitude], [-magnitude, -magnitude, magnitude]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise"):
        p = softmax(z)
        log_p = log_softmax(z)
    assert np.isfinite(p).all() and np.isfinite(log_p).all()
    np.testing.assert_allclose(p[:, [0, 2]], [[1, 0], [0, 1]])
    assert log_p[0, 2] == pytest.approx(-2 * magnitude, rel=1e-6)
    assert p.dtype == log_p.dtype == np.float32


def test_log_softmax_equals_log_of_softmax_where_both_are_accurate():
    z = np.random.default_rng(2).normal(0, 3, size=(10, 10))
    np.testing.assert_allclose(log_softmax(z), np.log(softmax(z)), rtol=1e-12)


def test_one_hot():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
