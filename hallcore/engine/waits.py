"""The wait model over the engine's state: handle times, the capacity of the open windows per series, and
who is expected to pass a ticket (`hallcore.estimates` has the arithmetic; this module feeds it)."""

from __future__ import annotations

import datetime as dt

from hallcore.engine.state import OPEN, WAITING, EngineState
from hallcore.estimates import WaitEstimate, estimate_wait, expected_jumps, passed_by_lower
from hallcore.model import Ticket
from hallcore.ordering import NORMAL_RANK, Line


def estimate_for(s: EngineState, series: str, ahead: int) -> WaitEstimate:
    """The wait for `ahead` people before a ticket of `series`, by the current order alone."""
    mean, cv = handle_stats(s, series)
    return estimate_wait(ahead, mean, series_capacity(s, series), cv=cv)


def estimate_new(s: EngineState, t: Ticket, ahead: int, now: dt.datetime) -> WaitEstimate:
    """The wait of a ticket joining its line now, counting who is expected to pass it: priority arrivals for
    a normal ticket, tickets reaching the anti-starvation or priority-run limits for a priority ticket
    (`hallcore.estimates`, "what the people ahead do not show")."""
    mean, cv = handle_stats(s, t.series)
    cap = series_capacity(s, t.series)
    rank = s.rank_of(t)
    policy = s.config.priority
    if rank == NORMAL_RANK:
        rate = s.priority_arrivals.rate(t.series, now.timestamp())
        extra = expected_jumps(ahead, mean, cap, rate, policy.aging_limit_min)
        return estimate_wait(ahead, mean, cap, cv=cv, extra=extra)
    line = s.line_of(t)
    lower_total = sum(n for r, n in line.rank_counts.items() if r > rank)
    passed = passed_by_lower(
        ahead,
        mean,
        cap,
        lambda until_s: joined_by(s, line, until_s, rank),
        lower_total,
        now.timestamp(),
        policy.aging_limit_min,
        policy.max_priority_in_row,
    )
    return estimate_wait(ahead + passed, mean, cap, cv=cv)


def joined_by(s: EngineState, line: Line, until_s: float, rank: int) -> int:
    """Waiting tickets of `line` ranked after `rank` that joined at or before `until_s`: a walk of the by-time
    heap that skips every subtree starting later, so it costs O(those counted + stale)."""
    heap = line.by_since
    tickets = s.tickets
    count = 0
    todo = [0] if heap else []
    while todo:
        i = todo.pop()
        since_s, _key, tid, token = heap[i]
        if since_s > until_s:
            continue
        x = tickets.get(tid)
        if x is not None and x.state is WAITING and x.qtoken == token and s.rank_of(x) > rank:
            count += 1
        for child in (2 * i + 1, 2 * i + 2):
            if child < len(heap):
                todo.append(child)
    return count


def note_arrival(s: EngineState, t: Ticket) -> None:
    if s.rank_of(t) != NORMAL_RANK:
        s.priority_arrivals.record(t.series, t.issued_at.timestamp())


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
