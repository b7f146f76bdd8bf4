"""A dataset in memory, the seeded train/validation split, and pixel scaling.

Images are kept as ``uint8`` arrays of shape ``(n, 784)`` (a quarter of the memory of float32)
and scaled to float32 in [0, 1] one batch at a time by ``scale_images``. Labels are ``uint8``
``(n,)`` in 0..9.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError


@dataclass
class Dataset:
    """Images ``(n, 784)`` uint8, labels ``(n,)`` uint8 (or ``None`` for an unlabelled set)."""

    images: np.ndarray
    labels: np.ndarray | None
    source: str

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, indices: np.ndarray, source: str | None = None) -> Dataset:
        labels = None if self.labels is None else self.labels[indices]
        return Dataset(self.images[indices], labels, source or self.source)

    def require_labels(self) -> np.ndarray:
        """The labels ``(n,)``, for what cannot work without them (training, evaluating)."""
        if self.labels is None:
            raise DataError(f"{self.source}: has no labels")
        return self.labels


def split_train_validation(dataset: Dataset, val_size: int, rng: np.random.Generator) -> tuple[Dataset, Dataset]:
    """Hold ``val_size`` examples out of ``dataset``, chosen by a seeded shuffle."""
    if not 0 < val_size < len(dataset):
        raise DataError(f"validation size {val_size} must be between 1 and {len(dataset) - 1} ({dataset.source})")
    order = rng.permutation(len(dataset))
    return (
        dataset.subset(np.sort(order[val_size:]), f"{dataset.source}, training part"),
        dataset.subset(np.sort(order[:val_size]), f"{dataset.source}, validation part"),
    )


def scale_images(images: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 pixels 0..255 -> float32 in [0, 1] (``x / 255``), optionally into ``out``."""
    return np.multiply(images, np.float32(1 / 255), out=out, dtype=np.float32)
