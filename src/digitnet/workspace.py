"""Arrays a layer, a loss or the trainer writes its training-step results into, made once.

A training step of 784-128-10 does about 0.3 ms of matrix products; allocating and filling a
fresh array for every intermediate (``X W + b`` makes two, ``dA * (Z > 0)`` three) cost about as
much again. So what ``forward(cache=True)`` and ``backward`` produce goes into arrays each object
keeps in a ``Workspace`` and overwrites on the next step: a result is valid until the same
object's next call, which is all a training step needs. Passes that keep nothing
(``Network.infer``, several threads at once) allocate as before and never touch a workspace.
"""

from __future__ import annotations

import numpy as np


class Workspace:
    """Named arrays, each made on first use and reused while shape and dtype allow.

    ``array(name, shape, dtype)`` returns an uninitialised array of exactly ``shape``: the one
    made before when it fits, its leading rows when the batch is smaller (an epoch's short last
    batch), a new one when the batch is larger or the dtype differs.
    """

    def __init__(self):
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        array = self._arrays.get(name)
        if array is None or array.dtype != dtype or array.shape[1:] != shape[1:] or array.shape[0] < shape[0]:
            array = self._arrays[name] = np.empty(shape, dtype)
        return array if array.shape[0] == shape[0] else array[: shape[0]]
