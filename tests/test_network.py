"""Layers, network and losses: shapes, hand-worked examples, gradient checks, init, dtypes."""

import numpy as np
import pytest

from digitnet.errors import ConfigError
from digitnet.functional import ACTIVATIONS
from digitnet.gradcheck import gradcheck
from digitnet.initializers import get_initializer
from digitnet.layers import Dense
from digitnet.losses import LOSSES, SoftmaxCrossEntropy, get_loss
from digitnet.network import Network


def small_batch(n_in=6, n=5, n_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, size=(n, n_in)), rng.integers(0, n_classes, size=n)


def test_dense_hand_example_forward_and_backward():
    # X = [[1, 2]], W = [[1, 0, -1], [2, 1, 0]], b = [0.5, 0, 0]
    # Z = X W + b = [1 + 4 + 0.5, 0 + 2 + 0, -1 + 0 + 0] = [5.5, 2, -1]
    dense = Dense(np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]), np.array([0.5, 0.0, 0.0]))
    np.testing.assert_array_equal(dense.forward(np.array([[1.0, 2.0]])), [[5.5, 2.0, -1.0]])
    # dZ = [[1, -1, 2]]: dW = X^T dZ = [[1, -1, 2], [2, -2, 4]], db = dZ, dX = dZ W^T = [1 - 2, 2 - 1] = [-1, 1]
    dX = dense.backward(np.array([[1.0, -1.0, 2.0]]))
    np.testing.assert_array_equal(dense.dW, [[1, -1, 2], [2, -2, 4]])
    np.testing.assert_array_equal(dense.db, [1, -1, 2])
    np.testing.assert_array_equal(dX, [[-1.0, 1.0]])


def test_bias_gradient_sums_over_the_batch_only():
    # Two examples: db must be the per-neuron column sums [1+3, 2+4], not one scalar 10 for all.
    dense = Dense(np.zeros((3, 2)), np.zeros(2))
    dense.forward(np.ones((2, 3)))
    dense.backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(dense.db, [4.0, 6.0])


@pytest.mark.parametrize("sizes", [[6, 4], [6, 5, 4], [6, 5, 3, 4]])
def test_every_gradient_has_its_parameters_shape(sizes):
    network = Network.create(sizes, np.random.default_rng(0), dtype=np.float64)
    X, labels = small_batch(n_in=sizes[0], n_classes=sizes[-1])
    loss = SoftmaxCrossEntropy()
    loss.forward(network.forward(X), labels)
    network.backward(loss.backward())
    parameters, gradients = network.parameters(), network.gradients()
    assert list(parameters) == list(gradients)
    for name in parameters:
        assert gradients[name].shape == parameters[name].shape, name


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss_name", sorted(LOSSES))
def test_gradient_check_every_activation_and_loss(activation, loss_name):
    network = Network.create([6, 5, 4, 3], np.random.default_rng(1), activation, dtype=np.float64)
    X, labels = small_batch(n_in=6, n=7, n_classes=3, seed=2)
    checks = gradcheck(network, X, labels, loss_name)
    assert [c.name for c in checks] == list(network.parameters())
    worst = max(c.relative_error for c in checks)
    assert worst < 1e-6, [(c.name, c.relative_error) for c in checks]


def test_gradient_check_catches_a_wrong_backward_pass(monkeypatch):
    """The checker must be able to fail: break the bias gradient the way the seed notebook did."""
    network = Network.create([6, 5, 3], np.random.default_rng(1), dtype=np.float64)
    X, labels = small_batch(n_in=6, n=7, n_classes=3)
    original = Dense.backward

    def summed_over_all_axes(self, dZ, need_dX=True):
        dX = original(self, dZ, need_dX)
        self.db[...] = dZ.sum()
        return dX

    monkeypatch.setattr(Dense, "backward", summed_over_all_axes)
    checks = {c.name: c.relative_error for c in gradcheck(network, X, labels)}
    assert checks["dense1.b"] > 1e-2 and checks["dense1.W"] < 1e-6


def test_cross_entropy_hand_example():
    # logits [0, ln 3] -> p = [1/4, 3/4]; label 1 -> loss = -ln(3/4); dL/dz = p - y = [1/4, -1/4]
    loss = SoftmaxCrossEntropy()
    value = loss.forward(np.array([[0.0, np.log(3)]]), np.array([1]))
    assert value == pytest.approx(-np.log(0.75), rel=1e-14)
    np.testing.assert_allclose(loss.backward(), [[0.25, -0.25]], rtol=1e-14)


def test_cross_entropy_gradient_is_mean_over_the_batch():
    logits = np.random.default_rng(0).normal(size=(8, 10))
    labels = np.arange(8)
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = (p - np.eye(10)[labels]) / 8
    np.testing.assert_allclose(loss.backward(), expected, rtol=1e-12)


def test_cross_entropy_finite_for_confidently_wrong_float32_logits():
    loss = SoftmaxCrossEntropy()
    value = loss.forward(np.array([[1e4, -1e4]], dtype=np.float32), np.array([1]))
    assert value == pytest.approx(2e4, rel=1e-6)
    assert np.isfinite(loss.backward()).all()


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown loss 'hinge'; choose one of: cross-entropy, mse"):
        get_loss("hinge")
    with pytest.raises(ConfigError, match="unknown activation 'gelu'; choose one of: relu, leaky_relu, sigmoid, tanh"):
        Network.create([4, 3, 2], np.random.default_rng(0), activation="gelu")
    with pytest.raises(ConfigError, match="unknown init 'orthogonal'"):
        get_initializer("orthogonal")
    with pytest.raises(ConfigError, match="init 'uniform:abc': 'abc' is not a number"):
        get_initializer("uniform:abc")


