"""Training checkpoints: a run's state as a file, read back and checked, to resume bit-identically.

A checkpoint is a file in the model-file format (``persistence.pack``: safetensors arrays plus
JSON metadata, sealed by a SHA-256) holding ``Trainer.state()``, everything the trainer needs to
go on exactly where it stopped, plus what the run is (config, data checksums):

- arrays: ``network.*`` (the weights), ``optimizer.*`` (``optimizer.state()``: momentum or Adam
  moments and the step count), ``best.*`` (the best-so-far weights, for early stopping) and,
  for a run stopped inside an epoch, ``epoch_order`` (that epoch's shuffled indices);
- metadata: the config and the data checksums (what the run is), the epoch, the position in
  it, the step count (the schedule's position), the shuffle generator's state, the best epoch
  and validation loss, the history, and the settings changed mid-run (``Trainer.changes``).

``Checkpointer`` (a ``TrainingListener``) writes one at the end of every epoch (and when a run is stopped), each through
a temporary file and a rename, and keeps the newest two. ``latest_valid_checkpoint`` skips a
corrupt newest file with a warning and takes the one before.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .atomic import write_atomically
from .config import TrainConfig, field_problem
from .errors import CheckpointError, ConfigError
from .events import STEERABLE_SETTINGS, SettingChange
from .network import Network
from .optimizers import make_optimizer
from .persistence import architecture_metadata, build_network, pack, read_file, unpack
from .training import RUN_GENERATORS, EpochRecord, Trainer, TrainingListener, unprefixed

KEEP = 2
FILE_NAME = "epoch{epoch:04d}-step{step:09d}.safetensors"
FILE_PATTERN = re.compile(r"epoch\d{4,}-step\d{9,}\.safetensors")
# Options that decide what the network and its data are: a checkpoint made with other values
# cannot be continued. The other options (learning rate, epochs, ...) may change on resume, at
# the price of no longer matching an uninterrupted run.
IDENTITY_FIELDS = ("hidden", "activation", "optimizer", "seed", "val_size")


@dataclass
class Checkpoint:
    """A checkpoint read from ``path`` and checked for consistency (not yet against a run)."""

    path: Path
    config: TrainConfig
    data_checksums: dict[str, str]
    network: Network
    optimizer_state: dict[str, np.ndarray]
    best_parameters: dict[str, np.ndarray]
    epoch_order: np.ndarray | None
    info: dict  # the metadata: epoch, epoch_position, generators, history, ...
    tensors: dict[str, np.ndarray]  # every array as stored: what Trainer.load_state takes

    @property
    def epoch(self) -> int:
        return self.info["epoch"]

    @property
    def step(self) -> int:
        return self.info["step"]

    def describe(self) -> str:
        where = (
            f"epoch {self.epoch} done"
            if self.epoch_order is None
            else (f"{self.info['epoch_position']} examples into epoch {self.epoch}")
        )
        return f"{self.path} ({where}, step {self.step})"


# ----------------------------------------------------------------------------- writing


def checkpoint_to_bytes(trainer: Trainer, data_checksums: dict[str, str]) -> bytes:
    """``trainer.state()`` plus what the run is: all ``restore`` needs to continue it bit-identically."""
    tensors, state = trainer.state()
    info = {
        "kind": "checkpoint",
        **architecture_metadata(trainer.network),
        "config": trainer.config.to_dict(),
        "data_checksums": data_checksums,
        **state,
    }
    return pack(tensors, info)


class Checkpointer(TrainingListener):
    """Writes checkpoints of a run into ``folder``, keeping the newest ``keep``.

    As a listener it saves at the end of every epoch; call ``save`` once more when a run is
    stopped between epochs' ends. A folder that already holds checkpoints
    is refused unless ``continuing`` (the run resumed from them): pruning would otherwise
    delete another run's files, or this run's, whichever sort older.
    """

    def __init__(
        self, folder: str | os.PathLike, data_checksums: dict[str, str], continuing: bool = False, keep: int = KEEP
    ):
        self.folder = Path(folder)
        self.data_checksums = data_checksums
        self.keep = keep
        self.last_saved: Path | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(f"{self.folder}: cannot create the checkpoint folder ({error.strerror})") from None
        existing = checkpoint_files(self.folder)
        if existing and not continuing:
            raise CheckpointError(
                f"{self.folder}: already holds checkpoints of a run (newest: {existing[0].name}); "
                f"continue it with --resume {self.folder}, or give an empty folder"
            )

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        self.save(trainer)

    def save(self, trainer: Trainer) -> Path:
        """Write the state of ``trainer`` (weights must be finite: a diverged run is not saved,
        so the last good checkpoint stays the newest), then delete all but the newest ``keep``."""
        trainer.check_weights_finite()
        path = self.folder / FILE_NAME.format(epoch=trainer.epoch, step=trainer.step)
        if path == self.last_saved and not trainer.in_epoch:
            return path  # stopped right after the end-of-epoch checkpoint: nothing new to save
        write_atomically(path, checkpoint_to_bytes(trainer, self.data_checksums), CheckpointError)
        self.last_saved = path
        for old in checkpoint_files(self.folder)[self.keep :]:
            old.unlink(missing_ok=True)
        return path


# ----------------------------------------------------------------------------- reading


def checkpoint_files(folder: str | Path) -> list[Path]:
    """The checkpoint files in ``folder``, newest first (the zero-padded names sort by epoch,
    then step)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: checkpoint folder does not exist")
    return sorted((p for p in folder.iterdir() if FILE_PATTERN.fullmatch(p.name)), reverse=True)


