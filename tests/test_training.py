"""The training loop: accuracy on real MNIST; its bookkeeping (history, determinism, shuffling,
divergence) on the tiny synthetic set of conftest.py, in milliseconds."""

import math

import numpy as np
import pytest

from digitnet.data import split_train_validation
from digitnet.errors import ConfigError, TrainingDiverged
from digitnet.layers import Dense
from digitnet.metrics import evaluate
from digitnet.network import Network
from digitnet.schedules import Schedule
from digitnet.training import TrainConfig, Trainer, seeded_generators


def quiet_trainer(config, data, n_train, n_val=1000, **kwargs):
    train = data.subset(np.arange(n_train))
    val = data.subset(np.arange(n_train, n_train + n_val))
    return Trainer(config, train, val, log=lambda line: None, **kwargs)


def synthetic_trainer(config, synthetic_data):
    return Trainer(config, synthetic_data.train, synthetic_data.test, log=lambda line: None)


def test_small_network_learns_real_mnist(small_trained, mnist_test):
    network, _ = small_trained
    assert evaluate(network, mnist_test).accuracy >= 0.95


def test_the_synthetic_plumbing_set_is_learnable(synthetic_trained, synthetic_data):
    network, _ = synthetic_trained
    assert evaluate(network, synthetic_data.test).accuracy >= 0.9


def test_history_has_one_record_per_epoch_with_sane_values(synthetic_data):
    trainer = synthetic_trainer(TrainConfig(hidden=(16,), epochs=3, batch_size=20, patience=0), synthetic_data)
    history = trainer.fit()
    assert [r.epoch for r in history] == [1, 2, 3]
    assert history[-1].train_loss < history[0].train_loss
    assert all(0 <= r.val_accuracy <= 1 and r.seconds > 0 for r in history)
    assert history[-1].lr == pytest.approx(0.0, abs=1e-3)  # the cosine schedule ends near zero


def test_same_seed_and_config_give_bit_identical_weights(synthetic_data):
    config = TrainConfig(hidden=(16,), epochs=2, batch_size=20, seed=3)
    first = synthetic_trainer(config, synthetic_data)
    first.fit()
    second = synthetic_trainer(config, synthetic_data)
    second.fit()
    other = synthetic_trainer(TrainConfig(hidden=(16,), epochs=2, batch_size=20, seed=4), synthetic_data)
    other.fit()
    for name, array in first.network.parameters().items():
        assert np.array_equal(array, second.network.parameters()[name]), name
        assert array.dtype == np.float32
    assert not np.array_equal(first.network.parameters()["dense0.W"], other.network.parameters()["dense0.W"])


def test_an_epoch_visits_every_example_once_in_a_new_shuffled_order(synthetic_data, monkeypatch):
    batches = []
    train_step = Trainer.train_step

    def recording_train_step(trainer, indices):
        batches.append(np.array(indices))
        return train_step(trainer, indices)

    monkeypatch.setattr(Trainer, "train_step", recording_train_step)
    synthetic_trainer(TrainConfig(hidden=(8,), epochs=2, batch_size=32, patience=0), synthetic_data).fit()
    n = len(synthetic_data.train)
    per_epoch = math.ceil(n / 32)
    assert len(batches) == 2 * per_epoch
    first, second = np.concatenate(batches[:per_epoch]), np.concatenate(batches[per_epoch:])
    for order in (first, second):
        np.testing.assert_array_equal(np.sort(order), np.arange(n))  # each example exactly once
        assert not np.array_equal(order, np.arange(n))  # not in the file's order
    assert not np.array_equal(first, second)  # and a new order each epoch


def test_a_hidden_unit_at_exactly_zero_passes_no_gradient(synthetic_data):
    # notes eq. (2): relu'(0) = 0. With the first layer all zeros, every hidden Z is exactly 0,
    # so one training step must leave that layer exactly as it was (were relu'(0) taken as 1,
    # dW1 = X^T (dZ2 W2^T) would move it).
    rng = np.random.default_rng(0)
    first = Dense(np.zeros((784, 8), np.float32), np.zeros(8, np.float32))
    second = Dense(rng.normal(0, 0.5, (8, 10)).astype(np.float32), np.zeros(10, np.float32))
    network = Network([first, second])
    trainer = Trainer(TrainConfig(hidden=(8,)), synthetic_data.train, synthetic_data.test, network=network)
    trainer.train_step(np.arange(32))
    assert not first.W.any() and not first.b.any()
    assert second.b.any()  # the step did update the network


