"""The training loop: mini-batches, optimizer and schedule, validation, early stopping, history.

``Trainer`` runs a ``TrainConfig`` (``config.py``): the same config and seed give bit-identical
weights on the same machine. It owns the state of a run (network, optimizer, generators, epoch
and position in it, best weights, history); ``state()`` hands it out and ``load_state()`` takes
it back, so a run can be saved and continued between any two batches (``checkpoints.py`` only
turns that state into a file). ``run()`` can stop after any batch and be called again to go on:
that is pause, one batch and resume for a live view. What happens is announced to
``TrainingListener`` objects (progress bar, checkpointer, live web view); the loop has no
branch for any of them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

import numpy as np

from .augment import augment_batch
from .config import RUN_GENERATORS, TrainConfig, seeded_generators
from .data import Dataset, scale_images
from .errors import ConfigError, TrainingDiverged
from .events import EpochRecord, SettingChange, TrainingListener
from .losses import get_loss
from .metrics import evaluate
from .network import Network
from .resumable import Resumable
from .schedules import Schedule
from .workspace import Workspace

TRAIN_METRICS_SAMPLE = 10_000  # training-set images scored after each epoch, for the curves


class Trainer(Resumable):  # Resumable extends Steerable (steering.py)
    """A training run in progress: ``run()`` trains (stopping when asked), ``fit()`` runs to the end."""

    def __init__(
        self,
        config: TrainConfig,
        train_set: Dataset,
        val_set: Dataset,
        network: Network | None = None,
        log: Callable[[str], None] = print,
    ):
        if train_set.labels is None or val_set.labels is None:
            raise ConfigError("training needs labelled training and validation sets")
        self.config = config
        self.train_set = train_set
        self.train_labels: np.ndarray = train_set.labels
        self.val_set = val_set
        self.log = log
        generators = seeded_generators(config.seed)
        # the generators a run draws from as it goes; state() saves theirs
        self.generators = {name: generators[name] for name in RUN_GENERATORS}
        self.augmentation = config.augment_settings()
        self.network = network or Network.create(
            config.layer_sizes,
            generators["init"],
            config.activation,
            config.init,
            dropout=config.dropout,
            dropout_rng=generators["dropout"],
        )
        self.loss = get_loss(config.loss)
        self.optimizer = config.build_optimizer(self.network.parameters())
        self.steps_per_epoch = math.ceil(len(train_set) / config.batch_size)
        self.schedule = Schedule(
            config.schedule,
            config.lr,
            total_steps=self.steps_per_epoch * config.epochs,
            steps_per_epoch=self.steps_per_epoch,
            step_epochs=config.step_epochs,
            gamma=config.gamma,
            warmup_steps=round(config.warmup_epochs * self.steps_per_epoch),
        )
        sample = np.linspace(0, len(train_set) - 1, min(TRAIN_METRICS_SAMPLE, len(train_set)))
        self.train_sample = train_set.subset(sample.astype(np.int64))
        self.history: list[EpochRecord] = []
        self._changes: list[SettingChange] = []
        self._epochs = config.epochs
        self._epoch = 0
        self._epoch_order: np.ndarray | None = None  # the current epoch's shuffled indices; None between epochs
        self._position = 0  # examples of _epoch_order already trained on
        self._epoch_seconds = 0.0
        self._best_val_loss = math.inf
        self._best_epoch = 0
        self._best_parameters = {n: p.copy() for n, p in self.network.parameters().items()}
        self._stop_requested = False
        self._batch = Workspace()  # the gathered pixels and X of the current batch

    # ------------------------------------------------------------------ where the run is

    @property
    def epoch(self) -> int:
        """The epoch under way, or the last one finished (0 before the first)."""
        return self._epoch

    @property
    def epochs(self) -> int:
        """The planned number of epochs: ``config.epochs`` plus any ``add_epochs``."""
        return self._epochs

    @property
    def in_epoch(self) -> bool:
        """True when stopped inside an epoch (some of its batches done, not all)."""
        return self._epoch_order is not None

    @property
    def position(self) -> int:
        """Examples of the current epoch already trained on (0 between epochs)."""
        return self._position

    @property
    def best_epoch(self) -> int:
        return self._best_epoch

    @property
    def best_val_loss(self) -> float:
        return self._best_val_loss

    @property
    def kept_epoch(self) -> int:
        """The epoch whose weights a finished run hands back: with early stopping (``patience``
        > 0) the one of the best validation loss; without it the last, the end of the schedule,
        rather than an epoch picked by validation-loss differences in the last bits."""
        return self._best_epoch if self.config.patience > 0 else self._epoch

    @property
    def stopped_early(self) -> bool:
        return self.config.patience > 0 and self._epoch - self._best_epoch >= self.config.patience

    @property
    def finished(self) -> bool:
        return not self.in_epoch and (self._epoch >= self._epochs or self.stopped_early)

    def describe_position(self) -> str:
        if not self.in_epoch:
            return f"epoch {self._epoch} done"
        return f"{self._position}/{len(self.train_set)} examples into epoch {self._epoch}"

    # ------------------------------------------------------------------ training

    def request_stop(self) -> None:
        """Stop after the current batch (safe to call from a signal handler or another thread)."""
        self._stop_requested = True

    def fit(self, listeners: Iterable[TrainingListener] = ()) -> list[EpochRecord]:
        """Train until ``config.epochs`` or early stopping, then restore the best weights.

        If ``request_stop()`` stops it first, returns after the current batch instead, leaving
        the run ready to continue (``finished`` is False, the weights are the latest, not the best).
        """
        if self.run(listeners):
            self.restore_best()
        return self.history

    def run(self, listeners: Iterable[TrainingListener] = (), max_batches: int | None = None) -> bool:
        """Train until the run is finished (returns True), or until ``max_batches`` more batches
        are done or a stop is requested (returns False, ready to go on with another ``run``)."""
        listeners = tuple(listeners)
        self._stop_requested = False
        batches = 0
        # Overflow on the way to divergence is caught by explicit checks of the loss and the
        # weights (TrainingDiverged), with a message that says what to do, not NumPy warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while not self.finished:
                if self._stop_requested or (max_batches is not None and batches >= max_batches):
                    return False
                if self._epoch_order is None:
                    self._start_epoch()
                loss = self._next_batch()
                batches += 1
                for listener in listeners:
                    listener.on_batch_end(self, loss)
                if self._position == len(self.train_set):
                    record = self._end_epoch()
                    for listener in listeners:
                        listener.on_epoch_end(self, record)
        return True

    def run_epoch(self, listeners: Iterable[TrainingListener] = ()) -> EpochRecord:
        """Train to the end of the current epoch (a whole new one between epochs); its history line."""
        remaining = len(self.train_set) - self._position
        self.run(listeners, max_batches=math.ceil(remaining / self.config.batch_size))
        return self.history[-1]

    def restore_best(self) -> None:
        """At the end of a run: say why it ended, and go back to the weights of ``kept_epoch``."""
        if self.stopped_early:
            self.log(f"early stopping: no better validation loss for {self.config.patience} epochs")
        if self.kept_epoch != self._epoch:
            self.log(f"restoring the weights of epoch {self._best_epoch} (best validation loss)")
            self.network.load_parameters(self._best_parameters)

    def _start_epoch(self) -> None:
        self._epoch += 1
        self._epoch_order = self.generators["shuffle"].permutation(len(self.train_set))
        self._position, self._epoch_seconds = 0, 0.0

    def _next_batch(self) -> float:
        assert self._epoch_order is not None
        started = time.perf_counter()
        end = min(self._position + self.config.batch_size, len(self._epoch_order))
        loss = self.train_step(self._epoch_order[self._position : end])
        self._position = end
        self._epoch_seconds += time.perf_counter() - started
        return loss

    def train_step(self, indices: np.ndarray) -> float:
        """Forward, loss, backward, update on the examples ``indices`` of the training set:
        notes eq. (1)-(2) forward, (4)-(6) loss and its gradient, (7)-(10) backward, then the
        optimizer's update. The same layer code the gradient checks and the PyTorch tests run."""
        labels = self.train_labels[indices]
        if self.augmentation.kind == "none":
            X = self._scaled_batch(indices)
        else:
            X = augment_batch(self.train_set.images[indices], self.generators["augment"], self.augmentation)
        logits = self.network.forward(X, training=True)
        loss = self.loss.forward(logits, labels)
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"the training loss became {loss} at epoch {self._epoch}, step {self.step + 1}; "
                f"the learning rate {self.schedule.lr_at(self.step):g} is probably too high: try --lr "
                f"{self.config.lr / 10:g}"
            )
        self.network.backward(self.loss.backward())
        self.optimizer.step(self.network.gradients(), self.schedule.lr_at(self.step))
        return loss

    def _scaled_batch(self, indices: np.ndarray) -> np.ndarray:
        """``scale_images(images[indices])``, gathered and scaled into the trainer's own arrays.

        ``indices`` come from this trainer's permutation of the training set, so they are all
        valid and ``mode="clip"`` (which skips the bounds-checked copy) changes nothing.
        """
        images = self.train_set.images
        pixels = self._batch.array("pixels", (len(indices), *images.shape[1:]), images.dtype)
        np.take(images, indices, axis=0, out=pixels, mode="clip")
        return scale_images(pixels, out=self._batch.array("X", pixels.shape, np.float32))

    def check_weights_finite(self) -> None:
        """Raise ``TrainingDiverged`` if any weight is NaN or infinite (then nothing is saved)."""
        bad = [name for name, param in self.network.parameters().items() if not np.isfinite(param).all()]
        if bad:
            raise TrainingDiverged(
                f"the weights {', '.join(bad)} became NaN or infinite at epoch {self._epoch}, "
                f"step {self.step}; try a lower learning rate than {self.config.lr:g}"
            )

    def _end_epoch(self) -> EpochRecord:
        self._epoch_order, self._position = None, 0
        train_metrics = evaluate(self.network, self.train_sample, self.config.loss)
        val_metrics = evaluate(self.network, self.val_set, self.config.loss)
        if not math.isfinite(val_metrics.loss):
            raise TrainingDiverged(
                f"the validation loss became {val_metrics.loss} at epoch {self._epoch}; "
                f"try a lower learning rate than {self.config.lr:g}"
            )
        self.check_weights_finite()
        record = EpochRecord(
            epoch=self._epoch,
            lr=self.schedule.lr_at(max(0, self.step - 1)),
            train_loss=train_metrics.loss,
            train_accuracy=train_metrics.accuracy,
            val_loss=val_metrics.loss,
            val_accuracy=val_metrics.accuracy,
            seconds=self._epoch_seconds,
        )
        self.history.append(record)
        if val_metrics.loss < self._best_val_loss:
            self._best_val_loss, self._best_epoch = val_metrics.loss, self._epoch
            for name, param in self.network.parameters().items():
                self._best_parameters[name][...] = param
        return record
