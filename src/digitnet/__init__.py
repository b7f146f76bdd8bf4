"""digitnet: a neural network written from scratch in NumPy that reads handwritten digits.

The layers, losses, optimizers and backpropagation are plain NumPy, one equation of the math
notes (``docs/my_note.md``) per line; see the README for the layout.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("digitnet")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
