"""Write files so that a reader never sees half of one: temporary file, then rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import DigitnetError


def write_atomically(path: str | os.PathLike, data: bytes, error_type: type[DigitnetError] = DigitnetError) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    The rename is atomic on POSIX, so ``path`` holds either its old content or all of ``data``,
    even if the process dies midway. Raises ``error_type`` naming the file if the folder does
    not exist or cannot be written.
    """
    path = Path(path)
    check_writable_destination(path, error_type)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as error:
        raise error_type(f"{path}: cannot write ({error.strerror})") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def check_writable_destination(path: str | os.PathLike, error_type: type[DigitnetError] = DigitnetError) -> None:
    """Fail early, before hours of work, if ``path`` cannot be written."""
    path = Path(path)
    if not path.parent.is_dir():
        raise error_type(f"{path}: cannot write, folder {path.parent} does not exist")
    if path.is_dir():
        raise error_type(f"{path}: is a folder, expected a file name")
    if not os.access(path.parent, os.W_OK):
        raise error_type(f"{path}: cannot write, folder {path.parent} is not writable")
