"""The computational graph of the notes' worked example (3-2-2, notes sections 18 and 19), drawn
from the numbers the library computes: forward values on the nodes, gradients on the edges.

``worked_example_values()`` runs the example through digitnet's own layers and loss;
``scalar_graph()`` draws it one multiplication and addition at a time (the warm-up),
``matrix_graph()`` one array at a time. ``tests/test_notes_numbers.py`` checks that every number
drawn is one the library computed.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from digitnet.functional import softmax
from digitnet.layers import Activation, Dense
from digitnet.losses import SoftmaxCrossEntropy

# notes section 18: one example, true class 1
X = np.array([[1.0, 0.5, -1.0]])
LABELS = np.array([1])
W1 = np.array([[0.1, -0.2], [0.4, 0.3], [-0.5, 0.2]])
B1 = np.array([0.1, -0.1])
W2 = np.array([[0.5, -0.3], [0.2, 0.6]])
B2 = np.array([0.0, 0.1])

GRADIENT_COLOUR = "tab:red"


def worked_example_values() -> dict[str, np.ndarray]:
    """Forward values and gradients of the worked example, from digitnet's layers (notes eq. (1)-(10)),
    as 1-D arrays (rows of matrices concatenated) and scalars."""
    hidden, relu, output, loss = (
        Dense(W1.copy(), B1.copy()),
        Activation("relu"),
        Dense(W2.copy(), B2.copy()),
        SoftmaxCrossEntropy(),
    )
    z1 = hidden.forward(X)
    a1 = relu.forward(z1)
    z2 = output.forward(a1)
    values = {"x": X, "W1": W1, "b1": B1, "W2": W2, "b2": B2, "z1": z1, "a1": a1, "z2": z2}
    values["loss"] = np.array(loss.forward(z2, LABELS))
    values["p"] = softmax(z2)
    values["dz2"] = loss.backward()
    values["da1"] = output.backward(values["dz2"])
    values["dz1"] = relu.backward(values["da1"])
    hidden.backward(values["dz1"], need_dX=False)
    values.update(dW1=hidden.dW, db1=hidden.db, dW2=output.dW, db2=output.db)
    # the two paths from hidden neuron 0 to the loss, whose gradients add up to da1[0]
    values["da1 paths"] = W2[0] * values["dz2"][0]
    # hidden neuron 0's three products x_q W1[q, 0], and the gradient each product passes to x_q
    values["products"] = X[0] * W1[:, 0]
    values["dx paths"] = W1[:, 0] * values["dz1"][0, 0]
    return {name: np.squeeze(value) for name, value in values.items()}


def number(value: float) -> str:
    return f"{value + 0.0:.3f}"  # + 0.0 turns -0.0 (a ReLU's zero gradient) into 0.0


def node(axes, xy, text, leaf=False):
    """A box at ``xy``; returns it, so edges can start and end at its border."""
    style = dict(boxstyle="round,pad=0.3", facecolor="0.93" if leaf else "white", edgecolor="black")
    return axes.text(*xy, text, ha="center", va="center", fontsize=11.5, bbox=style, zorder=3)


def edge(axes, start, end, gradient: str, at: float = 0.5, above: float = 0.0):
    """An arrow from box ``start`` to box ``end`` (the forward direction) labelled with the gradient
    that flows back along it, ``above`` the arrow by that much (for labels wider than the gap)."""
    (x0, y0), (x1, y1) = start.get_position(), end.get_position()
    arrow = dict(arrowstyle="->", color="0.45", patchA=start.get_bbox_patch(), patchB=end.get_bbox_patch())
    axes.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=arrow, zorder=2)
    label = dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none")
    axes.text(
        x0 + at * (x1 - x0),
        y0 + at * (y1 - y0) + above,
        gradient,
        color=GRADIENT_COLOUR,
        fontsize=11,
        ha="center",
        va="center",
        zorder=4,
        bbox=label,
    )


def scalar_graph(values: dict[str, np.ndarray]) -> Figure:
    """Hidden neuron 0 of the worked example gate by gate, and the silent neuron 1 folded into one node."""
    figure = Figure(figsize=(13, 6.6), dpi=100, layout="constrained")
    axes = figure.subplots()
    total = node(axes, (3.4, 5.4), f"+\n$z_1[0]$ = {number(values['z1'][0])}")
    relu = node(axes, (5.0, 5.4), f"relu\n$a_1[0]$ = {number(values['a1'][0])}")
    loss = node(axes, (9.9, 5.4), f"softmax and\ncross-entropy, y = 1\nL = {number(values['loss'])}")
    silent = node(
        axes,
        (7.0, 5.4),
        f"neuron 1: $z_1[1]$ = {number(values['z1'][1])}\n$a_1[1]$ = {number(values['a1'][1])}: adds 0\n"
        "relu' = 0: gradient stops",
    )
    for q, y in enumerate((8.6, 6.4, 4.2)):
        x_leaf = node(axes, (0.0, y), f"$x_{q}$ = {number(values['x'][q])}", leaf=True)
        w_leaf = node(axes, (0.0, y - 1.0), f"$W_1[{q},0]$ = {number(values['W1'][q, 0])}", leaf=True)
        product = node(axes, (2.0, y - 0.5), f"×\n{number(values['products'][q])}")
        edge(axes, x_leaf, product, number(values["dx paths"][q]), at=0.6)  # multiply swaps: W dz
        edge(axes, w_leaf, product, number(values["dW1"][q, 0]), at=0.6)  # multiply swaps: x dz = dW1
        edge(axes, product, total, number(values["dz1"][0]))  # add distributes
    b1 = node(axes, (2.0, 2.2), f"$b_1[0]$ = {number(values['b1'][0])}", leaf=True)
    edge(axes, b1, total, number(values["db1"][0]))
    edge(axes, total, relu, number(values["dz1"][0]), above=0.45)  # relu routes: z > 0 passes the gradient on
    for c, (y, leaf_y) in enumerate(((7.9, 9.7), (2.9, 1.1))):
        multiply = node(axes, (6.5, y), f"×\n{number(values['a1'][0] * values['W2'][0, c])}")
        add = node(axes, (8.3, y), f"+\n$z_2[{c}]$ = {number(values['z2'][c])}")
        w_leaf = node(axes, (6.5, leaf_y), f"$W_2[0,{c}]$ = {number(values['W2'][0, c])}", leaf=True)
        b_leaf = node(axes, (8.3, leaf_y), f"$b_2[{c}]$ = {number(values['b2'][c])}", leaf=True)
        edge(axes, relu, multiply, number(values["da1 paths"][c]))  # the paths merge at a1[0]: they add
        edge(axes, w_leaf, multiply, number(values["dW2"][0, c]))
        edge(axes, multiply, add, number(values["dz2"][c]), above=0.45)
        edge(axes, b_leaf, add, number(values["db2"][c]))
        edge(axes, silent, add, number(values["dz2"][c]), at=0.6)
        edge(axes, add, loss, number(values["dz2"][c]))
    axes.text(
        -0.7,
        10.4,
        "black: forward values      red: the gradient dL/d(value) carried back along each edge",
        fontsize=11,
        color="0.2",
    )
    axes.set(xlim=(-0.9, 10.9), ylim=(0.5, 10.7))
    axes.set_axis_off()
    return figure


def row_text(values) -> str:
    return "(" + ", ".join(number(v) for v in np.atleast_1d(values)) + ")"


def matrix_text(values) -> str:
    return "\n".join(" ".join(f"{number(v):>6}" for v in row) for row in np.atleast_2d(values))


def matrix_graph(values: dict[str, np.ndarray]) -> Figure:
    """The same network one array per node: the batch-first equations (7)-(10)."""
    figure = Figure(figsize=(13, 5.4), dpi=100, layout="constrained")
    axes = figure.subplots()
    x = node(axes, (0.0, 2.0), f"X  (1, 3)\n{row_text(values['x'])}", leaf=True)
    w1 = node(axes, (1.6, 4.7), f"$W_1$  (3, 2)\n{matrix_text(values['W1'])}", leaf=True)
    b1 = node(axes, (3.2, -0.5), f"$b_1$  (2,)\n{row_text(values['b1'])}", leaf=True)
    z1 = node(axes, (3.2, 2.0), f"$Z_1 = XW_1 + b_1$\n{row_text(values['z1'])}")
    a1 = node(axes, (6.1, 2.0), f"$A_1$ = relu($Z_1$)\n{row_text(values['a1'])}")
    w2 = node(axes, (7.6, 4.7), f"$W_2$  (2, 2)\n{matrix_text(values['W2'])}", leaf=True)
    b2 = node(axes, (9.1, -0.5), f"$b_2$  (2,)\n{row_text(values['b2'])}", leaf=True)
    z2 = node(axes, (9.1, 2.0), f"$Z_2 = A_1W_2 + b_2$\n{row_text(values['z2'])}")
    loss = node(axes, (11.6, 2.0), f"L, eq. (5)\n{number(values['loss'])}")
    edge(axes, x, z1, "$dX$: not needed", above=0.6)
    edge(axes, w1, z1, f"$dW_1 = X^T dZ_1$\n{matrix_text(values['dW1'])}")
    edge(axes, b1, z1, f"$db_1$ = {row_text(values['db1'])}")
    edge(axes, z1, a1, f"$dZ_1 = dA_1 \\odot [Z_1 > 0]$\n{row_text(values['dz1'])}", above=-0.8)
    edge(axes, a1, z2, f"$dA_1 = dZ_2 W_2^T$\n{row_text(values['da1'])}", above=-0.8)
    edge(axes, w2, z2, f"$dW_2 = A_1^T dZ_2$\n{matrix_text(values['dW2'])}")
    edge(axes, b2, z2, f"$db_2$ = {row_text(values['db2'])}")
    edge(axes, z2, loss, f"$dZ_2 = P - Y$\n{row_text(values['dz2'])}", above=0.8)
    axes.set(xlim=(-1.3, 12.5), ylim=(-1.3, 5.8))
    axes.set_axis_off()
    return figure
