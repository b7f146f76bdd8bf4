"""Learning-rate schedules: the learning rate as a function of the optimizer step.

A schedule is a pure function of the step number, so resuming a run at step ``t`` gives the same
learning rates as never stopping. ``t`` counts mini-batch updates from 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ConfigError

SCHEDULES = ("constant", "step", "cosine")


@dataclass(frozen=True)
class Schedule:
    """``name`` is one of ``SCHEDULES``.

    - constant: ``lr``.
    - step: ``lr * gamma ** floor(epoch / step_epochs)`` (decay every ``step_epochs`` epochs).
    - cosine, notes eq. (20): linear warm-up over ``warmup_steps``, then
      ``lr * (1 + cos(pi * progress)) / 2``, falling smoothly to 0 at ``total_steps`` (Loshchilov
      and Hutter, 2017, without restarts).
    """

    name: str
    lr: float
    total_steps: int
    steps_per_epoch: int
    step_epochs: int = 5
    gamma: float = 0.1
    warmup_steps: int = 0

    def __post_init__(self):
        if self.name not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.name!r}; choose one of: {', '.join(SCHEDULES)}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"learning rate must be a positive number, got {self.lr}")
        if self.step_epochs < 1 or not 0 < self.gamma <= 1:
            raise ConfigError("step schedule needs step_epochs >= 1 and 0 < gamma <= 1")

    def lr_at(self, step: int) -> float:
        if self.name == "constant":
            return self.lr
        if self.name == "step":
            return self.lr * self.gamma ** (step // self.steps_per_epoch // self.step_epochs)
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        decay_steps = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / decay_steps)
        return self.lr * 0.5 * (1 + math.cos(math.pi * progress))
