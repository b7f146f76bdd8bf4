"""Draw the figures of the math notes (docs/my_note.md) into docs/figures/.

    make figures        # or: .venv/bin/python docs/make_figures.py [OUTPUT_DIR]

Needs the ``[plot]`` extra and the MNIST files (found as ``digitnet train`` finds them:
``$DIGITNET_DATA``, then the user cache). Deterministic: the same seeds give the same pictures.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from digitnet.data import load_mnist_split, resolve_data_dir, scale_images
from digitnet.functional import ACTIVATIONS
from digitnet.losses import SoftmaxCrossEntropy
from digitnet.network import Network
from digitnet.optimizers import SGD
from digitnet.plots import digit_grid, save_figure

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graph_figures import matrix_graph, scalar_graph, worked_example_values  # noqa: E402

FIGURES = Path(__file__).resolve().parent / "figures"


def network_diagram() -> Figure:
    """784 inputs, H hidden ReLU neurons, 10 softmax outputs; a few of each drawn, every
    connection between the drawn ones."""
    figure = Figure(figsize=(8, 5), dpi=100, layout="constrained")
    axes = figure.subplots()
    columns = {  # x position: (neurons drawn, label)
        0.0: (8, "input layer\n784 pixels $x_j$"),
        1.0: (6, "hidden layer\n$H$ neurons, ReLU\n$A_1 = \\mathrm{relu}(XW_1 + b_1)$"),
        2.0: (10, "output layer\n10 digits, softmax\n$P = \\mathrm{softmax}(A_1W_2 + b_2)$"),
    }
    positions = {x: np.linspace(0.9, 0.1, count) for x, (count, _) in columns.items()}
    for x in (0.0, 1.0):  # leave a gap in the middle for the neurons not drawn
        positions[x] = np.concatenate(
            [np.linspace(0.9, 0.62, columns[x][0] // 2), np.linspace(0.38, 0.1, columns[x][0] // 2)]
        )
    for left, right in ((0.0, 1.0), (1.0, 2.0)):
        for y_left in positions[left]:
            for y_right in positions[right]:
                axes.plot([left, right], [y_left, y_right], color="0.75", linewidth=0.5, zorder=1)
    for x, (count, label) in columns.items():
        axes.scatter([x] * count, positions[x], s=250, color="white", edgecolor="black", zorder=2)
        axes.text(x, 1.0, label, ha="center", va="bottom", fontsize=10)
    for x in (0.0, 1.0):
        axes.text(x, 0.5, "...", ha="center", va="center", fontsize=16, rotation=90, bbox=dict(color="white"), zorder=3)
    for digit, y in enumerate(positions[2.0]):
        axes.text(2.08, y, f"$p_{digit}$", va="center", fontsize=9)
    axes.text(0.5, 0.0, "$W_1$: 784 x $H$", ha="center", fontsize=10)
    axes.text(1.5, 0.0, "$W_2$: $H$ x 10", ha="center", fontsize=10)
    axes.set(xlim=(-0.3, 2.3), ylim=(-0.05, 1.3))
    axes.set_axis_off()
    return figure


def activation_functions() -> Figure:
    """Each activation (top) and its derivative (bottom), notes eq. (2)-(2d)."""
    z = np.linspace(-4, 4, 801)
    figure = Figure(figsize=(10, 4.5), dpi=100, layout="constrained")
    axes_grid = figure.subplots(2, len(ACTIVATIONS), sharex=True)
    for column, (name, functions) in enumerate(ACTIVATIONS.items()):
        a = functions.forward(z)
        axes_grid[0, column].plot(z, a)
        axes_grid[0, column].set_title(name)
        axes_grid[1, column].plot(z, functions.derivative(z, a), color="tab:orange")
        axes_grid[1, column].set_xlabel("z")
        for axes in axes_grid[:, column]:
            axes.grid(alpha=0.3)
    axes_grid[0, 0].set_ylabel("f(z)")
    axes_grid[1, 0].set_ylabel("f'(z)")
    return figure


def sample_digits(images: np.ndarray, labels: np.ndarray) -> Figure:
    figure = Figure(figsize=(8, 3.4), dpi=100, layout="constrained")
    digit_grid(figure, images[:30], [str(label) for label in labels[:30]], columns=10)
    figure.suptitle("MNIST: 28 x 28 pixels, grey levels 0 (white here) to 255 (black), with their labels")
    return figure


def loss_curve(images: np.ndarray, labels: np.ndarray, lr: float, steps: int, batch_size: int = 64) -> list[float]:
    """Mini-batch losses of plain SGD on 784-32-10 (same seed for every learning rate), stopping
    early if the loss stops being finite (divergence)."""
    rng = np.random.default_rng(0)
    network = Network.create([784, 32, 10], rng)
    loss = SoftmaxCrossEntropy()
    optimizer = SGD(network.parameters(), momentum=0.0)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is the point of the large rate
        for _ in range(steps):
            batch = rng.integers(0, len(images), batch_size)
            value = loss.forward(network.forward(scale_images(images[batch])), labels[batch])
            if not math.isfinite(value):
                break
            losses.append(value)
            network.backward(loss.backward())
            optimizer.step(network.gradients(), lr)
    return losses


def moving_average(losses: list[float], window: int = 20) -> np.ndarray:
    """What the learning-rate figure draws: the mean of each ``window`` consecutive losses."""
    losses = np.asarray(losses)
    return np.convolve(losses, np.ones(window) / window, mode="valid") if len(losses) >= window else losses


def learning_rates(images: np.ndarray, labels: np.ndarray) -> Figure:
    figure = Figure(figsize=(8, 4), dpi=100, layout="constrained")
    axes = figure.subplots()
    for lr, label in ((0.002, "too small"), (0.1, "good"), (4.0, "too large")):
        losses = loss_curve(images, labels, lr, steps=600)
        smoothed = moving_average(losses)
        ended = "" if len(losses) == 600 else f", diverged (loss not finite) at update {len(losses) + 1}"
        axes.plot(smoothed, label=f"learning rate {lr:g}: {label}{ended}")
    axes.set(
        yscale="log",
        xlabel="update (mini-batch of 64)",
        ylabel="training loss (moving average of 20)",
        title="The same network and batches, three learning rates",
    )
    axes.grid(alpha=0.3)
    axes.legend()
    return figure


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else FIGURES
    out.mkdir(parents=True, exist_ok=True)
    train = load_mnist_split(resolve_data_dir(), "train")
    figures = {
        "network": network_diagram(),
        "activations": activation_functions(),
        "digits": sample_digits(train.images, train.labels),
        "learning-rates": learning_rates(train.images, train.labels),
        "graph-scalar": scalar_graph(worked_example_values()),
        "graph-matrix": matrix_graph(worked_example_values()),
    }
    for name, figure in figures.items():
        print(save_figure(figure, out / f"{name}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
