"""IDX files, gzip-compressed or not: found on disk, inflated within a size limit, checked
against their SHA-256, and parsed strictly.

Images come out as ``uint8`` arrays of shape ``(n, 784)``, labels as ``uint8`` ``(n,)`` in 0..9.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from .registry import DATASETS, IMAGE_SIDE, N_CLASSES, N_PIXELS, DatasetSpec, IdxFile

IMAGES_MAGIC = 2051  # IDX: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # IDX: unsigned bytes, 1 dimension


def decompress(raw: bytes, path: Path, max_size: int | None = None) -> bytes:
    """The bytes of ``path``: gunzipped when they start with the gzip magic ``1f 8b``.

    With ``max_size``, inflating stops one byte past it and the file is refused, so a damaged
    or hostile file (a "gzip bomb": 10 kB that inflate to gigabytes) costs no more memory than
    the largest legitimate one.
    """
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            content = stream.read(-1 if max_size is None else max_size + 1)
    except EOFError:
        raise DataError(f"{path}: gzip file is truncated (ends before its end-of-stream marker)") from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise DataError(f"{path}: not a valid gzip file ({error})") from None
    if max_size is not None and len(content) > max_size:
        raise DataError(
            f"{path}: decompresses to more than {max_size} bytes, the most this file can hold "
            "(damaged, or not the file it is named after)"
        )
    return content


def parse_idx(content: bytes, path: Path, kind: str) -> np.ndarray:
    """Parse an uncompressed IDX file strictly.

    Layout: big-endian int32 magic (2051 images, 2049 labels), one big-endian int32 per
    dimension, then the unsigned bytes, row-major. Returns ``(n, 784)`` for images (28 x 28
    each) and ``(n,)`` for labels (every label in 0..9).
    """
    magic, n_dims = (IMAGES_MAGIC, 3) if kind == "images" else (LABELS_MAGIC, 1)
    header_size = 4 + 4 * n_dims
    if len(content) < header_size:
        raise DataError(f"{path}: file is {len(content)} bytes, too short for an IDX {kind} header")
    found_magic = int.from_bytes(content[:4], "big")
    if found_magic != magic:
        raise DataError(f"{path}: wrong magic number {found_magic}, expected {magic} for IDX {kind}")
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    if kind == "images" and shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{path}: images are {shape[1]}x{shape[2]}, expected 28x28")
    expected = math.prod(shape)  # Python ints: a forged shape cannot overflow into a plausible size
    payload = len(content) - header_size
    if payload != expected:
        raise DataError(
            f"{path}: header says {'x'.join(map(str, shape))} = {expected} bytes of data, file has {payload}"
        )
    array = np.frombuffer(content, dtype=np.uint8, offset=header_size)
    if kind == "labels":
        if array.size and array.max() >= N_CLASSES:
            raise DataError(f"{path}: label {int(array.max())} is outside 0-9")
        return array
    return array.reshape(shape[0], N_PIXELS)


def find_idx_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` (gzip) or the same name without ``.gz`` (raw IDX), whichever exists."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def check_sha256(content: bytes, file: IdxFile) -> str | None:
    """``None`` when ``content`` is the canonical ``file``, else what is wrong with it."""
    digest = hashlib.sha256(content).hexdigest()
    return None if digest == file.sha256 else f"SHA-256 mismatch: got {digest}, expected {file.sha256}"


def registered_dataset_of(content: bytes) -> DatasetSpec | None:
    """The registered dataset one of whose files ``content`` is, if any."""
    digest = hashlib.sha256(content).hexdigest()
    return next((spec for spec in DATASETS.values() if digest in {f.sha256 for f in spec.files}), None)


def read_mnist_file(path: Path, file: IdxFile, verify: bool = True) -> np.ndarray:
    """Read one of a dataset's four files (MNIST's format), checking its SHA-256 after
    decompression and its structure."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror})") from None
    content = decompress(raw, path, max_size=file.size)
    mismatch = check_sha256(content, file) if verify else None
    if mismatch:
        other = registered_dataset_of(content)
        if other is not None:  # a whole other dataset's file, such as MNIST's where Fashion-MNIST's should be
            raise DataError(
                f"{path}: is {other.title}'s {file.name}, not the one this dataset needs: "
                "give --data (or --dataset) the folder of the dataset you mean"
            )
        raise DataError(
            f"{path}: {mismatch} (the file is corrupt or not the canonical {file.name}); delete it and download again"
        )
    return parse_idx(content, path, file.kind)
