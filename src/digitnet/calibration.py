"""How far to trust a probability: calibration metrics, temperature scaling, selective prediction.

A classifier is *calibrated* when, of the inputs it gives 80% confidence, 80% are right. The
metrics here measure that on labelled data; ``fit_temperature`` fixes the commonest miscalibration
(probabilities uniformly too sharp or too flat) with one number ``T``, the logits divided by ``T``
before the softmax (Guo et al. 2017, "On calibration of modern neural networks"). ``T`` changes
no prediction: ``argmax(z / T) = argmax(z)`` for any ``T > 0``.

Shapes: ``probabilities`` and ``logits`` are ``(n, k)``, ``labels`` ``(n,)`` integer classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError
from .functional import log_softmax, one_hot, softmax

N_BINS = 15  # Guo et al.'s choice; the issue's baseline ECE (0.35%) was measured with it
TEMPERATURE_RANGE = (0.05, 20.0)  # beyond these the fit is at a bound: say so rather than extrapolate
SELECTIVE_THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99)


@dataclass
class ReliabilityBins:
    """Predictions grouped by confidence into ``N`` equal-width bins of ``(0, 1]``: ``edges``
    ``(N + 1,)``, and per bin the ``count``, the mean ``confidence`` and the ``accuracy``
    (``nan`` in an empty bin)."""

    edges: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    def expected_calibration_error(self) -> float:
        """``ECE = sum_b (n_b / n) |acc_b - conf_b|``: the gap between the diagonal and the
        reliability diagram, weighted by how many predictions fall in each bin."""
        filled = self.count > 0
        gaps = np.abs(self.accuracy[filled] - self.confidence[filled])
        return float(np.sum(self.count[filled] * gaps) / self.count.sum())


def reliability_bins(probabilities: np.ndarray, labels: np.ndarray, n_bins: int = N_BINS) -> ReliabilityBins:
    """Bin the top probability of each row; bin ``b`` holds confidences in ``(b/N, (b+1)/N]``."""
    confidence = probabilities.max(axis=1).astype(np.float64)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, n_bins + 1)
    # right-closed bins: a confidence of exactly 1 lands in the last bin, 0.5 in (0.4, 0.5] of 10
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, confidence, n_bins) / count
        accuracy = np.bincount(index, correct.astype(np.float64), n_bins) / count
    return ReliabilityBins(edges, count, mean_confidence, accuracy)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, n_bins: int = N_BINS) -> float:
    return reliability_bins(probabilities, labels, n_bins).expected_calibration_error()


def negative_log_likelihood(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """``-(1/n) sum_i log softmax(z_i / T)_{y_i}``: the cross-entropy of notes eq. (5) at
    temperature ``T``, from the logits by log-softmax so a tiny probability stays finite."""
    log_p = log_softmax(np.asarray(logits, dtype=np.float64) / temperature)
    return float(-log_p[np.arange(len(labels)), labels].mean())


def brier_score(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """``(1/n) sum_i sum_k (p_ik - y_ik)^2`` with ``y`` one-hot: 0 is perfect, 2 the worst."""
    targets = one_hot(labels, probabilities.shape[1], dtype=np.float64)
    return float(np.mean(np.sum((probabilities - targets) ** 2, axis=1)))


def fit_temperature(logits: np.ndarray, labels: np.ndarray, tolerance: float = 1e-4) -> float:
    """The ``T`` that minimises ``negative_log_likelihood(logits, labels, T)``.

    The NLL is convex in ``beta = 1/T`` (a log-sum-exp of ``beta z`` minus a linear term), so it
    has one minimum along ``log T`` too, which golden-section search finds to ``tolerance`` in
    ``log T`` without derivatives. The search stays inside ``TEMPERATURE_RANGE``.
    """
    if len(logits) == 0:
        raise ConfigError("fitting a temperature needs at least one labelled example")
    logits = np.asarray(logits, dtype=np.float64)

    def nll(log_t: float) -> float:
        return negative_log_likelihood(logits, labels, math.exp(log_t))

    low, high = (math.log(bound) for bound in TEMPERATURE_RANGE)
    ratio = (math.sqrt(5) - 1) / 2  # each step keeps this fraction of the bracket
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    f_a, f_b = nll(a), nll(b)
    while high - low > tolerance:
        if f_a <= f_b:  # the minimum is left of b
            high, b, f_b = b, a, f_a
            a = high - ratio * (high - low)
            f_a = nll(a)
        else:
            low, a, f_a = a, b, f_b
            b = low + ratio * (high - low)
            f_b = nll(b)
    return math.exp((low + high) / 2)


def scaled_probabilities(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``softmax(z / T)`` ``(n, k)`` in float64: the calibrated probabilities."""
    return softmax(np.asarray(logits, dtype=np.float64) / temperature)


def calibration_summary(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> dict:
    """ECE (``N_BINS`` bins), NLL and Brier score of ``softmax(z / T)``."""
    probabilities = scaled_probabilities(logits, temperature)
    return {
        "ece": expected_calibration_error(probabilities, labels),
        "nll": negative_log_likelihood(logits, labels, temperature),
        "brier": brier_score(probabilities, labels),
    }


def accuracy_coverage_curve(confidence: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Selective prediction: answer only the most confident fraction, say "not sure" to the rest.

    Returns ``coverage`` and ``accuracy`` ``(n,)``: answering the ``m`` most confident inputs
    covers ``m / n`` of them with ``accuracy[m - 1]`` right. (Ties in confidence are broken by
    order; a threshold keeps or drops all of a tie, see ``selective_accuracy``.)
    """
    order = np.argsort(-confidence, kind="stable")
    answered = np.arange(1, len(order) + 1)
    return answered / len(order), np.cumsum(correct[order]) / answered


def selective_accuracy(
    confidence: np.ndarray, correct: np.ndarray, thresholds: tuple[float, ...] = SELECTIVE_THRESHOLDS
) -> list[dict]:
    """For each threshold ``t``: the fraction of inputs with confidence ``>= t`` (coverage) and the
    accuracy on those (``None`` when nothing is kept)."""
    rows = []
    for threshold in thresholds:
        kept = confidence >= threshold
        accuracy = float(correct[kept].mean()) if kept.any() else None
        rows.append({"threshold": threshold, "coverage": float(kept.mean()), "accuracy": accuracy})
    return rows
