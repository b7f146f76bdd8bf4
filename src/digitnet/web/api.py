"""The JSON API of the demo, without HTTP: check a request body, run the network, describe the model.

``POST /api/predict`` takes ``{"pixels": [...], "scale": 1 | 255, "width": W, "height": H,
"min_confidence": P}``: 784 numbers are a 28x28 image already framed as MNIST digits are; with
``width`` and ``height`` the pixels are a raw square canvas, which gets ``digitnet predict``'s
preprocessing (crop to the ink, fit 20x20, centre of mass). The answer's ``verdict`` is
``trust.Reader``'s: "digit", "not sure" (calibrated confidence below ``P``, default 0) or "not a
digit". Every way a body can be wrong raises ``BadRequest`` with the
HTTP status and a message saying what to send instead; the server turns it into a JSON error.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import numpy as np

from ..network import Network
from ..persistence import LoadedModel
from ..preprocess import IMAGE_SIZE, has_ink, mnist_preprocess
from ..trust import Reader

MAX_BODY_BYTES = 4 * 1024 * 1024  # the largest canvas, 560x560, as 0-255 integers is about 1.3 MB
MIN_CANVAS_SIDE = IMAGE_SIZE
MAX_CANVAS_SIDE = 560  # the page's 280x280 canvas at twice its resolution
SCALES = (1, 255)  # 0..1 floats or 0..255 bytes, as the client says
FIELDS = ("pixels", "scale", "width", "height", "min_confidence")
TOP_HIDDEN_UNITS = 12
BLANK_MESSAGE = "the canvas is blank: draw a digit"


class BadRequest(Exception):
    """A request the client can fix: ``status`` is the 4xx code, ``message`` says what is wrong."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def reject_constant(name: str):
    """``json.loads`` hook: Python's parser accepts ``NaN`` and ``Infinity``; JSON does not."""
    raise BadRequest(400, f"{name} is not a number JSON allows: pixel values must be finite")


def parse_json_body(body: bytes) -> dict:
    """The request body as a JSON object; empty, malformed, too deep or non-object bodies are 400."""
    if not body.strip():
        raise BadRequest(400, 'the body is empty: send a JSON object such as {"pixels": [...784 numbers...]}')
    try:
        text = body.decode("utf-8")  # json.loads would also guess UTF-16 and UTF-32; the API is UTF-8
    except UnicodeDecodeError:
        raise BadRequest(400, "the body is not UTF-8 text") from None
    try:
        request = json.loads(text, parse_constant=reject_constant)
    except ValueError as error:
        raise BadRequest(400, f"the body is not valid JSON ({error})") from None
    except RecursionError:
        raise BadRequest(400, "the body is not valid JSON (nested too deeply)") from None
    if not isinstance(request, dict):
        raise BadRequest(400, f"the body must be a JSON object, got a JSON {json_type(request)}")
    return request


def json_type(value) -> str:
    """The JSON name of a parsed value's type, for error messages."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return names.get(type(value), "null")


def input_from_request(request: dict) -> np.ndarray:
    """A parsed ``/api/predict`` body -> the network's input, ``(784,)`` float32 in [0, 1]."""
    unknown = sorted(set(request) - set(FIELDS))
    if unknown:
        raise BadRequest(400, f"unknown field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(FIELDS)}")
    if "pixels" not in request:
        raise BadRequest(400, "missing field 'pixels'")
    scale = request.get("scale", 1)
    if type(scale) is not int or scale not in SCALES:
        raise BadRequest(400, f"'scale' must be 1 (pixels in [0, 1]) or 255 (pixels in [0, 255]), got {scale!r}")
    pixels = request["pixels"]
    if not isinstance(pixels, list):
        raise BadRequest(400, f"'pixels' must be an array of numbers, got a JSON {json_type(pixels)}")
    side = canvas_side(request, len(pixels))
    ink = pixel_values(pixels, scale)
    if side is None:
        return ink.astype(np.float32)
    return mnist_preprocess(ink.reshape(side, side)).reshape(-1)


