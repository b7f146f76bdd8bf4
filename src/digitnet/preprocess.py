"""Turn a picture of a digit into what the network was trained on: MNIST's preprocessing.

MNIST digits are white ink on black, the ink's bounding box scaled to fit 20x20 (aspect kept),
placed in a 28x28 image so that the centre of mass of the ink sits at the centre. A photo or a
drawing gets the same steps here, so a digit drawn small or in a corner still reads.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import ConfigError, DataError

INK_THRESHOLD = 0.1  # pixels darker than this (in [0, 1], ink = 1) count as background when cropping
FIT_SIZE = 20
IMAGE_SIZE = 28


def require_pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ConfigError("reading images needs Pillow: pip install 'digitnet[image]'") from None
    return Image


def load_image(path: str | os.PathLike) -> np.ndarray:
    """A PNG/JPEG/... file as grayscale float32 in [0, 1] (0 = black), shape ``(h, w)``."""
    Image = require_pillow()
    path = Path(path)
    try:
        with Image.open(path) as image:
            image = (
                image.convert("LA")
                if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
                else image.convert("L")
            )
            gray = np.asarray(image, dtype=np.float32) / 255
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise DataError(f"{path}: not a readable image ({error})") from None
    if gray.ndim == 3:  # gray + alpha: transparent pixels are paper, whatever their colour
        gray, alpha = gray[..., 0], gray[..., 1]
        gray = gray * alpha + (1 - alpha)
    return gray


def to_ink(gray: np.ndarray) -> np.ndarray:
    """Grayscale in [0, 1] -> ink intensity (1 = ink). Dark-on-light pictures (the usual pen on
    paper) are inverted; we judge by the border, which is background in a picture of a digit."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 1 - gray if border.mean() > 0.5 else gray


def mnist_preprocess(ink: np.ndarray) -> np.ndarray:
    """Ink image ``(h, w)`` in [0, 1] -> ``(28, 28)`` float32 framed as MNIST digits are.

    Crop to the ink's bounding box, scale the longer side to 20 pixels (keeping the aspect),
    then place it in 28x28 with its centre of mass at the centre (LeCun et al., 1998).
    """
    ink = np.asarray(ink, dtype=np.float32)
    if not has_ink(ink):
        return np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    cropped = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    fitted = resize_to_fit(cropped, FIT_SIZE)
    return place_by_centre_of_mass(fitted, IMAGE_SIZE)


def has_ink(image: np.ndarray) -> bool:
    """True if any pixel of an ink image in [0, 1] is darker than the background threshold:
    a blank canvas has nothing for the network to read, so it gets no answer."""
    return bool((np.asarray(image) > INK_THRESHOLD).any())


def resize_to_fit(image: np.ndarray, size: int) -> np.ndarray:
    """Scale so the longer side is ``size`` pixels, keeping the aspect ratio (Pillow's
    anti-aliased resampling, as MNIST's own normalisation anti-aliased)."""
    Image = require_pillow()
    height, width = image.shape
    scale = size / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    picture = Image.fromarray(image.astype(np.float32))  # float32 2-D arrays become mode "F"
    resized = picture.resize(new_size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def place_by_centre_of_mass(image: np.ndarray, size: int) -> np.ndarray:
    """Put ``image`` in a ``size x size`` canvas so its intensity-weighted centre is at the middle."""
    height, width = image.shape
    total = image.sum()
    centre_row = (image.sum(axis=1) @ np.arange(height)) / total
    centre_col = (image.sum(axis=0) @ np.arange(width)) / total
    top = int(round((size - 1) / 2 - centre_row))
    left = int(round((size - 1) / 2 - centre_col))
    canvas = np.zeros((size, size), dtype=np.float32)
    # paste with clipping: after centring, a very lopsided digit may stick out a little
    src_top, src_left = max(0, -top), max(0, -left)
    dst_top, dst_left = max(0, top), max(0, left)
    h = min(height - src_top, size - dst_top)
    w = min(width - src_left, size - dst_left)
    canvas[dst_top : dst_top + h, dst_left : dst_left + w] = image[src_top : src_top + h, src_left : src_left + w]
    return canvas


def preprocess_image_file(path: str | os.PathLike) -> np.ndarray:
    """An image file -> ``(784,)`` float32 in [0, 1], ready for ``Network.predict_proba``."""
    return mnist_preprocess(to_ink(load_image(path))).reshape(-1)
