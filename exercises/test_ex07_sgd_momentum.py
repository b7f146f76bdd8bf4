"""Grader of exercise 7: five steps of the learner's update against digitnet's SGD, for plain SGD,
momentum and Nesterov momentum."""

import numpy as np
import pytest

from digitnet.optimizers import SGD


@pytest.mark.parametrize(("mu", "nesterov"), [(0.0, False), (0.9, False), (0.9, True)])
def test_five_steps_match_digitnets_sgd(answer, mu, nesterov):
    rng = np.random.default_rng(0)
    start = rng.normal(size=(4, 3))
    gradients = [rng.normal(size=(4, 3)) for _ in range(5)]
    reference = {"dense0.W": start.copy()}
    optimizer = SGD(reference, momentum=mu, nesterov=nesterov)
    w, v = start.copy(), np.zeros_like(start)
    for step, g in enumerate(gradients, start=1):
        optimizer.step({"dense0.W": g}, lr=0.1)
        w, v = answer.sgd_step(w, v, g, lr=0.1, mu=mu, nesterov=nesterov)
        np.testing.assert_allclose(w, reference["dense0.W"], rtol=1e-12, err_msg=f"after step {step}")


def test_the_arrays_passed_in_are_left_alone(answer):
    w, v, g = np.ones(3), np.full(3, 0.5), np.full(3, 2.0)
    new_w, new_v = answer.sgd_step(w, v, g, lr=0.1, mu=0.9)
    np.testing.assert_array_equal(w, 1.0)
    np.testing.assert_array_equal(v, 0.5)
    np.testing.assert_allclose(new_v, 0.9 * 0.5 + 2.0)
    np.testing.assert_allclose(new_w, 1.0 - 0.1 * (0.9 * 0.5 + 2.0))
