"""A training run from data to a saved model, for every front end (CLI, notebook, web lab, benchmarks).

``TrainingSession`` does what ``digitnet train`` does, without parsing or printing: split the
data as the config says, build the ``Trainer`` (or continue it from a checkpoint), train with
checkpoints after every epoch, evaluate on the test set, save the model. Front ends add
``TrainingListener`` objects to watch it (progress bar, curves in a browser) and may run it a
batch at a time: ``run(max_batches=1)`` is one step, ``request_stop()`` from another thread is
pause, and ``run()`` again is resume.

    session = TrainingSession(TrainConfig(hidden=(128,)), load_training_data())
    session.run()
    result = session.finish()      # best weights back, test accuracy measured
    session.save("model.safetensors")
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .checkpoints import Checkpoint, Checkpointer, check_compatible, checkpoint_files, restore
from .config import TrainConfig
from .data import Dataset, TrainingData, split_train_validation
from .errors import ConfigError, TrainingDiverged
from .metrics import evaluate
from .network import Network
from .persistence import remember_last_model, save_model
from .training import EpochRecord, Trainer, TrainingListener, seeded_generators


@dataclass
class RunResult:
    """What a finished run measured: ``metrics`` as stored in the model file
    (``val_accuracy``, ``train_seconds``, and ``test_accuracy`` / ``test_loss`` when the data
    has a labelled test set) and the per-epoch history."""

    metrics: dict[str, float]
    history: list[EpochRecord]

    @property
    def train_seconds(self) -> float:
        return self.metrics["train_seconds"]


class TrainingSession:
    """One training run: ``run()`` (as often as needed), then ``finish()`` and ``save()``.

    ``resume`` is a checkpoint of the same run (``checkpoints.latest_valid_checkpoint``): the
    trainer continues from it after ``check_compatible`` has refused another network or other
    data; the remaining option changes are reported through ``warn``. With ``checkpoint_dir``,
    a checkpoint is written after every epoch (``continuing``: the folder holds this run's
    earlier checkpoints, which may be pruned).
    """

    def __init__(
        self,
        config: TrainConfig,
        data: TrainingData,
        *,
        checkpoint_dir: str | os.PathLike | None = None,
        resume: Checkpoint | None = None,
        continuing: bool = False,
        log: Callable[[str], None] = print,
        warn: Callable[[str], None] = print,
    ):
        self.config = config
        self.data = data
        self.log = log
        self.train_set, self.val_set = split_train_validation(
            data.train, config.val_size, seeded_generators(config.seed)["split"]
        )
        self.trainer = Trainer(config, self.train_set, self.val_set, log=log)
        if resume is not None:
            for change in check_compatible(resume, config, data.checksums):
                warn(f"warning: resuming with {change}: the result will differ from an uninterrupted run")
            restore(self.trainer, resume)
        self.checkpointer = Checkpointer(checkpoint_dir, data.checksums, continuing) if checkpoint_dir else None
        self.listeners: list[TrainingListener] = [self.checkpointer] if self.checkpointer else []
        self.result: RunResult | None = None

    @property
    def test_set(self) -> Dataset:
        if self.data.test is None:
            raise ConfigError(f"{self.data.train.source} has no labelled test set")
        return self.data.test

    @property
    def network(self) -> Network:
        return self.trainer.network

    @property
    def finished(self) -> bool:
        return self.trainer.finished

    def describe(self) -> str:
        sizes = "-".join(map(str, self.config.layer_sizes))
        return (
            f"training {sizes} on {len(self.train_set)} images, validating on {len(self.val_set)} "
            f"({self.data.train.source})"
        )

    def add_listener(self, listener: TrainingListener) -> None:
        self.listeners.append(listener)

    def request_stop(self) -> None:
        """Stop after the current batch: pause (safe from another thread or a signal handler)."""
        self.trainer.request_stop()

    def run(self, max_batches: int | None = None) -> bool:
        """Train until finished (True) or until ``max_batches`` batches or a stop request (False).

        If the run diverges, the error names the last good checkpoint and how to continue from
        it (a diverged state is never saved).
        """
        try:
            return self.trainer.run(self.listeners, max_batches)
        except TrainingDiverged as error:
            if self.checkpointer is None or not checkpoint_files(self.checkpointer.folder):
                raise
            folder = self.checkpointer.folder
            raise TrainingDiverged(
                f"{error}. The last good checkpoint is {checkpoint_files(folder)[0]}: continue from it with "
                f"--resume {folder} and a lower --lr"
            ) from None

    def save_checkpoint(self) -> Path | None:
        """Checkpoint the run where it stands (after a stop); ``None`` without a checkpoint folder."""
        return self.checkpointer.save(self.trainer) if self.checkpointer else None

    def finish(self) -> RunResult:
        """After the last epoch: keep the weights of ``Trainer.kept_epoch`` and measure the test set."""
        self.trainer.restore_best()
        history = self.trainer.history
        metrics = {
            "val_accuracy": history[self.trainer.kept_epoch - 1].val_accuracy,
            "train_seconds": sum(record.seconds for record in history),
        }
        if self.data.test is not None:
            test = evaluate(self.network, self.data.test, self.config.loss)
            metrics.update(test_accuracy=test.accuracy, test_loss=test.loss)
        self.result = RunResult(metrics, history)
        return self.result

    def save(self, path: str | os.PathLike, remember: bool = True) -> Path:
        """Write the model file (atomically) with the config, the split that was made, the
        metrics and the history; ``remember`` it as the model ``digitnet serve`` opens by default."""
        result = self.result or self.finish()
        saved = save_model(
            path,
            self.network,
            config=self.config.to_dict(),
            split={"train": len(self.train_set), "validation": len(self.val_set), "source": self.data.train.source},
            metrics=result.metrics,
            data_checksums=self.data.checksums,
            history=[asdict(record) for record in result.history],
        )
        if remember:
            remember_last_model(Path(path))
        return saved
