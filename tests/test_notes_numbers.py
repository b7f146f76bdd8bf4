"""Every number the math notes (docs/my_note.md) state in their prose, recomputed: the parameter
count, the steps of an epoch, the learning-rate figure's caption, the computational graph's
figures, the cost count of "why backprop is fast", and the claims about Nesterov momentum,
coupled L2, the printed loss, the cosine schedule and the sigmoid."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from digitnet.data import Dataset
from digitnet.functional import ACTIVATIONS
from digitnet.initializers import DEFAULT_FOR_ACTIVATION
from digitnet.metrics import evaluate
from digitnet.network import Network
from digitnet.optimizers import SGD, Adam
from digitnet.schedules import Schedule
from digitnet.training import TrainConfig, Trainer

REPO = Path(__file__).resolve().parents[1]
NOTES = REPO / "docs" / "my_note.md"
sys.path.insert(0, str(REPO / "docs"))


def notes_text() -> str:
    return NOTES.read_text(encoding="utf-8")


def integer(text: str) -> int:
    """``203{,}530`` (LaTeX) or ``203,530`` -> 203530."""
    return int(text.replace("{,}", "").replace(",", ""))


def stated(pattern: str) -> tuple[str, ...]:
    """The groups of the one place in the notes that ``pattern`` matches."""
    matches = re.findall(pattern, notes_text())
    assert len(matches) == 1, f"the notes should state {pattern!r} once, found {matches}"
    return matches[0] if isinstance(matches[0], tuple) else (matches[0],)


NUMBER = r"(\d[\d,{}]*)"


def default_counts() -> dict[str, int]:
    """Parameters of the default network, its training-set size, steps per epoch, updates in all."""
    config = TrainConfig()
    network = Network.create(config.layer_sizes, np.random.default_rng(0))
    n_train = 60_000 - config.val_size
    steps = math.ceil(n_train / config.batch_size)
    return {
        "parameters": sum(array.size for array in network.parameters().values()),
        "n_train": n_train,
        "batch_size": config.batch_size,
        "steps_per_epoch": steps,
        "last_batch": n_train - (steps - 1) * config.batch_size,
        "updates": steps * config.epochs,
    }


def test_the_parameter_count_of_784_256_10():
    sizes = {
        name: array.size
        for name, array in Network.create([784, 256, 10], np.random.default_rng(0)).parameters().items()
    }
    w1, b1, w2, b2, layer1, layer2, total = map(
        integer, stated(rf"\({NUMBER} \+ {NUMBER}\) \+ \({NUMBER} \+ {NUMBER}\) = {NUMBER} \+ {NUMBER} = {NUMBER}\$")
    )
    assert (w1, b1, w2, b2) == (sizes["dense0.W"], sizes["dense0.b"], sizes["dense1.W"], sizes["dense1.b"])
    assert (layer1, layer2, total) == (w1 + b1, w2 + b2, default_counts()["parameters"]) == (200_960, 2_570, 203_530)


def test_an_epoch_is_430_steps_and_a_short_last_batch():
    counts = default_counts()
    n_train, batch, steps, full, last = map(
        integer,
        stated(
            rf"\\lceil {NUMBER} / {NUMBER} \\rceil = {NUMBER}\$ steps, {NUMBER} full batches of 128 and a\s+"
            rf"last, short one of {NUMBER} images"
        ),
    )
    assert (n_train, batch, steps, full, last) == (
        counts["n_train"],
        counts["batch_size"],
        counts["steps_per_epoch"],
        counts["steps_per_epoch"] - 1,
        counts["last_batch"],
    )
    epochs, per_epoch, total = map(integer, stated(rf"\$(\d+) \\times {NUMBER} = {NUMBER}\$ by\s+default"))
    assert (epochs * per_epoch, total) == (counts["updates"], counts["updates"]) == (2_580, 2_580)


def test_why_backprop_is_fast_counts_right():
    counts = default_counts()
    parameters, passes = map(
        integer,
        stated(
            rf"network has {NUMBER} parameters, so one gradient by\s+finite differences takes {NUMBER} forward passes"
        ),
    )
    assert (parameters, passes) == (counts["parameters"], 2 * counts["parameters"])
    half, ratio = map(integer, stated(rf"\${NUMBER} / 2 = {NUMBER}\$"))
    assert (half, ratio) == (2 * counts["parameters"], counts["parameters"])
    assert integer(stated(rf"multiply this by the {NUMBER} updates")[0]) == counts["updates"]


def test_the_learning_rate_figure_caption_quotes_what_make_figures_computes(mnist_train):
    from make_figures import loss_curve, moving_average

    caption = stated(r"!\[Training loss of the same 784-32-10 network(.*?)\]\(figures/learning-rates.png\)")[0]
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", caption)]
    assert numbers[:3] == [20, 0.002, 2.4]  # the window, then the first curve
    slow = loss_curve(mnist_train.images, mnist_train.labels, 0.002, steps=600)
    good = loss_curve(mnist_train.images, mnist_train.labels, 0.1, steps=600)
    fast = loss_curve(mnist_train.images, mnist_train.labels, 4.0, steps=600)
    slow_curve, good_curve, fast_curve = (moving_average(curve) for curve in (slow, good, fast))
    expected = [
        round(slow[0], 1),  # 2.4: the first raw loss
        round(slow_curve[-1], 1),  # 1.6 after 600 updates
        600,
        0.1,
        round(good_curve[-1], 1),  # 0.3
        4,
        round(max(fast)),  # 53: the raw loss of one update
        int(np.argmax(fast)) + 1,  # at update 4
        round(max(fast_curve), 1),  # 7.9: the moving average drawn
        round(fast_curve[-1], 1),  # 2.3 at the end, = ln 10
        10,
    ]
    assert numbers[2:] == expected
    assert round(fast_curve[-1], 1) == round(math.log(10), 1)


def test_the_graph_figures_show_the_library_numbers():
    """Every number drawn in the two graph figures is one digitnet computed for the worked
    example, and every gradient the notes' prose reads off the figure is drawn."""
    from graph_figures import matrix_graph, scalar_graph, worked_example_values

    values = worked_example_values()
    computed = {round(float(v), 3) + 0.0 for array in values.values() for v in np.ravel(array)}
    computed |= {round(float(values["a1"][0] * w), 3) for w in values["W2"][0]}  # the products a1[0] W2[0, c]
    said_in_the_notes = {0.52, 0.052, 0.325, 0.195, 0.65, 0.9, 1.05}
    assert said_in_the_notes <= computed
    for figure in (scalar_graph(values), matrix_graph(values)):
        drawn = " ".join(text.get_text() for text in figure.axes[0].texts)
        shown = {float(n) + 0.0 for n in re.findall(r"-?\d+\.\d+", drawn)}
        assert shown <= computed, f"numbers drawn that the library did not compute: {shown - computed}"
        assert {0.52, 0.65, -0.65} <= shown
    scalar_text = " ".join(text.get_text() for text in scalar_graph(values).axes[0].texts)
    assert all(f"{v:.3f}" in scalar_text for v in (*values["da1 paths"], values["dW1"][0, 0], *values["dx paths"]))
    assert np.isclose(values["da1 paths"].sum(), values["da1"][0])  # the paths merge: their gradients add


