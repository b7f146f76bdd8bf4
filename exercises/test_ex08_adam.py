"""Grader of exercise 8: ten float32 Adam steps, compared with digitnet's Adam bit for bit."""

import numpy as np

from digitnet.optimizers import Adam


def test_ten_steps_are_bit_identical_to_digitnets_adam(answer):
    rng = np.random.default_rng(0)
    start = rng.normal(size=(5, 4)).astype(np.float32)
    reference = {"dense0.W": start.copy()}
    optimizer = Adam(reference)
    state, w = answer.AdamState(start.shape), start.copy()
    for step in range(1, 11):
        g = rng.normal(size=start.shape).astype(np.float32)
        optimizer.step({"dense0.W": g}, lr=1e-3)
        w = state.step(w, g, lr=1e-3)
        assert w.dtype == np.float32, f"step {step}: float32 weights became {w.dtype}"
        assert np.array_equal(w, reference["dense0.W"]), (
            f"step {step}: largest difference {np.abs(w - reference['dense0.W']).max():.3g}; "
            "the right formula in another order differs in the last bits"
        )


def test_the_first_step_moves_every_weight_by_about_lr(answer):
    # bias correction makes m_hat / sqrt(v_hat) = g / |g| at t = 1: a step of lr against the gradient's sign
    w, g = np.zeros(4, dtype=np.float32), np.array([3.0, -0.5, 1e-3, -40.0], dtype=np.float32)
    new_w = answer.AdamState((4,)).step(w, g, lr=0.01)
    np.testing.assert_allclose(new_w, -0.01 * np.sign(g), rtol=1e-4)
    np.testing.assert_array_equal(w, 0.0)
