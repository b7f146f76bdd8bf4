"""Exercise 12: the cosine learning-rate schedule with a linear warm-up (notes section 20, eq. (20)).

For update ``t`` (counted from 0) of ``total`` updates, with peak rate ``peak`` and ``warmup``
warm-up updates:

* while ``t < warmup``: ``peak * (t + 1) / warmup``;
* then ``peak / 2 * (1 + cos(pi * progress))``, ``progress = min(1, (t - warmup) / max(1, total - warmup))``.

Grade it: ``pytest exercises/test_ex12_cosine_schedule.py``. Hints: ``hints/ex12_cosine_schedule.md``.
"""


def cosine_lr(t: int, total: int, peak: float, warmup: int = 0) -> float:
    """The learning rate of update ``t``."""
    raise NotImplementedError("exercise 12: eq. (20)")
