"""Steering a run between batches: learning rate, momentum and the number of epochs.

A mixin of ``Trainer`` (the methods are the trainer's own; they live here to keep one concern a
module). Each change takes effect from the next update and is recorded as a ``SettingChange``
with the step it happened at, so the history says when, and ``Trainer.state()`` saves them for
a resumed run to replay.
"""

from __future__ import annotations

from dataclasses import replace

from .config import TrainConfig, check_field
from .errors import ConfigError
from .events import STEERABLE_SETTINGS, SettingChange
from .optimizers import SGD, Optimizer
from .schedules import Schedule


class Steerable:
    """The steering methods; the trainer provides the attributes annotated here."""

    config: TrainConfig
    optimizer: Optimizer
    schedule: Schedule
    steps_per_epoch: int
    _epoch: int
    _epochs: int
    _changes: list[SettingChange]

    @property
    def step(self) -> int:
        """Updates made so far (the schedule's position)."""
        return self.optimizer.step_count

    @property
    def changes(self) -> tuple[SettingChange, ...]:
        """Every setting changed during the run, in order, with the step it took effect after."""
        return tuple(self._changes)

    def set_learning_rate(self, lr: float) -> SettingChange:
        """The schedule's peak learning rate (``config.lr``'s role) from the next update on; with
        the constant schedule, the learning rate itself."""
        check_field("lr", lr)
        return self._change("lr", self.schedule.lr, lr)

    def set_momentum(self, momentum: float) -> SettingChange:
        """SGD's momentum ``mu`` (notes eq. (13)) from the next update on."""
        check_field("momentum", momentum)
        return self._change("momentum", self._sgd().momentum, momentum)

    def add_epochs(self, count: int = 1) -> SettingChange:
        """Plan ``count`` more epochs (a finished run can go on); a cosine schedule is stretched to
        the new end, so its learning rate rises a little from where it was."""
        check_field("epochs", count)
        return self._change("epochs", self._epochs, self._epochs + count)

    def _sgd(self) -> SGD:
        if not isinstance(self.optimizer, SGD):
            raise ConfigError(f"momentum is a setting of SGD; this run's {self.config.optimizer} has no momentum knob")
        return self.optimizer

    def _change(self, setting: str, old: float, new: float) -> SettingChange:
        self._apply(setting, new)  # raises before anything is recorded if the optimizer refuses
        change = SettingChange(step=self.step, epoch=self._epoch, setting=setting, old=old, new=new)
        self._changes.append(change)
        return change

    def _apply(self, setting: str, value: float) -> None:
        if setting == "momentum":
            self._sgd().set_momentum(value)
        elif setting == "lr":
            self.schedule = replace(self.schedule, lr=value)
        elif setting == "epochs":
            self._epochs = int(value)
            self.schedule = replace(self.schedule, total_steps=self.steps_per_epoch * self._epochs)
        else:
            raise ValueError(f"unknown setting {setting!r}; steerable: {', '.join(STEERABLE_SETTINGS)}")