@pytest.mark.parametrize(
    "spec, check",
    [
        ("he", lambda W: abs(W.std() - np.sqrt(2 / 784)) < 0.002),
        ("xavier", lambda W: abs(np.abs(W).max() - np.sqrt(6 / (784 + 256))) < 0.002),
        ("uniform:0.5", lambda W: np.abs(W).max() <= 0.5 and np.abs(W).max() > 0.49),
        ("uniform", lambda W: np.abs(W).max() <= 0.1 and np.abs(W).max() > 0.099),
        ("normal", lambda W: abs(W.std() - 0.01) < 0.0005),
    ],
)
def test_initializer_scales(spec, check):
    W = get_initializer(spec)(np.random.default_rng(0), 784, 256)
    assert W.shape == (784, 256) and check(W)


def test_auto_init_is_he_for_relu_and_xavier_for_tanh():
    assert get_initializer("auto", "relu") is get_initializer("he")
    assert get_initializer("auto", "tanh") is get_initializer("xavier")


def test_network_is_float32_by_default_and_keeps_it_through_a_step():
    network = Network.create([784, 32, 10], np.random.default_rng(0))
    X = np.random.default_rng(1).uniform(0, 1, size=(4, 784)).astype(np.float32)
    logits = network.forward(X)
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, np.array([0, 1, 2, 3]))
    network.backward(loss.backward())
    assert logits.dtype == np.float32
    assert all(a.dtype == np.float32 for a in [*network.parameters().values(), *network.gradients().values()])


def test_same_seed_same_weights_different_seed_different_weights():
    first = Network.create([784, 64, 10], np.random.default_rng(7)).parameters()
    again = Network.create([784, 64, 10], np.random.default_rng(7)).parameters()
    other = Network.create([784, 64, 10], np.random.default_rng(8)).parameters()
    assert all(np.array_equal(first[n], again[n]) for n in first)
    assert not np.array_equal(first["dense0.W"], other["dense0.W"])


def test_layer_sizes_must_chain():
    with pytest.raises(ConfigError, match="layer sizes do not chain: 3 outputs feed 4 inputs"):
        Network([Dense(np.zeros((2, 3)), np.zeros(3)), Dense(np.zeros((4, 2)), np.zeros(2))])


def test_dropout_acts_only_in_training_and_keeps_the_expected_activation():
    rng = np.random.default_rng(0)
    network = Network.create([784, 500, 10], rng, dropout=0.25, dropout_rng=np.random.default_rng(1))
    plain = network.copy()
    X = rng.uniform(0, 1, size=(64, 784)).astype(np.float32)
    np.testing.assert_array_equal(network.forward(X), plain.forward(X))  # evaluation: no dropout
    hidden = np.maximum(X @ network.dense_layers[0].W + network.dense_layers[0].b, 0)
    network.forward(X, training=True)
    dropout = network.layers[2]
    kept = dropout._mask > 0
    assert abs(1 - kept.mean() - 0.25) < 0.01  # a quarter of the units dropped
    np.testing.assert_allclose(dropout._mask[kept], 1 / 0.75)  # survivors scaled up ...
    assert abs((hidden * dropout._mask).mean() / hidden.mean() - 1) < 0.02  # ... so the mean is kept


def test_dropout_backward_is_the_same_mask_and_gradients_check_for_a_fixed_mask():
    network = Network.create(
        [6, 5, 3], np.random.default_rng(0), dtype=np.float64, dropout=0.5, dropout_rng=np.random.default_rng(2)
    )
    X, labels = small_batch(n_in=6, n=7, n_classes=3)
    loss = SoftmaxCrossEntropy()
    loss.forward(network.forward(X, training=True), labels)
    network.backward(loss.backward())
    mask = network.layers[2]._mask
    # The same forward and backward written out with the mask fixed (notes eq. (1)-(10)):
    W1, b1 = network.dense_layers[0].W, network.dense_layers[0].b
    W2, b2 = network.dense_layers[1].W, network.dense_layers[1].b
    Z1 = X @ W1 + b1
    A1 = np.maximum(Z1, 0) * mask
    P = np.exp(A1 @ W2 + b2)
    P /= P.sum(axis=1, keepdims=True)
    dZ2 = (P - np.eye(3)[labels]) / len(X)
    np.testing.assert_allclose(network.dense_layers[1].dW, A1.T @ dZ2, rtol=1e-12)
    dZ1 = (dZ2 @ W2.T) * mask * (Z1 > 0)
    np.testing.assert_allclose(network.dense_layers[0].dW, X.T @ dZ1, rtol=1e-12)


def test_dropout_needs_a_generator_and_a_valid_rate():
    with pytest.raises(ConfigError, match="dropout needs a random generator"):
        Network.create([4, 3, 2], np.random.default_rng(0), dropout=0.5)
    with pytest.raises(ConfigError, match=r"dropout rate must be in \[0, 1\), got 1.0"):
        Network.create([4, 3, 2], np.random.default_rng(0), dropout=1.0, dropout_rng=np.random.default_rng(0))


def test_infer_matches_forward_and_leaves_the_layer_caches_alone():
    network = Network.create([784, 32, 16, 10], np.random.default_rng(0))
    X = np.random.default_rng(1).uniform(0, 1, size=(5, 784)).astype(np.float32)
    logits = network.forward(X)
    cached = network.dense_layers[0]._X
    hidden, inferred = network.infer(X)
    np.testing.assert_array_equal(inferred, logits)
    assert [h.shape for h in hidden] == [(5, 32), (5, 16)]
    assert network.dense_layers[0]._X is cached