def test_early_stopping_stops_and_restores_the_best_weights(mnist_train):
    # 300 images and a constant high learning rate overfit quickly: validation loss turns up.
    config = TrainConfig(hidden=(64,), epochs=40, schedule="constant", patience=3, weight_decay=0.0, batch_size=32)
    trainer = quiet_trainer(config, mnist_train, 300)
    history = trainer.fit()
    assert len(history) < 40 and trainer.stopped_early
    assert trainer.epoch - trainer.best_epoch == 3
    best = min(history, key=lambda r: r.val_loss)
    assert best.epoch == trainer.best_epoch
    assert evaluate(trainer.network, trainer.val_set).loss == pytest.approx(best.val_loss, rel=1e-6)


def test_mean_squared_error_loss_also_learns(mnist_train, mnist_test):
    trainer = quiet_trainer(TrainConfig(hidden=(64,), epochs=3, loss="mse", lr=0.5), mnist_train, 6000)
    trainer.fit()
    assert evaluate(trainer.network, mnist_test).accuracy >= 0.85


def test_divergence_stops_with_a_clear_message(synthetic_data):
    config = TrainConfig(hidden=(16,), lr=1e6, schedule="constant", init="uniform:1", batch_size=20)
    trainer = synthetic_trainer(config, synthetic_data)
    with pytest.raises(
        TrainingDiverged, match=r"the training loss became (nan|inf) at epoch 1, step \d+; .* try --lr 100000"
    ):
        trainer.fit()


def test_config_rejects_out_of_range_values():
    with pytest.raises(
        ConfigError,
        match=r"^epochs=0 is out of range \(a whole number >= 1\), "
        r"batch_size=-1 is out of range \(a whole number >= 1\)$",
    ):
        TrainConfig(epochs=0, batch_size=-1)


def test_schedules():
    cosine = Schedule("cosine", 0.1, total_steps=100, steps_per_epoch=10)
    assert cosine.lr_at(0) == 0.1 and cosine.lr_at(50) == pytest.approx(0.05) and cosine.lr_at(100) == pytest.approx(0)
    warm = Schedule("cosine", 0.1, total_steps=100, steps_per_epoch=10, warmup_steps=10)
    assert warm.lr_at(0) == pytest.approx(0.01) and warm.lr_at(9) == pytest.approx(0.1)
    assert warm.lr_at(55) == pytest.approx(0.05)
    step = Schedule("step", 0.1, total_steps=100, steps_per_epoch=10, step_epochs=2, gamma=0.5)
    assert [step.lr_at(s) for s in (0, 19, 20, 45)] == [0.1, 0.1, 0.05, 0.025]
    assert Schedule("constant", 0.3, total_steps=10, steps_per_epoch=1).lr_at(9) == 0.3
    with pytest.raises(ConfigError, match="unknown schedule 'linear'; choose one of: constant, step, cosine"):
        Schedule("linear", 0.1, total_steps=1, steps_per_epoch=1)


@pytest.mark.slow
def test_default_configuration_reaches_98_percent_on_the_mnist_test_set(mnist_train, mnist_test):
    """The README's main command: the default TrainConfig on all of MNIST."""
    config = TrainConfig()
    train, val = split_train_validation(mnist_train, config.val_size, seeded_generators(config.seed)["split"])
    trainer = Trainer(config, train, val, log=lambda line: None)
    trainer.fit()
    assert evaluate(trainer.network, mnist_test).accuracy >= 0.980


def test_dropout_training_learns_and_is_deterministic(mnist_train, mnist_test):
    config = TrainConfig(hidden=(128,), epochs=3, dropout=0.3, patience=0)
    first = quiet_trainer(config, mnist_train, 6000)
    first.fit()
    second = quiet_trainer(config, mnist_train, 6000)
    second.fit()
    np.testing.assert_array_equal(first.network.parameters()["dense0.W"], second.network.parameters()["dense0.W"])
    assert evaluate(first.network, mnist_test).accuracy >= 0.92
