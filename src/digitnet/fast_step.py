"""The training step without per-batch allocations: the plain path's arithmetic, into buffers.

For a network this small (784-128-10, batch 128) the matrix products of a step take about
0.3 ms, and the plain path (``Network.forward``, ``SoftmaxCrossEntropy``, ``Network.backward``)
spent as long again allocating and filling temporaries (profile in the README, "Where the time goes").
``FastTrainingStep`` does the same operations, in the same order, on the same dtypes, but writes
every intermediate into an array made once, so its results are bit-identical to the plain path's
(``tests/test_fast_step.py`` checks that against a straightforward implementation): the same
seed gives the same weights whichever path trains.

It covers the default network, ReLU hidden layers with softmax cross-entropy; ``supports``
tells the trainer when to fall back to the plain path.
"""

from __future__ import annotations

import numpy as np

from .network import Network


class FastTrainingStep:
    """Forward, loss and backward of one mini-batch of a ReLU network under cross-entropy.

    ``forward_loss(indices)`` gathers the examples ``indices`` of ``images`` (uint8, ``(N, 784)``)
    and ``labels``, runs the forward pass and returns the mean loss; ``backward()`` then fills the
    network's own ``dW`` and ``db`` arrays, exactly where ``Network.backward`` puts them, so
    ``network.gradients()`` and the optimizer see the same thing either way.

    ``indices`` must be valid positions (the trainer passes slices of a permutation): they are
    gathered with ``mode="clip"``, which skips NumPy's bounds-check copy.
    """

    STAGES = ("gather_batch", "forward", "cross_entropy", "backward")

    def __init__(self, network: Network, images: np.ndarray, labels: np.ndarray, batch_size: int):
        self.network = network
        self.images = images
        self.labels = labels
        self.gradients = network.gradients()  # live arrays, filled in place every step
        self._n = 0
        self._allocate(batch_size)

    @staticmethod
    def supports(config) -> bool:
        """ReLU and cross-entropy, with nothing that changes the batch or the forward pass
        (dropout, augmentation): those take the plain path."""
        return (
            config.activation == "relu"
            and config.loss == "cross-entropy"
            and config.dropout == 0
            and config.augment == "none"
        )

    def _allocate(self, capacity: int) -> None:
        """Buffers for batches of up to ``capacity`` examples; smaller batches use leading rows."""
        sizes, dtype = self.network.layer_sizes, self.network.dtype
        self.capacity = capacity
        self._pixels = np.empty((capacity, sizes[0]), np.uint8)
        # _outputs[0] is X; _outputs[i] holds layer i's Z, then (ReLU in place) its A; the last is the logits
        self._outputs = [np.empty((capacity, size), dtype) for size in sizes]
        self._hidden_grads = [np.empty((capacity, size), dtype) for size in sizes[1:-1]]  # dA, then dZ
        self._relu_masks = [np.empty((capacity, size), dtype) for size in sizes[1:-1]]
        self._probabilities = np.empty((capacity, sizes[-1]), dtype)  # p, then dL/dlogits in place
        self._row_stats = np.empty((capacity, 1), dtype)  # row max, then log-sum-exp
        self._row_starts = np.arange(capacity) * sizes[-1]  # flat position of each row's first logit

    def forward_loss(self, indices: np.ndarray) -> float:
        """Mean cross-entropy of the batch ``indices``; caches what ``backward`` needs."""
        if len(indices) > self.capacity:
            self._allocate(len(indices))
        self._n = len(indices)
        X = self.gather_batch(indices)
        logits = self.forward(X)
        return self.cross_entropy(logits, self.labels[indices])

    def gather_batch(self, indices: np.ndarray) -> np.ndarray:
        """``scale_images(images[indices])``: uint8 rows, then ``x / 255`` as float32 ``(n, 784)``."""
        pixels, X = self._pixels[: self._n], self._outputs[0][: self._n]
        np.take(self.images, indices, axis=0, out=pixels, mode="clip")  # no fancy-index copy
        return np.multiply(pixels, np.float32(1 / 255), out=X, dtype=X.dtype)  # as scale_images does

    def forward(self, X: np.ndarray) -> np.ndarray:
        """notes eq. (1)-(2): ``Z = A W + b`` for every layer, ``A = max(0, Z)`` between them."""
        dense_layers = self.network.dense_layers
        A = X
        for index, dense in enumerate(dense_layers):
            Z = self._outputs[index + 1][: self._n]
            np.matmul(A, dense.W, out=Z)
            Z += dense.b  # bias added in place: no (n, n_out) temporary
            if index < len(dense_layers) - 1:
                np.maximum(Z, 0, out=Z)  # ReLU in place: A > 0 exactly where Z > 0, all backward needs
            A = Z
        return A

    def cross_entropy(self, logits: np.ndarray, labels: np.ndarray) -> float:
        """``SoftmaxCrossEntropy.forward`` then ``.backward``, in place on the logits.

        notes eq. (4): ``log p = (z - m) - log(sum exp(z - m))``; eq. (5): ``L = -(1/n) sum log
        p_{i, y_i}``; eq. (6): ``dL/dz = (p - y) / n``, left in the probabilities buffer.
        """
        n = self._n
        row_stats, probabilities = self._row_stats[:n], self._probabilities[:n]
        np.max(logits, axis=1, keepdims=True, out=row_stats)
        logits -= row_stats  # z - m overwrites the logits, which nothing needs afterwards
        np.exp(logits, out=probabilities)
        np.sum(probabilities, axis=1, keepdims=True, out=row_stats)
        np.log(row_stats, out=row_stats)
        logits -= row_stats  # now log p
        np.exp(logits, out=probabilities)  # p = exp(log p), as the plain loss computes it
        positions = self._row_starts[:n] + labels  # flat index of each (i, y_i): no arange per step
        loss = float(-logits.take(positions).mean())
        probabilities.reshape(-1)[positions] -= 1
        probabilities /= n
        return loss

    def backward(self) -> None:
        """notes eq. (7)-(10), last layer first: ``dW = A^T dZ``, ``db = sum_i dZ_i``,
        ``dA = dZ W^T``, then ``dZ = dA * (Z > 0)`` for the layer below; the first layer's
        ``dX`` is never computed (nothing uses it)."""
        n = self._n
        dZ = self._probabilities[:n]
        for index in range(len(self.network.dense_layers) - 1, -1, -1):
            dense, A = self.network.dense_layers[index], self._outputs[index][:n]
            np.matmul(A.T, dZ, out=dense.dW)
            np.sum(dZ, axis=0, out=dense.db)
            if index == 0:
                break
            dA, relu_derivative = self._hidden_grads[index - 1][:n], self._relu_masks[index - 1][:n]
            np.matmul(dZ, dense.W.T, out=dA)
            np.greater(A, 0, out=relu_derivative)  # 1.0 / 0.0 straight into float32: no bool array
            dZ = np.multiply(dA, relu_derivative, out=dA)
