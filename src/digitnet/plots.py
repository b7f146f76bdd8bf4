"""Figures of a training run and of a trained network (matplotlib, the optional ``[plot]`` extra).

Each ``plot_*`` function returns a ``matplotlib.figure.Figure`` built without ``pyplot``: no
global figure state and no GUI backend, so it works headless (the Agg renderer) in the CLI, in
tests and in CI, and a notebook displays the returned figure as it is. ``save_figure`` writes a
PNG atomically; ``write_report`` writes the whole set that ``digitnet train --plots DIR`` and
``digitnet report MODEL -o DIR`` produce.

Every figure has a fixed size in inches and is saved at ``DPI``, so its PNG is exactly
``FIGURE_SIZES[name] * DPI`` pixels.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict, is_dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .atomic import write_atomically
from .data import Dataset, scale_images
from .errors import ConfigError
from .metrics import confusion_matrix
from .network import Network

DPI = 100
FIGURE_SIZES = {  # inches (width, height)
    "curves": (10, 4),
    "confusion": (6, 5.5),
    "misclassified": (9, 5),
    "first-layer-weights": (8, 8),
    "probabilities": (9, 6),
    "augmentations": (9, 3.6),
    "reliability": (10, 4.5),  # trust_plots.py
    "coverage": (6, 4.5),
    "robustness": (15, 3.8),
}
HISTORY_FIELDS = ("epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy")


# ----------------------------------------------------------------------------- history


def load_history(history) -> list[dict]:
    """The per-epoch history as a list of dicts, from a list of ``EpochRecord`` (``Trainer.history``),
    a list of dicts (model metadata ``history``), or the path of a ``--history-json`` file."""
    if isinstance(history, (str, os.PathLike)):
        path = Path(history)
        try:
            history = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise ConfigError(f"{path}: cannot read a training history ({error})") from None
        source = str(path)
    else:
        source = "history"
    records = [asdict(r) if is_dataclass(r) and not isinstance(r, type) else dict(r) for r in history]
    missing = [field for field in HISTORY_FIELDS if records and field not in records[0]]
    if not records or missing:
        raise ConfigError(
            f"{source}: not a training history (needs one record per epoch with "
            f"{', '.join(HISTORY_FIELDS)}; missing {', '.join(missing) or 'every record'})"
        )
    return records


# ----------------------------------------------------------------------------- one figure each


def new_figure(name: str) -> Figure:
    return Figure(figsize=FIGURE_SIZES[name], dpi=DPI, layout="constrained")


def plot_curves(history) -> Figure:
    """Loss and accuracy per epoch, training sample and validation set side by side."""
    records = load_history(history)
    epochs = [r["epoch"] for r in records]
    figure = new_figure("curves")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for split, style in (("train", "o-"), ("val", "s--")):
        label = "training" if split == "train" else "validation"
        loss_axes.plot(epochs, [r[f"{split}_loss"] for r in records], style, label=label)
        accuracy_axes.plot(epochs, [100 * r[f"{split}_accuracy"] for r in records], style, label=label)
    loss_axes.set(title="Loss (cross-entropy)", xlabel="epoch", ylabel="mean loss")
    accuracy_axes.set(title="Accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    return figure


def plot_confusion(confusion: np.ndarray, class_names: list[str] | None = None) -> Figure:
    """The ``(10, 10)`` confusion matrix (rows: true class, columns: predicted) with its counts;
    the axes name the classes (digits unless ``class_names`` says otherwise)."""
    figure = new_figure("confusion")
    axes = figure.subplots()
    # log scale: the diagonal holds ~1000 per digit, the mistakes a handful; linear would hide them
    image = axes.imshow(np.log1p(confusion), cmap="Blues")
    threshold = np.log1p(confusion).max() / 2
    for (true, predicted), count in np.ndenumerate(confusion):
        colour = "white" if np.log1p(count) > threshold else "black"
        axes.text(predicted, true, str(count), ha="center", va="center", fontsize=8, color=colour)
    classes = range(len(confusion))
    names = class_names or [str(k) for k in classes]
    axes.set(
        xticks=classes,
        yticks=classes,
        xlabel="predicted",
        ylabel="true",
        title=f"Confusion matrix ({int(np.trace(confusion))}/{int(confusion.sum())} correct)",
    )
    axes.set_xticklabels(names, rotation=90 if max(map(len, names)) > 2 else 0)
    axes.set_yticklabels(names)
    figure.colorbar(image, ax=axes, label="log(1 + count)")
    return figure


def digit_grid(figure: Figure, images: np.ndarray, titles: list[str], columns: int, cmap="gray_r"):
    """Draw ``images`` ``(n, 784)`` as 28x28 pictures in a grid, one title each."""
    rows = max(1, -(-len(images) // columns))
    axes_grid = figure.subplots(rows, columns, squeeze=False)
    for index, axes in enumerate(axes_grid.flat):
        axes.set_axis_off()
        if index < len(images):
            axes.imshow(images[index].reshape(28, 28), cmap=cmap)
            axes.set_title(titles[index], fontsize=9)
    return axes_grid


def plot_misclassified(
    images: np.ndarray,
    labels: np.ndarray,
    predicted: np.ndarray,
    count: int = 24,
    class_names: list[str] | None = None,
) -> Figure:
    """The first ``count`` of ``images`` ``(n, 784)`` whose ``predicted`` class is not the true
    one in ``labels``, titled "true -> predicted" (with ``class_names`` when given)."""
    wrong = np.flatnonzero(predicted != labels)
    figure = new_figure("misclassified")
    names = class_names or [str(k) for k in range(max(10, int(labels.max()) + 1))]
    arrow = " -> " if max(map(len, names)) <= 2 else "\n-> "  # long class names get a line each
    titles = [f"{names[labels[i]]}{arrow}{names[predicted[i]]}" for i in wrong[:count]]
    digit_grid(figure, images[wrong[:count]], titles, columns=8)
    figure.suptitle(f"Misclassified (true -> predicted): {len(wrong)} of {len(predicted)}")
    return figure


def plot_first_layer_weights(W: np.ndarray, count: int = 64) -> Figure:
    """Each of the first ``count`` hidden neurons' 784 input weights (a column of the first layer's
    ``W`` ``(784, H)``) as a 28x28 image: red pixels push the neuron up, blue ones down."""
    if W.shape[0] != 28 * 28:
        raise ConfigError(f"the first layer has {W.shape[0]} inputs, not 784: its weights are not images")
    columns = W[:, :count].T
    figure = new_figure("first-layer-weights")
    side = int(np.ceil(np.sqrt(len(columns))))
    axes_grid = figure.subplots(side, side, squeeze=False)
    for index, axes in enumerate(axes_grid.flat):
        axes.set_axis_off()
        if index < len(columns):
            limit = np.abs(columns[index]).max() or 1.0  # symmetric range: white means weight 0
            axes.imshow(columns[index].reshape(28, 28), cmap="seismic", vmin=-limit, vmax=limit)
    figure.suptitle(f"First-layer weights of {len(columns)} of {W.shape[1]} hidden neurons (red +, blue -)")
    return figure


def plot_probabilities(
    images: np.ndarray,
    probabilities: np.ndarray,
    labels: np.ndarray | None = None,
    class_names: list[str] | None = None,
) -> Figure:
    """A few images ``(n, 784)`` (up to 6), each beside the bar chart of its 10 predicted
    probabilities; the predicted class's bar is highlighted, the bars named by ``class_names``."""
    names = class_names or [str(k) for k in range(probabilities.shape[1])]
    images, probabilities = images[:6], probabilities[:6]
    figure = new_figure("probabilities")
    axes_grid = figure.subplots(len(images), 2, squeeze=False, width_ratios=[1, 4])
    for index, (image_axes, bar_axes) in enumerate(axes_grid):
        image_axes.imshow(images[index].reshape(28, 28), cmap="gray_r")
        image_axes.set_axis_off()
        if labels is not None:
            image_axes.set_title(f"true {names[labels[index]]}", fontsize=8)
        p = probabilities[index]
        colours = ["tab:orange" if digit == p.argmax() else "tab:blue" for digit in range(len(p))]
        bar_axes.bar(range(len(p)), p, color=colours)
        bar_axes.text(p.argmax(), min(p.max(), 0.75), f"{100 * p.max():.1f}%", ha="center", va="bottom", fontsize=8)
        bar_axes.set(ylim=(0, 1), xticks=range(len(p)))
        bar_axes.set_xticklabels(names, fontsize=8 if max(map(len, names)) > 2 else None)
        bar_axes.set_ylabel("p", rotation=0)
    axes_grid[-1, 1].set_xlabel("class")
    figure.suptitle("Predicted probabilities (softmax output)")
    return figure


