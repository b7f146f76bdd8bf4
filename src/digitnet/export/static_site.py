"""``digitnet export MODEL --web DIR``: a static site that reads drawn digits with no Python.

``DIR`` gets the page (``index.html``, ``style.css``), its script (``digitnet.js``: the MNIST
preprocessing and the forward pass in plain JavaScript; ``page.js``: drawing and showing), the
weights (``weights.bin``: every tensor as little-endian float32, one after the other) and
``model.json``, which says what the network is and where each tensor lies in ``weights.bin``.
Any static host serves it (``python -m http.server`` in ``DIR``, a code host's pages); nothing
is fetched from anywhere else.

Each file is written atomically; ``model.json`` goes last, so a page loaded while an earlier export
is being replaced finds its weights' size wrong and says so, instead of reading mixed weights.
"""

from __future__ import annotations

import json
import os
from importlib.resources import files
from pathlib import Path

import numpy as np

from ..atomic import write_atomically
from ..errors import ExportError
from ..persistence import LoadedModel
from ..preprocess import FIT_SIZE, IMAGE_SIZE, INK_THRESHOLD
from .exportable import ExportableModel, exportable_model

MANIFEST_FORMAT = "digitnet-web"  # digitnet.js checks it
MANIFEST_VERSION = 1
MANIFEST = "model.json"
WEIGHTS = "weights.bin"
PAGE_FILES = ("index.html", "style.css", "digitnet.js", "page.js")  # in the package's export/site/
WEB_ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh")  # digitnet.js's ACTIVATIONS table
WEIGHT_DTYPE = np.dtype("<f4")


def export_web(model: LoadedModel, directory: str | os.PathLike) -> list[Path]:
    """Write the static site for ``model`` into ``directory``; return the files written.

    ``directory`` may be new (its parent must exist), empty, or an earlier export, which is
    replaced; a folder holding anything else is refused rather than overwritten.
    """
    directory = Path(directory)
    exportable = exportable_model(model, WEB_ACTIVATIONS, "web page")
    prepare_directory(directory)
    weights, tensors = weight_bytes(exportable)
    manifest = {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_VERSION,
        "model": exportable.description(),
        # the constants of preprocess.py, so the page frames a drawing as digitnet predict does
        "preprocessing": {"image_size": IMAGE_SIZE, "fit_size": FIT_SIZE, "ink_threshold": INK_THRESHOLD},
        "weights": {
            "file": WEIGHTS,
            "dtype": "float32",
            "byte_order": "little",
            "bytes": len(weights),
            "tensors": tensors,
        },
    }
    site = files(__package__) / "site"
    written = [write_atomically(directory / name, (site / name).read_bytes(), ExportError) for name in PAGE_FILES]
    written.append(write_atomically(directory / WEIGHTS, weights, ExportError))
    written.append(write_atomically(directory / MANIFEST, json.dumps(manifest, indent=1).encode(), ExportError))
    return written


def weight_bytes(exportable: ExportableModel) -> tuple[bytes, list[dict]]:
    """Every tensor as little-endian float32, in layer order, and where each one lies."""
    chunks, tensors, offset = [], [], 0
    for name, array in exportable.weights():
        data = np.ascontiguousarray(array, dtype=WEIGHT_DTYPE).tobytes()
        tensors.append({"name": name, "shape": list(array.shape), "offset": offset})
        chunks.append(data)
        offset += len(data)
    return b"".join(chunks), tensors


def prepare_directory(directory: Path) -> None:
    """Create ``directory``, or check that it is empty or an earlier export: never overwrite other files."""
    if directory.is_dir():
        if any(directory.iterdir()) and not is_earlier_export(directory):
            raise ExportError(
                f"{directory}: the folder is not empty and is not a digitnet web export; "
                "choose a new or empty folder so that nothing in it is overwritten"
            )
        return
    if directory.exists():
        raise ExportError(f"{directory}: is a file, expected a folder for the web page")
    if not directory.parent.is_dir():
        raise ExportError(f"{directory}: cannot create it, folder {directory.parent} does not exist")
    try:
        directory.mkdir()
    except OSError as error:
        raise ExportError(f"{directory}: cannot create the folder ({error.strerror})") from None


def is_earlier_export(directory: Path) -> bool:
    try:
        return json.loads((directory / MANIFEST).read_text()).get("format") == MANIFEST_FORMAT
    except (OSError, ValueError, AttributeError):
        return False
