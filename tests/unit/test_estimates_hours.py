"""Issue 29: the hour and weekday of a case as an input of the estimate. The hall's history keeps each
matter's handle-time distribution per weekday and hour (`HandleHistory.dist`, shrunk towards the matter when
a cell is thin), and the engine paces the people ahead by the hours they will be handled in
(`hallcore.engine.pace`)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from hallcore import commands as c
from hallcore.engine import Engine
from hallcore.history import (
    CELL_PRIOR_CASES,
    DEFAULT_LOG_SD,
    MIN_CASES,
    CellStats,
    HandleHistory,
    Slot,
    TimedCase,
    slot_of,
)
from tests.fakes.halls import MONDAY_9
from tests.unit.test_estimates_history import b_hall, issue, ok, point

WEDNESDAY_14 = MONDAY_9 + dt.timedelta(days=2, hours=5)


def at(day: dt.datetime, hour: int, minute: int = 0) -> dt.datetime:
    return day.replace(hour=hour, minute=minute)


def slot(day: dt.datetime, hour: int) -> Slot:
    return slot_of(at(day, hour), day.tzinfo or dt.UTC)


def slow_monday_mornings(weeks: int = 4) -> list[TimedCase]:
    """sb01 over `weeks` weeks: 24 minutes on Monday from 9 to 11, 8 minutes at every other hour of Monday
    and Wednesday (15 cases per hour and day)."""
    cases: list[TimedCase] = []
    for week in range(1, weeks + 1):
        for day in (MONDAY_9, MONDAY_9 + dt.timedelta(days=2)):
            d = day - dt.timedelta(weeks=week)
            for hour in range(9, 17):
                slow = d.weekday() == 0 and hour in (9, 10)
                cases += [("sb01", 24.0 if slow else 8.0, slot(d, hour))] * 15
    return cases


# --- the history's cells --------------------------------------------------------------------------------


def test_a_cell_keeps_count_mean_log_spread_and_quantiles() -> None:
    cell = CellStats.of([4.0, 8.0, 16.0])
    assert cell.cases == 3
    assert cell.mean_min == pytest.approx(28 / 3)
    assert cell.log_mean == pytest.approx(math.log(8.0))
    assert cell.log_sd == pytest.approx(math.log(2.0))
    assert cell.p50_min == 8.0
    assert cell.p90_min == pytest.approx(14.4)


def test_a_full_cell_speaks_for_itself_and_a_thin_one_leans_on_its_matter() -> None:
    h = HandleHistory.from_timed(slow_monday_mornings())
    monday_9 = h.dist("sb01", 0, 9, 6.0)
    wednesday_14 = h.dist("sb01", 2, 14, 6.0)
    assert monday_9.cases == 60
    assert 18.0 < monday_9.mean_min < 24.0  # its own 60 cases, pulled a little towards Monday's 12
    assert 7.0 < wednesday_14.mean_min < 8.5
    # An hour with no case of its own (Monday 7:00) is Monday as a whole, itself shrunk towards the matter.
    monday = h.weekdays[("sb01", 0)]
    whole = h.mean_min["sb01"]
    expected = (whole * CELL_PRIOR_CASES + monday.mean_min * monday.cases) / (CELL_PRIOR_CASES + monday.cases)
    assert h.dist("sb01", 0, 7, 6.0).mean_min == pytest.approx(expected)
    assert h.dist("sb01", 0, 7, 6.0).cases == 0
    # One case in a cell moves it by 1/(CELL_PRIOR_CASES + 1) of its difference, not all the way.
    thin = HandleHistory.from_timed(
        [("sb01", 8.0, slot(MONDAY_9, 14))] * 40 + [("sb01", 60.0, slot(MONDAY_9, 9))]
    )
    moved = thin.dist("sb01", 0, 9, 6.0).mean_min - thin.dist("sb01", 0, 14, 6.0).mean_min
    assert 0 < moved < 5.0


def test_a_matter_with_too_few_cases_keeps_the_configs_prior_and_spread() -> None:
    h = HandleHistory.from_timed([("sb01", 30.0, slot(MONDAY_9, 9))] * (MIN_CASES - 1))
    d = h.dist("sb01", 1, 9, 6.0)  # a Tuesday: no cell of its own
    assert (d.mean_min, d.log_sd, d.cases) == (6.0, DEFAULT_LOG_SD, 0)
    assert d.quantile(0.5) < d.mean_min < d.quantile(0.9)  # lognormal: the median below the mean
    with pytest.raises(ValueError, match="q must be"):
        d.quantile(1.0)


def test_cases_without_times_make_no_cells() -> None:
    h = HandleHistory.from_cases([("sb01", 10.0)] * 20)
    assert not h.has_hours
    assert h.dist("sb01", 0, 9, 6.0).mean_min == pytest.approx(10.0)


# --- the engine -----------------------------------------------------------------------------------------


def waiting_estimate(now: dt.datetime, history: HandleHistory | None) -> int:
    e = Engine(b_hall())
    if history is not None:
        e.use_history(history)
    ok(e, c.OpenWindow(2, "s2"), now)
    issue(e, "sb01", 8, now)
    return point(issue(e, "sb01", 1, now))


def test_a_matter_slow_on_monday_mornings_waits_longer_then_than_on_a_wednesday_afternoon() -> None:
    history = HandleHistory.from_timed(slow_monday_mornings())
    monday, wednesday = waiting_estimate(MONDAY_9, history), waiting_estimate(WEDNESDAY_14, history)
    # 7.5 cases ahead: on Monday at 9 the first six or so take ~20 minutes, the rest (after 11) ~8.
    assert monday > 1.5 * wednesday
    assert wednesday == pytest.approx(7.5 * 8, abs=4)
    # Without the hours (the same cases, no times), both are the whole day's mean.
    flat = HandleHistory.from_cases((m, minutes) for m, minutes, _at in slow_monday_mornings())
    assert waiting_estimate(MONDAY_9, flat) == waiting_estimate(WEDNESDAY_14, flat)


def test_no_history_no_pace() -> None:
    assert (
        waiting_estimate(MONDAY_9, None)
        == waiting_estimate(WEDNESDAY_14, None)
        == pytest.approx(7.5 * 6, abs=1)
    )


def test_a_case_as_slow_as_its_hour_always_is_not_a_slow_clerk() -> None:
    """Today's cases are measured against what their matter takes at the hour they were handled: Monday
    9:00's 24-minute cases, as slow as every Monday at 9, leave the afternoon's estimate at its usual pace."""
    history = HandleHistory.from_timed(slow_monday_mornings())
    e = Engine(b_hall())
    e.use_history(history)
    now = MONDAY_9
    ok(e, c.OpenWindow(2, "s2"), now)
    issue(e, "sb01", 5, now)
    for _ in range(5):
        ok(e, c.CallNext(2), now)
        ok(e, c.StartServing(2), now)
        now += dt.timedelta(minutes=24)
        ok(e, c.Finish(2), now)
    assert e.handle_times.mean("B") > 14.0  # the raw recent mean: the morning's slow cases
    afternoon = at(MONDAY_9, 14)
    issue(e, "sb01", 8, afternoon)
    # The people ahead at 14:00 take about the afternoon's 8 minutes each, not the morning's 24.
    assert point(issue(e, "sb01", 1, afternoon)) < 7.5 * 12
