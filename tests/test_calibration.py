"""Calibration metrics against examples worked by hand, and the temperature fit against a known T."""

import math

import numpy as np
import pytest

from digitnet.calibration import (
    TEMPERATURE_RANGE,
    accuracy_coverage_curve,
    brier_score,
    calibration_summary,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability_bins,
    selective_accuracy,
)
from digitnet.errors import ConfigError

# four predictions over two classes: top probabilities 0.95, 0.95, 0.95, 0.75; the third is wrong
PROBABILITIES = np.array([[0.95, 0.05], [0.05, 0.95], [0.95, 0.05], [0.25, 0.75]])
LABELS = np.array([0, 1, 1, 1])


def test_reliability_bins_by_hand():
    bins = reliability_bins(PROBABILITIES, LABELS, n_bins=10)
    assert bins.count.tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 0, 3]  # 0.75 in (0.7, 0.8], 0.95 in (0.9, 1]
    assert bins.confidence[9] == pytest.approx(0.95) and bins.accuracy[9] == pytest.approx(2 / 3)
    assert bins.confidence[7] == pytest.approx(0.75) and bins.accuracy[7] == 1
    assert np.isnan(bins.accuracy[0])  # an empty bin has no accuracy


def test_expected_calibration_error_by_hand():
    # (3/4) |2/3 - 0.95| + (1/4) |1 - 0.75| = 0.2125 + 0.0625
    assert expected_calibration_error(PROBABILITIES, LABELS, n_bins=10) == pytest.approx(0.275)


def test_a_confidence_on_a_bin_edge_goes_to_the_lower_bin_and_one_to_the_last():
    probabilities = np.array([[0.5, 0.5], [1.0, 0.0]])
    assert reliability_bins(probabilities, np.array([0, 0]), n_bins=10).count.tolist() == [0] * 4 + [1] + [0] * 4 + [1]


def test_brier_score_by_hand():
    # each row: (p_true - 1)^2 + p_other^2; 0.0025 * 2, 0.0025 * 2, 0.9025 * 2, 0.0625 * 2
    assert brier_score(PROBABILITIES, LABELS) == pytest.approx((0.005 + 0.005 + 1.805 + 0.125) / 4)


def test_negative_log_likelihood_by_hand_at_two_temperatures():
    logits = np.array([[math.log(3), 0.0], [0.0, 0.0]])  # softmax: (3/4, 1/4) and (1/2, 1/2)
    labels = np.array([0, 1])
    assert negative_log_likelihood(logits, labels) == pytest.approx(-(math.log(0.75) + math.log(0.5)) / 2)
    # at T = 2 the first row becomes softmax(ln(3)/2, 0) = (sqrt 3, 1) / (sqrt 3 + 1)
    at_two = -(math.log(math.sqrt(3) / (math.sqrt(3) + 1)) + math.log(0.5)) / 2
    assert negative_log_likelihood(logits, labels, 2.0) == pytest.approx(at_two)


def test_nll_stays_finite_for_a_confident_mistake():
    assert negative_log_likelihood(np.array([[1000.0, 0.0]]), np.array([1])) == pytest.approx(1000.0)


@pytest.mark.parametrize("true_temperature", [0.5, 1.0, 2.5])
def test_temperature_fit_recovers_a_known_temperature(true_temperature):
    """Labels drawn from softmax(u) and logits z = T u: the NLL of z is smallest at that T."""
    rng = np.random.default_rng(0)
    u = rng.normal(0, 3, size=(20_000, 10))
    p = np.exp(u - u.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = (p.cumsum(axis=1) < rng.uniform(size=(len(p), 1))).sum(axis=1)
    fitted = fit_temperature(true_temperature * u, labels)
    assert fitted == pytest.approx(true_temperature, rel=0.03)
    # and it is the minimum: a little either way is worse
    nll = negative_log_likelihood(true_temperature * u, labels, fitted)
    assert nll < negative_log_likelihood(true_temperature * u, labels, fitted * 1.1)
    assert nll < negative_log_likelihood(true_temperature * u, labels, fitted / 1.1)


def test_temperature_fit_stays_in_its_range_and_needs_data():
    separable = np.array([[5.0, 0.0], [0.0, 5.0]])  # always right: sharper is always better
    assert fit_temperature(separable, np.array([0, 1])) == pytest.approx(TEMPERATURE_RANGE[0], rel=1e-3)
    with pytest.raises(ConfigError, match="at least one labelled example"):
        fit_temperature(np.empty((0, 10)), np.empty(0, dtype=int))


def test_temperature_scaling_changes_no_prediction_and_lowers_nll_of_an_overconfident_model():
    rng = np.random.default_rng(1)
    u = rng.normal(0, 2, size=(5000, 10))
    labels = np.array([rng.choice(10, p=np.exp(row) / np.exp(row).sum()) for row in u])
    overconfident = 3 * u
    temperature = fit_temperature(overconfident, labels)
    raw = calibration_summary(overconfident, labels)
    calibrated = calibration_summary(overconfident, labels, temperature)
    assert calibrated["nll"] < raw["nll"] and calibrated["ece"] < raw["ece"] / 3
    assert np.array_equal((overconfident / temperature).argmax(axis=1), overconfident.argmax(axis=1))


def test_selective_accuracy_and_the_coverage_curve_by_hand():
    confidence = np.array([0.99, 0.6, 0.95, 0.4])
    correct = np.array([True, False, True, False])
    rows = selective_accuracy(confidence, correct, thresholds=(0.5, 0.9, 0.999))
    assert rows == [
        {"threshold": 0.5, "coverage": 0.75, "accuracy": pytest.approx(2 / 3)},
        {"threshold": 0.9, "coverage": 0.5, "accuracy": 1.0},
        {"threshold": 0.999, "coverage": 0.0, "accuracy": None},
    ]
    coverage, accuracy = accuracy_coverage_curve(confidence, correct)
    assert coverage.tolist() == [0.25, 0.5, 0.75, 1.0]
    assert accuracy.tolist() == pytest.approx([1, 1, 2 / 3, 1 / 2])
