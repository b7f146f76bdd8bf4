"""The training session and the trainer it drives, on tiny synthetic data (milliseconds each):
one batch at a time, pause from another thread, resume, listeners, state handed out and taken
back, and proof that the default training step runs the layers' own backward pass."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from digitnet.config import TrainConfig
from digitnet.data import Dataset, TrainingData
from digitnet.errors import ConfigError
from digitnet.layers import Activation, Dense
from digitnet.losses import SoftmaxCrossEntropy
from digitnet.persistence import load_model
from digitnet.session import TrainingSession
from digitnet.training import Trainer, TrainingListener


def synthetic_digits(n: int, seed: int) -> Dataset:
    """``n`` 28x28 images of 10 classes that a small network separates: class ``c`` inks a
    bright 2-pixel-wide column at ``2 + 2.5 c`` plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 60, (n, 28, 28))
    for index, label in enumerate(labels):
        column = 2 + int(2.5 * label)
        images[index, :, column : column + 2] = 255
    return Dataset(images.reshape(n, 784).astype(np.uint8), labels, f"synthetic (seed {seed})")


@pytest.fixture(scope="module")
def tiny_data() -> TrainingData:
    return TrainingData(synthetic_digits(360, 0), synthetic_digits(100, 1), {"synthetic": "0" * 64})


def tiny_config(**changes) -> TrainConfig:
    return TrainConfig(**{"hidden": (16,), "epochs": 3, "batch_size": 32, "val_size": 40, "patience": 0, **changes})


class Recorder(TrainingListener):
    def __init__(self):
        self.batches: list[tuple[int, int, float]] = []
        self.epochs: list[int] = []

    def on_batch_end(self, trainer, loss):
        self.batches.append((trainer.epoch, trainer.step, loss))

    def on_epoch_end(self, trainer, record):
        self.epochs.append(record.epoch)


def quiet_session(config, data, **options) -> TrainingSession:
    return TrainingSession(config, data, log=lambda line: None, **options)


def test_one_batch_at_a_time_then_resume_equals_one_uninterrupted_run(tiny_data):
    reference = quiet_session(tiny_config(), tiny_data)
    assert reference.run()
    stepped = quiet_session(tiny_config(), tiny_data)
    recorder = Recorder()
    stepped.add_listener(recorder)
    for expected_step in range(1, 6):
        assert not stepped.run(max_batches=1)
        assert stepped.trainer.step == expected_step  # exactly one update per call
    assert stepped.run()  # resume to the end
    assert [step for _, step, _ in recorder.batches] == list(range(1, 3 * 10 + 1))  # 320 / 32 = 10 a epoch
    assert recorder.epochs == [1, 2, 3]
    for name, param in reference.network.parameters().items():
        assert np.array_equal(stepped.network.parameters()[name], param), name


def test_a_stop_requested_from_another_thread_pauses_after_the_current_batch(tiny_data):
    session = quiet_session(tiny_config(epochs=50), tiny_data)
    started = threading.Event()

    class PauseFromAnotherThread(TrainingListener):
        def on_batch_end(self, trainer, loss):
            if trainer.step == 4:
                worker = threading.Thread(target=session.request_stop)
                worker.start()
                worker.join()
                started.set()

    session.add_listener(PauseFromAnotherThread())
    assert not session.run()
    assert started.is_set() and session.trainer.step == 4 and not session.finished
    assert session.trainer.describe_position() == "128/320 examples into epoch 1"


def test_finish_and_save_record_what_happened(tiny_data, tmp_path):
    session = quiet_session(tiny_config(), tiny_data)
    session.run()
    result = session.finish()
    assert result.metrics["test_accuracy"] > 0.9  # the columns are easy to tell apart
    assert result.metrics["val_accuracy"] == session.trainer.history[-1].val_accuracy  # patience 0: the last epoch
    path = session.save(tmp_path / "model.safetensors", remember=False)
    metadata = load_model(path).metadata
    assert metadata["config"] == tiny_config().to_dict()
    assert metadata["split"] == {"train": 320, "validation": 40, "source": "synthetic (seed 0)"}
    assert [record["epoch"] for record in metadata["history"]] == [1, 2, 3]


