"""The clocks: the fake one moves only forward and only when told (tests rely on that to be repeatable), and
the real one is timezone-aware, so hall time is never guessed from the machine's zone."""

from __future__ import annotations

import datetime as dt

import pytest

from hallcore.clock import FakeClock, SystemClock

START = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)


def test_the_fake_clock_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(dt.datetime(2026, 11, 23, 9, 0))  # noqa: DTZ001  # the mistake refused


def test_the_fake_clock_never_goes_back() -> None:
    clock = FakeClock(START)
    clock.advance(90)
    clock.set(START + dt.timedelta(minutes=5))
    assert (clock.now(), clock.monotonic()) == (START + dt.timedelta(minutes=5), 300.0)
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="does not go back"):
        clock.set(START)
    assert (clock.now(), clock.monotonic()) == (START + dt.timedelta(minutes=5), 300.0)


def test_the_system_clock_is_aware_and_monotonic() -> None:
    clock = SystemClock()
    now = clock.now()
    assert now.utcoffset() == dt.timedelta(0)
    assert abs((now - dt.datetime.now(dt.UTC)).total_seconds()) < 60
    first = clock.monotonic()
    assert clock.monotonic() >= first