def min_confidence_from_request(request: dict) -> float:
    """The optional ``min_confidence``: a number in [0, 1], 0 (never "not sure") when absent."""
    value = request.get("min_confidence", 0)
    if type(value) not in (int, float) or not 0 <= value <= 1:
        raise BadRequest(400, f"'min_confidence' must be a number from 0 to 1, got {value!r}")
    return float(value)


def canvas_side(request: dict, n_pixels: int) -> int | None:
    """The side of a raw square canvas, or ``None`` for a ready 28x28 image; checks the count."""
    if "width" not in request and "height" not in request:
        if n_pixels != IMAGE_SIZE * IMAGE_SIZE:
            raise BadRequest(
                400, f"'pixels' has {n_pixels} values: send 784 (a 28x28 image), or 'width' and 'height' for a canvas"
            )
        return None
    if "width" not in request or "height" not in request:
        raise BadRequest(400, "give both 'width' and 'height' (a square canvas), or neither for a 28x28 image")
    width, height = request["width"], request["height"]
    if type(width) is not int or type(height) is not int:
        raise BadRequest(400, f"'width' and 'height' must be whole numbers, got {width!r} and {height!r}")
    if width != height:
        raise BadRequest(400, f"the canvas must be square, got {width}x{height}")
    if not MIN_CANVAS_SIDE <= width <= MAX_CANVAS_SIDE:
        raise BadRequest(400, f"the canvas side must be {MIN_CANVAS_SIDE} to {MAX_CANVAS_SIDE} pixels, got {width}")
    if n_pixels != width * height:
        raise BadRequest(400, f"'pixels' has {n_pixels} values; a {width}x{height} canvas needs {width * height}")
    return width


def pixel_values(pixels: list, scale: int) -> np.ndarray:
    """JSON numbers in ``[0, scale]`` -> float64 ink in [0, 1]; anything else is a 400 naming it."""
    kinds = set(map(type, pixels))
    if not kinds <= {int, float}:  # bool is its own type here, so true/false are refused too
        found = sorted({json_type(p) for p in pixels if type(p) not in (int, float)})
        raise BadRequest(400, f"every pixel must be a number, found {', '.join(found)}")
    try:
        values = np.array(pixels, dtype=np.float64)
    except OverflowError:
        raise BadRequest(400, "a pixel value is too large to be a number") from None
    outside = np.flatnonzero(~((values >= 0) & (values <= scale)))  # also catches 1e999, parsed as inf
    if outside.size:
        index = int(outside[0])
        raise BadRequest(400, f"pixel {index} is {values[index]:g}: with scale {scale} values must lie in [0, {scale}]")
    return values / scale


