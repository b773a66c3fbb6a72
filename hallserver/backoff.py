"""The wait before trying a remote again after consecutive failures (the provincial 好差评 platform, the
centre): doubling from a first wait up to a cap, drawn from the upper half of that figure ("equal jitter"), so
halls that lost the remote together do not all come back in the same second. Real time, not hall time."""

from __future__ import annotations

import random


def backoff_s(failures: int, first_s: float, max_s: float, rng: random.Random) -> float:
    """The wait after the n-th consecutive failure (n >= 1)."""
    base = min(max_s, first_s * 2.0 ** max(0, failures - 1))
    return base / 2 + rng.uniform(0, base / 2)