def test_default_training_step_runs_the_layers_own_backward(tiny_data, monkeypatch):
    """The code the gradient checks and the PyTorch tests exercise is the code that trains."""
    calls: list[str] = []
    for cls in (Dense, Activation, SoftmaxCrossEntropy):
        original = cls.backward

        def spy(self, *args, _original=original, _name=cls.__name__, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "backward", spy)
    session = quiet_session(TrainConfig(**{**tiny_config().to_dict(), **{"hidden": (16,)}}), tiny_data)
    assert session.config.activation == "relu" and session.config.loss == "cross-entropy"
    session.run(max_batches=1)
    assert calls == ["SoftmaxCrossEntropy", "Dense", "Activation", "Dense"]


@pytest.mark.parametrize(("patience", "kept_epoch"), [(0, 4), (5, 3)])
def test_early_stopping_restores_the_best_epoch_and_without_it_the_last_one_is_kept(tiny_data, patience, kept_epoch):
    """At lr 0.8 (too high for these data) the validation loss is lowest after epoch 3 of 4. With
    early stopping on, epoch 3's weights come back; with it off (patience 0), the end of the
    schedule is the result."""
    session = quiet_session(tiny_config(lr=0.8, epochs=4, patience=patience), tiny_data)
    session.run()
    last = {name: param.copy() for name, param in session.network.parameters().items()}
    result = session.finish()
    assert (session.trainer.best_epoch, session.trainer.kept_epoch) == (3, kept_epoch)
    assert result.metrics["val_accuracy"] == session.trainer.history[kept_epoch - 1].val_accuracy
    unchanged = all(np.array_equal(param, last[name]) for name, param in session.network.parameters().items())
    assert unchanged == (kept_epoch == 4)


def test_state_round_trips_between_trainers(tiny_data):
    first = Trainer(tiny_config(), tiny_data.train.subset(np.arange(320)), tiny_data.test, log=lambda line: None)
    first.run(max_batches=13)
    arrays, info = first.state()
    second = Trainer(tiny_config(), tiny_data.train.subset(np.arange(320)), tiny_data.test, log=lambda line: None)
    second.load_state(arrays, info)
    first.run()
    second.run()
    for name, param in first.network.parameters().items():
        assert np.array_equal(second.network.parameters()[name], param), name


def test_a_foreign_epoch_order_is_refused(tiny_data):
    trainer = Trainer(tiny_config(), tiny_data.train, tiny_data.test, log=lambda line: None)
    trainer.run(max_batches=1)
    arrays, info = trainer.state()
    arrays["epoch_order"] = np.zeros_like(arrays["epoch_order"])
    with pytest.raises(ValueError, match="^the saved epoch order is not a shuffle of the 360 training examples$"):
        Trainer(tiny_config(), tiny_data.train, tiny_data.test).load_state(arrays, info)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"momentum": 2}, r"momentum=2 is out of range \(a number in \[0, 1\)\)"),
        ({"optimizer": "rmsprop"}, r"optimizer='rmsprop' is out of range \(one of: sgd, adam\)"),
        ({"epochs": 1.5}, r"epochs=1.5 is out of range \(a whole number >= 1\)"),
        ({"lr": float("nan")}, r"lr=nan is out of range \(a number > 0\)"),
        ({"seed": -1}, r"seed=-1 is out of range \(a whole number >= 0\)"),
        ({"schedule": "linear"}, r"schedule='linear' is out of range \(one of: constant, step, cosine\)"),
        ({"hidden": (0, 3)}, r"hidden=\(0, 3\) is out of range \(positive layer sizes\)"),
        ({"nesterov": "yes"}, r"nesterov='yes' is out of range \(true or false\)"),
        ({"gamma": 0}, r"gamma=0 is out of range \(a number in \(0, 1\]\)"),
        ({"momentum": 0.0}, r"^nesterov=True needs momentum > 0 \(or nesterov=False\)$"),
        ({"init": "orthogonal"}, r"^unknown init 'orthogonal'; choose one of"),
        ({"augment": "mixup"}, r"^augment='mixup' is out of range \(one of: none, affine, elastic\)$"),
    ],
)
def test_every_field_is_validated_at_construction_naming_field_value_and_choices(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes)