def examples_worth_showing(probabilities: np.ndarray, count: int = 3) -> np.ndarray:
    """Indices of the first ``count`` examples (typical: confident) and of the ``count`` the
    network is least sure about (lowest top probability): what a confident and a hesitant
    softmax look like."""
    least_sure = np.argsort(probabilities.max(axis=1), kind="stable")[:count]
    return np.concatenate([np.arange(min(count, len(probabilities))), least_sure])


def plot_augmentations(original: np.ndarray, variants: dict[str, np.ndarray]) -> Figure:
    """One digit ``original`` ``(784,)`` in [0, 1], then a row per augmentation kind of its random
    variants ``(k, 784)``: what the network is trained on when ``--augment`` is on."""
    figure = new_figure("augmentations")
    columns = 1 + max(len(v) for v in variants.values())
    images, titles = [], []
    for kind, row in variants.items():
        images += [original, *row, *[np.zeros(784)] * (columns - 1 - len(row))]
        titles += ["original", *[kind] * len(row), *[""] * (columns - 1 - len(row))]
    digit_grid(figure, np.array(images), titles, columns)
    figure.suptitle("One training digit under random augmentations")
    return figure


# ----------------------------------------------------------------------------- files


def save_figure(figure: Figure, path: str | os.PathLike) -> Path:
    """Write ``figure`` as a PNG at ``DPI`` (temporary file, then rename)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return write_atomically(path, buffer.getvalue(), ConfigError)


def prepare_output_dir(folder: str | os.PathLike) -> Path:
    """Create ``folder`` if needed; fail early if it cannot be a folder of figures."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(f"{folder}: cannot write figures there, it is a file") from None
    except OSError as error:
        raise ConfigError(f"{folder}: cannot create the figures folder ({error.strerror})") from None
    return folder


