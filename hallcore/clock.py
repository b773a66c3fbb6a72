"""Time, injected: the core never reads the wall clock; shells pass `now` in, tests use `FakeClock`."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going back (for timeouts and latencies)."""
        ...


class SystemClock:
    """The real clock. Built in `__main__` modules only."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)

    def monotonic(self) -> float:
        import time

        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start time")
        self._now = start
        self._mono = 0.0

    def now(self) -> dt.datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go back")
        self._now += dt.timedelta(seconds=seconds)
        self._mono += seconds

    def set(self, when: dt.datetime) -> None:
        if when < self._now:
            raise ValueError("time does not go back")
        self.advance((when - self._now).total_seconds())
