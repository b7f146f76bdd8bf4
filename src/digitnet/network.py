"""A feed-forward network: dense layers with an activation between them, logits out.

``784 -> H -> 10`` by default (one hidden layer); ``Network.create([784, 512, 256, 10])`` for
more. The softmax is not a layer: it lives in the loss (``losses.py``) and in ``predict_proba``.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .functional import softmax
from .initializers import get_initializer
from .layers import Activation, Dense, Dropout

Layer = Dense | Activation | Dropout


class Network:
    """A stack ``Dense, Activation, Dense, ..., Dense``: forward, backward, predict, parameters.

    With ``dropout > 0`` (and a generator for its masks), a ``Dropout`` layer follows every
    hidden activation; it acts only in ``forward(X, training=True)``.
    """

    def __init__(
        self,
        dense_layers: list[Dense],
        activation: str = "relu",
        dropout: float = 0.0,
        dropout_rng: np.random.Generator | None = None,
    ):
        if not dense_layers:
            raise ConfigError("a network needs at least one dense layer")
        for previous, following in zip(dense_layers, dense_layers[1:]):
            if previous.n_out != following.n_in:
                raise ConfigError(f"layer sizes do not chain: {previous.n_out} outputs feed {following.n_in} inputs")
        if dropout and dropout_rng is None:
            raise ConfigError("dropout needs a random generator for its masks")
        dropouts = [Dropout(dropout, dropout_rng) for _ in dense_layers[1:]] if dropout_rng and dropout else []
        self.activation = activation
        self.dense_layers = dense_layers
        self.layers: list[Layer] = []
        for index, dense in enumerate(dense_layers):
            self.layers.append(dense)
            if index < len(dense_layers) - 1:
                self.layers.append(Activation(activation))
                if dropouts:
                    self.layers.append(dropouts[index])

    @classmethod
    def create(
        cls,
        layer_sizes: list[int],
        rng: np.random.Generator,
        activation: str = "relu",
        init: str = "auto",
        dtype=np.float32,
        dropout: float = 0.0,
        dropout_rng: np.random.Generator | None = None,
    ) -> Network:
        """A freshly initialised network; ``layer_sizes`` is ``[n_inputs, *hidden, n_classes]``."""
        if len(layer_sizes) < 2 or any(int(size) < 1 for size in layer_sizes):
            raise ConfigError(f"layer sizes must be at least two positive numbers, got {layer_sizes}")
        Activation(activation)  # validates the name before any weights are drawn
        initializer = get_initializer(init, activation)
        dense_layers = [
            Dense(initializer(rng, n_in, n_out).astype(dtype), np.zeros(n_out, dtype=dtype))
            for n_in, n_out in zip(layer_sizes, layer_sizes[1:])
        ]
        return cls(dense_layers, activation, dropout, dropout_rng)

    @property
    def layer_sizes(self) -> list[int]:
        return [self.dense_layers[0].n_in] + [dense.n_out for dense in self.dense_layers]

    @property
    def dtype(self) -> np.dtype:
        return self.dense_layers[0].W.dtype

    def parameters(self) -> dict[str, np.ndarray]:
        """Named parameter arrays, ``dense0.W``, ``dense0.b``, ``dense1.W``, ... (live views)."""
        return {
            f"dense{index}.{name}": array
            for index, dense in enumerate(self.dense_layers)
            for name, array in dense.parameters().items()
        }

    def gradients(self) -> dict[str, np.ndarray]:
        """The gradients from the last ``backward``, under the same names as ``parameters``."""
        return {
            f"dense{index}.{name}": array
            for index, dense in enumerate(self.dense_layers)
            for name, array in dense.gradients().items()
        }

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """``X`` ``(n, 784)`` in [0, 1] -> logits ``(n, 10)``, caching what ``backward`` needs.

        Dropout layers act only when ``training``: evaluation sees the whole network. A training
        pass writes into the layers' own arrays (``layers.py``): its logits are valid until the
        next training pass.
        """
        return self.propagate(X, training=training, cache=True)[-1][1]

    def infer(self, X: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """``X`` ``(n, 784)`` -> (each hidden layer's activations, logits ``(n, 10)``).

        The same pass as ``forward`` (no dropout), storing nothing in the layers, so several
        threads may call it at once, also while another thread trains (the web server does).
        """
        outputs = self.propagate(X, training=False, cache=False)
        hidden = [out for layer, out in outputs if isinstance(layer, Activation)]
        return hidden, outputs[-1][1]

    def propagate(self, X: np.ndarray, training: bool, cache: bool) -> list[tuple[Layer, np.ndarray]]:
        """The forward pass, notes eq. (1)-(2): (layer, its output) in order, the logits last.

        The one implementation behind ``forward`` (training, gradient checks) and ``infer``
        (evaluation, prediction, the web server).
        """
        outputs, out = [], X
        for layer in self.layers:
            if training or not isinstance(layer, Dropout):
                out = layer.forward(out, cache=cache, training=training)
                outputs.append((layer, out))
        return outputs

    def backward(self, dlogits: np.ndarray) -> list[np.ndarray]:
        """Backpropagate ``dL/dlogits`` ``(n, 10)``, filling every layer's gradients.

        Walks the layers in reverse, each turning ``dL/d(its output)`` into ``dL/d(its input)``
        (notes eq. (7)-(10)); the first layer skips ``dX``, which nothing uses. Returns
        ``dL/d(output)`` of every layer in layer order (for 784-H-10: ``dZ1``, ``dA1``,
        ``dlogits``), for views that show each step; training ignores it.
        """
        output_gradients = [dlogits]
        for layer in reversed(self.layers[1:]):
            dX = layer.backward(output_gradients[0])
            assert dX is not None  # every layer but the first returns dX
            output_gradients.insert(0, dX)
        self.layers[0].backward(output_gradients[0], need_dX=False)
        return output_gradients

    def logits(self, X: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Logits ``(n, 10)``, computed in batches to bound memory (thread-safe)."""
        batches = [self.infer(X[start : start + batch_size])[1] for start in range(0, len(X), batch_size)]
        return np.concatenate(batches) if batches else np.empty((0, self.layer_sizes[-1]), self.dtype)

    def predict_proba(self, X: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Class probabilities ``(n, 10)``: the softmax of ``logits`` (notes eq. (3))."""
        return softmax(self.logits(X, batch_size))

    def predict(self, X: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Predicted class indices ``(n,)``."""
        return self.predict_proba(X, batch_size).argmax(axis=1)

    def copy(self, dtype=None) -> Network:
        """A deep copy without dropout, optionally cast (``dtype=np.float64`` for gradient checking)."""
        dtype = dtype or self.dtype
        return Network(
            [Dense(d.W.astype(dtype, copy=True), d.b.astype(dtype, copy=True)) for d in self.dense_layers],
            self.activation,
        )

    def load_parameters(self, parameters: dict[str, np.ndarray]) -> None:
        """Copy named arrays into the live parameters (shapes must match)."""
        for name, array in self.parameters().items():
            array[...] = parameters[name]
