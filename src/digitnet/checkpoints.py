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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import write_atomically
from .checkpoint_checks import check_arrays_match, check_bookkeeping, fresh_optimizer_state, read_config
from .config import TrainConfig
from .errors import CheckpointError, ConfigError
from .network import Network
from .persistence import architecture_metadata, build_network, pack, read_file, unpack
from .resumable import unprefixed
from .training import EpochRecord, Trainer, TrainingListener

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
