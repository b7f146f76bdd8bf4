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
from .config import TrainConfig, seeded_split
from .data import Dataset, TrainingData
from .errors import ConfigError, TrainingDiverged
from .events import SettingChange
from .last_model import remember_last_model
from .metrics import evaluate
from .network import Network
from .persistence import save_model
from .training import EpochRecord, Trainer, TrainingListener
from .trust import fit_trust


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
        network: Network | None = None,
        log: Callable[[str], None] = print,
        warn: Callable[[str], None] = print,
    ):
        self.config = config
        self.data = data
        self.log = log
        self.train_set, self.val_set = seeded_split(data.train, config.val_size, config.seed)
        if network is not None and (network.layer_sizes, network.activation) != (config.layer_sizes, config.activation):
            raise ConfigError(
                f"the network to start from is {network.layer_sizes} {network.activation}; "
                f"the config says {config.layer_sizes} {config.activation}"
            )
        self.trainer = Trainer(config, self.train_set, self.val_set, network=network, log=log)
        if resume is not None:
            for change in check_compatible(resume, config, data.checksums):
                warn(f"warning: resuming with {change}: the result will differ from an uninterrupted run")
            restore(self.trainer, resume)
        self.checkpointer = Checkpointer(checkpoint_dir, data.checksums, continuing) if checkpoint_dir else None
        self.listeners: list[TrainingListener] = [self.checkpointer] if self.checkpointer else []
        self.result: RunResult | None = None
        self.fitted_trust: dict | None = None

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

    def set_learning_rate(self, lr: float) -> SettingChange:
        """From the next batch on (between batches: from the thread that runs it, or while paused)."""
        return self.trainer.set_learning_rate(lr)

    def set_momentum(self, momentum: float) -> SettingChange:
        return self.trainer.set_momentum(momentum)

    def add_epochs(self, count: int = 1) -> SettingChange:
        return self.trainer.add_epochs(count)

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

    def trust(self) -> dict:
        """The calibration temperature and the novelty statistics of the finished network
        (``trust.fit_trust``, fitted once, on first use): what ``save`` stores beside the weights."""
        if self.fitted_trust is None:
            self.result or self.finish()
            self.fitted_trust = fit_trust(self.network, self.val_set, self.train_set)
        return self.fitted_trust

    def save(self, path: str | os.PathLike, remember: bool = True) -> Path:
        """Write the model file (atomically) with the config, the dataset and its class names, the
        split that was made, the metrics, the history, the settings changed mid-run, the
        temperature and the novelty statistics; ``remember`` it as the model ``digitnet serve``
        opens by default."""
        result = self.result or self.finish()
        trust = self.trust()
        saved = save_model(
            path,
            self.network,
            trust["arrays"],
            **trust["metadata"],
            config=self.config.to_dict(),
            dataset={"name": self.data.dataset.name, "class_names": list(self.data.dataset.class_names)},
            split={"train": len(self.train_set), "validation": len(self.val_set), "source": self.data.train.source},
            metrics=result.metrics,
            data_checksums=self.data.checksums,
            history=[asdict(record) for record in result.history],
            changes=[asdict(change) for change in self.trainer.changes],
        )
        if remember:
            remember_last_model(Path(path))
        return saved
