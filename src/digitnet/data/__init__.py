"""Data: the dataset registry, IDX and Kaggle-CSV readers, where the files are, splits, scaling.

Modules, each importing only those above it:

- ``registry``: the datasets (MNIST, Fashion-MNIST): file names, checksums, mirrors, class names
- ``idx``: IDX files, gzip or not: found, inflated within limits, verified, parsed
- ``datasets``: ``Dataset`` in memory, the seeded validation split, pixel scaling
- ``kaggle_csv``: Kaggle "Digit Recognizer" CSV files
- ``locate``: which folder holds a dataset (``--data``, environment, user cache, download)
- ``loading``: the train and test sets that training and evaluation read

``digitnet.download`` fetches a registered dataset into the cache; it imports ``registry`` and
``idx``, and ``locate`` calls it on a cache miss.
"""

from .datasets import Dataset, scale_images, split_train_validation
from .idx import IMAGES_MAGIC, LABELS_MAGIC, decompress, find_idx_file, parse_idx, read_mnist_file
from .kaggle_csv import read_kaggle_csv
from .loading import TrainingData, load_labelled_test_data, load_mnist_split, load_training_data
from .locate import cache_dir, resolve_data_dir
from .registry import (
    DATASETS,
    FASHION_MNIST,
    MNIST,
    MNIST_FILE_NAMES,
    MNIST_FILES,
    N_CLASSES,
    N_PIXELS,
    DatasetSpec,
    IdxFile,
    get_dataset,
)

__all__ = [
    "DATASETS",
    "FASHION_MNIST",
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "MNIST",
    "MNIST_FILES",
    "MNIST_FILE_NAMES",
    "N_CLASSES",
    "N_PIXELS",
    "Dataset",
    "DatasetSpec",
    "IdxFile",
    "TrainingData",
    "cache_dir",
    "decompress",
    "find_idx_file",
    "get_dataset",
    "load_labelled_test_data",
    "load_mnist_split",
    "load_training_data",
    "parse_idx",
    "read_kaggle_csv",
    "read_mnist_file",
    "resolve_data_dir",
    "scale_images",
    "split_train_validation",
]
