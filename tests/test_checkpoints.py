"""Checkpoints: a run stopped anywhere and resumed from its files ends bit-identical to one that
never stopped; corrupt or foreign checkpoints are skipped or refused with messages."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from digitnet.checkpoints import (
    Checkpointer,
    check_compatible,
    checkpoint_files,
    latest_valid_checkpoint,
    load_checkpoint,
    restore,
)
from digitnet.cli import main
from digitnet.config import TrainConfig
from digitnet.errors import CheckpointError, ModelFileError, TrainingDiverged
from digitnet.persistence import load_model
from digitnet.training import Trainer, TrainingListener

CHECKSUMS = {"synthetic-train": "0" * 64}
# the 200 synthetic training images of conftest.py in batches of 20: 10 steps per epoch, 4
# epochs, milliseconds each; its 100 test images validate.
STEPS_PER_EPOCH = 10


@pytest.fixture(scope="module")
def tiny_data(synthetic_data):
    return synthetic_data.train, synthetic_data.test


def tiny_config(optimizer: str) -> TrainConfig:
    """SGD-momentum with dropout, Adam with affine augmentation, so the generators of the dropout
    masks and of the distortions must be resumed exactly too."""
    extra = (
        {"lr": 0.1, "momentum": 0.9, "nesterov": False, "dropout": 0.2}
        if optimizer == "sgd"
        else {"lr": 0.003, "augment": "affine"}
    )
    return TrainConfig(
        hidden=(8,),
        epochs=4,
        batch_size=20,
        val_size=100,
        patience=0,
        seed=3,
        optimizer=optimizer,
        weight_decay=1e-4,
        **extra,
    )


def new_trainer(config, data) -> Trainer:
    return Trainer(config, *data, log=lambda line: None)


class StopAfterSteps(TrainingListener):
    """Requests a stop once the optimizer has made ``steps`` updates, the way a signal handler
    would (the request arrives while that batch is under way, before its epoch's end)."""

    def __init__(self, steps: int):
        self.steps = steps

    def on_batch_end(self, trainer: Trainer, loss: float) -> None:
        if trainer.step == self.steps:
            trainer.request_stop()


def comparable_history(trainer: Trainer) -> list[tuple]:
    return [(r.epoch, r.lr, r.train_loss, r.train_accuracy, r.val_loss, r.val_accuracy) for r in trainer.history]


@pytest.fixture(scope="module", params=["sgd", "adam"])
def uninterrupted(request, tiny_data):
    trainer = new_trainer(tiny_config(request.param), tiny_data)
    trainer.fit()
    return request.param, trainer


# stop points in optimizer steps: inside epoch 1, exactly at the end of epoch 1 (the flag is
# set during its last batch), inside epoch 3, and twice in one run (inside 2, then end of 3)
@pytest.mark.parametrize("stops", [(7,), (STEPS_PER_EPOCH,), (25,), (13, 3 * STEPS_PER_EPOCH)])
def test_resumed_run_is_bit_identical_to_uninterrupted(uninterrupted, tiny_data, tmp_path, stops):
    optimizer, reference = uninterrupted
    config = tiny_config(optimizer)
    for stop in stops:
        trainer = new_trainer(config, tiny_data)
        if checkpoint_files_exist(tmp_path):
            restore(trainer, latest_valid_checkpoint(tmp_path, warn=pytest.fail))
        checkpointer = Checkpointer(tmp_path, CHECKSUMS, continuing=True)
        trainer.fit([checkpointer, StopAfterSteps(stop)])
        assert not trainer.finished and trainer.optimizer.step_count == stop
        checkpointer.save(trainer)
        del trainer  # everything the next run knows comes from the files
    trainer = new_trainer(config, tiny_data)
    restore(trainer, latest_valid_checkpoint(tmp_path, warn=pytest.fail))
    trainer.fit([Checkpointer(tmp_path, CHECKSUMS, continuing=True)])
    assert trainer.finished
    for name, param in reference.network.parameters().items():
        assert np.array_equal(trainer.network.parameters()[name], param), name
    for name, state in reference.optimizer.state().items():
        assert np.array_equal(trainer.optimizer.state()[name], state), name
    assert comparable_history(trainer) == comparable_history(reference)
    assert (trainer.best_epoch, trainer.best_val_loss) == (reference.best_epoch, reference.best_val_loss)


def checkpoint_files_exist(folder) -> bool:
    return bool(checkpoint_files(folder))


def test_early_stopping_state_survives_resume(tiny_data, tmp_path):
    """Best weights, best epoch and patience carry over: with a learning rate too high to keep
    improving, both runs stop at the same epoch and restore the same best weights."""
    config = TrainConfig(
        hidden=(8,),
        epochs=12,
        batch_size=20,
        val_size=100,
        patience=2,
        seed=1,
        lr=3.0,
        schedule="constant",
        momentum=0.0,
        nesterov=False,
        weight_decay=0,
    )
    reference = new_trainer(config, tiny_data)
    reference.fit()
    assert reference.stopped_early and reference.best_epoch < reference.epoch  # the scenario under test
    first = new_trainer(config, tiny_data)
    checkpointer = Checkpointer(tmp_path, CHECKSUMS)
    first.fit([checkpointer, StopAfterSteps((reference.best_epoch + 1) * STEPS_PER_EPOCH - 4)])
    checkpointer.save(first)
    resumed = new_trainer(config, tiny_data)
    restore(resumed, latest_valid_checkpoint(tmp_path, warn=pytest.fail))
    resumed.fit()
    assert (resumed.epoch, resumed.best_epoch) == (reference.epoch, reference.best_epoch)
    assert comparable_history(resumed) == comparable_history(reference)  # the epochs after the stop too
    for name, param in reference.network.parameters().items():
        assert np.array_equal(resumed.network.parameters()[name], param), name


def test_checkpointer_keeps_the_newest_two(tiny_data, tmp_path):
    trainer = new_trainer(tiny_config("sgd"), tiny_data)
    trainer.fit([Checkpointer(tmp_path, CHECKSUMS)])
    assert [p.name for p in checkpoint_files(tmp_path)] == [
        "epoch0004-step000000040.safetensors",
        "epoch0003-step000000030.safetensors",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in checkpoint_files(tmp_path))


def test_checkpoint_contents(tiny_data, tmp_path):
    trainer = new_trainer(tiny_config("adam"), tiny_data)
    checkpointer = Checkpointer(tmp_path, CHECKSUMS)
    trainer.fit([checkpointer, StopAfterSteps(15)])
    path = checkpointer.save(trainer)
    arrays, _ = trainer.state()
    checkpoint = load_checkpoint(path)
    assert path.name == "epoch0002-step000000015.safetensors"
    assert checkpoint.config == trainer.config and checkpoint.data_checksums == CHECKSUMS
    assert (checkpoint.epoch, checkpoint.step, checkpoint.info["epoch_position"]) == (2, 15, 100)
    assert np.array_equal(checkpoint.epoch_order, arrays["epoch_order"])
    assert sorted(checkpoint.optimizer_state) == [
        "m.dense0.W",
        "m.dense0.b",
        "m.dense1.W",
        "m.dense1.b",
        "step_count",
        "v.dense0.W",
        "v.dense0.b",
        "v.dense1.W",
        "v.dense1.b",
    ]
    assert checkpoint.info["generators"]["shuffle"] == trainer.generators["shuffle"].bit_generator.state
    assert [record["epoch"] for record in checkpoint.info["history"]] == [1]
    assert checkpoint.info["best_epoch"] == 1 and checkpoint.info["best_val_loss"] == trainer.best_val_loss
    for name, param in trainer.network.parameters().items():
        assert np.array_equal(checkpoint.network.parameters()[name], param)
        assert np.array_equal(checkpoint.best_parameters[name], arrays[f"best.{name}"])
    with pytest.raises(ModelFileError, match="is a digitnet checkpoint file, not a model file"):
        load_model(path)


def flip_byte(path, offset_from_end: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[-offset_from_end] ^= 0x40
    path.write_bytes(bytes(data))


def test_corrupt_newest_checkpoint_is_skipped_with_a_warning(tiny_data, tmp_path):
    trainer = new_trainer(tiny_config("sgd"), tiny_data)
    trainer.fit([Checkpointer(tmp_path, CHECKSUMS)])
    newest, previous = checkpoint_files(tmp_path)
    flip_byte(newest)
    warnings = []
    checkpoint = latest_valid_checkpoint(tmp_path, warn=warnings.append)
    assert checkpoint.path == previous
    assert warnings == [
        f"warning: skipping {newest}: checksum mismatch: the arrays or metadata were changed after saving"
    ]
    flip_byte(previous)
    with pytest.raises(CheckpointError, match=f"{tmp_path}: no valid checkpoint: {newest}: checksum mismatch"):
        latest_valid_checkpoint(tmp_path, warn=warnings.append)


def test_fresh_run_refuses_a_folder_with_checkpoints(tiny_data, tmp_path):
    Checkpointer(tmp_path, CHECKSUMS).save(new_trainer(tiny_config("sgd"), tiny_data))
    with pytest.raises(
        CheckpointError,
        match=rf"^{tmp_path}: already holds checkpoints of a run \(newest: "
        rf"epoch0000-step000000000.safetensors\); continue it with --resume "
        rf"{tmp_path}, or give an empty folder$",
    ):
        Checkpointer(tmp_path, CHECKSUMS)
    assert Checkpointer(tmp_path, CHECKSUMS, continuing=True).folder == tmp_path


def test_empty_or_missing_folder_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match=f"^{tmp_path}: no checkpoint files"):
        latest_valid_checkpoint(tmp_path, warn=pytest.fail)
    with pytest.raises(CheckpointError, match=f"^{tmp_path / 'nope'}: checkpoint folder does not exist$"):
        latest_valid_checkpoint(tmp_path / "nope", warn=pytest.fail)


def test_different_architecture_or_data_is_refused(tiny_data, tmp_path):
    config = tiny_config("sgd")
    trainer = new_trainer(config, tiny_data)
    checkpoint = load_checkpoint(Checkpointer(tmp_path, CHECKSUMS).save(trainer))
    cases = [
        (TrainConfig(**{**config.to_dict(), "hidden": (16,)}), CHECKSUMS, "hidden [8] -> [16]"),
        (TrainConfig(**{**config.to_dict(), "activation": "tanh"}), CHECKSUMS, "activation 'relu' -> 'tanh'"),
        (TrainConfig(**{**config.to_dict(), "optimizer": "adam"}), CHECKSUMS, "optimizer 'sgd' -> 'adam'"),
        (TrainConfig(**{**config.to_dict(), "val_size": 80}), CHECKSUMS, "val_size 100 -> 80"),
        (
            config,
            {"train.csv": "ab" * 32},
            "data {synthetic-train sha256 000000000000} -> {train.csv sha256 abababababab}",
        ),
    ]
    for other_config, checksums, difference in cases:
        with pytest.raises(CheckpointError) as caught:
            check_compatible(checkpoint, other_config, checksums)
        assert str(caught.value) == (
            f"cannot resume from {checkpoint.path}: it was made for a different run: {difference}"
        )
    changed = TrainConfig(**{**config.to_dict(), "lr": 0.05, "epochs": 6})
    assert check_compatible(checkpoint, changed, CHECKSUMS) == ["lr 0.1 -> 0.05", "epochs 4 -> 6"]
    assert check_compatible(checkpoint, config, CHECKSUMS) == []


def test_diverged_weights_are_never_saved(tiny_data, tmp_path):
    trainer = new_trainer(tiny_config("sgd"), tiny_data)
    checkpointer = Checkpointer(tmp_path, CHECKSUMS)
    good = checkpointer.save(trainer)
    good_bytes = good.read_bytes()
    trainer.run(max_batches=1)  # a different state, so a write would be due
    trainer.network.dense_layers[1].W[0, 0] = np.nan
    with pytest.raises(TrainingDiverged, match=r"^the weights dense1.W became NaN or infinite at epoch 1, step 1"):
        checkpointer.save(trainer)
    assert checkpoint_files(tmp_path) == [good] and good.read_bytes() == good_bytes


# ----------------------------------------------------------------------------- through the CLI

# the synthetic train.csv of conftest.py: 150 images to train on, 10 batches an epoch
TRAIN = ["train", "--hidden", "8", "--val-size", "50", "--batch-size", "15", "--seed", "2"]


def train_one_epoch_with_checkpoints(tmp_path, data):
    """``digitnet train`` for one epoch with ``--checkpoint-dir``; the checkpoint folder."""
    folder = tmp_path / "ck"
    out = tmp_path / "m.safetensors"
    arguments = [*TRAIN, "--epochs", "1", "--data", str(data), "--checkpoint-dir", str(folder), "--out", str(out)]
    assert main(arguments) == 0
    return folder


def test_cli_divergence_keeps_last_good_checkpoint(tmp_path, synthetic_csv, capsys):
    folder = train_one_epoch_with_checkpoints(tmp_path, synthetic_csv)
    [good] = checkpoint_files(folder)
    good_bytes = good.read_bytes()
    capsys.readouterr()
    assert (
        main(
            [
                *TRAIN,
                "--epochs",
                "3",
                "--lr",
                "1e30",
                "--schedule",
                "constant",
                "--data",
                str(synthetic_csv),
                "--resume",
                str(folder),
                "--out",
                str(tmp_path / "m2.safetensors"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert (
        f"warning: resuming with lr {TrainConfig().lr} -> 1e+30: the result will differ from an uninterrupted run"
        in err
    )
    assert (
        "digitnet: error: the training loss became nan at epoch 2" in err
        or "digitnet: error: the training loss became inf at epoch 2" in err
    )
    assert err.rstrip().endswith(
        f"The last good checkpoint is {good}: continue from it with --resume {folder} and a lower --lr"
    )
    assert checkpoint_files(folder) == [good] and good.read_bytes() == good_bytes
    assert not (tmp_path / "m2.safetensors").exists()


def test_cli_refuses_resume_with_other_architecture(tmp_path, synthetic_csv, capsys):
    folder = train_one_epoch_with_checkpoints(tmp_path, synthetic_csv)
    [checkpoint] = checkpoint_files(folder)
    assert (
        main(
            [
                *TRAIN,
                "--epochs",
                "1",
                "--hidden",
                "16",
                "--data",
                str(synthetic_csv),
                "--resume",
                str(folder),
                "--out",
                str(tmp_path / "m2.safetensors"),
            ]
        )
        == 1
    )
    assert capsys.readouterr().err == (
        f"digitnet: error: cannot resume from {checkpoint}: it was made for a different run: hidden [8] -> [16]\n"
    )


# ----------------------------------------------------------------------------- real signals

# 5,000 images one at a time: about a second per epoch, so a signal sent just after epoch 1 is
# reported usually lands inside epoch 2 (a slow machine may stop elsewhere, also correct).
SIGNAL_RUN = [
    "train",
    "--hidden",
    "8",
    "--val-size",
    "55000",
    "--batch-size",
    "1",
    "--lr",
    "0.01",
    "--epochs",
    "3",
    "--seed",
    "5",
]


@pytest.fixture(scope="module")
def signal_reference(mnist_dir, tmp_path_factory):
    """The weights of the same run, never interrupted."""
    out = tmp_path_factory.mktemp("reference") / "model.safetensors"
    assert main([*SIGNAL_RUN, "--data", str(mnist_dir), "--out", str(out)]) == 0
    return load_model(out).network.parameters()


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_saves_checkpoint_and_resume_matches(signum, status, signal_reference, mnist_dir, tmp_path):
    folder, out = tmp_path / "ck", tmp_path / "model.safetensors"
    command = [*SIGNAL_RUN, "--data", str(mnist_dir), "--checkpoint-dir", str(folder), "--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "digitnet", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    for line in process.stdout:
        if line.startswith("epoch 1/3"):
            time.sleep(0.3)  # past the end-of-epoch checkpoint, into epoch 2 (elsewhere is fine too)
            process.send_signal(signum)
            break
    stdout_rest, err = process.communicate(timeout=60)
    assert process.returncode == status, err
    name = signal.Signals(signum).name
    assert re.search(
        rf"^digitnet: {name} received: stopped after step \d+ "
        r"\((\d+/5000 examples into epoch [23]|epoch [12] done)\)$",
        err,
        re.MULTILINE,
    ), err
    checkpoint = checkpoint_files(folder)[0]
    assert f"digitnet: checkpoint saved to {checkpoint}\n" in err
    resume_line = err.strip().splitlines()[-1]
    expected_resume = shlex.join(["digitnet", *command, "--resume", str(folder)])
    assert resume_line == f"digitnet: to continue, run: {expected_resume}"
    assert "epoch 2/3" not in stdout_rest and not out.exists()
    resumed = subprocess.run(
        [sys.executable, "-m", *shlex.split(expected_resume)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {checkpoint} (" in resumed.stdout
    for name, param in load_model(out).network.parameters().items():
        assert np.array_equal(param, signal_reference[name]), name


def test_cli_refuses_resume_on_other_data(tmp_path, mnist_dir, synthetic_csv, capsys):
    """Trained on a Kaggle CSV (the synthetic one), resumed on the MNIST folder."""
    csv_path = synthetic_csv
    folder = tmp_path / "ck"
    small = ["train", "--hidden", "8", "--val-size", "100", "--epochs", "1"]
    assert (
        main(
            [*small, "--data", str(csv_path), "--checkpoint-dir", str(folder), "--out", str(tmp_path / "m.safetensors")]
        )
        == 0
    )
    [checkpoint] = checkpoint_files(folder)
    capsys.readouterr()
    assert (
        main([*small, "--data", str(mnist_dir), "--resume", str(folder), "--out", str(tmp_path / "m2.safetensors")])
        == 1
    )
    csv_sha = hashlib.sha256(csv_path.read_bytes()).hexdigest()[:12]
    assert capsys.readouterr().err == (
        f"digitnet: error: cannot resume from {checkpoint}: it was made for a different run: data "
        f"{{train.csv sha256 {csv_sha}}} -> {{t10k-images-idx3-ubyte sha256 0fa7898d5092, t10k-labels-idx1-ubyte "
        "sha256 ff7bcfd416de, train-images-idx3-ubyte sha256 ba891046e650, "
        "train-labels-idx1-ubyte sha256 65a50cbbf4e9}\n"
    )
