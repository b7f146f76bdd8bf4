"""Checks of a checkpoint file's parts against each other, before a trainer is given them.

Each check raises ``CheckpointError`` naming the file and what is missing, malformed or
inconsistent: the config, the shapes of the best weights and the optimizer state, and the
bookkeeping (epoch, position, step, history, steering changes, generator states).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np

from .config import RUN_GENERATORS, TrainConfig, field_problem
from .errors import CheckpointError, ConfigError
from .events import STEERABLE_SETTINGS, EpochRecord, SettingChange
from .network import Network


def read_config(info: dict, path: Path) -> TrainConfig:
    try:
        stored = info["config"]
        if not isinstance(stored, dict) or set(stored) != TrainConfig.field_names():
            raise ValueError(f"config keys {sorted(map(str, stored))} are not TrainConfig's")
        return TrainConfig(**stored)
    except (KeyError, TypeError, ValueError, OverflowError, ConfigError) as error:
        raise CheckpointError(f"{path}: the training config is missing or invalid ({error!r})") from None


def fresh_optimizer_state(config: TrainConfig, network: Network, path: Path) -> dict[str, np.ndarray]:
    """The state a new optimizer of ``config`` has: the names, shapes and dtypes to expect."""
    try:
        return config.build_optimizer(network.parameters()).state()
    except (ConfigError, TypeError) as error:
        raise CheckpointError(f"{path}: the optimizer settings are invalid ({error})") from None


def check_arrays_match(found: dict[str, np.ndarray], expected: dict[str, np.ndarray], what: str, path: Path) -> None:
    if set(found) != set(expected):
        raise CheckpointError(f"{path}: {what} arrays are {sorted(found)}, expected {sorted(expected)}")
    for name, array in expected.items():
        if found[name].shape != array.shape or found[name].dtype != array.dtype:
            raise CheckpointError(
                f"{path}: {what} {name} is {found[name].dtype} {found[name].shape}, "
                f"expected {array.dtype} {array.shape}"
            )


def check_bookkeeping(info: dict, config: TrainConfig, step_count: int, epoch_order, path: Path) -> None:
    """The epoch, position, history, best epoch and generator state are present, typed and
    consistent with each other."""
    try:
        history = [EpochRecord(**record) for record in info["history"]]
        for record in history:
            for key, value in asdict(record).items():
                number(value, f"history {key}")
        epoch, position, step = (int_field(info, key) for key in ("epoch", "epoch_position", "step"))
        changes = [SettingChange(**change) for change in info.get("changes", [])]  # none before steering existed
        for change in changes:
            if change.setting not in STEERABLE_SETTINGS or not 0 <= number(change.step, "change step") <= step:
                raise ValueError(f"the change {change} is not one this run could have made")
            for value in (change.epoch, change.old, change.new):
                number(value, f"{change.setting} change")
            if problem := field_problem(change.setting, change.new):
                raise ValueError(f"a change made mid-run is invalid: {problem}")
        best_epoch = int_field(info, "best_epoch")
        number(info["epoch_seconds"], "epoch_seconds")
        if info["best_val_loss"] is not None:
            number(info["best_val_loss"], "best_val_loss")
        if set(info["generators"]) != set(RUN_GENERATORS):
            raise ValueError(f"generators {sorted(info['generators'])}, expected {sorted(RUN_GENERATORS)}")
        for state in info["generators"].values():
            np.random.PCG64().state = state  # raises if the state is not a valid PCG64 state
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise CheckpointError(f"{path}: training bookkeeping is missing or invalid ({error!r})") from None
    problems = []
    if step != step_count:
        problems.append(f"step {step} but the optimizer state says {step_count}")
    finished_epochs = epoch if epoch_order is None else epoch - 1
    if [record.epoch for record in history] != list(range(1, finished_epochs + 1)):
        problems.append(f"the history does not list epochs 1..{finished_epochs}")
    if not 0 <= best_epoch <= finished_epochs:
        problems.append(f"best epoch {best_epoch} is outside 0..{finished_epochs}")
    if epoch_order is not None and (
        epoch_order.ndim != 1 or epoch_order.dtype != np.int64 or not 0 <= position <= len(epoch_order)
    ):
        problems.append(f"epoch order {epoch_order.dtype} {epoch_order.shape} with position {position} is invalid")
    if epoch_order is None and position != 0:
        problems.append(f"position {position} in an epoch without an epoch order")
    if problems:
        raise CheckpointError(f"{path}: inconsistent checkpoint: {'; '.join(problems)}")


def number(value, what: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{what} is {value!r}, expected a number")
    return value


def int_field(info: dict, key: str) -> int:
    value = info[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} is {value!r}, expected a whole number >= 0")
    return value
