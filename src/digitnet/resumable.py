"""Saving a run between any two batches and taking it back, bit for bit.

A base class of ``Trainer`` (the methods are the trainer's own; they live here to keep one
concern a module), over ``Steerable``: a resumed run replays its steering changes. ``state()``
hands out the weights, the optimizer's state, the best weights, the current epoch's order and
the JSON-ready bookkeeping; ``load_state()`` takes them back. ``checkpoints.py`` turns that
state into a file and checks a file before it gets here.
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np

from .data import Dataset
from .events import EpochRecord, SettingChange
from .network import Network
from .optimizers import Optimizer
from .steering import Steerable


class Resumable(Steerable):
    """``state()`` and ``load_state()``; the trainer provides the attributes annotated here."""

    network: Network
    optimizer: Optimizer
    train_set: Dataset
    generators: dict[str, np.random.Generator]
    history: list[EpochRecord]
    _changes: list[SettingChange]
    _epoch: int
    _epoch_order: np.ndarray | None
    _position: int
    _epoch_seconds: float
    _best_val_loss: float
    _best_epoch: int
    _best_parameters: dict[str, np.ndarray]

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        """Everything needed to continue this run bit-identically: named arrays (weights,
        optimizer state, best weights, the current epoch's order) and JSON-ready bookkeeping."""
        arrays = {
            **prefixed("network", self.network.parameters()),
            **prefixed("optimizer", self.optimizer.state()),
            **prefixed("best", self._best_parameters),
        }
        if self._epoch_order is not None:
            arrays["epoch_order"] = self._epoch_order
        info = {
            "epoch": self._epoch,
            "epoch_position": self._position,
            "epoch_seconds": self._epoch_seconds,
            "step": self.step,
            "generators": {name: rng.bit_generator.state for name, rng in self.generators.items()},
            "best_epoch": self._best_epoch,
            # JSON has no infinity; before the first validation there is no best loss yet
            "best_val_loss": self._best_val_loss if math.isfinite(self._best_val_loss) else None,
            "history": [asdict(record) for record in self.history],
            "changes": [asdict(change) for change in self._changes],
        }
        return arrays, info

    def load_state(self, arrays: dict[str, np.ndarray], info: dict) -> None:
        """Take back what ``state()`` gave (from a checkpoint that ``checkpoints.py`` has already
        checked for consistency); raises ``ValueError`` if the epoch order is not a shuffle of
        this trainer's training set."""
        epoch_order = arrays.get("epoch_order")
        if epoch_order is not None and not is_permutation(epoch_order, len(self.train_set)):
            raise ValueError(f"the saved epoch order is not a shuffle of the {len(self.train_set)} training examples")
        self.network.load_parameters(unprefixed("network", arrays))
        self.optimizer.load_state(unprefixed("optimizer", arrays))
        for name, array in unprefixed("best", arrays).items():
            self._best_parameters[name][...] = array
        for name, rng in self.generators.items():
            rng.bit_generator.state = info["generators"][name]
        self._epoch = info["epoch"]
        self._epoch_order = None if epoch_order is None else epoch_order.copy()
        self._position = info["epoch_position"]
        self._epoch_seconds = float(info["epoch_seconds"])
        self._best_epoch = info["best_epoch"]
        self._best_val_loss = math.inf if info["best_val_loss"] is None else float(info["best_val_loss"])
        self.history = [EpochRecord(**record) for record in info["history"]]
        self._changes = [SettingChange(**change) for change in info.get("changes", [])]  # none before steering
        for change in self._changes:
            self._apply(change.setting, change.new)


def prefixed(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"{prefix}.{name}": array for name, array in arrays.items()}


def unprefixed(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name[len(prefix) + 1 :]: array for name, array in arrays.items() if name.startswith(prefix + ".")}


def is_permutation(order: np.ndarray, n: int) -> bool:
    return len(order) == n and bool(np.array_equal(np.sort(order), np.arange(n)))
