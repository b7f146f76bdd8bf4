"""Answers you can trust: calibrated probabilities, "not sure", and "not a digit".

``fit_trust`` runs once at the end of training (or on an existing model file, ``digitnet
calibrate``): it fits the temperature on the validation split (``calibration.py``) and the
novelty statistics on the training split (``novelty.py``), and returns what the model file stores.

``Reader`` is what predict, evaluate and the web page ask: for each input, the class, its
calibrated probabilities and a verdict:

- ``"not a digit"`` when the novelty score says the input is unlike the training images;
- ``"not sure"`` when the calibrated top probability is below ``min_confidence``;
- ``"digit"`` otherwise.

For a model of another dataset the noun is that dataset's (``"not a clothing item"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibration import calibration_summary, fit_temperature, scaled_probabilities, selective_accuracy
from .config import seeded_split
from .data import DATASETS, Dataset, TrainingData, scale_images
from .errors import ConfigError
from .network import Network
from .novelty import NoveltyDetector, chunks
from .persistence import LoadedModel

NOT_SURE = "not sure"


def item_noun(dataset_name: str) -> str:
    """What one example of a registered dataset is called ("digit"); else "known class"."""
    return DATASETS[dataset_name].item if dataset_name in DATASETS else "known class"


def fit_trust(network: Network, val_set: Dataset, train_set: Dataset) -> dict:
    """The temperature and the novelty detector of a trained ``network``: ``{"metadata":
    {"calibration": ..., "novelty": ...}, "arrays": {"novelty.*": ...}}``, ready for ``save_model``."""
    val_logits = np.concatenate(  # a chunk of images at a time: no float copy of the whole split
        [network.logits(scale_images(val_set.images[rows]).astype(network.dtype)) for rows in chunks(len(val_set))]
    )
    temperature = fit_temperature(val_logits, val_set.require_labels())
    detector = NoveltyDetector.fit(train_set.images, train_set.require_labels(), val_set.images, val_logits)
    return {
        "metadata": {"calibration": {"temperature": temperature}, "novelty": detector.metadata()},
        "arrays": detector.arrays(),
    }


def refit_trust(model: LoadedModel, data: TrainingData) -> dict:
    """``fit_trust`` for a saved model, on the split its training run made (its config's seed and
    validation size), after checking that ``data`` is the data it was trained on."""
    config = model.metadata.get("config") or {}
    if "seed" not in config or "val_size" not in config:
        raise ConfigError(f"{model.path}: has no training config (seed, val_size), so its validation split is unknown")
    trained_on = model.metadata.get("data_checksums")
    if trained_on != data.checksums:
        raise ConfigError(
            f"{model.path}: was trained on other data ({', '.join(sorted(trained_on or {})) or 'unrecorded'}) than "
            f"{data.train.source}; give the same data with --data"
        )
    train_set, val_set = seeded_split(data.train, config["val_size"], config["seed"])
    return fit_trust(model.network, val_set, train_set)


@dataclass
class Answer:
    """What the model says about one input: ``label`` (class index) and its ``name``, the
    calibrated ``probabilities`` ``(k,)``, their maximum ``confidence``, the ``verdict``, and the
    ``novelty_score`` (``None`` when the model file has no novelty statistics)."""

    label: int
    name: str
    probabilities: np.ndarray
    confidence: float
    verdict: str
    novelty_score: float | None

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "name": self.name,
            "verdict": self.verdict,
            "confidence": round(self.confidence, 6),
            "probabilities": [round(float(p), 6) for p in self.probabilities],
            # null without novelty statistics, and for an image without ink (a score of -inf)
            "novelty_score": None
            if self.novelty_score is None or not np.isfinite(self.novelty_score)
            else round(self.novelty_score, 4),
        }


class Reader:
    """A network with its temperature, novelty detector and class names."""

    def __init__(
        self,
        network: Network,
        temperature: float = 1.0,
        novelty: NoveltyDetector | None = None,
        class_names: list[str] | None = None,
        dataset_name: str = "mnist",
    ):
        self.network = network
        self.temperature = temperature
        self.novelty = novelty
        self.class_names = class_names or [str(k) for k in range(network.layer_sizes[-1])]
        self.noun = item_noun(dataset_name)

    @classmethod
    def from_model(cls, model: LoadedModel) -> Reader:
        return cls(model.network, model.temperature, model.novelty, model.class_names, model.dataset["name"])

    @property
    def verdicts(self) -> tuple[str, str, str]:
        """(answered, unsure, novel): ``("digit", "not sure", "not a digit")`` for MNIST."""
        return self.noun, NOT_SURE, f"not a {self.noun}"

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities ``softmax(z / T)`` ``(n, k)``."""
        return scaled_probabilities(logits, self.temperature)

    def read(self, X: np.ndarray, logits: np.ndarray | None = None, min_confidence: float = 0.0) -> list[Answer]:
        """One ``Answer`` per row of ``X`` ``(n, 784)`` in [0, 1] (``logits`` if already computed);
        below ``min_confidence`` the verdict is "not sure"."""
        if not 0 <= min_confidence <= 1:
            raise ConfigError(f"the minimum confidence must be a probability in [0, 1], got {min_confidence}")
        if logits is None:
            logits = self.network.logits(X.astype(self.network.dtype))
        probabilities = self.probabilities(logits)
        labels = probabilities.argmax(axis=1)
        confidence = probabilities.max(axis=1)
        answered, unsure, novel = self.verdicts
        verdicts = np.where(confidence < min_confidence, unsure, answered).astype(object)
        scores = None
        if self.novelty is not None:
            scores = self.novelty.scores(X, logits)
            verdicts[scores < self.novelty.threshold] = novel
        return [
            Answer(
                label=int(label),
                name=self.class_names[label],
                probabilities=p,
                confidence=float(c),
                verdict=str(verdict),
                novelty_score=None if scores is None else float(score),
            )
            for label, p, c, verdict, score in zip(
                labels, probabilities, confidence, verdicts, scores if scores is not None else [None] * len(X)
            )
        ]


def evaluate_trust(reader: Reader, dataset: Dataset) -> dict:
    """How far the answers on the labelled ``dataset`` can be trusted: ECE, NLL and Brier score
    raw (T = 1) and calibrated; coverage and accuracy when answering only above a few confidence
    thresholds; and, with novelty statistics, the fraction the "not a ..." verdict keeps and the
    accuracy on those (``None`` without)."""
    X, labels = scale_images(dataset.images).astype(reader.network.dtype), dataset.require_labels()
    logits = reader.network.logits(X)
    probabilities = reader.probabilities(logits)
    correct = probabilities.argmax(axis=1) == labels
    report = {
        "temperature": reader.temperature,
        "raw": calibration_summary(logits, labels),
        "calibrated": calibration_summary(logits, labels, reader.temperature),
        "selective": selective_accuracy(probabilities.max(axis=1), correct),
        "novelty": None,
    }
    if reader.novelty is not None:
        kept = ~reader.novelty.is_novel(X, logits)
        report["novelty"] = {
            "threshold": reader.novelty.threshold,
            "kept": float(kept.mean()),
            "accuracy_on_kept": float(correct[kept].mean()) if kept.any() else None,
            "accuracy_counting_rejected_as_wrong": float((correct & kept).mean()),
        }
    return report
