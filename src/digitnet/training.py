"""The training loop: mini-batches, optimizer and schedule, validation, early stopping, history.

``TrainConfig`` is everything that decides the result; the same config and seed give
bit-identical weights on the same machine. ``Trainer`` holds the state of a run (network,
optimizer, random generator, epoch and position in it, best weights, history) so it can be
inspected, saved and continued between batches (``checkpoints.py`` saves and restores it).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm import tqdm

from .augment import AugmentSettings, augment_batch
from .data import N_CLASSES, N_PIXELS, Dataset, scale_images
from .errors import ConfigError, TrainingDiverged
from .fast_step import FastTrainingStep
from .losses import get_loss
from .metrics import evaluate
from .network import Network
from .optimizers import make_optimizer
from .schedules import Schedule

RUN_GENERATORS = ("shuffle", "augment", "dropout")  # drawn from during training, saved in checkpoints
TRAIN_METRICS_SAMPLE = 10_000  # training-set images scored after each epoch, for the curves


@dataclass
class TrainConfig:
    """Everything that decides a training run's result. The defaults are the README's main
    command: 784-256-10 ReLU, SGD with Nesterov momentum and a little L2, a cosine schedule
    from 0.2 over 6 epochs: the quickest of the recipes measured to pass 98% on every seed
    tried (README, Results)."""

    hidden: tuple[int, ...] = (256,)
    activation: str = "relu"
    init: str = "auto"
    loss: str = "cross-entropy"
    optimizer: str = "sgd"
    lr: float = 0.2
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    warmup_epochs: float = 0.0
    step_epochs: int = 5
    gamma: float = 0.1
    epochs: int = 6
    batch_size: int = 128
    val_size: int = 5000
    patience: int = 5
    seed: int = 0
    dropout: float = 0.0
    augment: str = "none"
    aug_rotation: float = AugmentSettings.rotation
    aug_scale: float = AugmentSettings.scale
    aug_shear: float = AugmentSettings.shear
    aug_translate: float = AugmentSettings.translate
    elastic_alpha: float = AugmentSettings.alpha
    elastic_sigma: float = AugmentSettings.sigma

    def __post_init__(self):
        self.hidden = tuple(int(h) for h in self.hidden)
        checks = {
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "val_size": self.val_size >= 1,
            "patience": self.patience >= 0,
            "hidden": all(h >= 1 for h in self.hidden),
            "warmup_epochs": self.warmup_epochs >= 0,
            "lr": self.lr > 0 and math.isfinite(self.lr),
            "dropout": 0 <= self.dropout < 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(", ".join(f"{name}={getattr(self, name)!r} is out of range" for name in bad))
        self.augment_settings()  # validates the augmentation fields

    def augment_settings(self) -> AugmentSettings:
        return AugmentSettings(
            self.augment,
            self.aug_rotation,
            self.aug_scale,
            self.aug_shear,
            self.aug_translate,
            self.elastic_alpha,
            self.elastic_sigma,
        )

    @property
    def layer_sizes(self) -> list[int]:
        return [N_PIXELS, *self.hidden, N_CLASSES]

    def to_dict(self) -> dict:
        return {**asdict(self), "hidden": list(self.hidden)}


# Named configurations (``digitnet train --preset NAME``); measured in the README.
PRESETS: dict[str, dict] = {
    # Simard et al. (2003)'s one-hidden-layer network, 800 units, trained on elastic distortions
    "record": {"hidden": (800,), "epochs": 40, "lr": 0.1, "augment": "elastic"},
}


@dataclass
class EpochRecord:
    """One line of the history. Train metrics are measured after the epoch, on a fixed sample
    of the training set, with the same weights as the validation metrics."""

    epoch: int
    lr: float
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float  # training only, evaluation excluded

    def describe(self, epochs: int) -> str:
        return (
            f"epoch {self.epoch:>{len(str(epochs))}}/{epochs}  train loss {self.train_loss:.4f}  "
            f"val loss {self.val_loss:.4f}  val acc {100 * self.val_accuracy:.2f}%  "
            f"lr {self.lr:.4g}  {self.seconds:.1f}s"
        )


def seeded_generators(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for the split, the initial weights, the shuffling, the augmentation
    and the dropout masks, so changing one (say the validation size) does not change the others.
    (Child ``i`` of a ``SeedSequence`` does not depend on how many are spawned.)"""
    names = ("split", "init", "shuffle", "augment", "dropout")
    return {name: np.random.default_rng(s) for name, s in zip(names, np.random.SeedSequence(seed).spawn(len(names)))}