def test_nesterov_as_implemented_is_the_look_ahead_method_reparametrised():
    """The literal method keeps theta and takes the gradient at theta - lr mu v; digitnet's weights
    are that look-ahead point, step after step (notes section 15)."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6))
    hessian, target = A @ A.T / 6 + np.eye(6), rng.normal(size=6)

    def gradient(w):  # of the quadratic 1/2 (w - target)^T H (w - target)
        return hessian @ (w - target)

    lr, mu = 0.05, 0.9
    theta, v = rng.normal(size=6), np.zeros(6)
    stored = {"w": theta.copy()}
    optimizer = SGD(stored, momentum=mu, nesterov=True)
    for _ in range(50):
        optimizer.step({"w": gradient(stored["w"])}, lr)
        v = mu * v + gradient(theta - lr * mu * v)
        theta = theta - lr * v
        np.testing.assert_allclose(stored["w"], theta - lr * mu * v, rtol=1e-12, atol=1e-12)
    assert np.abs(stored["w"] - theta).max() > 1e-6  # the two are not the same weights


def test_adam_weight_decay_is_coupled_l2_not_adamw():
    rng = np.random.default_rng(1)
    start = {"dense0.W": rng.normal(size=(4, 3))}
    gradients = [rng.normal(size=(4, 3)) for _ in range(5)]
    lam, lr = 0.1, 0.01
    decayed, by_hand = {"dense0.W": start["dense0.W"].copy()}, {"dense0.W": start["dense0.W"].copy()}
    adam_decay, adam_plain = Adam(decayed, weight_decay=lam), Adam(by_hand)
    adamw_w, m, v = start["dense0.W"].copy(), 0.0, 0.0
    for t, g in enumerate(gradients, start=1):
        adam_decay.step({"dense0.W": g}, lr)
        adam_plain.step({"dense0.W": g + lam * by_hand["dense0.W"]}, lr)  # eq. (16), then eq. (15)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        adamw_w -= lr * ((m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8) + lam * adamw_w)
    np.testing.assert_array_equal(decayed["dense0.W"], by_hand["dense0.W"])
    assert np.abs(decayed["dense0.W"] - adamw_w).max() > 1e-4


def test_the_printed_loss_leaves_out_the_l2_penalty():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(64, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, size=64).astype(np.uint8)
    train = Dataset(images, labels, "synthetic")
    config = TrainConfig(hidden=(8,), epochs=1, weight_decay=0.5, batch_size=16, patience=0)
    trainer = Trainer(config, train, train, log=lambda line: None)
    trainer.fit()
    data_loss = evaluate(trainer.network, train).loss  # eq. (5) alone
    weights = sum(np.sum(p**2) for n, p in trainer.network.parameters().items() if n.endswith(".W"))
    assert trainer.history[-1].train_loss == pytest.approx(data_loss, rel=1e-6)
    assert 0.5 / 2 * weights > 0.1 * data_loss  # the penalty would have been visible


def test_the_default_cosine_schedule_is_equation_20_at_every_step():
    counts, config = default_counts(), TrainConfig()
    total, peak = counts["updates"], config.lr

    def equation_20(t, warmup):
        if t < warmup:
            return peak * (t + 1) / warmup
        return peak / 2 * (1 + math.cos(math.pi * min(1, (t - warmup) / max(1, total - warmup))))

    for warmup in (0, 430):
        schedule = Schedule(config.schedule, peak, total, counts["steps_per_epoch"], warmup_steps=warmup)
        for t in range(total):
            assert schedule.lr_at(t) == pytest.approx(equation_20(t, warmup), rel=1e-12, abs=1e-15)
    schedule = Schedule(config.schedule, peak, total, counts["steps_per_epoch"])
    start, half, last = stated(
        r"starts at \$\\eta_0 = ([\d.]+)\$, is at \$([\d.]+)\$ half way, and the last update uses\s+"
        r"\$([\d.]+) \\times 10\^\{-8\}\$"
    )
    assert (float(start), float(half)) == (schedule.lr_at(0), pytest.approx(schedule.lr_at(total // 2)))
    assert float(last) * 1e-8 == pytest.approx(schedule.lr_at(total - 1), rel=1e-2)


def test_the_variance_argument_covers_tanh_but_not_the_sigmoid():
    zero = np.zeros(1)
    for name, value, slope in (("tanh", 0.0, 1.0), ("sigmoid", 0.5, 0.25)):
        functions = ACTIVATIONS[name]
        a = functions.forward(zero)
        assert (a[0], functions.derivative(zero, a)[0]) == (value, slope)
    assert "$\\sigma(0) = \\tfrac{1}{2}$ and $\\sigma'(0) = \\tfrac{1}{4}$" in notes_text()
    assert DEFAULT_FOR_ACTIVATION["sigmoid"] == DEFAULT_FOR_ACTIVATION["tanh"] == "xavier"  # "auto still picks Xavier"
