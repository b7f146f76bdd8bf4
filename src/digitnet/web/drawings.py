"""The user's own handwriting: drawings the page was taught, kept as small PNG files.

Each drawing is the 28x28 input the network saw (after the MNIST framing) with the label the
user gave, stored as ``<id>_<label>.png`` (8-bit grayscale, white ink on black, as MNIST) in
``$XDG_DATA_HOME/digitnet/drawings`` (else ``~/.local/share/digitnet/drawings``), written to a
temporary file and renamed. Ids start with the time they were taught, so the folder lists in
teaching order. At most ``MAX_DRAWINGS`` are kept; fine-tuning holds every fourth one (in
teaching order) out to measure itself on.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from ..atomic import write_atomically
from ..data import Dataset
from ..errors import DigitnetError
from ..preprocess import IMAGE_SIZE, require_pillow
from .api import BadRequest

MAX_DRAWINGS = 500
HELD_OUT_EVERY = 4  # the 4th, 8th, ... drawing is kept out of fine-tuning, to measure it
FILE_PATTERN = re.compile(r"(?P<id>\d{8}T\d{12}-[0-9a-f]{6})_(?P<label>[0-9])\.png")
ID_PATTERN = re.compile(r"\d{8}T\d{12}-[0-9a-f]{6}")  # the time to the microsecond, then 6 random hex digits


def data_dir() -> Path:
    """``$XDG_DATA_HOME/digitnet``, else ``~/.local/share/digitnet``: files the user made."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "digitnet"


@dataclass
class Drawing:
    id: str
    label: int
    pixels: np.ndarray  # (784,) uint8, 255 = full ink

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "pixels": self.pixels.tolist()}


class DrawingStore:
    """The drawings in ``folder`` (created on the first write), at most ``limit`` of them."""

    def __init__(self, folder: Path | None = None, limit: int = MAX_DRAWINGS):
        self.folder = folder or data_dir() / "drawings"
        self.limit = limit
        self._lock = threading.Lock()  # the count check and the write are one step

    def add(self, image: np.ndarray, label: int) -> Drawing:
        """Keep ``image`` ``(784,)`` in [0, 1] with ``label``; refused (409) when the store is full."""
        pixels = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
        drawing = Drawing(f"{datetime.now().strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(3)}", label, pixels)
        with self._lock:
            if len(self.files()) >= self.limit:
                raise BadRequest(409, f"{self.limit} drawings are kept at most: delete some first")
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                write_atomically(self.folder / f"{drawing.id}_{label}.png", png_bytes(pixels))
            except (OSError, DigitnetError) as error:
                raise BadRequest(503, f"cannot save the drawing in {self.folder}: {error}") from None
        return drawing

    def drawings(self) -> list[Drawing]:
        """Every readable drawing, in teaching order (a file that is not a 28x28 PNG is skipped)."""
        found = []
        for path in self.files():
            match = FILE_PATTERN.fullmatch(path.name)
            pixels = read_png(path)
            if match and pixels is not None:
                found.append(Drawing(match["id"], int(match["label"]), pixels))
        return found

    def delete(self, drawing_id: str) -> None:
        if not ID_PATTERN.fullmatch(drawing_id):
            raise BadRequest(404, f"no drawing {drawing_id!r}")
        with self._lock:
            paths = [path for path in self.files() if path.name.startswith(f"{drawing_id}_")]
            if not paths:
                raise BadRequest(404, f"no drawing {drawing_id!r}")
            for path in paths:
                path.unlink(missing_ok=True)

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(path for path in self.folder.iterdir() if FILE_PATTERN.fullmatch(path.name))

    def split(self) -> tuple[Dataset | None, Dataset | None]:
        """(drawings to fine-tune on, held-out drawings to measure on); ``None`` for an empty part."""
        drawings = self.drawings()
        held_out = [d for index, d in enumerate(drawings) if index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
        teach = [d for index, d in enumerate(drawings) if index % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
        return as_dataset(teach, "your drawings"), as_dataset(held_out, "your held-out drawings")


def as_dataset(drawings: list[Drawing], source: str) -> Dataset | None:
    if not drawings:
        return None
    images = np.stack([d.pixels for d in drawings])
    return Dataset(images, np.array([d.label for d in drawings], dtype=np.uint8), source)


def png_bytes(pixels: np.ndarray) -> bytes:
    Image = require_pillow()
    buffer = io.BytesIO()
    Image.fromarray(pixels.reshape(IMAGE_SIZE, IMAGE_SIZE)).save(buffer, format="PNG")
    return buffer.getvalue()


def read_png(path: Path) -> np.ndarray | None:
    """A stored drawing's pixels ``(784,)`` uint8, or ``None`` if the file is not one."""
    Image = require_pillow()
    try:
        with Image.open(path) as image:
            if image.size != (IMAGE_SIZE, IMAGE_SIZE):
                return None
            return np.asarray(image.convert("L"), dtype=np.uint8).reshape(-1)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
