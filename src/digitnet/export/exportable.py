"""What an export carries, read once from a loaded model file and checked against what the
export can represent.

Both exports compute the inference path of ``Network.infer`` plus the softmax (notes eq. (1)-(3))
on float32 weights, for a 28x28 input; they refuse anything else with a message naming the model
file. The model file's ``dataset`` and ``calibration`` keys may be absent (files written before
they existed): the classes are then MNIST's ten digits and the temperature is 1.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

import numpy as np

from .. import __version__
from ..data.registry import DATASETS, MNIST
from ..errors import ExportError
from ..functional import LEAKY_RELU_SLOPE
from ..network import Network
from ..persistence import INPUT_SCALING, LoadedModel
from ..preprocess import IMAGE_SIZE

EXPORTED_DTYPE = np.dtype(np.float32)


@dataclass(frozen=True)
class ExportableModel:
    """A network that an export can represent, and the facts about it that travel along."""

    network: Network
    source: Path
    dataset: str
    class_names: list[str]
    temperature: float | None  # None: the model was never calibrated (same as T = 1)
    test_accuracy: float | None
    trained_with: str | None  # the digitnet version that wrote the model file
    content_sha256: str | None

    def weights(self) -> list[tuple[str, np.ndarray]]:
        """``(name, array)`` in layer order: ``dense0.W`` ``(n_in, n_out)``, ``dense0.b``, ..."""
        return list(self.network.parameters().items())

    def description(self) -> dict:
        """JSON-ready facts: the ONNX metadata properties and the page's manifest both say these."""
        description = {
            "architecture": {
                "layer_sizes": self.network.layer_sizes,
                "activation": self.network.activation,
                "leaky_relu_slope": LEAKY_RELU_SLOPE,
            },
            "dataset": {"name": self.dataset, "class_names": self.class_names},
            "test_accuracy": self.test_accuracy,
            "input_scaling": INPUT_SCALING,
            "digitnet_version": self.trained_with,
            "exported_by": f"digitnet {__version__}",
            "source": {"file": self.source.name, "content_sha256": self.content_sha256},
        }
        if self.temperature is not None:
            description["calibration"] = {"temperature": self.temperature}
        return description


def exportable_model(model: LoadedModel, supported_activations: Collection[str], target: str) -> ExportableModel:
    """Check that ``target`` (``"ONNX"``, ``"web page"``) can represent ``model``; read its facts.

    Raises ``ExportError`` naming the model file and what does not fit.
    """
    network, path = model.network, model.path
    check_network(network, path, supported_activations, target)
    dataset, class_names = read_dataset(model.metadata, network, path)
    return ExportableModel(
        network=network,
        source=path,
        dataset=dataset,
        class_names=class_names,
        temperature=read_temperature(model.metadata, path),
        test_accuracy=read_test_accuracy(model.metadata, path),
        trained_with=model.metadata.get("digitnet_version"),
        content_sha256=model.metadata.get("content_sha256"),
    )


def check_network(network: Network, path: Path, supported_activations: Collection[str], target: str) -> None:
    n_inputs = network.layer_sizes[0]
    if n_inputs != IMAGE_SIZE * IMAGE_SIZE:
        raise ExportError(
            f"{path}: the network takes {n_inputs} inputs; the {target} export feeds it a "
            f"{IMAGE_SIZE}x{IMAGE_SIZE} image, {IMAGE_SIZE * IMAGE_SIZE} inputs"
        )
    if network.activation not in supported_activations:
        raise ExportError(
            f"{path}: activation {network.activation!r} has no {target} equivalent; "
            f"the {target} export supports {', '.join(sorted(supported_activations))}"
        )
    if network.dtype != EXPORTED_DTYPE:
        raise ExportError(
            f"{path}: the weights are {network.dtype.name}; the {target} export carries float32 weights "
            "exactly as trained, so it takes float32 models (what digitnet train writes)"
        )
    for name, array in network.parameters().items():
        if not np.isfinite(array).all():
            raise ExportError(f"{path}: tensor {name} holds NaN or infinite values; the model cannot predict")


def read_dataset(metadata: dict, network: Network, path: Path) -> tuple[str, list[str]]:
    """The dataset's name and class names; without them, a registered dataset's (MNIST by default)."""
    dataset = metadata.get("dataset") or {"name": MNIST.name}
    if not isinstance(dataset, dict):
        raise ExportError(f"{path}: dataset must be an object with name and class_names, got {dataset!r}")
    name = str(dataset.get("name", MNIST.name))
    class_names = dataset.get("class_names")
    if class_names is None:
        if name not in DATASETS:
            raise ExportError(f"{path}: dataset {name!r} names no classes and is not one digitnet knows")
        class_names = list(DATASETS[name].class_names)
    return name, check_class_names(class_names, network, path)


def check_class_names(class_names, network: Network, path: Path) -> list[str]:
    n_outputs = network.layer_sizes[-1]
    if not isinstance(class_names, list) or not all(isinstance(name, str) for name in class_names):
        raise ExportError(f"{path}: dataset.class_names must be a list of strings, got {class_names!r}")
    if len(class_names) != n_outputs:
        raise ExportError(
            f"{path}: the network has {n_outputs} outputs but its dataset names {len(class_names)} classes"
        )
    return class_names


def read_temperature(metadata: dict, path: Path) -> float | None:
    """``calibration.temperature``, a positive finite number, or ``None`` when never calibrated."""
    calibration = metadata.get("calibration")
    if calibration is None:
        return None
    temperature = calibration.get("temperature") if isinstance(calibration, dict) else None
    if not is_number(temperature) or not temperature > 0:
        raise ExportError(f"{path}: calibration.temperature must be a positive number, got {temperature!r}")
    return float(temperature)


def read_test_accuracy(metadata: dict, path: Path) -> float | None:
    accuracy = (metadata.get("metrics") or {}).get("test_accuracy")
    if accuracy is not None and not (is_number(accuracy) and 0 <= accuracy <= 1):
        raise ExportError(f"{path}: metrics.test_accuracy must be a fraction in [0, 1], got {accuracy!r}")
    return accuracy


def is_number(value) -> TypeGuard[float]:
    """A finite JSON number (``True`` is not one, though Python counts it as an int)."""
    return type(value) in (int, float) and math.isfinite(value)
