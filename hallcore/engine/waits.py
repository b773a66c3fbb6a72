"""The wait model over the engine's state: handle times, the capacity of the open windows per series, and
who is expected to pass a ticket (`hallcore.estimates` has the arithmetic; this module feeds it)."""

from __future__ import annotations

import datetime as dt

from hallcore.engine.state import OPEN, EngineState
from hallcore.estimates import WaitEstimate, estimate_wait, expected_passers
from hallcore.model import Ticket


def estimate_for(s: EngineState, series: str, ahead: int) -> WaitEstimate:
    """The wait for `ahead` people before a ticket of `series`, by the current order alone."""
    mean, cv = handle_stats(s, series)
    return estimate_wait(ahead, mean, series_capacity(s, series), cv=cv)


def estimate_new(s: EngineState, t: Ticket, ahead: int, now: dt.datetime) -> WaitEstimate:
    """The wait of a ticket joining its line now, counting who is expected to pass it: arrivals of classes
    with a longer head start than its own, soon enough to get a smaller key (`hallcore.estimates`)."""
    mean, cv = handle_stats(s, t.series)
    cap = series_capacity(s, t.series)
    extra = expected_passers(ahead, mean, cap, passer_streams(s, t, now))
    if t.priority in s.absolute and t.slot_at is None:
        # Absolute tickets let one other in after every N of them.
        extra += ahead // s.config.priority.absolute_in_row
    return estimate_wait(ahead, mean, cap, cv=cv, extra=extra)


def passer_streams(s: EngineState, t: Ticket, now: dt.datetime) -> list[tuple[float, float]]:
    """(arrivals per minute, minutes within which an arrival passes `t`) for each class of its series."""
    # A booking checked in before its slot has no head start yet: counted as a walk-in (it may do better).
    own = 0.0 if t.slot_at is not None else s.head_start(t) / 60
    own_absolute = t.slot_at is None and t.priority in s.absolute
    out = []
    for pc in s.config.priority_classes:
        rate = s.priority_arrivals.rate(arrival_key(t.series, pc.id), now.timestamp())
        if rate <= 0:
            continue
        # An absolute class passes within the longest head start; another, by the difference of head starts.
        window = s.bound_s / 60 if pc.absolute and not own_absolute else pc.head_start_min - own
        out.append((rate, window))
    return out


def arrival_key(series: str, priority: str) -> str:
    return f"{series}/{priority}"


def note_arrival(s: EngineState, t: Ticket) -> None:
    if t.priority and (s.head_start(t) > 0 or t.priority in s.absolute):
        s.priority_arrivals.record(arrival_key(t.series, t.priority), t.issued_at.timestamp())


def handle_stats(s: EngineState, series: str) -> tuple[float, float]:
    """Mean handle time and its coefficient of variation for `series`."""
    stats = s.handle_stats.get(series)
    if stats is None:
        # Mean and spread change only when a ticket is finished; recomputing them at every issue cost more
        # than the rest of the estimate.
        stats = (s.handle_times.mean(series), s.handle_times.cv(series))
        s.handle_stats[series] = stats
    return stats


def series_capacity(s: EngineState, series: str) -> float:
    """Windows' worth of service for `series`: each open window serving only it counts 1, a shared window
    (综合窗口) the share of its recent service time the series got (`ServiceShares`, 1/k at first)."""
    # Cached per series: recomputing over every open window at each issue made issuing O(windows). Any window
    # change (open, close, pause, resume, A/B takeover) clears the cache; the shares of the few shared
    # windows are read fresh.
    value = s.capacity_value.get(series)
    if value is not None:
        return value
    cached = s.capacity.get(series)
    if cached is None:
        dedicated = 0.0
        shared: list[tuple[int, tuple[str, ...]]] = []
        for n, rt in s.windows.items():
            if rt.state is not OPEN:
                continue
            served = s.series_of_window(n)
            distinct = set(served)
            if series not in distinct:
                continue
            if len(distinct) == 1:
                dedicated += 1.0
            else:
                shared.append((n, served))
        cached = (dedicated, tuple(shared))
        s.capacity[series] = cached
    dedicated, shared_windows = cached
    if shared_windows:
        means = {x: handle_stats(s, x)[0] for _n, served in shared_windows for x in served}
        value = dedicated + sum(s.shares.share(n, served, series, means) for n, served in shared_windows)
    else:
        value = dedicated
    s.capacity_value[series] = value
    return value


def capacity_changed(s: EngineState, *, windows: bool = False) -> None:
    if windows:
        s.capacity.clear()
    s.capacity_value.clear()


def observe_handle_time(s: EngineState, series: str, minutes: float) -> None:
    s.handle_times.observe(series, minutes)
    s.handle_stats.pop(series, None)
    # Shared windows weigh their series by mean handle time, so every capacity may move.
    s.capacity_value.clear()


def note_call(s: EngineState, number: int, t: Ticket) -> None:
    served = s.series_of_window(number)
    if len(served) > 1 and t.series in served:
        s.shares.observe(number, t.series)
        s.capacity_value.clear()
