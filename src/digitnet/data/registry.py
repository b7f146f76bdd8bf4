"""The datasets digitnet knows: for each its files, their checksums, where to download them and
what its ten classes are called.

Every registered dataset comes in MNIST's format and split: four IDX files (train and test
images and labels), 28 x 28 grayscale images, labels 0..9. A second dataset is one more entry
in ``DATASETS``; nothing else in digitnet needs to change to read, locate or download it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

IMAGE_SIDE = 28
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE
N_CLASSES = 10


@dataclass(frozen=True)
class IdxFile:
    """One of a dataset's four files: its name, what it holds, and the SHA-256 of its bytes
    after decompression (the gzip wrappers differ between mirrors; the content does not)."""

    name: str
    split: str  # "train" or "test"
    kind: str  # "images" or "labels"
    count: int
    sha256: str

    @property
    def size(self) -> int:
        """Bytes of the decompressed file: the IDX header (magic and one int32 per dimension),
        then one byte per pixel or label."""
        return 16 + self.count * N_PIXELS if self.kind == "images" else 8 + self.count


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset in MNIST's format: ``name`` is what options and model files call it, ``title``
    what messages call it; ``environment_variable`` names a folder that holds its files."""

    name: str
    title: str
    files: tuple[IdxFile, ...]
    mirrors: tuple[str, ...]  # base URLs, tried in order; each serves every file name
    class_names: tuple[str, ...]
    environment_variable: str
    item: str = "digit"  # what one example is: "digit" answers and "not a digit" verdicts

    @property
    def file_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.files)

    def missing_files_message(self, folder: Path, names) -> str:
        """What is missing where, and the three ways to supply it."""
        download = "digitnet download" + ("" if self.name == "mnist" else f" --dataset {self.name}")
        return (
            f"{self.title} files missing in {folder}: {', '.join(names)}. digitnet needs the four files "
            f"{', '.join(self.file_names)} (gzip or uncompressed) in one folder: put them in {folder}, "
            f"point {self.environment_variable} or --data at the folder that has them, or run '{download}'"
        )


def canonical_files(train_sha256: tuple[str, str], test_sha256: tuple[str, str]) -> tuple[IdxFile, ...]:
    """The four files of a dataset in MNIST's split (60,000 train, 10,000 test) under MNIST's
    file names, from the SHA-256 of (images, labels) of each split."""
    return (
        IdxFile("train-images-idx3-ubyte.gz", "train", "images", 60000, train_sha256[0]),
        IdxFile("train-labels-idx1-ubyte.gz", "train", "labels", 60000, train_sha256[1]),
        IdxFile("t10k-images-idx3-ubyte.gz", "test", "images", 10000, test_sha256[0]),
        IdxFile("t10k-labels-idx1-ubyte.gz", "test", "labels", 10000, test_sha256[1]),
    )


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    files=canonical_files(
        train_sha256=(
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        test_sha256=(
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    ),
    # The original site (yann.lecun.com) no longer serves the files; these copies are the ones
    # the major frameworks download from.
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    class_names=tuple(str(digit) for digit in range(N_CLASSES)),
    environment_variable="DIGITNET_DATA",
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    files=canonical_files(
        train_sha256=(
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        test_sha256=(
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    ),
    # Zalando Research's own copies: the files in their repository and the S3 bucket that the
    # major frameworks download from (plain HTTP; the checksums above are what we trust).
    mirrors=(
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    environment_variable="DIGITNET_FASHION_MNIST_DATA",
    item="clothing item",
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}
MNIST_FILES = MNIST.files
MNIST_FILE_NAMES = MNIST.file_names


def get_dataset(name: str) -> DatasetSpec:
    """The registered dataset called ``name``; an unknown name is refused with the list."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ConfigError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}") from None
