"""Who will pass a ticket: the people ahead count only those in the line now; arrivals with a longer head
start pass it if they come soon enough (`ArrivalRate`, `expected_passers`)."""

from __future__ import annotations

import math
from collections.abc import Iterable

#
# `ahead` counts who would be called first *if nobody else arrived*. Arrivals with a longer head start than a
# ticket's own do arrive, and pass it if they come soon enough (DESIGN.md §4: the line is ordered by effective
# time − head start): a class with head start h passes a normal ticket if it arrives within h minutes of it, a
# ticket with head start h0 < h if it arrives within h − h0; an absolute class passes within the longest head
# start. Leaving the passers out made the simulated provincial day's estimates minutes short for normal
# tickets.

#: Time constant of the priority arrival rate: long enough to be steady, short enough to follow the day.
ARRIVAL_TAU_MIN = 60.0
#: Passers never count as taking more than this share of the windows' service (keeps the estimate finite when
#: a burst of bookings checks in at once).
MAX_JUMP_SHARE = 0.5


class ArrivalRate:
    """Events per minute per key, exponentially weighted with time constant `tau_min`.

    After each event the count decays as exp(−Δt/τ); the rate is count/τ, divided by 1 − exp(−(t − t0)/τ)
    where t0 is when observation began, so the first hour of a day is not read as a slow one. A gap of more
    than four time constants (the night) starts the observation again. Times are POSIX seconds.
    """

    def __init__(self, tau_min: float = ARRIVAL_TAU_MIN) -> None:
        if not (math.isfinite(tau_min) and tau_min > 0):
            raise ValueError(f"tau_min must be > 0, got {tau_min!r}")
        self._tau_s = tau_min * 60.0
        self._counts: dict[str, tuple[float, float]] = {}  # key -> (weighted count, at)
        self._t0: float | None = None
        self._last: float | None = None

    def _see(self, at: float) -> None:
        if self._last is None or at - self._last > 4 * self._tau_s:
            self._t0 = at
            self._counts.clear()
        self._last = at if self._last is None else max(self._last, at)

    def record(self, key: str, at: float) -> None:
        """One event of `key` at `at`."""
        self._see(at)
        count, then = self._counts.get(key, (0.0, at))
        self._counts[key] = (count * math.exp(-max(0.0, at - then) / self._tau_s) + 1.0, at)

    def rate(self, key: str, at: float) -> float:
        """The rate of `key` per minute as of `at` (0 before any event)."""
        self._see(at)
        found = self._counts.get(key)
        if found is None or self._t0 is None:
            return 0.0
        count, then = found
        decayed = count * math.exp(-max(0.0, at - then) / self._tau_s)
        observed = max(at - self._t0, 60.0)  # at least a minute, so one early event is not a flood
        return decayed / (self._tau_s / 60.0) / (1.0 - math.exp(-observed / self._tau_s))


def expected_passers(
    ahead: int, mean_handle_min: float, capacity: float, streams: Iterable[tuple[float, float]]
) -> float:
    """People expected to go ahead of a new ticket while it waits. Each stream is (rate per minute, window in
    minutes): arrivals that pass the ticket if they come within `window` minutes of it.

    Each passer takes one case of service: with k = mean/capacity the wait W solves
    W = (ahead + 0.5)·k + k·Σ rate·min(W, window) (piecewise linear, solved exactly), and the passers are
    Σ rate·min(W, window). The passers' share k·Σ rate is capped at MAX_JUMP_SHARE by scaling the rates.
    """
    if capacity <= 0 or mean_handle_min <= 0:
        return 0.0
    live = sorted((w, r) for r, w in streams if r > 0 and w > 0)
    if not live:
        return 0.0
    k = mean_handle_min / capacity
    share = k * sum(r for _w, r in live)
    if share > MAX_JUMP_SHARE:
        live = [(w, r * MAX_JUMP_SHARE / share) for w, r in live]
    base = (ahead + 0.5) * k
    # On the piece where the first j windows are already full: W = (base + k·Σ_{<j} r·w) / (1 − k·Σ_{>=j} r).
    full = 0.0
    open_rate = sum(r for _w, r in live)
    low = 0.0
    wait = base
    for w, r in live:
        wait = (base + k * full) / (1.0 - k * open_rate)
        if wait <= w:
            break
        full += r * w
        open_rate -= r
        low = w
    else:
        wait = base + k * full
    wait = max(wait, low)
    return sum(r * min(wait, w) for w, r in live)
