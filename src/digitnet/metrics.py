"""Evaluation: accuracy, mean loss, confusion matrix, per-class precision and recall."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import N_CLASSES, Dataset, scale_images
from .losses import get_loss
from .network import Network


@dataclass
class Evaluation:
    """Metrics of a network on a labelled dataset. ``confusion[t, p]`` counts true ``t``
    predicted as ``p``."""

    accuracy: float
    loss: float
    n: int
    confusion: np.ndarray

    def per_class(self) -> list[dict]:
        """Precision ``TP / (TP + FP)`` and recall ``TP / (TP + FN)`` for each digit."""
        true_positives = np.diag(self.confusion)
        predicted = self.confusion.sum(axis=0)
        actual = self.confusion.sum(axis=1)
        return [
            {
                "digit": digit,
                "precision": float(true_positives[digit] / predicted[digit]) if predicted[digit] else 0.0,
                "recall": float(true_positives[digit] / actual[digit]) if actual[digit] else 0.0,
                "support": int(actual[digit]),
            }
            for digit in range(len(self.confusion))
        ]

    def to_dict(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "loss": self.loss,
            "n": self.n,
            "confusion": self.confusion.tolist(),
            "per_class": self.per_class(),
        }


def confusion_matrix(true_labels: np.ndarray, predicted: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """``(n_classes, n_classes)`` counts, rows true, columns predicted."""
    return np.bincount(true_labels.astype(np.int64) * n_classes + predicted, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def evaluate(
    network: Network, dataset: Dataset, loss_name: str = "cross-entropy", batch_size: int = 2000
) -> Evaluation:
    """Accuracy and mean loss of ``network`` on every example of ``dataset``, in batches."""
    labels = dataset.require_labels()
    loss = get_loss(loss_name)
    total_loss = 0.0
    predictions = np.empty(len(dataset), dtype=np.int64)
    for start in range(0, len(dataset), batch_size):
        images = dataset.images[start : start + batch_size]
        logits = network.infer(scale_images(images))[1]  # caches nothing: safe beside training
        total_loss += loss.forward(logits, labels[start : start + batch_size]) * len(images)
        predictions[start : start + batch_size] = logits.argmax(axis=1)
    n = len(dataset)
    return Evaluation(
        accuracy=float(np.mean(predictions == labels)),
        loss=total_loss / n,
        n=n,
        confusion=confusion_matrix(labels, predictions),
    )
