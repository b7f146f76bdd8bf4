"""Model files: safetensors with the weights as named arrays and everything else as metadata.

No pickle: a model file can only ever hold arrays and a JSON string. ``pack``/``unpack`` are the
format itself and are shared with training checkpoints (``checkpoints.py``), which add the
optimizer state and the run's bookkeeping to the same kind of file. The metadata (key
``digitnet``) records the format version, the architecture, how inputs are scaled, the training
config, the checksums of the data it was trained on, its final metrics, and a SHA-256 over the
metadata and every tensor, so a flipped bit anywhere is caught on load.

Fitted at the end of training (``trust.py``), and absent from older files, which still load:
``dataset`` (its name and class names; absent means MNIST digits), ``calibration``
(``{"temperature": T}``; absent means T = 1) and ``novelty`` (the "not a digit" score's
numbers, with its arrays ``novelty.*`` beside the weights; absent means no such score).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError

from . import __version__
from .atomic import write_atomically
from .errors import ConfigError, DigitnetError, ModelFileError
from .functional import ACTIVATIONS
from .layers import Dense
from .network import Network
from .novelty import ARRAY_NAMES as NOVELTY_ARRAYS
from .novelty import NoveltyDetector

FORMAT_VERSION = 1
METADATA_KEY = "digitnet"
STORED_DTYPES = {"F16", "F32", "F64", "I64"}  # safetensors names of what pack() may write
NETWORK_DTYPES = (np.float32, np.float64)
INPUT_SCALING = "uint8 pixels / 255 -> float32 in [0, 1], 0 = background, 1 = ink"


@dataclass
class LoadedModel:
    """A model file's network and metadata, with what was fitted for trusting its answers:
    ``dataset`` (``name``, ``class_names``), the calibration ``temperature`` and the ``novelty``
    detector (``None`` in files saved before it existed)."""

    network: Network
    metadata: dict
    path: Path
    novelty: NoveltyDetector | None = None

    @property
    def dataset(self) -> dict:
        """``{"name", "class_names"}``; files saved before it was recorded were trained on MNIST."""
        n_classes = self.network.layer_sizes[-1]
        return self.metadata.get("dataset", {"name": "mnist", "class_names": [str(k) for k in range(n_classes)]})

    @property
    def class_names(self) -> list[str]:
        return self.dataset["class_names"]

    def require_dataset(self, name: str) -> None:
        """Refuse to use this model on data of another dataset than the one it was trained on."""
        own = self.dataset["name"]
        if name != own:
            raise ConfigError(
                f"{self.path}: was trained on {own} (classes {', '.join(self.class_names)}), so it cannot "
                f"be used on {name}; drop --dataset, or give --dataset {own}"
            )

    @property
    def temperature(self) -> float:
        return self.metadata.get("calibration", {}).get("temperature", 1.0)


def content_sha256(tensors: dict[str, np.ndarray], metadata_without_hash: dict) -> str:
    """SHA-256 over the metadata (canonical JSON) and each tensor's name, dtype, shape and bytes."""
    digest = hashlib.sha256(json.dumps(metadata_without_hash, sort_keys=True).encode())
    for name in sorted(tensors):
        array = c_contiguous(tensors[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def c_contiguous(array: np.ndarray) -> np.ndarray:
    """``array`` in C order, shape kept (``np.ascontiguousarray`` turns a 0-d array into 1-d).

    safetensors 0.8.0 writes wrong bytes for non-contiguous arrays (a transposed view, say),
    so every array goes through here first.
    """
    return array if array.flags.c_contiguous else array.copy(order="C")


def pack(tensors: dict[str, np.ndarray], info: dict) -> bytes:
    """Named arrays plus the JSON metadata ``info`` as safetensors bytes, sealed by a content
    SHA-256. Model files and training checkpoints are both written by this function."""
    tensors = {name: c_contiguous(array) for name, array in tensors.items()}
    info = {"format_version": FORMAT_VERSION, "digitnet_version": __version__, **info}
    info["content_sha256"] = content_sha256(tensors, info)
    return safetensors.numpy.save(tensors, metadata={METADATA_KEY: json.dumps(info)})


def unpack(data: bytes, path: Path, kind: str, error_type: type[DigitnetError]) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and metadata of bytes written by ``pack``, after checking the header, the
    kind of file (``"model"`` or ``"checkpoint"``) and the content checksum. Any problem is an
    ``error_type`` naming ``path``; nothing is allocated beyond the size of ``data``."""
    info = read_metadata(data, path, error_type)
    found_kind = info.get("kind", "model")  # model files written before checkpoints existed
    if found_kind != kind:
        raise error_type(f"{path}: is a digitnet {found_kind} file, not a {kind} file")
    try:
        tensors = safetensors.numpy.load(data)
    except (SafetensorError, ValueError, OverflowError) as error:
        raise error_type(f"{path}: corrupt safetensors data ({error})") from None
    claimed = info.pop("content_sha256", None)
    if claimed != content_sha256(tensors, info):
        raise error_type(f"{path}: checksum mismatch: the arrays or metadata were changed after saving")
    info["content_sha256"] = claimed
    return tensors, info


def read_file(path: Path, what: str, error_type: type[DigitnetError]) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise error_type(f"{path}: cannot read {what} ({error.strerror})") from None


def model_to_bytes(network: Network, arrays: dict[str, np.ndarray] | None = None, **metadata) -> bytes:
    """Serialise ``network`` with ``metadata`` (``config``, ``metrics``, ``data_checksums``, ...)
    and named ``arrays`` beside the weights (``novelty.*``)."""
    tensors = {**network.parameters(), **(arrays or {})}
    return pack(tensors, {"kind": "model", **architecture_metadata(network), **metadata})


def architecture_metadata(network: Network) -> dict:
    return {
        "architecture": {"layer_sizes": network.layer_sizes, "activation": network.activation},
        "dtype": network.dtype.name,
        "input_scaling": INPUT_SCALING,
    }


def save_model(
    path: str | os.PathLike, network: Network, arrays: dict[str, np.ndarray] | None = None, **metadata
) -> Path:
    """Write a model file atomically (temporary file, then rename)."""
    return write_atomically(path, model_to_bytes(network, arrays, **metadata), ModelFileError)


def save_updated_model(model: LoadedModel, path: str | os.PathLike, arrays: dict[str, np.ndarray], **changes) -> Path:
    """Write ``model`` again with metadata entries replaced by ``changes`` and ``arrays`` beside
    the weights (``digitnet calibrate`` adds what older files lack)."""
    written_by_pack = {
        "format_version",
        "digitnet_version",
        "content_sha256",
        "kind",
        *architecture_metadata(model.network),
    }
    kept = {key: value for key, value in model.metadata.items() if key not in written_by_pack}
    return save_model(path, model.network, arrays, **{**kept, **changes})


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Read and fully validate a model file; any problem is a ``ModelFileError`` naming it."""
    path = Path(path)
    tensors, info = unpack(read_file(path, "model file", ModelFileError), path, "model", ModelFileError)
    novelty_arrays = {name: tensors.pop(name) for name in NOVELTY_ARRAYS if name in tensors}
    network = build_network(tensors, info, path)
    check_dataset(info, network.layer_sizes[-1], path)
    check_calibration(info, path)
    novelty = None
    if "novelty" in info or novelty_arrays:
        novelty = NoveltyDetector.from_file(
            novelty_arrays, info.get("novelty"), network.layer_sizes[0], network.layer_sizes[-1], path
        )
    return LoadedModel(network, info, path, novelty)


def check_dataset(info: dict, n_classes: int, path: Path) -> None:
    """``dataset`` (when present) is ``{"name": str, "class_names": [one str per output]}``."""
    if "dataset" not in info:
        return
    dataset = info["dataset"]
    names = dataset.get("class_names") if isinstance(dataset, dict) else None
    if (
        not isinstance(dataset, dict)
        or sorted(dataset) != ["class_names", "name"]
        or not isinstance(dataset["name"], str)
        or not isinstance(names, list)
        or len(names) != n_classes
        or not all(isinstance(name, str) for name in names)
    ):
        raise ModelFileError(
            f"{path}: dataset metadata must be {{'name': ..., 'class_names': [{n_classes} names]}}, got {dataset!r}"
        )


def check_calibration(info: dict, path: Path) -> None:
    """``calibration`` (when present) is ``{"temperature": T}`` with T a positive finite number."""
    calibration = info.get("calibration", {"temperature": 1.0})
    temperature = calibration.get("temperature") if isinstance(calibration, dict) else None
    if (
        not isinstance(calibration, dict)
        or list(calibration) != ["temperature"]
        or not isinstance(temperature, (int, float))
        or isinstance(temperature, bool)
        or not (math.isfinite(temperature) and temperature > 0)
    ):
        raise ModelFileError(f"{path}: calibration metadata must be {{'temperature': T > 0}}, got {calibration!r}")


def read_metadata(data: bytes, path: Path, error_type: type[DigitnetError] = ModelFileError) -> dict:
    """Parse the safetensors header by hand, so a forged length, an unknown dtype or bad JSON
    gets our message, before safetensors allocates anything."""
    if len(data) < 8:
        raise error_type(f"{path}: file is {len(data)} bytes, too short to be a digitnet file")
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > len(data) - 8:
        raise error_type(
            f"{path}: header length field says {header_length} bytes but the file has only {len(data) - 8} "
            "after it (truncated or forged)"
        )
    try:
        header = json.loads(data[8 : 8 + header_length])
        if not isinstance(header, dict):
            raise TypeError(f"the header is a JSON {type(header).__name__}, not an object")
        info = json.loads(header["__metadata__"][METADATA_KEY])
        version = info["format_version"]
        dtypes = {entry["dtype"] for name, entry in header.items() if name != "__metadata__"}
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise error_type(f"{path}: not a digitnet file (no readable digitnet metadata: {error!r})") from None
    if version != FORMAT_VERSION:
        raise error_type(
            f"{path}: format version {version!r} is not supported (this digitnet reads version {FORMAT_VERSION})"
        )
    unknown = dtypes - STORED_DTYPES
    if unknown:
        raise error_type(f"{path}: tensor dtypes {sorted(map(str, unknown))} are not ones digitnet writes")
    return info


def build_network(
    tensors: dict[str, np.ndarray], info: dict, path: Path, error_type: type[DigitnetError] = ModelFileError
) -> Network:
    """A network from the arrays, after checking each name, shape and dtype against the metadata."""
    try:
        sizes = [int(s) for s in info["architecture"]["layer_sizes"]]
        activation = info["architecture"]["activation"]
        dtype = np.dtype(info["dtype"])
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise error_type(f"{path}: architecture metadata is incomplete ({error!r})") from None
    if (
        not isinstance(activation, str)
        or activation not in ACTIVATIONS
        or len(sizes) < 2
        or min(sizes) < 1
        or dtype not in NETWORK_DTYPES
    ):
        raise error_type(f"{path}: architecture metadata is invalid: {info['architecture']}, dtype {info['dtype']}")
    expected: dict[str, tuple[int, ...]] = {}
    for index, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        expected[f"dense{index}.W"] = (n_in, n_out)
        expected[f"dense{index}.b"] = (n_out,)
    if set(tensors) != set(expected):
        raise error_type(
            f"{path}: tensors {sorted(tensors)} do not match the architecture {sizes}, which needs {sorted(expected)}"
        )
    for name, shape in expected.items():
        if tensors[name].shape != shape or tensors[name].dtype != dtype:
            raise error_type(
                f"{path}: tensor {name} is {tensors[name].dtype} {tensors[name].shape}, "
                f"the metadata says {dtype} {shape}"
            )
    dense_layers = [Dense(tensors[f"dense{i}.W"].copy(), tensors[f"dense{i}.b"].copy()) for i in range(len(sizes) - 1)]
    return Network(dense_layers, activation)
