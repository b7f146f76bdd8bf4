"""Is this input like anything the network was trained on? A score for "that is not a digit".

A classifier's softmax has no way to say "none of these": a blank canvas, a scribble or a shoe
still gets a confident digit. ``NoveltyDetector`` asks two questions of each input and adds up
the answers:

- **Does the picture look like the training images?** The Mahalanobis distance of its pixels to
  the nearest class mean, under one covariance shared by the classes (the Gaussian model of
  linear discriminant analysis; Lee et al. 2018 use it on features):
  ``d(x) = min_c (x - mu_c)^T (Sigma + lambda I)^-1 (x - mu_c)``, computed as the squared length
  of ``(x - mu_c) W`` with the whitening matrix ``W = V (Lambda + lambda)^-1/2`` from the
  eigendecomposition ``Sigma = V Lambda V^T``. Clothing, noise and inverted images are far.
- **Does the network respond as it does to its classes?** The energy ``log sum_k exp(z_k)`` of the
  logits (Liu et al. 2020): strokes and shapes that only half resemble a digit get lower logits.

Each is standardised by its mean and spread on the validation images, and the score is
``-z(d) + z(energy)``: high for inputs like the training data. An input scoring below the
``threshold`` (which keeps ``KEPT_FRACTION`` of the validation images) is novel; so is an image
with no ink at all. How this was chosen among other scores, and what it achieves: docs/trust.md.

Shapes: images ``X`` ``(n, 784)`` float in [0, 1], logits ``(n, k)``.
"""

from __future__ import annotations

import numpy as np

from .data import scale_images
from .errors import ConfigError, ModelFileError
from .preprocess import INK_THRESHOLD

KEPT_FRACTION = 0.99  # of validation images; the rest is what "not a digit" may cost on real digits
CHUNK_ROWS = 1024  # images turned into floats at a time (3 MB; their float64 distances 6 MB)
SHRINKAGE = 0.01  # lambda, as a fraction of the mean eigenvalue of Sigma: keeps W finite for dead pixels
ARRAY_NAMES = ("novelty.class_means", "novelty.whitening")
METADATA_FIELDS = ("method", "score_mean", "score_std", "threshold", "kept_fraction")
METHOD = "pixel-mahalanobis+energy"


def energy(logits: np.ndarray) -> np.ndarray:
    """``log sum_k exp(z_k)`` per row ``(n,)``, shifted by the row maximum as in notes eq. (4)."""
    z = np.asarray(logits, dtype=np.float64)
    top = z.max(axis=1)
    return top + np.log(np.exp(z - top[:, None]).sum(axis=1))


def whitening_matrix(centred: np.ndarray, shrinkage: float = SHRINKAGE) -> np.ndarray:
    """``W`` ``(d, d)`` with ``W W^T = (Sigma + lambda I)^-1`` for the covariance ``Sigma`` of the
    rows of ``centred`` ``(n, d)``; ``lambda = shrinkage * trace(Sigma) / d``."""
    covariance = (centred.T @ centred).astype(np.float64) / len(centred)  # float32 product: 4e-6 relative error
    return whitening_from_covariance(covariance, shrinkage)


def whitening_from_covariance(covariance: np.ndarray, shrinkage: float = SHRINKAGE) -> np.ndarray:
    """``W`` ``(d, d)`` with ``W W^T = (Sigma + lambda I)^-1``, ``lambda = shrinkage * trace(Sigma) / d``."""
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    ridge = shrinkage * eigenvalues.clip(min=0).mean()
    return eigenvectors / np.sqrt(eigenvalues.clip(min=0) + ridge)


def nearest_class_distance(X: np.ndarray, class_means: np.ndarray, whitening: np.ndarray) -> np.ndarray:
    """``min_c ||(x - mu_c) W||^2`` per row ``(n,)``: squared Mahalanobis distance to the nearest class."""
    centres = (class_means @ whitening).astype(np.float64)
    return np.concatenate([_nearest_squared(X[rows], centres, whitening) for rows in chunks(len(X))])


def _nearest_squared(X: np.ndarray, centres: np.ndarray, whitening: np.ndarray) -> np.ndarray:
    # the product in float32 (4e-7 relative error, half the time of float64), the rest in float64
    whitened = (as_pixels(X) @ whitening).astype(np.float64)
    # ||a - b||^2 = ||a||^2 - 2 a.b + ||b||^2, for all pairs in one product
    squared = (whitened**2).sum(axis=1)[:, None] - 2 * whitened @ centres.T + (centres**2).sum(axis=1)
    return squared.min(axis=1).clip(min=0)