def write_report(
    folder: str | os.PathLike,
    network: Network,
    test_set: Dataset,
    history=None,
    class_names: list[str] | None = None,
) -> list[Path]:
    """Write the PNGs describing ``network`` on the labelled ``test_set`` into ``folder``:
    ``curves.png`` (only when a ``history`` is given), ``confusion.png``, ``misclassified.png``,
    ``first-layer-weights.png`` and ``probabilities.png``, naming the classes by ``class_names``
    (digits by default). Returns the paths written."""
    labels = test_set.require_labels()
    folder = prepare_output_dir(folder)
    probabilities = network.predict_proba(scale_images(test_set.images))
    predicted = probabilities.argmax(axis=1)
    figures = {}
    if history is not None:
        figures["curves"] = plot_curves(history)
    figures["confusion"] = plot_confusion(confusion_matrix(labels, predicted), class_names)
    figures["misclassified"] = plot_misclassified(test_set.images, labels, predicted, class_names=class_names)
    figures["first-layer-weights"] = plot_first_layer_weights(network.dense_layers[0].W)
    shown = examples_worth_showing(probabilities)
    figures["probabilities"] = plot_probabilities(
        test_set.images[shown], probabilities[shown], labels[shown], class_names
    )
    return [save_figure(figure, folder / f"{name}.png") for name, figure in figures.items()]
