"""What a training run announces: a line of history per epoch, and the hooks listeners implement.

Front ends (the terminal's epoch lines and progress bar, the checkpointer, a live web view)
subscribe to a run by passing ``TrainingListener`` objects; the training loop has no branch for
any of them (Keras callbacks, Lightning hooks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .training import Trainer


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


STEERABLE_SETTINGS = ("lr", "momentum", "epochs")


@dataclass
class SettingChange:
    """A change made to a run while it trained (``Trainer.set_learning_rate``, ``set_momentum``,
    ``add_epochs``): it holds from update ``step + 1`` on. ``setting`` is ``"lr"`` (the
    schedule's peak learning rate), ``"momentum"`` or ``"epochs"`` (the planned number)."""

    step: int  # updates made before the change
    epoch: int  # the epoch under way (or the last one finished)
    setting: str
    old: float
    new: float


class TrainingListener:
    """What a run announces (Keras-style callbacks): override the hooks you need.

    Hooks run in the training thread, between batches; their time is not counted as training.
    """

    def on_batch_end(self, trainer: Trainer, loss: float) -> None:
        """After each update; ``loss`` is the batch's mean loss before the update."""

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        """After an epoch's validation, with the new line of the history."""
