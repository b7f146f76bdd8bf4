"""MNIST data: strict IDX and Kaggle-CSV readers, where the files come from, splits and batches.

Images are kept as ``uint8`` arrays of shape ``(n, 784)`` (a quarter of the memory of float32)
and scaled to float32 in [0, 1] one batch at a time by ``scale_images``. Labels are ``uint8``
``(n,)`` in 0..9.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError

N_PIXELS = 28 * 28
N_CLASSES = 10
IMAGES_MAGIC = 2051  # IDX: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # IDX: unsigned bytes, 1 dimension


@dataclass(frozen=True)
class MnistFile:
    """One of the four canonical files: its name, what it holds, and the SHA-256 of its bytes
    after decompression (the gzip wrappers differ between mirrors; the content does not)."""

    name: str
    split: str
    kind: str  # "images" or "labels"
    count: int
    sha256: str


MNIST_FILES = (
    MnistFile(
        "train-images-idx3-ubyte.gz",
        "train",
        "images",
        60000,
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    MnistFile(
        "train-labels-idx1-ubyte.gz",
        "train",
        "labels",
        60000,
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    MnistFile(
        "t10k-images-idx3-ubyte.gz",
        "test",
        "images",
        10000,
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    MnistFile(
        "t10k-labels-idx1-ubyte.gz",
        "test",
        "labels",
        10000,
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
)
MNIST_FILE_NAMES = tuple(f.name for f in MNIST_FILES)


@dataclass
class Dataset:
    """Images ``(n, 784)`` uint8, labels ``(n,)`` uint8 (or ``None`` for an unlabelled set)."""

    images: np.ndarray
    labels: np.ndarray | None
    source: str

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, indices: np.ndarray, source: str | None = None) -> Dataset:
        labels = None if self.labels is None else self.labels[indices]
        return Dataset(self.images[indices], labels, source or self.source)


# ----------------------------------------------------------------------------- IDX files


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
    if kind == "images" and shape[1:] != (28, 28):
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


def idx_size(spec: MnistFile) -> int:
    """Bytes of the uncompressed IDX file ``spec``: header, then one byte per pixel or label."""
    return 16 + spec.count * N_PIXELS if spec.kind == "images" else 8 + spec.count


def find_mnist_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` (gzip) or the same name without ``.gz`` (raw IDX), whichever exists."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def read_mnist_file(path: Path, spec: MnistFile, verify: bool = True) -> np.ndarray:
    """Read one canonical file, checking its SHA-256 after decompression and its structure."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror})") from None
    content = decompress(raw, path, max_size=idx_size(spec))
    if verify:
        digest = hashlib.sha256(content).hexdigest()
        if digest != spec.sha256:
            raise DataError(
                f"{path}: SHA-256 mismatch: got {digest}, expected {spec.sha256} "
                f"(the file is corrupt or not the canonical {spec.name}); delete it and download again"
            )
    return parse_idx(content, path, spec.kind)


def load_mnist_split(folder: str | os.PathLike, split: str, verify: bool = True) -> Dataset:
    """The ``train`` (60,000) or ``test`` (10,000) split from the IDX files in ``folder``."""
    folder = Path(folder)
    arrays = {}
    for spec in MNIST_FILES:
        if spec.split != split:
            continue
        path = find_mnist_file(folder, spec.name)
        if path is None:
            raise DataError(missing_files_message(folder, [spec.name]))
        arrays[spec.kind] = read_mnist_file(path, spec, verify)
    images, labels = arrays["images"], arrays["labels"]
    if len(images) != len(labels):
        raise DataError(f"{folder}: {len(images)} {split} images but {len(labels)} labels")
    return Dataset(images, labels, f"MNIST {split} ({folder})")


def missing_files_message(folder: Path, names) -> str:
    return (
        f"MNIST files missing in {folder}: {', '.join(names)}. digitnet needs the four files "
        f"{', '.join(MNIST_FILE_NAMES)} (gzip or uncompressed) in one folder: put them in {folder}, "
        "point DIGITNET_DATA or --data at the folder that has them, or run 'digitnet download'"
    )


# ----------------------------------------------------------------------------- where data comes from


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/digitnet/mnist``, else ``~/.cache/digitnet/mnist``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "digitnet" / "mnist"


def has_all_files(folder: Path) -> bool:
    return all(find_mnist_file(folder, name) is not None for name in MNIST_FILE_NAMES)


