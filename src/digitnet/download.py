"""Download the four files of a registered dataset (MNIST by default) into the user cache,
verified, atomically.

Each file is tried on each mirror in order; a mirror is abandoned for that file after an HTTP
error, a network error or a checksum mismatch (after ``retries`` attempts for transient errors).
Bytes stream into a temporary file in the destination folder, which is renamed into place only
once its decompressed SHA-256 matches: an interrupted or corrupt download never leaves a file
that looks complete.
"""

from __future__ import annotations

import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from .data.idx import check_sha256, decompress, find_idx_file
from .data.registry import MNIST, DatasetSpec, IdxFile, get_dataset
from .errors import DataError, DownloadError

CHUNK_BYTES = 1 << 16


def mirrors_from_environment(dataset: DatasetSpec) -> tuple[str, ...]:
    """``DIGITNET_MIRRORS`` (comma-separated base URLs) when set, else the dataset's own mirrors."""
    configured = os.environ.get("DIGITNET_MIRRORS", "")
    urls = tuple(url.strip() for url in configured.split(",") if url.strip())
    return urls or dataset.mirrors


def download_mnist(
    folder: Path,
    mirrors: tuple[str, ...] | None = None,
    retries: int = 2,
    timeout: float = 30.0,
    progress: bool | None = None,
    dataset: str = "mnist",
) -> Path:
    """Make sure ``folder`` holds all four verified files of ``dataset`` (MNIST's format),
    downloading what is missing."""
    spec = get_dataset(dataset)
    mirrors = mirrors or mirrors_from_environment(spec)
    progress = sys.stderr.isatty() if progress is None else progress
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"{folder}: cannot create the cache folder ({error.strerror})") from None
    for file in spec.files:
        if find_idx_file(folder, file.name) is None:
            download_file(file, folder, mirrors, retries, timeout, progress, spec)
    return folder


def download_file(
    file: IdxFile,
    folder: Path,
    mirrors: tuple[str, ...],
    retries: int,
    timeout: float,
    progress: bool,
    dataset: DatasetSpec = MNIST,
) -> Path:
    """Fetch ``file`` (one of ``dataset``'s files) from the first mirror that serves it intact;
    raise listing every failure."""
    failures: list[str] = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file.name
        for attempt in range(1, retries + 1):
            try:
                return fetch_verified(url, file, folder, timeout, progress)
            except urllib.error.HTTPError as error:
                failures.append(f"{url}: HTTP {error.code}")
                break  # the server answered: asking again will not change its mind
            except DataError as error:
                failures.append(f"{url}: {error}")
                break  # corrupt or truncated content: try the next mirror
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
                reason = getattr(error, "reason", error)
                failures.append(f"{url}: {reason} (attempt {attempt} of {retries})")
                if attempt < retries:
                    time.sleep(min(2.0, 0.5 * attempt))
    raise DownloadError(
        f"could not download {file.name}: "
        + "; ".join(failures)
        + ". "
        + dataset.missing_files_message(folder, [file.name])
    )


def fetch_verified(url: str, file: IdxFile, folder: Path, timeout: float, progress: bool) -> Path:
    """Stream ``url`` to a temporary file in ``folder``, verify, and rename it to ``file.name``."""
    target = folder / file.name
    handle, temporary = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=file.name, disable=not progress) as bar:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    bar.update(len(chunk))
            if total is not None and out.tell() != total:  # the connection dropped: worth retrying
                raise http.client.IncompleteRead(b"", total - out.tell())
        verify_download(Path(temporary), file)
        os.replace(temporary, target)
        return target
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def verify_download(path: Path, file: IdxFile) -> None:
    """Check the SHA-256 of the decompressed bytes against the canonical value (inflating no
    more than the real file's size, so a hostile server cannot send a gzip bomb)."""
    mismatch = check_sha256(decompress(path.read_bytes(), Path(file.name), max_size=file.size), file)
    if mismatch:
        raise DataError(mismatch)
