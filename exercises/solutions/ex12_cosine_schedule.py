"""Exercise 12, a solution: the cosine schedule with warm-up (notes eq. (20))."""

import math


def cosine_lr(t: int, total: int, peak: float, warmup: int = 0) -> float:
    if t < warmup:
        return peak * (t + 1) / warmup
    progress = min(1.0, (t - warmup) / max(1, total - warmup))
    return peak / 2 * (1 + math.cos(math.pi * progress))
