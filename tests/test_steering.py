"""Steering a run between batches: the learning rate, the momentum and the number of epochs
change mid-run, the history records when, checkpoints carry the changes, and a resumed run
replays them exactly. Tiny synthetic data (milliseconds each)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
from test_session import quiet_session, synthetic_digits

from digitnet.checkpoints import latest_valid_checkpoint, load_checkpoint
from digitnet.config import TrainConfig
from digitnet.data import TrainingData
from digitnet.errors import CheckpointError, ConfigError
from digitnet.events import SettingChange
from digitnet.persistence import load_model, pack, read_file, unpack


@pytest.fixture(scope="module")
def tiny_data() -> TrainingData:
    return TrainingData(synthetic_digits(360, 0), synthetic_digits(100, 1), {"synthetic": "0" * 64})


def plain_sgd(**changes) -> TrainConfig:
    """Constant learning rate, plain momentum, no weight decay: each update is notes eq. (13)."""
    settings = {
        "hidden": (16,),
        "epochs": 2,
        "batch_size": 32,
        "val_size": 40,
        "patience": 0,
        "schedule": "constant",
        "lr": 0.1,
        "momentum": 0.0,
        "nesterov": False,
        "weight_decay": 0.0,
    }
    return TrainConfig(**{**settings, **changes})


def parameters_of(session) -> dict[str, np.ndarray]:
    return {name: param.copy() for name, param in session.network.parameters().items()}


def test_a_new_learning_rate_is_the_one_the_next_update_uses(tiny_data):
    session = quiet_session(plain_sgd(), tiny_data)
    session.run(max_batches=3)
    change = session.set_learning_rate(0.05)
    assert change == SettingChange(step=3, epoch=1, setting="lr", old=0.1, new=0.05)
    before = parameters_of(session)
    session.run(max_batches=1)
    gradients = session.network.gradients()
    for name, param in session.network.parameters().items():  # w <- w - lr g, notes eq. (13) with mu = 0
        np.testing.assert_array_equal(param, before[name] - np.float32(0.05) * gradients[name])
    session.run()
    assert [record.lr for record in session.trainer.history] == [0.05, 0.05]
    assert session.trainer.changes == (change,)


def test_a_new_momentum_takes_effect_and_adam_or_a_bad_value_is_refused(tiny_data):
    session = quiet_session(plain_sgd(), tiny_data)
    session.run(max_batches=2)
    assert session.set_momentum(0.9) == SettingChange(step=2, epoch=1, setting="momentum", old=0.0, new=0.9)
    with pytest.raises(ConfigError, match=r"^momentum=1.5 is out of range \(a number in \[0, 1\)\)$"):
        session.set_momentum(1.5)
    with pytest.raises(ConfigError, match=r"^lr=-1 is out of range \(a number > 0\)$"):
        session.set_learning_rate(-1)
    assert len(session.trainer.changes) == 1  # refused changes leave no trace

    # the velocity carries over: v <- 0.9 v + g, w <- w - lr v (notes eq. (13))
    velocity = {name: v.copy() for name, v in session.trainer.optimizer.velocity.items()}
    before = parameters_of(session)
    session.run(max_batches=1)
    gradients = session.network.gradients()
    for name, param in session.network.parameters().items():
        expected_velocity = velocity[name] * np.float32(0.9) + gradients[name]
        np.testing.assert_allclose(param, before[name] - np.float32(0.1) * expected_velocity, rtol=1e-6, atol=1e-7)

    adam = quiet_session(plain_sgd(optimizer="adam", lr=1e-3), tiny_data)
    with pytest.raises(ConfigError, match="^momentum is a setting of SGD; this run's adam has no momentum knob$"):
        adam.set_momentum(0.5)


def test_add_one_epoch_lets_a_finished_run_go_on(tiny_data):
    session = quiet_session(plain_sgd(), tiny_data)
    assert session.run() and session.finished
    change = session.add_epochs()
    assert change == SettingChange(step=20, epoch=2, setting="epochs", old=2, new=3)
    assert not session.finished and session.trainer.epochs == 3
    assert session.run()
    assert [record.epoch for record in session.trainer.history] == [1, 2, 3] and session.trainer.step == 30
    with pytest.raises(ConfigError, match=r"^epochs=0 is out of range \(a whole number >= 1\)$"):
        session.add_epochs(0)


def test_a_cosine_schedule_is_stretched_to_the_new_end(tiny_data):
    session = quiet_session(plain_sgd(schedule="cosine"), tiny_data)
    session.run()
    assert session.trainer.schedule.lr_at(session.trainer.step) == 0  # the cosine has reached its end
    session.add_epochs()
    assert session.trainer.schedule.total_steps == 30
    assert session.trainer.schedule.lr_at(20) == pytest.approx(0.1 * 0.5 * (1 + np.cos(np.pi * 20 / 30)))


def steered_run(session, stop_at: int | None = None) -> bool:
    """The same steering every time: momentum up after 4 updates, lr down after 9, one more epoch
    after 15; with ``stop_at``, stop after that many updates (as a pause or a crash would)."""
    plan = {4: ("momentum", 0.5), 9: ("lr", 0.03), 15: ("epochs", 1)}
    setters = {"momentum": session.set_momentum, "lr": session.set_learning_rate, "epochs": session.add_epochs}
    while session.trainer.step != stop_at:
        step = session.trainer.step
        if step in plan and not any(change.step == step for change in session.trainer.changes):
            setting, value = plan[step]
            setters[setting](value)
        if session.run(max_batches=1):
            return True
    return False


def test_a_steered_run_resumed_from_a_checkpoint_equals_the_uninterrupted_one(tiny_data, tmp_path):
    reference = quiet_session(plain_sgd(), tiny_data)
    assert steered_run(reference)
    assert [(c.step, c.setting) for c in reference.trainer.changes] == [(4, "momentum"), (9, "lr"), (15, "epochs")]

    interrupted = quiet_session(plain_sgd(), tiny_data, checkpoint_dir=tmp_path)
    assert not steered_run(interrupted, stop_at=17)  # after every change, inside epoch 2
    interrupted.save_checkpoint()
    checkpoint = latest_valid_checkpoint(tmp_path, warn=print)
    assert checkpoint.info["changes"] == [asdict(change) for change in reference.trainer.changes]

    resumed = quiet_session(plain_sgd(), tiny_data, resume=checkpoint, checkpoint_dir=tmp_path, continuing=True)
    assert resumed.trainer.epochs == 3 and resumed.trainer.optimizer.momentum == 0.5
    assert resumed.trainer.schedule.lr == 0.03
    assert resumed.run()
    assert [(r.epoch, r.lr, r.val_loss) for r in resumed.trainer.history] == [
        (r.epoch, r.lr, r.val_loss) for r in reference.trainer.history
    ]
    for name, param in reference.network.parameters().items():
        assert np.array_equal(resumed.network.parameters()[name], param), name


def rewrite_checkpoint(path, edit) -> None:
    """Change a checkpoint's metadata with ``edit(info)`` and seal it again, as a file written by
    another version (or forged) would be."""
    tensors, info = unpack(read_file(path, "checkpoint", CheckpointError), path, "checkpoint", CheckpointError)
    info.pop("content_sha256")
    edit(info)
    path.write_bytes(pack(tensors, info))


def test_a_checkpoint_from_before_steering_resumes_bit_identically(tiny_data, tmp_path):
    reference = quiet_session(plain_sgd(), tiny_data)
    reference.run()
    interrupted = quiet_session(plain_sgd(), tiny_data, checkpoint_dir=tmp_path)
    interrupted.run(max_batches=7)
    path = interrupted.save_checkpoint()
    assert load_checkpoint(path).info["changes"] == []
    rewrite_checkpoint(path, lambda info: info.pop("changes"))  # as written before steering existed
    resumed = quiet_session(plain_sgd(), tiny_data, resume=load_checkpoint(path))
    assert resumed.trainer.changes == () and resumed.run()
    for name, param in reference.network.parameters().items():
        assert np.array_equal(resumed.network.parameters()[name], param), name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"step": 1, "epoch": 1, "setting": "dropout", "old": 0, "new": 0.5}, "is not one this run could have made"),
        ({"step": 99, "epoch": 1, "setting": "lr", "old": 0.1, "new": 0.5}, "is not one this run could have made"),
        ({"step": 1, "epoch": 1, "setting": "lr", "old": 0.1, "new": -2}, r"lr=-2 is out of range"),
        ({"step": 1, "epoch": 1, "setting": "lr", "old": 0.1, "new": "fast"}, "expected a number"),
        ({"step": 1, "epoch": 1, "setting": "lr"}, "missing"),
    ],
)
def test_a_checkpoint_with_an_impossible_change_is_refused(tiny_data, tmp_path, change, message):
    session = quiet_session(plain_sgd(), tiny_data, checkpoint_dir=tmp_path)
    session.run(max_batches=3)
    path = session.save_checkpoint()
    rewrite_checkpoint(path, lambda info: info.update(changes=[change]))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_the_model_file_records_the_changes(tiny_data, tmp_path):
    session = quiet_session(plain_sgd(), tiny_data)
    session.run(max_batches=5)
    session.set_learning_rate(0.2)
    session.run()
    path = session.save(tmp_path / "steered.safetensors", remember=False)
    assert load_model(path).metadata["changes"] == [{"step": 5, "epoch": 1, "setting": "lr", "old": 0.1, "new": 0.2}]


def test_a_session_can_start_from_given_weights_of_the_same_shape_only(tiny_data):
    start = quiet_session(plain_sgd(), tiny_data)
    start.run(max_batches=5)
    fine_tuned = quiet_session(plain_sgd(), tiny_data, network=start.network.copy())
    for name, param in start.network.parameters().items():
        np.testing.assert_array_equal(fine_tuned.network.parameters()[name], param)
    with pytest.raises(ConfigError, match=r"^the network to start from is \[784, 16, 10\] relu; the config says"):
        quiet_session(plain_sgd(hidden=(8,)), tiny_data, network=start.network.copy())