def latest_valid_checkpoint(folder: str | Path, warn: Callable[[str], None]) -> Checkpoint:
    """The newest checkpoint in ``folder`` that reads and validates; each unreadable newer one
    is reported through ``warn`` and skipped."""
    files = checkpoint_files(folder)
    if not files:
        raise CheckpointError(f"{folder}: no checkpoint files (epoch*-step*.safetensors) to resume from")
    problems = []
    for path in files:
        try:
            return load_checkpoint(path)
        except CheckpointError as error:
            problems.append(str(error))
            warn(f"warning: skipping {error}")
    raise CheckpointError(f"{folder}: no valid checkpoint: " + "; ".join(problems))


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read ``path`` and check that its parts agree with each other; any problem is a
    ``CheckpointError`` naming the file."""
    path = Path(path)
    tensors, info = unpack(read_file(path, "checkpoint", CheckpointError), path, "checkpoint", CheckpointError)
    config = read_config(info, path)
    network = build_network(unprefixed("network", tensors), info, path, CheckpointError)
    if network.layer_sizes != config.layer_sizes or network.activation != config.activation:
        raise CheckpointError(
            f"{path}: the weights are {network.layer_sizes} {network.activation}, "
            f"the config says {config.layer_sizes} {config.activation}"
        )
    best_parameters = unprefixed("best", tensors)
    check_arrays_match(best_parameters, network.parameters(), "best weights", path)
    optimizer_state = unprefixed("optimizer", tensors)
    check_arrays_match(optimizer_state, fresh_optimizer_state(config, network, path), "optimizer state", path)
    epoch_order = tensors.get("epoch_order")
    check_bookkeeping(info, config, int(optimizer_state["step_count"]), epoch_order, path)
    try:
        data_checksums = {str(name): str(digest) for name, digest in info["data_checksums"].items()}
    except (KeyError, AttributeError) as error:
        raise CheckpointError(f"{path}: data checksums are missing or malformed ({error!r})") from None
    return Checkpoint(
        path, config, data_checksums, network, optimizer_state, best_parameters, epoch_order, info, tensors
    )


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
        return make_optimizer(
            config.optimizer,
            network.parameters(),
            momentum=config.momentum,
            nesterov=config.nesterov,
            weight_decay=config.weight_decay,
        ).state()
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


# ----------------------------------------------------------------------------- resuming


def check_compatible(checkpoint: Checkpoint, config: TrainConfig, data_checksums: dict[str, str]) -> list[str]:
    """Refuse (``CheckpointError``) a checkpoint made for another network or other data; return
    the other option changes, which are allowed but make the result differ from an
    uninterrupted run."""
    old, new = checkpoint.config.to_dict(), config.to_dict()
    changed = {name: (old[name], new[name]) for name in old if old[name] != new[name]}
    refused = [f"{name} {a!r} -> {b!r}" for name, (a, b) in changed.items() if name in IDENTITY_FIELDS]
    if checkpoint.data_checksums != data_checksums:
        refused.append(f"data {describe_checksums(checkpoint.data_checksums)} -> {describe_checksums(data_checksums)}")
    if refused:
        raise CheckpointError(
            f"cannot resume from {checkpoint.path}: it was made for a different run: {', '.join(refused)}"
        )
    return [f"{name} {a!r} -> {b!r}" for name, (a, b) in changed.items()]


def describe_checksums(checksums: dict[str, str]) -> str:
    return "{" + ", ".join(f"{name} sha256 {digest[:12]}" for name, digest in sorted(checksums.items())) + "}"


def restore(trainer: Trainer, checkpoint: Checkpoint) -> None:
    """Put ``trainer`` (freshly made for the same config and data) in the checkpoint's state."""
    try:
        trainer.load_state(checkpoint.tensors, checkpoint.info)
    except ValueError as error:
        raise CheckpointError(f"{checkpoint.path}: {error}") from None
