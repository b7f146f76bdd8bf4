"""Numerical safety: extreme logits stay finite in float32, the gradient check holds near
saturation, and a diverging run stops with a message instead of NumPy warnings."""

from __future__ import annotations

import numpy as np
import pytest

from digitnet.errors import TrainingDiverged
from digitnet.functional import ACTIVATIONS, log_softmax, softmax
from digitnet.gradcheck import gradcheck
from digitnet.losses import get_loss
from digitnet.network import Network
from digitnet.training import TrainConfig, Trainer


@pytest.fixture
def extreme_logits() -> np.ndarray:
    """64 rows of float32 logits spread over [-1e4, 1e4], plus rows that are all at the limits."""
    rng = np.random.default_rng(0)
    random_rows = rng.uniform(-1e4, 1e4, size=(64, 10))
    edge_rows = np.array([[1e4] * 10, [-1e4] * 10, [1e4] + [-1e4] * 9, [-1e4] * 9 + [1e4], [1e4, 1e4] + [-1e4] * 8])
    return np.concatenate([random_rows, edge_rows]).astype(np.float32)


def test_softmax_and_log_softmax_match_float64_torch_at_magnitude_1e4(extreme_logits, torch):
    p, log_p = softmax(extreme_logits), log_softmax(extreme_logits)
    assert p.dtype == np.float32 and log_p.dtype == np.float32
    assert np.isfinite(p).all() and np.isfinite(log_p).all()
    reference = torch.log_softmax(torch.from_numpy(extreme_logits.astype(np.float64)), dim=1).numpy()
    # log p reaches -2e4, where float32's spacing is 2e-3: the tolerance is float32 rounding of the shift
    np.testing.assert_allclose(log_p, reference, rtol=1e-6, atol=2e-3)
    np.testing.assert_allclose(p, np.exp(reference), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)


def test_extreme_logits_hand_worked():
    # row 0: z = (1e4, -1e4); shifted by the max: (0, -2e4); exp: (1, 0); log p = (0, -2e4) exactly.
    # row 1: all logits equal, so p = 1/2 each whatever their size.
    z = np.array([[1e4, -1e4], [1e4, 1e4]], dtype=np.float32)
    assert np.array_equal(softmax(z), np.array([[1, 0], [0.5, 0.5]], dtype=np.float32))
    assert np.array_equal(log_softmax(z), np.array([[0, -2e4], [-np.log(2), -np.log(2)]], dtype=np.float32))
    loss = get_loss("cross-entropy")
    # label 1 in row 0: -log p = 2e4; label 0 in row 1: log 2; the mean over n = 2 rows
    assert loss.forward(z, np.array([1, 0])) == pytest.approx((2e4 + np.log(2)) / 2, rel=1e-7)
    # notes eq. (6): (p - y) / n = ((1, 0) - (0, 1)) / 2 and ((0.5, 0.5) - (1, 0)) / 2
    assert np.array_equal(loss.backward(), np.array([[0.5, -0.5], [-0.25, 0.25]], dtype=np.float32))


@pytest.mark.parametrize("loss_name", ["cross-entropy", "mse"])
def test_losses_and_gradients_finite_at_magnitude_1e4(extreme_logits, loss_name, torch):
    labels = np.arange(len(extreme_logits)) % 10
    loss = get_loss(loss_name)
    value = loss.forward(extreme_logits, labels)
    dlogits = loss.backward()
    assert np.isfinite(value) and dlogits.dtype == np.float32 and np.isfinite(dlogits).all()
    # both gradients are orthogonal to adding a constant to a row's logits: each row sums to 0
    np.testing.assert_allclose(dlogits.sum(axis=1), 0, atol=1e-7)
    reference_logits = torch.tensor(extreme_logits.astype(np.float64), requires_grad=True)
    p = torch.softmax(reference_logits, dim=1)
    y = torch.nn.functional.one_hot(torch.from_numpy(labels), 10).double()
    if loss_name == "cross-entropy":
        reference = torch.nn.functional.cross_entropy(reference_logits, torch.from_numpy(labels))
    else:
        reference = 0.5 * ((p - y) ** 2).sum() / len(labels)
    reference.backward()
    assert value == pytest.approx(reference.item(), rel=1e-6)
    np.testing.assert_allclose(dlogits, reference_logits.grad.numpy(), rtol=1e-5, atol=1e-7)


def saturated_network(activation: str, scale: float, rng) -> Network:
    """784-16-10 in float64 with weights ``scale`` times their usual size: hidden pre-activations
    in the tens and logits in the tens to hundreds, where sigmoid and tanh are flat and the
    softmax is all but one-hot."""
    network = Network.create([784, 16, 10], rng, activation, dtype=np.float64)
    for dense in network.dense_layers:
        dense.W *= scale
    return network


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_gradcheck_passes_near_saturation_with_cross_entropy(activation):
    rng = np.random.default_rng(1)
    network = saturated_network(activation, 20.0, rng)
    X = rng.uniform(0, 1, size=(8, 784))
    labels = rng.integers(0, 10, size=8)
    logits = network.forward(X)
    assert np.abs(logits).max() > 25  # p of the runner-up classes below e^-25: saturated
    checks = gradcheck(network, X, labels, "cross-entropy", max_entries=60, rng=rng)
    assert max(check.relative_error for check in checks) < 1e-6


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_gradcheck_passes_for_mse_at_the_onset_of_saturation(activation):
    """MSE on a softmax: its gradient carries a factor p (1 - p) (notes eq. (12)), so beyond
    logit gaps of about 30 it drops below the float64 noise of central differences (about
    eps |L| / h = 1e-10) and no finite-difference check can see it. Up to there it passes."""
    rng = np.random.default_rng(2)
    network = saturated_network(activation, 8.0, rng)
    X = rng.uniform(0, 1, size=(8, 784))
    labels = rng.integers(0, 10, size=8)
    hidden = network.dense_layers[0].forward(X)
    assert np.abs(hidden).max() > 10  # the hidden units sit on the flat parts of the activation
    checks = gradcheck(network, X, labels, "mse", max_entries=60, rng=rng)
    assert max(check.relative_error for check in checks) < 1e-6


def test_divergence_stops_with_a_message_not_warnings(synthetic_data):
    """A learning rate of 1e30 overflows float32 within a few steps; the run stops with
    TrainingDiverged (pytest turns any NumPy RuntimeWarning into a failure here). Lower rates
    that wreck the network (1e6) still give finite losses: log-softmax takes logits of any size."""
    config = TrainConfig(
        hidden=(8,),
        epochs=2,
        batch_size=20,
        val_size=100,
        lr=1e30,
        schedule="constant",
        momentum=0.9,
        nesterov=False,
        weight_decay=0,
    )
    trainer = Trainer(config, synthetic_data.train, synthetic_data.test, log=lambda line: None)
    with pytest.raises(
        TrainingDiverged,
        match=r"^the training loss became (nan|inf) at epoch 1, step \d+; "
        r"the learning rate 1e\+30 is probably too high: try --lr 1e\+29$",
    ):
        trainer.fit()
    assert trainer.history == []
