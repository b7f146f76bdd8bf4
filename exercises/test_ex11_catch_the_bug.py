"""Grader of exercise 11: the bug reproduced exactly, and the learner's check passing the right bias
gradient and catching the buggy one."""

import numpy as np


def test_the_bug_gives_every_neuron_the_sum_of_everything(answer):
    dZ = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(answer.buggy_bias_gradient(dZ), [66.0, 66.0, 66.0])


def test_the_check_passes_the_right_gradient(answer):
    for seed in (0, 1):
        assert answer.bias_gradient_error(answer.right_bias_gradient, seed) < 1e-8


def test_the_check_catches_the_bug(answer):
    for seed in (0, 1):
        assert answer.bias_gradient_error(answer.buggy_bias_gradient, seed) > 0.1
