"""Where ``digitnet train`` saved last, so that ``digitnet serve`` finds the model with no argument."""

from __future__ import annotations

import os
from pathlib import Path

from .atomic import write_atomically
from .errors import DigitnetError


def state_dir() -> Path:
    """``$XDG_STATE_HOME/digitnet``, else ``~/.local/state/digitnet``."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "digitnet"


def remember_last_model(path: Path) -> None:
    """Note where ``digitnet train`` saved, so ``digitnet serve`` can find it with no argument."""
    try:
        state_dir().mkdir(parents=True, exist_ok=True)
        write_atomically(state_dir() / "last-model", str(Path(path).resolve()).encode())
    except (OSError, DigitnetError):
        pass  # a convenience only: training succeeded and said where the model is


def last_model() -> Path | None:
    try:
        return Path((state_dir() / "last-model").read_text().strip())
    except OSError:
        return None
