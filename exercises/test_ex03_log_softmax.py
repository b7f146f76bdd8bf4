"""Grader of exercise 3: softmax and log-softmax against digitnet's, and on logits that overflow a
naive implementation."""

import numpy as np

from digitnet import functional

HUGE = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 0.0, 1000.0]], dtype=np.float32)


def test_softmax_matches_digitnet_and_its_rows_sum_to_one(answer):
    Z = np.random.default_rng(0).normal(size=(8, 10)) * 3
    P = answer.softmax(Z)
    np.testing.assert_allclose(P, functional.softmax(Z), rtol=1e-12)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)


def test_softmax_survives_huge_logits_in_float32(answer):
    with np.errstate(over="raise", invalid="raise"):  # an overflow fails the test
        P = answer.softmax(HUGE)
    assert P.dtype == np.float32
    np.testing.assert_array_equal(P, [[1, 0, 0], [0, 0, 1]])


def test_log_softmax_matches_digitnet_and_stays_finite(answer):
    Z = np.random.default_rng(1).normal(size=(8, 10)) * 3
    np.testing.assert_allclose(answer.log_softmax(Z), functional.log_softmax(Z), rtol=1e-12)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        log_p = answer.log_softmax(HUGE)
    assert log_p.dtype == np.float32 and np.isfinite(log_p).all(), "log p must stay finite: never take log(0)"
    np.testing.assert_allclose(log_p, [[0, -1000, -2000], [-2000, -1000, 0]])