def forward_with_hidden(network: Network, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One input ``(784,)`` -> (first hidden layer's activations ``(H,)``, logits ``(1, 10)``).

    ``Network.infer`` caches nothing in the layers, so requests served in parallel threads
    cannot overwrite each other's results. A network with no hidden layer gives an empty array.
    """
    hidden, logits = network.infer(x.reshape(1, -1).astype(network.dtype))
    first = hidden[0][0] if hidden else np.empty(0, dtype=network.dtype)
    return first, logits


class Predictor:
    """A loaded model plus what every answer reuses: the hidden units' weight images."""

    def __init__(self, model: LoadedModel, top_units: int = TOP_HIDDEN_UNITS):
        self.model = model
        self.network = model.network
        self.reader = Reader.from_model(model)
        self.top_units = top_units
        self.description = describe_model(model)
        self.weight_images = unit_weight_images(self.network)

    def predict(self, x: np.ndarray, min_confidence: float = 0.0) -> dict:
        """The ``/api/predict`` answer for one input ``(784,)`` in [0, 1]: the class (``digit``
        and ``label``: its index, ``name``), the ``verdict``, the calibrated ``confidence`` and
        ``probabilities``, the ``novelty_score``, the image given to the network and the hidden
        units that fired. A blank input (no pixel above the ink threshold) gets no class, rather
        than a confident guess, and the verdict "not a digit"."""
        if not has_ink(x):
            return {
                "digit": None,
                "blank": True,
                "message": BLANK_MESSAGE,
                "verdict": self.reader.verdicts[2],
                "input28": [0.0] * x.size,
                "hidden": [],
            }
        hidden, logits = forward_with_hidden(self.network, x)
        answer = self.reader.read(x.reshape(1, -1), logits, min_confidence)[0]
        return {
            "digit": answer.label,
            **answer.to_dict(),
            "input28": [round(float(v), 4) for v in x],
            "hidden": self.strongest_units(hidden),
            "blank": False,
        }

    def with_network(self, network: Network, note: str) -> Predictor:
        """A predictor for ``network``, changed from this one's in the lab (``note`` says how);
        the accuracies, temperature and novelty statistics recorded in the file no longer apply to it."""
        # the temperature and the novelty statistics were fitted to the file's network, not this one
        kept = {key: value for key, value in self.model.metadata.items() if key not in ("calibration", "novelty")}
        changed = Predictor(LoadedModel(network, {**kept, "metrics": {}}, self.model.path))
        changed.description["note"] = note
        return changed

    def strongest_units(self, hidden: np.ndarray) -> list[dict]:
        """The units with the largest positive activation, strongest first, each with its weights."""
        order = np.argsort(-hidden, kind="stable")[: self.top_units]
        return [
            {"unit": int(j), "activation": round(float(hidden[j]), 4), "weights": self.weight_images[j]}
            for j in order
            if hidden[j] > 0
        ]


class ServedModel:
    """The model the page draws with. A change makes a new ``Predictor`` and swaps it in whole,
    never editing the network in place, so a prediction running in another thread always sees
    one consistent network; ``update`` makes read-change-swap one step."""

    def __init__(self, predictor: Predictor):
        self._predictor = predictor
        self._lock = threading.Lock()

    @property
    def predictor(self) -> Predictor:
        return self._predictor

    def update(self, change: Callable[[Predictor], tuple[Predictor, dict]]) -> dict:
        """``change(current) -> (new predictor, answer)``, serialised with other updates."""
        with self._lock:
            self._predictor, answer = change(self._predictor)
        return answer


def unit_weight_images(network: Network) -> list[list[float]]:
    """Each first-layer unit's 784 incoming weights ``W[:, j]``, divided by their largest
    magnitude so they lie in [-1, 1]: positive where ink in that pixel excites the unit."""
    if len(network.dense_layers) < 2:
        return []
    W = network.dense_layers[0].W.astype(np.float64)
    peak = np.abs(W).max(axis=0)
    normalised = W / np.where(peak > 0, peak, 1)
    return [[round(float(w), 3) for w in normalised[:, j]] for j in range(W.shape[1])]


def describe_model(model: LoadedModel) -> dict:
    """The ``/api/model`` answer: architecture, the accuracies recorded in the file, the dataset and
    what the verdicts can be."""
    metrics = model.metadata.get("metrics") or {}
    network = model.network
    return {
        "file": model.path.name,
        "layer_sizes": network.layer_sizes,
        "activation": network.activation,
        "dtype": network.dtype.name,
        "parameters": int(sum(array.size for array in network.parameters().values())),
        "test_accuracy": metrics.get("test_accuracy"),
        "val_accuracy": metrics.get("val_accuracy"),
        "dataset": model.dataset["name"],
        "class_names": model.class_names,
        "temperature": model.temperature,
        "verdicts": list(Reader.from_model(model).verdicts),  # what "verdict" may be, in that order
        "novelty": model.novelty is not None,  # False: this file cannot answer "not a digit"
        "digitnet_version": model.metadata.get("digitnet_version"),
        "note": "",
    }
