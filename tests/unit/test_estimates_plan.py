"""Estimates over the staffing plan (issue 29): one test per input of the wait model — the planned closures
(lunch rotation, breaks), a window back late, the sessions' break, the time per case, a slow clerk."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from hallcore import commands as c
from hallcore.config import Closure, HallConfig, Session
from hallcore.engine import Accepted, Engine
from hallcore.estimates import (
    IDLE_ESTIMATE,
    WaitEstimate,
    capacity_profile,
    estimate_planned,
    estimate_wait,
    wait_through,
)
from hallcore.handletimes import HandleTimes
from hallcore.model import Source
from tests.fakes.halls import MONDAY_9, small_hall

LUNCH = Closure(dt.time(12), dt.time(13))


def at(hour: int, minute: int = 0) -> dt.datetime:
    return MONDAY_9.replace(hour=hour, minute=minute)


def two_b_windows(closures: tuple[Closure, ...] = ()) -> HallConfig:
    """The small hall with 社保 (B, 6 minutes a case by its prior) at windows 2 and 3, window 3 with
    `closures`."""
    base = small_hall()
    w1, w2, w3 = (base.window_by_number[n] for n in (1, 2, 3))
    windows = (
        dataclasses.replace(w1, partner=None),
        dataclasses.replace(w2, partner=None),
        dataclasses.replace(w3, series=("B",), closures=closures),
    )
    return dataclasses.replace(base, windows=windows)


def ok(e: Engine, command: c.Command, now: dt.datetime) -> Accepted:
    out = e.handle(command, now)
    assert isinstance(out, Accepted), out
    return out


def issue_b(e: Engine, n: int, now: dt.datetime) -> Accepted:
    out = None
    for i in range(n):
        out = ok(e, c.IssueTicket("sb01", Source.DESK, f"k{now.timestamp()}-{i}"), now)
    assert out is not None
    return out


def width(est: WaitEstimate) -> int:
    assert est.low_min is not None
    assert est.high_min is not None
    return est.high_min - est.low_min


def point(out: Accepted) -> int:
    assert out.estimate is not None
    assert out.estimate.point_min is not None
    return out.estimate.point_min


# --- the arithmetic ----------------------------------------------------------------------------------------


def test_profile_steps_down_for_a_closure_and_back_up_after_it() -> None:
    profile = capacity_profile([(1.0, 0.0, [(20.0, 80.0)]), (1.0, 0.0, []), (0.5, 10.0, [])])
    assert profile == [(0.0, 2.0), (10.0, 2.5), (20.0, 1.5), (80.0, 2.5)]


def test_wait_through_a_profile() -> None:
    profile = [(0.0, 2.0), (20.0, 1.0), (80.0, 2.0)]
    assert wait_through(30.0, profile) == pytest.approx(15.0)
    assert wait_through(57.0, profile) == pytest.approx(37.0)  # 40 by minute 20, 17 more at 1
    assert wait_through(110.0, profile) == pytest.approx(85.0)  # 40 + 60 by minute 80, 10 more at 2
    assert wait_through(1.0, [(0.0, 0.0)]) is None
    assert wait_through(10.0, [(0.0, 0.0), (60.0, 1.0)]) == pytest.approx(70.0)


def test_a_steady_profile_is_the_plain_estimate() -> None:
    for ahead in (0, 3, 12, 40):
        assert estimate_planned(ahead, 8.0, [(0.0, 2.0)], cv=0.7) == estimate_wait(ahead, 8.0, 2.0, cv=0.7)


# --- in the engine: each input moves the estimate ---------------------------------------------------------


def test_a_planned_lunch_closure_moves_the_estimate_of_the_people_behind_it() -> None:
    plain, planned = Engine(two_b_windows()), Engine(two_b_windows((LUNCH,)))
    for e in (plain, planned):
        ok(e, c.OpenWindow(2, "s2"), at(11))
        ok(e, c.OpenWindow(3, "s3"), at(11))
        issue_b(e, 2, at(11, 39))  # both windows busy
        ok(e, c.CallNext(2), at(11, 39))
        ok(e, c.CallNext(3), at(11, 39))
    # Ten ahead at 6 minutes on two windows: 57 window-minutes. Without the plan 28.5 minutes (29); with
    # window 3 at lunch from 12:00, 40 by 12:00 and 17 more on one window: 37 minutes.
    without, with_lunch = issue_b(plain, 10, at(11, 40)), issue_b(planned, 10, at(11, 40))
    assert with_lunch.ahead == without.ahead == 9
    assert (point(without), point(with_lunch)) == (29, 37)
    # The first in line is called before the lunch turn: the plan does not touch it.
    assert plain.estimate_for("B", 0, at(11, 40)) == planned.estimate_for("B", 0, at(11, 40))


def test_a_window_on_its_lunch_turn_is_counted_back_at_its_end() -> None:
    e = Engine(two_b_windows((LUNCH,)))
    ok(e, c.OpenWindow(2, "s2"), at(11))
    ok(e, c.OpenWindow(3, "s3"), at(11))
    ok(e, c.CloseWindow(3), at(12))
    ok(e, c.CloseWindow(2), at(12, 10))  # and window 2 goes too, unplanned
    out = issue_b(e, 1, at(12, 20))
    # No window open now, but window 3 is back at 13:00: 40 minutes, then half a case.
    assert point(out) == 43
    # Without a plan, nothing open means no estimate.
    bare = Engine(two_b_windows())
    ok(bare, c.OpenWindow(2, "s2"), at(11))
    ok(bare, c.CloseWindow(2), at(12))
    assert issue_b(bare, 1, at(12, 20)).estimate.no_window_open  # type: ignore[union-attr]


def test_a_window_back_late_from_lunch_is_expected_any_minute() -> None:
    e = Engine(two_b_windows((LUNCH,)))
    ok(e, c.OpenWindow(2, "s2"), at(11))
    ok(e, c.OpenWindow(3, "s3"), at(11))
    ok(e, c.CloseWindow(3), at(12))
    late = e.estimate_for("B", 20, at(13, 5))  # window 3 due back at 13:00, still closed
    gone = e.estimate_for("B", 20, at(13, 45))  # 45 minutes late: no longer counted on
    assert late.point_min is not None
    assert gone.point_min is not None
    assert late.point_min < 0.6 * gone.point_min


def test_the_break_between_sessions_is_waited_through() -> None:
    base = two_b_windows()
    split = (Session(dt.time(8, 30), dt.time(12)), Session(dt.time(13, 30), dt.time(17)))
    hall = dataclasses.replace(base.hall, hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), split))
    e = Engine(dataclasses.replace(base, hall=hall))
    ok(e, c.OpenWindow(2, "s2"), at(11))
    issue_b(e, 1, at(11))
    ok(e, c.CallNext(2), at(11))  # the window is busy
    # 20 ahead at 6 minutes on one window: 123 minutes of service; 30 before 12:00, then 93 from 13:30.
    est = e.estimate_for("B", 20, at(11, 30))
    assert est.point_min == 30 + 90 + 93


def test_the_time_per_case_counts_the_walk_to_the_window() -> None:
    e = Engine(two_b_windows())
    ok(e, c.OpenWindow(2, "s2"), at(9))
    now = at(9)
    issue_b(e, 30, now)
    for _ in range(30):  # 2 minutes from the call to the start, 6 at the window
        ok(e, c.CallNext(2), now)
        now += dt.timedelta(minutes=2)
        ok(e, c.StartServing(2), now)
        now += dt.timedelta(minutes=6)
        ok(e, c.Finish(2), now)
    assert e.handle_times.mean("B") == pytest.approx(8.0, rel=0.05)


def test_a_slow_clerk_widens_the_range() -> None:
    steady, mixed = HandleTimes({"B": 8.0}), HandleTimes({"B": 8.0})
    for i in range(40):
        steady.observe("B", 8.0)
        mixed.observe("B", 16.0 if i % 4 == 0 else 5.0)  # one clerk in four twice as slow
    assert mixed.mean("B") == pytest.approx(steady.mean("B"), rel=0.1)
    assert width(mixed.estimate("B", 10, 2.0)) > width(steady.estimate("B", 10, 2.0)) + 5


def test_the_band_learns_its_width_from_the_halls_own_errors() -> None:
    from hallcore.estimatebands import PRIOR_RATE_SPREAD, RateSpread

    calm, rough = RateSpread(), RateSpread()
    assert calm.value() == pytest.approx(PRIOR_RATE_SPREAD)
    for i in range(200):
        calm.observe(30.0, 30.0, 0.5, 10)  # every estimate right
        rough.observe(45.0 if i % 2 else 20.0, 30.0, 0.5, 10)  # a day off its plan: ±40 %
        rough.observe(3.0, 2.0, 0.5, 10)  # too short to teach anything
    assert calm.value() < 0.05
    assert rough.value() > 0.3
    narrow = estimate_planned(10, 6.0, [(0.0, 2.0)], cv=0.5, rate_spread=calm.value())
    wide = estimate_planned(10, 6.0, [(0.0, 2.0)], cv=0.5, rate_spread=rough.value())
    assert narrow.point_min == wide.point_min
    assert width(wide) > width(narrow) + 10


def test_a_range_wider_than_the_hall_allows_says_busy_instead() -> None:
    from drivers.printing import ticket_bytes
    from hallcore.config import Estimates
    from hallcore.printout import ticket_printout

    config = dataclasses.replace(two_b_windows(), estimates=Estimates(wide_band_min=30))
    e = Engine(config)
    ok(e, c.OpenWindow(2, "s2"), at(9))
    near, far = issue_b(e, 2, at(9)), issue_b(e, 40, at(9))
    assert near.estimate is not None
    assert far.estimate is not None
    assert not near.estimate.wide
    assert far.estimate.wide
    assert width(far.estimate) > 30
    assert e.estimate_for("B", 41, at(9)).wide  # the phone page's view says the same
    printed = ticket_printout(
        config,
        label="B042",
        matter="sb01",
        priority="",
        issued_at=at(9),
        ahead=41,
        estimate=far.estimate,
        precheck=None,
        status_url="http://127.0.0.1/t",
    )
    assert printed["zh"].estimate_wide
    job = ticket_bytes(printed["zh"], 80)
    assert "人多，预计较长".encode("gb18030") in job
    assert "预计等候".encode("gb18030") not in job


def test_the_ranges_settle_to_hold_four_waits_in_five() -> None:
    from hallcore.estimatebands import BandScale

    scale = BandScale()
    for i in range(400):  # half the waits fall outside: the ranges widen
        scale.observe(30.0 if i % 2 else 50.0, 20, 40)
    assert scale.value > 1.5
    for _ in range(400):  # then every wait falls inside: they narrow again
        scale.observe(30.0, 20, 40)
    assert scale.value < 1.0
    balanced = BandScale()
    for i in range(1000):  # exactly one in five outside: it stays where it is
        balanced.observe(50.0 if i % 5 == 0 else 30.0, 20, 40)
    assert balanced.value == pytest.approx(1.0, rel=0.05)


def test_an_idle_window_calls_the_next_ticket_at_once() -> None:
    e = Engine(two_b_windows())
    ok(e, c.OpenWindow(2, "s2"), at(9))
    ok(e, c.OpenWindow(3, "s3"), at(9))
    first, second = issue_b(e, 1, at(9)), issue_b(e, 1, at(9))
    assert (first.estimate, second.estimate) == (IDLE_ESTIMATE, IDLE_ESTIMATE)  # two idle windows
    third = issue_b(e, 1, at(9))  # both windows will be busy: it waits for half a case
    assert point(third) == 2  # 0.5 x 6 min / 2 windows = 1.5 min


def test_an_idle_window_without_capacity_now_never_makes_the_people_ahead_negative() -> None:
    """An open window nobody is at, while this line has no capacity yet (it comes back in 10 minutes): the
    first ticket waits for the capacity, and no negative head count divides by zero (the fault rig's first
    issue answered 500 with it, tests/e2e/test_fuzz.py)."""
    est = estimate_planned(0, 5.0, [(0.0, 0.0), (10.0, 1.0)], idle=1)
    assert est.point_min is not None
    assert est.point_min >= 10


def test_idle_windows_that_do_not_serve_yet_take_no_one_at_once() -> None:
    # The people ahead all wait for the capacity to come: nobody is taken at once by a window counted idle
    # while the line has no capacity now.
    later = [(0.0, 0.0), (10.0, 1.0)]
    assert estimate_planned(0, 6.0, later, idle=1).point_min == 13  # 10 min, then half a 6-minute case
    assert estimate_planned(2, 6.0, later, idle=1).point_min == 25  # 10 + 2.5 x 6, not 10 + 1.5 x 6
    assert estimate_planned(0, 6.0, [(0.0, 1.0)], idle=1) == IDLE_ESTIMATE
