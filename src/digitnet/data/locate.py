"""Where a dataset's files are: the folder you name, the one in the dataset's environment
variable (``DIGITNET_DATA`` for MNIST), the user cache, or a fresh download into the cache."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError
from .idx import find_idx_file
from .registry import DatasetSpec, get_dataset


def cache_dir(dataset: str = "mnist") -> Path:
    """``$XDG_CACHE_HOME/digitnet/<dataset>``, else ``~/.cache/digitnet/<dataset>``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "digitnet" / get_dataset(dataset).name


def missing_files(folder: Path, spec: DatasetSpec) -> list[str]:
    return [name for name in spec.file_names if find_idx_file(folder, name) is None]


def resolve_data_dir(data: str | os.PathLike | None = None, download: bool = True, dataset: str = "mnist") -> Path:
    """The folder of ``dataset``'s files, in order: ``data`` (``--data``), the dataset's
    environment variable (``$DIGITNET_DATA`` for MNIST), the user cache, and finally a download
    into the user cache.

    A folder given explicitly (argument or environment) must hold the files: digitnet does not
    download into a folder you chose, it tells you what is missing there.
    """
    spec = get_dataset(dataset)
    for explicit in (data, os.environ.get(spec.environment_variable)):
        if explicit:
            folder = Path(explicit).expanduser()
            if not folder.is_dir():
                raise DataError(f"{folder}: data folder does not exist")
            missing = missing_files(folder, spec)
            if missing:
                raise DataError(spec.missing_files_message(folder, missing))
            return folder
    folder = cache_dir(dataset)
    if not missing_files(folder, spec):
        return folder
    if not download:
        raise DataError(spec.missing_files_message(folder, spec.file_names))
    # The one place the data package reaches the downloader, on a cache miss only. Imports run
    # one way: digitnet.download needs this package's registry and IDX reader, never its
    # locating; a top-level import here would make loading the package load the downloader
    # half-built, and would cost every start-up the network modules (urllib: about 20 ms).
    from ..download import download_mnist

    return download_mnist(folder, dataset=dataset)
