"""What training and evaluation read: a dataset's train and test splits from its IDX files,
or a labelled Kaggle CSV, with checksums that identify the files."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .datasets import Dataset
from .idx import find_idx_file, read_mnist_file
from .kaggle_csv import read_kaggle_csv
from .locate import resolve_data_dir
from .registry import MNIST, DatasetSpec, get_dataset


def load_mnist_split(folder: str | os.PathLike, split: str, verify: bool = True, dataset: str = "mnist") -> Dataset:
    """The ``train`` (60,000) or ``test`` (10,000) split of ``dataset`` (any dataset in MNIST's
    format) from the IDX files in ``folder``."""
    folder, spec = Path(folder), get_dataset(dataset)
    arrays: dict[str, np.ndarray] = {}
    for file in spec.files:
        if file.split != split:
            continue
        path = find_idx_file(folder, file.name)
        if path is None:
            raise DataError(spec.missing_files_message(folder, [file.name]))
        arrays[file.kind] = read_mnist_file(path, file, verify)
    images, labels = arrays["images"], arrays["labels"]
    if len(images) != len(labels):
        raise DataError(f"{folder}: {len(images)} {split} images but {len(labels)} labels")
    return Dataset(images, labels, f"{spec.title} {split} ({folder})")


@dataclass
class TrainingData:
    """A labelled training set, the test set (``None`` for a Kaggle CSV, which has no labelled
    test part), SHA-256 checksums identifying the files they came from, and the registered
    dataset they are (a Kaggle CSV holds MNIST digits)."""

    train: Dataset
    test: Dataset | None
    checksums: dict[str, str]
    dataset: DatasetSpec = MNIST


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def is_kaggle_csv(data: str | os.PathLike) -> bool:
    return str(data).lower().endswith(".csv")


def load_training_data(data: str | os.PathLike | None = None, dataset: str = "mnist") -> TrainingData:
    """``dataset`` from ``resolve_data_dir(data)``, or a labelled Kaggle ``train.csv`` (digits)
    when ``data`` is a ``.csv`` file."""
    spec = get_dataset(dataset)
    if data is not None and is_kaggle_csv(data):
        refuse_csv_for_other_datasets(data, spec)
        path = Path(data)
        train = read_kaggle_csv(path)
        if train.labels is None:
            raise DataError(
                f"{path}: has no 'label' column, so it cannot be trained on "
                "(a Kaggle test.csv is for 'digitnet predict MODEL --kaggle FILE')"
            )
        return TrainingData(train, None, {path.name: file_sha256(path)})
    folder = resolve_data_dir(data, dataset=dataset)
    return TrainingData(
        load_mnist_split(folder, "train", dataset=dataset),
        load_mnist_split(folder, "test", dataset=dataset),
        {file.name.removesuffix(".gz"): file.sha256 for file in spec.files},
        spec,
    )


def refuse_csv_for_other_datasets(data: str | os.PathLike, spec: DatasetSpec) -> None:
    if spec != MNIST:
        raise DataError(f"{data}: a Kaggle CSV holds handwritten digits (MNIST), not {spec.title} images")


def load_labelled_test_data(data: str | os.PathLike | None = None, dataset: str = "mnist") -> Dataset:
    """The test set of ``dataset``, or a labelled Kaggle CSV given as ``data``."""
    if data is not None and is_kaggle_csv(data):
        refuse_csv_for_other_datasets(data, get_dataset(dataset))
        test = read_kaggle_csv(data)
        if test.labels is None:
            raise DataError(f"{data}: has no 'label' column, so there is nothing to evaluate against")
        return test
    return load_mnist_split(resolve_data_dir(data, dataset=dataset), "test", dataset=dataset)