def resolve_data_dir(data: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The MNIST folder, in order: ``data`` (``--data``), ``$DIGITNET_DATA``, the user cache,
    and finally a download into the user cache.

    A folder given explicitly (argument or environment) must hold the files: digitnet does not
    download into a folder you chose, it tells you what is missing there.
    """
    for explicit in (data, os.environ.get("DIGITNET_DATA")):
        if explicit:
            folder = Path(explicit).expanduser()
            if not folder.is_dir():
                raise DataError(f"{folder}: data folder does not exist")
            missing = [name for name in MNIST_FILE_NAMES if find_mnist_file(folder, name) is None]
            if missing:
                raise DataError(missing_files_message(folder, missing))
            return folder
    folder = cache_dir()
    if has_all_files(folder):
        return folder
    if not download:
        raise DataError(missing_files_message(folder, MNIST_FILE_NAMES))
    from .download import download_mnist  # network code only when it is needed

    download_mnist(folder)
    return folder


# ----------------------------------------------------------------------------- Kaggle CSV


def pixel_columns() -> list[str]:
    return [f"pixel{i}" for i in range(N_PIXELS)]


def read_kaggle_csv(path: str | os.PathLike) -> Dataset:
    """A Kaggle "Digit Recognizer" CSV: ``train.csv`` (``label, pixel0..pixel783``) or
    ``test.csv`` (``pixel0..pixel783``, no labels). Pixels must be integers in 0..255."""
    path = Path(path)
    try:
        # utf-8-sig: spreadsheet programs often start a CSV with a byte-order mark
        with open(path, encoding="utf-8-sig", newline="") as stream:
            header = [column.strip() for column in next(csv.reader(stream), [])]
            has_labels = bool(header) and header[0] == "label"
            expected = (["label"] if has_labels else []) + pixel_columns()
            if header != expected:
                raise DataError(f"{path}: {describe_header_problem(header, expected)}")
            values = parse_csv_rows(stream, path, len(expected))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path}: cannot read as a text CSV ({error})") from None
    labels = values[:, 0] if has_labels else None
    if labels is not None and labels.max() >= N_CLASSES:
        line = int(np.argmax(labels >= N_CLASSES)) + 2
        raise DataError(f"{path}: line {line}: label {int(labels[line - 2])} is outside 0-9")
    images = values[:, 1:] if has_labels else values
    return Dataset(
        np.ascontiguousarray(images, dtype=np.uint8),
        None if labels is None else labels.astype(np.uint8),
        f"Kaggle CSV {path}",
    )


def describe_header_problem(header: list[str], expected: list[str]) -> str:
    if not header:
        return "empty file, expected a Kaggle CSV header (label, pixel0, ..., pixel783)"
    if len(header) != len(expected):
        return f"header has {len(header)} columns, expected {len(expected)} ({expected[0]}, ..., {expected[-1]})"
    column = next(i for i, (a, b) in enumerate(zip(header, expected)) if a != b)
    return f"header column {column + 1} is {header[column]!r}, expected {expected[column]!r}"


def parse_csv_rows(stream, path: Path, n_columns: int) -> np.ndarray:
    """The data rows after the header as an int array ``(n, n_columns)``, values in 0..255.

    NumPy's C parser reads the whole file at once; only when it fails do we walk the rows in
    Python to say which line and value are wrong.
    """
    text = stream.read()
    if not text.strip():
        raise DataError(f"{path}: no data rows after the header")
    try:
        # comments=None: loadtxt would otherwise drop any row starting with "#" without a word
        values = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2, comments=None)
    except ValueError:
        raise DataError(f"{path}: {find_bad_row(text, n_columns)}") from None
    if values.shape[1] != n_columns:
        raise DataError(f"{path}: rows have {values.shape[1]} columns, expected {n_columns}")
    out_of_range = (values < 0) | (values > 255)
    if out_of_range.any():
        row, column = np.argwhere(out_of_range)[0]
        raise DataError(f"{path}: line {row + 2}: value {values[row, column]} is outside 0-255")
    return values


def find_bad_row(text: str, n_columns: int) -> str:
    """Describe the first data row that is not ``n_columns`` integers."""
    for line_number, row in enumerate(csv.reader(io.StringIO(text)), start=2):
        if len(row) != n_columns:
            return f"line {line_number} has {len(row)} columns, expected {n_columns}"
        for value in row:
            try:
                int(value)
            except ValueError:
                return f"line {line_number}: {value!r} is not an integer"
    return "not a table of integers"


# ----------------------------------------------------------------------------- splits and batches


def split_train_validation(dataset: Dataset, val_size: int, rng: np.random.Generator) -> tuple[Dataset, Dataset]:
    """Hold ``val_size`` examples out of ``dataset``, chosen by a seeded shuffle."""
    if not 0 < val_size < len(dataset):
        raise DataError(f"validation size {val_size} must be between 1 and {len(dataset) - 1} ({dataset.source})")
    order = rng.permutation(len(dataset))
    return (
        dataset.subset(np.sort(order[val_size:]), f"{dataset.source}, training part"),
        dataset.subset(np.sort(order[:val_size]), f"{dataset.source}, validation part"),
    )


def scale_images(images: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 pixels 0..255 -> float32 in [0, 1] (``x / 255``), optionally into ``out``."""
    return np.multiply(images, np.float32(1 / 255), out=out, dtype=np.float32)


# ----------------------------------------------------------------------------- what the CLI trains on


@dataclass
class TrainingData:
    """A labelled training set, the test set (``None`` for a Kaggle CSV, which has no labelled
    test part) and SHA-256 checksums identifying the files they came from."""

    train: Dataset
    test: Dataset | None
    checksums: dict[str, str]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def load_training_data(data: str | os.PathLike | None = None) -> TrainingData:
    """MNIST from ``resolve_data_dir(data)``, or a labelled Kaggle ``train.csv`` when ``data`` is
    a ``.csv`` file."""
    if data is not None and str(data).lower().endswith(".csv"):
        path = Path(data)
        train = read_kaggle_csv(path)
        if train.labels is None:
            raise DataError(
                f"{path}: has no 'label' column, so it cannot be trained on "
                "(a Kaggle test.csv is for 'digitnet predict MODEL --kaggle FILE')"
            )
        return TrainingData(train, None, {path.name: file_sha256(path)})
    folder = resolve_data_dir(data)
    return TrainingData(
        load_mnist_split(folder, "train"),
        load_mnist_split(folder, "test"),
        {spec.name.removesuffix(".gz"): spec.sha256 for spec in MNIST_FILES},
    )


def load_labelled_test_data(data: str | os.PathLike | None = None) -> Dataset:
    """The MNIST test set, or a labelled Kaggle CSV given as ``data``."""
    if data is not None and str(data).lower().endswith(".csv"):
        dataset = read_kaggle_csv(data)
        if dataset.labels is None:
            raise DataError(f"{data}: has no 'label' column, so there is nothing to evaluate against")
        return dataset
    return load_mnist_split(resolve_data_dir(data), "test")