def class_statistics(images: np.ndarray, class_of: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The class means ``(k, d)`` and the covariance ``(d, d)`` of the images about their class's
    mean, both float64, ``CHUNK_ROWS`` images at a time: no float copy of the whole training set
    (55,000 x 784 is 172 MB in float32) is ever made. uint8 pixels are scaled as the network's
    input is (``x / 255``); float images are taken as they are."""
    n, d = images.shape
    sums, scatter = np.zeros((n_classes, d)), np.zeros((d, d))
    for rows in chunks(n):
        one_hot = np.equal.outer(class_of[rows], np.arange(n_classes)).astype(np.float32)
        sums += one_hot.T @ as_pixels(images[rows])  # float32 sums of a chunk, added up in float64
    means = sums / np.bincount(class_of, minlength=n_classes)[:, None]
    means32 = means.astype(np.float32)
    for rows in chunks(n):
        centred = as_pixels(images[rows]) - means32[class_of[rows]]
        scatter += centred.T @ centred  # a float32 product per chunk, summed in float64
    return means, scatter / n


def chunks(n: int) -> list[slice]:
    return [slice(start, start + CHUNK_ROWS) for start in range(0, n, CHUNK_ROWS)]


def as_pixels(images: np.ndarray) -> np.ndarray:
    """float32 in [0, 1]: uint8 pixels scaled by 1/255 (``data.scale_images``), floats as they are."""
    return scale_images(images) if images.dtype == np.uint8 else np.asarray(images, dtype=np.float32)


def rows_with_ink(X: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: some pixel is darker than the preprocessing's background threshold."""
    X = np.asarray(X)
    return np.concatenate([(as_pixels(X[rows]) > INK_THRESHOLD).any(axis=1) for rows in chunks(len(X))])


class NoveltyDetector:
    """The statistics of the training data that the score needs, and the threshold.

    Build it with ``fit`` (at the end of training) or ``from_file`` (a model file's arrays and
    metadata); it is immutable after construction.
    """

    def __init__(
        self,
        class_means: np.ndarray,
        whitening: np.ndarray,
        score_mean: tuple[float, float],
        score_std: tuple[float, float],
        threshold: float,
        kept_fraction: float = KEPT_FRACTION,
    ):
        # float32, as the model file stores them: a loaded detector scores exactly as the fitted one
        self.class_means = np.asarray(class_means, dtype=np.float32)
        self.whitening = np.asarray(whitening, dtype=np.float32)
        self.score_mean = (float(score_mean[0]), float(score_mean[1]))  # (distance, energy)
        self.score_std = (float(score_std[0]), float(score_std[1]))
        self.threshold = float(threshold)
        self.kept_fraction = float(kept_fraction)

    @classmethod
    def fit(
        cls,
        train_images: np.ndarray,
        train_labels: np.ndarray,
        val_images: np.ndarray,
        val_logits: np.ndarray,
        kept_fraction: float = KEPT_FRACTION,
    ) -> NoveltyDetector:
        """Class means (of the classes the training images have) and their shared covariance from
        the training images; the standardisation and the threshold from the validation images and
        their logits (data the statistics never saw). Images are uint8 pixels or floats in [0, 1]."""
        if not 0 < kept_fraction <= 1:
            raise ConfigError(f"kept_fraction must be in (0, 1], got {kept_fraction}")
        classes, class_of = np.unique(train_labels, return_inverse=True)
        class_means, covariance = class_statistics(np.asarray(train_images), class_of, len(classes))
        class_means, whitening = (
            class_means.astype(np.float32),
            whitening_from_covariance(covariance).astype(np.float32),
        )
        distance = nearest_class_distance(val_images, class_means, whitening)
        response = energy(val_logits)
        score_mean = (distance.mean(), response.mean())
        score_std = (max(distance.std(), 1e-12), max(response.std(), 1e-12))  # one image has no spread
        scores = cls(class_means, whitening, score_mean, score_std, threshold=0.0).scores(val_images, val_logits)
        threshold = np.quantile(scores[np.isfinite(scores)], 1 - kept_fraction)
        return cls(class_means, whitening, score_mean, score_std, threshold, kept_fraction)

    def scores(self, X: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """``(n,)``: ``-z(d) + z(energy)``, higher means more like the training data; ``-inf`` for
        an image without ink."""
        distance = nearest_class_distance(X, self.class_means, self.whitening)
        (distance_mean, energy_mean), (distance_std, energy_std) = self.score_mean, self.score_std
        score = -(distance - distance_mean) / distance_std + (energy(logits) - energy_mean) / energy_std
        return np.where(rows_with_ink(X), score, -np.inf)

    def is_novel(self, X: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """``(n,)`` bool: below the threshold, or blank."""
        return self.scores(X, logits) < self.threshold

    # ------------------------------------------------------------------------- model files

    def arrays(self) -> dict[str, np.ndarray]:
        """The named arrays a model file stores (copies)."""
        return dict(zip(ARRAY_NAMES, (self.class_means.copy(), self.whitening.copy())))

    def metadata(self) -> dict:
        return {
            "method": METHOD,
            "score_mean": list(self.score_mean),
            "score_std": list(self.score_std),
            "threshold": self.threshold,
            "kept_fraction": self.kept_fraction,
        }

    @classmethod
    def from_file(
        cls, arrays: dict[str, np.ndarray], info: object, n_inputs: int, n_classes: int, path
    ) -> NoveltyDetector:
        """Rebuild from a model file's ``novelty.*`` arrays and ``novelty`` metadata, checking
        every shape and value; any problem is a ``ModelFileError`` naming ``path``."""
        if not isinstance(info, dict) or sorted(info) != sorted(METADATA_FIELDS) or info["method"] != METHOD:
            raise ModelFileError(
                f"{path}: novelty metadata must be {{{', '.join(METADATA_FIELDS)}}} "
                f"with method {METHOD!r}, got {info!r}"
            )
        if set(arrays) != set(ARRAY_NAMES):
            raise ModelFileError(f"{path}: novelty arrays {sorted(arrays)} should be {sorted(ARRAY_NAMES)}")
        # one mean per class seen in training: the network's classes, or fewer
        n_means = min(max(len(arrays[ARRAY_NAMES[0]]), 1), n_classes)
        expected = {ARRAY_NAMES[0]: (n_means, n_inputs), ARRAY_NAMES[1]: (n_inputs, n_inputs)}
        for name, shape in expected.items():
            if arrays[name].shape != shape or not np.isfinite(arrays[name]).all():
                raise ModelFileError(f"{path}: {name} is {arrays[name].shape}, needs {shape} of finite numbers")
        numbers = [*info["score_mean"], *info["score_std"], info["threshold"], info["kept_fraction"]]
        if (
            len(info["score_mean"]) != 2
            or len(info["score_std"]) != 2
            or not all(isinstance(v, (int, float)) and np.isfinite(v) for v in numbers)
            or min(info["score_std"]) <= 0
        ):
            raise ModelFileError(f"{path}: novelty metadata has invalid numbers: {info!r}")
        return cls(
            arrays[ARRAY_NAMES[0]],
            arrays[ARRAY_NAMES[1]],
            info["score_mean"],
            info["score_std"],
            info["threshold"],
            info["kept_fraction"],
        )


def auroc(inlier_scores: np.ndarray, outlier_scores: np.ndarray) -> float:
    """Area under the ROC curve: the probability that a random inlier scores higher than a random
    outlier, ties counting one half (the Mann-Whitney U statistic over ``n_in * n_out``)."""
    scores = np.concatenate([inlier_scores, outlier_scores])
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    first_rank = np.cumsum(counts) - counts + 1
    average_rank = (first_rank + (counts - 1) / 2)[inverse]  # tied scores share their mean rank
    n_in, n_out = len(inlier_scores), len(outlier_scores)
    return float((average_rank[:n_in].sum() - n_in * (n_in + 1) / 2) / (n_in * n_out))


def false_positive_rate(inlier_scores: np.ndarray, outlier_scores: np.ndarray, kept: float = 0.95) -> float:
    """The fraction of outliers accepted at the threshold that keeps ``kept`` of the inliers."""
    threshold = np.quantile(inlier_scores, 1 - kept)
    return float(np.mean(outlier_scores >= threshold))
