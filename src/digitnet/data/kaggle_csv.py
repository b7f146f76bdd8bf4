"""Kaggle "Digit Recognizer" CSV files: ``train.csv`` (``label, pixel0..pixel783``) and
``test.csv`` (``pixel0..pixel783``, no labels), read strictly with the line of any bad value."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import TextIO

import numpy as np

from ..errors import DataError
from .datasets import Dataset
from .registry import N_CLASSES, N_PIXELS


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


def parse_csv_rows(stream: TextIO, path: Path, n_columns: int) -> np.ndarray:
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
