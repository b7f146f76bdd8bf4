"""Figures of how far a model's answers can be trusted (matplotlib, the ``[plot]`` extra).

- ``reliability.png``: the reliability diagram, accuracy against confidence per bin, before and
  after temperature scaling (a calibrated model lies on the diagonal);
- ``coverage.png``: accuracy against coverage when the model answers only its most confident
  inputs and says "not sure" to the rest (selective prediction);
- ``robustness.png``: accuracy against the strength of each perturbation of ``robustness.py``,
  for one model or several side by side.

Built like ``plots.py`` (no pyplot, fixed sizes in ``plots.FIGURE_SIZES``) and written by
``digitnet report`` and ``digitnet train --plots`` beside that module's figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .calibration import accuracy_coverage_curve, reliability_bins, scaled_probabilities
from .data import Dataset, scale_images
from .network import Network
from .plots import new_figure, prepare_output_dir, save_figure
from .robustness import robustness_curves

REPORT_ROBUSTNESS_IMAGES = 1000  # the report's curves use the first test images; `digitnet robustness` takes all


def plot_reliability(probabilities: dict[str, np.ndarray], labels: np.ndarray) -> Figure:
    """One reliability diagram per entry of ``probabilities`` (name -> ``(n, k)``): bars of the
    accuracy in each confidence bin, the diagonal of perfect calibration, and the ECE."""
    figure = new_figure("reliability")
    axes_row = figure.subplots(1, len(probabilities), squeeze=False)[0]
    for axes, (name, p) in zip(axes_row, probabilities.items()):
        bins = reliability_bins(p, labels)
        width = np.diff(bins.edges)
        filled = bins.count > 0
        axes.bar(
            bins.edges[:-1][filled],
            bins.accuracy[filled],
            width[filled],
            align="edge",
            alpha=0.7,
            edgecolor="black",
            label="accuracy in bin",
        )
        axes.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
        axes.plot(
            bins.confidence[filled], bins.accuracy[filled], "o", color="tab:red", ms=4, label="(confidence, accuracy)"
        )
        axes.set(
            xlim=(0, 1),
            ylim=(0, 1),
            xlabel="confidence (top probability)",
            ylabel="accuracy",
            title=f"{name}: ECE {100 * bins.expected_calibration_error():.2f}%",
        )
        axes.legend(loc="upper left", fontsize=8)
    return figure


def plot_accuracy_coverage(confidence: np.ndarray, correct: np.ndarray, thresholds=(0.5, 0.9, 0.99)) -> Figure:
    """Accuracy of the answers against the fraction answered, most confident first; the points
    where the confidence threshold is each of ``thresholds`` are marked."""
    figure = new_figure("coverage")
    axes = figure.subplots()
    coverage, accuracy = accuracy_coverage_curve(confidence, correct)
    axes.plot(100 * coverage, 100 * accuracy)
    for threshold in thresholds:
        answered = int(np.sum(confidence >= threshold))
        if answered:
            axes.plot(100 * coverage[answered - 1], 100 * accuracy[answered - 1], "o")
            axes.annotate(
                f"confidence >= {threshold:g}",
                (100 * coverage[answered - 1], 100 * accuracy[answered - 1]),
                textcoords="offset points",
                xytext=(-10, -14),
                ha="right",
                fontsize=8,
            )
    axes.set(
        xlabel="coverage: inputs answered (%)",
        ylabel="accuracy on those (%)",
        title='Answering only when confident ("not sure" to the rest)',
    )
    axes.grid(alpha=0.3)
    return figure


def plot_robustness(curves_by_model: dict[str, dict]) -> Figure:
    """``curves_by_model``: model name -> ``robustness_curves`` output. One panel per perturbation."""
    names = list(next(iter(curves_by_model.values())))
    figure = new_figure("robustness")
    axes_row = figure.subplots(1, len(names), squeeze=False, sharey=True)[0]
    for axes, perturbation in zip(axes_row, names):
        for model_name, curves in curves_by_model.items():
            curve = curves[perturbation]
            axes.plot(curve["strengths"], [100 * a for a in curve["accuracy"]], "o-", ms=3, label=model_name)
        axes.set(title=perturbation, xlabel=curve["unit"], ylim=(0, 100))
        axes.grid(alpha=0.3)
    axes_row[0].set_ylabel("test accuracy (%)")
    handles, labels = axes_row[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8)
    return figure


def write_trust_report(
    folder: str | os.PathLike, network: Network, test_set: Dataset, temperature: float = 1.0
) -> list[Path]:
    """Write ``reliability.png``, ``coverage.png`` and ``robustness.png`` (on the first
    ``REPORT_ROBUSTNESS_IMAGES`` images) for ``network`` on the labelled ``test_set``."""
    folder = prepare_output_dir(folder)
    X, labels = scale_images(test_set.images).astype(network.dtype), test_set.require_labels()
    logits = network.logits(X)
    probabilities = {
        "raw": scaled_probabilities(logits),
        f"calibrated (T = {temperature:.3f})": scaled_probabilities(logits, temperature),
    }
    calibrated = list(probabilities.values())[-1]
    correct = calibrated.argmax(axis=1) == labels
    subset = slice(0, REPORT_ROBUSTNESS_IMAGES)
    curves = robustness_curves(network, X[subset], labels[subset])
    figures = {
        "reliability": plot_reliability(probabilities, labels),
        "coverage": plot_accuracy_coverage(calibrated.max(axis=1), correct),
        "robustness": plot_robustness({f"first {len(X[subset])} test images": curves}),
    }
    return [save_figure(figure, folder / f"{name}.png") for name, figure in figures.items()]
