"""Erlang C: how many windows an arrival rate needs for a target wait (潮汐窗口 advice, DOMAIN.md).

The model is M/M/c: Poisson arrivals at `rate` per minute, exponential handle times with mean `handle_min`,
`c` windows. Offered load A = rate × handle (Erlangs). A hall is not exactly M/M/c (handle times are closer
to lognormal and people balk), so the figure is advice for the manager, shown next to the real waits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Share of citizens who should be called within the target wait (the common 80/20 call-centre rule).
DEFAULT_LEVEL = 0.8


def erlang_b(c: int, load: float) -> float:
    """Blocking probability of c servers at `load` Erlangs (the stable recurrence, no factorials)."""
    if c < 0 or load < 0:
        raise ValueError("c and load must be >= 0")
    b = 1.0
    for k in range(1, c + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(c: int, load: float) -> float:
    """Probability that an arrival has to wait; 1.0 when the windows cannot keep up (load >= c)."""
    if load <= 0:
        return 0.0
    if c <= load:
        return 1.0
    b = erlang_b(c, load)
    return c * b / (c - load * (1 - b))


def service_level(c: int, rate_per_min: float, handle_min: float, target_min: float) -> float:
    """Share of arrivals called within `target_min`: 1 − C(c, A)·exp(−(c − A)·t / h)."""
    if rate_per_min <= 0:
        return 1.0
    if handle_min <= 0:
        raise ValueError("handle_min must be > 0")
    load = rate_per_min * handle_min
    if c <= load:
        return 0.0
    return 1.0 - erlang_c(c, load) * math.exp(-(c - load) * target_min / handle_min)


def mean_wait_min(c: int, rate_per_min: float, handle_min: float) -> float:
    """Average wait in minutes (infinite when load >= c)."""
    load = rate_per_min * handle_min
    if load <= 0:
        return 0.0
    if c <= load:
        return math.inf
    return erlang_c(c, load) * handle_min / (c - load)


@dataclass(frozen=True, slots=True)
class Advice:
    """`windows` needed so that `level` of arrivals wait at most the target; `load` in Erlangs."""

    windows: int
    load: float
    level: float  # the service level those windows reach
    mean_wait_min: float


def windows_needed(
    rate_per_min: float,
    handle_min: float,
    target_min: float,
    level: float = DEFAULT_LEVEL,
    max_windows: int = 500,
) -> Advice:
    """The fewest windows c with service_level(c) >= level (at least 1 while anyone arrives)."""
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    load = max(0.0, rate_per_min * handle_min)
    if load == 0:
        return Advice(0, 0.0, 1.0, 0.0)
    c = max(1, math.floor(load) + 1)
    while c < max_windows and service_level(c, rate_per_min, handle_min, target_min) < level:
        c += 1
    return Advice(
        c,
        load,
        service_level(c, rate_per_min, handle_min, target_min),
        mean_wait_min(c, rate_per_min, handle_min),
    )
