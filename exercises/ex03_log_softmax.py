"""Exercise 3: a softmax and a log-softmax that never overflow (notes sections 9 and 10, eq. (3) and (4)).

For each row ``z`` of ``Z`` (shape ``(n, k)``), with ``m = max_j z_j``:

* ``softmax``: ``p_c = exp(z_c - m) / sum_j exp(z_j - m)``, rows summing to 1;
* ``log_softmax``: ``log p_c = z_c - m - log(sum_j exp(z_j - m))``, finite even when ``p_c``
  underflows to 0.

Both must work for logits as large as 1000 in float32 (``exp(89)`` is already infinite there) and
keep the input's dtype.

Grade it: ``pytest exercises/test_ex03_log_softmax.py``. Hints: ``hints/ex03_log_softmax.md``.
"""

import numpy as np


def softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, ``(n, k)`` -> ``(n, k)``."""
    raise NotImplementedError("exercise 3: softmax with the max shift")


def log_softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax, ``(n, k)`` -> ``(n, k)``."""
    raise NotImplementedError("exercise 3: log-softmax by the log-sum-exp trick")
