"""The project's own exception types.

Every error a user can cause (a bad file, a bad option, a diverging run) is one of these, so the
CLI can print it as one line and exit non-zero, and tests can assert the exact type.
"""


class DigitnetError(Exception):
    """Base class: something the user can fix; the message says what and where."""


class DataError(DigitnetError):
    """A data file (IDX, gzip, Kaggle CSV, image) is missing, malformed or fails its checksum."""


class DownloadError(DataError):
    """MNIST could not be fetched from any mirror."""


class ModelFileError(DigitnetError):
    """A model file is truncated, tampered with, or does not match its own metadata."""


class ConfigError(DigitnetError):
    """An option or argument has a value digitnet cannot use."""


class TrainingDiverged(DigitnetError):
    """The loss or the weights became NaN or infinite during training."""


class CheckpointError(DigitnetError):
    """A training checkpoint is missing, corrupt, or was made for another network or data."""


class ExportError(DigitnetError):
    """A model cannot be exported (ONNX, static page) as asked, or the export cannot be written."""
