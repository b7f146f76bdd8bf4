"""Download the four MNIST files into the user cache, verified, atomically.

Each file is tried on each mirror in order; a mirror is abandoned for that file after an HTTP
error, a network error or a checksum mismatch (after ``retries`` attempts for transient errors).
Bytes stream into a temporary file in the destination folder, which is renamed into place only
once its decompressed SHA-256 matches: an interrupted or corrupt download never leaves a file
that looks complete.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from .data import MNIST_FILES, MnistFile, decompress, find_mnist_file, idx_size, missing_files_message
from .errors import DataError, DownloadError

# The original site (yann.lecun.com) no longer serves the files; these copies are the ones the
# major frameworks download from. ``DIGITNET_MIRRORS`` (comma-separated base URLs) overrides them.
DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
CHUNK_BYTES = 1 << 16


def mirrors_from_environment() -> tuple[str, ...]:
    configured = os.environ.get("DIGITNET_MIRRORS", "")
    urls = tuple(url.strip() for url in configured.split(",") if url.strip())
    return urls or DEFAULT_MIRRORS


def download_mnist(
    folder: Path,
    mirrors: tuple[str, ...] | None = None,
    retries: int = 2,
    timeout: float = 30.0,
    progress: bool | None = None,
) -> Path:
    """Make sure ``folder`` holds all four verified MNIST files, downloading what is missing."""
    mirrors = mirrors or mirrors_from_environment()
    progress = sys.stderr.isatty() if progress is None else progress
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"{folder}: cannot create the cache folder ({error.strerror})") from None
    for spec in MNIST_FILES:
        if find_mnist_file(folder, spec.name) is None:
            download_file(spec, folder, mirrors, retries, timeout, progress)
    return folder


def download_file(spec: MnistFile, folder: Path, mirrors, retries: int, timeout: float, progress: bool) -> Path:
    """Fetch ``spec`` from the first mirror that serves it intact; raise listing every failure."""
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + spec.name
        for attempt in range(1, retries + 1):
            try:
                return fetch_verified(url, spec, folder, timeout, progress)
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
        f"could not download {spec.name}: " + "; ".join(failures) + ". " + missing_files_message(folder, [spec.name])
    )


def fetch_verified(url: str, spec: MnistFile, folder: Path, timeout: float, progress: bool) -> Path:
    """Stream ``url`` to a temporary file in ``folder``, verify, and rename it to ``spec.name``."""
    target = folder / spec.name
    handle, temporary = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=spec.name, disable=not progress) as bar:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    bar.update(len(chunk))
            if total is not None and out.tell() != total:  # the connection dropped: worth retrying
                raise http.client.IncompleteRead(b"", total - out.tell())
        verify_download(Path(temporary), spec)
        os.replace(temporary, target)
        return target
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def verify_download(path: Path, spec: MnistFile) -> None:
    """Check the SHA-256 of the decompressed bytes against the canonical value (inflating no
    more than the real file's size, so a hostile server cannot send a gzip bomb)."""
    content = decompress(path.read_bytes(), Path(spec.name), max_size=idx_size(spec))
    digest = hashlib.sha256(content).hexdigest()
    if digest != spec.sha256:
        raise DataError(f"SHA-256 mismatch: got {digest}, expected {spec.sha256}")