@dataclass
class Trainer:
    """A training run in progress. ``fit()`` runs the remaining epochs."""

    config: TrainConfig
    train_set: Dataset
    val_set: Dataset
    network: Network | None = None
    log: Callable[[str], None] = print
    epoch: int = 0
    history: list[EpochRecord] = field(default_factory=list)

    def __post_init__(self):
        generators = seeded_generators(self.config.seed)
        # the generators a run draws from as it goes; a checkpoint saves their states
        self.generators = {name: generators[name] for name in RUN_GENERATORS}
        self.augmentation = self.config.augment_settings()
        if self.network is None:
            self.network = Network.create(
                self.config.layer_sizes,
                generators["init"],
                self.config.activation,
                self.config.init,
                dropout=self.config.dropout,
                dropout_rng=generators["dropout"],
            )
        self.loss = get_loss(self.config.loss)
        self.optimizer = make_optimizer(
            self.config.optimizer,
            self.network.parameters(),
            momentum=self.config.momentum,
            nesterov=self.config.nesterov,
            weight_decay=self.config.weight_decay,
        )
        steps_per_epoch = math.ceil(len(self.train_set) / self.config.batch_size)
        self.schedule = Schedule(
            self.config.schedule,
            self.config.lr,
            total_steps=steps_per_epoch * self.config.epochs,
            steps_per_epoch=steps_per_epoch,
            step_epochs=self.config.step_epochs,
            gamma=self.config.gamma,
            warmup_steps=round(self.config.warmup_epochs * steps_per_epoch),
        )
        sample = np.linspace(0, len(self.train_set) - 1, min(TRAIN_METRICS_SAMPLE, len(self.train_set)))
        self.train_sample = self.train_set.subset(sample.astype(np.int64))
        self.best_val_loss = math.inf
        self.best_epoch = 0
        self.best_parameters = {n: p.copy() for n, p in self.network.parameters().items()}
        self.fast_step = (
            FastTrainingStep(self.network, self.train_set.images, self.train_set.labels, self.config.batch_size)
            if FastTrainingStep.supports(self.config)
            else None
        )
        self.epoch_order: np.ndarray | None = None  # the current epoch's shuffled indices; None between epochs
        self.epoch_position = 0  # examples of epoch_order already trained on
        self.epoch_seconds = 0.0
        self.stop_requested = False  # set (by a signal handler, say) to stop after the current batch

    @property
    def stopped_early(self) -> bool:
        return self.config.patience > 0 and self.epoch - self.best_epoch >= self.config.patience

    @property
    def finished(self) -> bool:
        return self.epoch_order is None and (self.epoch >= self.config.epochs or self.stopped_early)

    def fit(self, on_epoch_end: Callable[[Trainer], None] | None = None) -> list[EpochRecord]:
        """Train until ``config.epochs`` or early stopping, then restore the best weights.

        When ``stop_requested`` is set, returns after the current batch instead, leaving the run
        ready to continue (``finished`` is False, the weights are the latest, not the best).
        """
        # Overflow on the way to divergence is caught by explicit checks of the loss and the
        # weights (TrainingDiverged), with a message that says what to do, not NumPy warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while not self.finished:
                if self.stop_requested or self.run_epoch() is None:
                    return self.history
                if on_epoch_end:
                    on_epoch_end(self)
        if self.stopped_early:
            self.log(f"early stopping: no better validation loss for {self.config.patience} epochs")
        if self.best_epoch != self.epoch:
            self.log(f"restoring the weights of epoch {self.best_epoch} (best validation loss)")
            self.network.load_parameters(self.best_parameters)
        return self.history

    def run_epoch(self) -> EpochRecord | None:
        """One pass over the shuffled training set, then validation and bookkeeping.

        Continues the current epoch if one was stopped in the middle; returns ``None`` if
        ``stop_requested`` stops it (again) before its last batch.
        """
        if self.epoch_order is None:
            self.epoch += 1
            self.epoch_order = self.generators["shuffle"].permutation(len(self.train_set))
            self.epoch_position, self.epoch_seconds = 0, 0.0
        started = time.perf_counter()
        batch_size, n = self.config.batch_size, len(self.epoch_order)
        with tqdm(
            range(self.epoch_position, n, batch_size),
            desc=f"epoch {self.epoch}",
            leave=False,
            unit="batch",
            disable=not sys.stderr.isatty(),
        ) as progress:
            for start in progress:
                if self.stop_requested:
                    break
                self.train_step(self.epoch_order[start : start + batch_size])
                self.epoch_position = min(start + batch_size, n)
        self.epoch_seconds += time.perf_counter() - started
        if self.epoch_position < n:
            return None
        self.epoch_order, self.epoch_position = None, 0
        record = self.record_epoch(self.epoch_seconds)
        self.log(record.describe(self.config.epochs))
        return record

    def train_step(self, indices: np.ndarray) -> float:
        """Forward, loss, backward, update on the examples ``indices`` of the training set.

        ``fast_step`` (ReLU, cross-entropy, no dropout, no augmentation) does the same arithmetic
        as the plain path below in preallocated buffers, bit for bit; the plain path serves every
        other configuration.
        """
        fast = self.fast_step
        if fast is not None:
            loss = fast.forward_loss(indices)
        else:
            images = self.train_set.images[indices]
            if self.augmentation.kind == "none":
                X = scale_images(images)
            else:
                X = augment_batch(images, self.generators["augment"], self.augmentation)
            logits = self.network.forward(X, training=True)
            loss = self.loss.forward(logits, self.train_set.labels[indices])
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"the training loss became {loss} at epoch {self.epoch}, step {self.optimizer.step_count + 1}; "
                f"the learning rate {self.schedule.lr_at(self.optimizer.step_count):g} is probably too high: try --lr "
                f"{self.config.lr / 10:g}"
            )
        if fast is not None:
            fast.backward()
            gradients = fast.gradients  # the network's live dW / db, built once
        else:
            self.network.backward(self.loss.backward())
            gradients = self.network.gradients()
        self.optimizer.step(gradients, self.schedule.lr_at(self.optimizer.step_count))
        return loss

    def check_weights_finite(self) -> None:
        """Raise ``TrainingDiverged`` if any weight is NaN or infinite (then nothing is saved)."""
        bad = [name for name, param in self.network.parameters().items() if not np.isfinite(param).all()]
        if bad:
            raise TrainingDiverged(
                f"the weights {', '.join(bad)} became NaN or infinite at epoch {self.epoch}, "
                f"step {self.optimizer.step_count}; try a lower learning rate than {self.config.lr:g}"
            )

    def record_epoch(self, seconds: float) -> EpochRecord:
        train_metrics = evaluate(self.network, self.train_sample, self.config.loss)
        val_metrics = evaluate(self.network, self.val_set, self.config.loss)
        if not math.isfinite(val_metrics.loss):
            raise TrainingDiverged(
                f"the validation loss became {val_metrics.loss} at epoch {self.epoch}; "
                f"try a lower learning rate than {self.config.lr:g}"
            )
        self.check_weights_finite()
        record = EpochRecord(
            epoch=self.epoch,
            lr=self.schedule.lr_at(max(0, self.optimizer.step_count - 1)),
            train_loss=train_metrics.loss,
            train_accuracy=train_metrics.accuracy,
            val_loss=val_metrics.loss,
            val_accuracy=val_metrics.accuracy,
            seconds=seconds,
        )
        self.history.append(record)
        if val_metrics.loss < self.best_val_loss:
            self.best_val_loss, self.best_epoch = val_metrics.loss, self.epoch
            for name, param in self.network.parameters().items():
                self.best_parameters[name][...] = param
        return record
