"""Issue 29's inputs from the hall's history and the matters waiting: `hallcore.history.HandleHistory` (each
matter's past time at the window), `Engine.use_history`, and the people ahead counted by the matters they
came for (`HandleTimes.mix_mean`, `waits.line_mean`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

from hallcore import commands as c
from hallcore.config import HallConfig, Matter
from hallcore.engine import Accepted, Engine
from hallcore.handletimes import HandleTimes
from hallcore.history import MAX_CASE_MIN, MIN_CASES, HandleHistory
from hallcore.model import Source, Ticket, TicketState
from tests.fakes.halls import MONDAY_9, small_hall

LONG = Matter("sb02", "社保关系转移", "B", "gov", "social transfer", prior_handle_min=18)


def b_hall() -> HallConfig:
    """The small hall with a second, longer 社保 matter (sb01: 6 minutes by its prior, sb02: 18) and only
    window 2 serving B."""
    base = small_hall()
    w1, w2, w3 = (base.window_by_number[n] for n in (1, 2, 3))
    windows = (
        dataclasses.replace(w1, partner=None),
        dataclasses.replace(w2, partner=None),
        dataclasses.replace(w3, series=("C", "A")),
    )
    return dataclasses.replace(base, matters=(*base.matters, LONG), windows=windows)


def ok(e: Engine, command: c.Command, now: dt.datetime) -> Accepted:
    out = e.handle(command, now)
    assert isinstance(out, Accepted), out
    return out


def issue(e: Engine, matter: str, n: int, now: dt.datetime) -> Accepted:
    out = None
    for i in range(n):
        out = ok(e, c.IssueTicket(matter, Source.DESK, f"{matter}-{now.timestamp()}-{i}"), now)
    assert out is not None
    return out


def point(out: Accepted) -> int:
    assert out.estimate is not None
    assert out.estimate.point_min is not None
    return out.estimate.point_min


def done(matter: str, called: dt.datetime, minutes: float, state: TicketState = TicketState.DONE) -> Ticket:
    return Ticket(
        id=f"t-{matter}-{called.timestamp()}-{minutes}",
        label="B001",
        series="B",
        matter=matter,
        day=called.date(),
        number=1,
        source=Source.DESK,
        priority="",
        state=state,
        issued_at=called - dt.timedelta(minutes=10),
        since=called - dt.timedelta(minutes=10),
        key=(0.0, 0, 0),
        called_at=called,
        ended_at=called + dt.timedelta(minutes=minutes),
    )


# --- HandleHistory ------------------------------------------------------------------------------------------


def test_history_means_per_matter_leave_out_times_that_are_not_handle_times() -> None:
    h = HandleHistory.from_cases(
        [("sb01", 8.0), ("sb01", 10.0), ("sb01", math.nan), ("sb01", -1.0), ("sb01", MAX_CASE_MIN + 1)]
    )
    assert h.cases == {"sb01": 2}
    assert h.mean_min == {"sb01": pytest.approx(9.0)}


def test_history_from_tickets_takes_the_call_to_the_finish_of_finished_cases_only() -> None:
    day = MONDAY_9 - dt.timedelta(weeks=1)
    tickets = [
        done("sb01", day, 7.0),
        done("sb01", day + dt.timedelta(hours=1), 9.0),
        done("sb01", day + dt.timedelta(hours=2), 50.0, TicketState.NO_SHOW),  # not a case
        done("sb01", MONDAY_9, 30.0),  # today's: not history when `before` is today
    ]
    h = HandleHistory.from_tickets(tickets, before=MONDAY_9.replace(hour=0))
    assert h.cases == {"sb01": 2}
    assert h.mean_min["sb01"] == pytest.approx(8.0)


def test_series_priors_weigh_matters_by_their_past_cases_and_fall_back_to_the_config() -> None:
    cfg = b_hall()
    h = HandleHistory.from_cases(
        [("sb01", 10.0)] * 30 + [("sb02", 30.0)] * 10 + [("hj01", 5.0)] * (MIN_CASES - 1)
    )
    priors = h.series_priors(cfg.matters)
    assert priors["B"] == pytest.approx((30 * 10 + 10 * 30) / 40)
    # A: too few past cases, so the config's prior (hj01's default) stays; C has no history at all.
    assert priors["A"] == pytest.approx(cfg.matter_by_code["hj01"].prior_handle_min)
    assert priors["C"] == pytest.approx(4.0)
    assert h.matter_means() == {"sb01": pytest.approx(10.0), "sb02": pytest.approx(30.0)}


def test_a_history_of_longer_cases_lengthens_the_estimate_from_the_first_ticket() -> None:
    cold, warm = Engine(b_hall()), Engine(b_hall())
    warm.use_history(HandleHistory.from_cases([("sb01", 12.0)] * 40))
    for e in (cold, warm):
        ok(e, c.OpenWindow(2, "s2"), MONDAY_9)
        issue(e, "sb01", 10, MONDAY_9)
    a = point(issue(cold, "sb01", 1, MONDAY_9))
    b = point(issue(warm, "sb01", 1, MONDAY_9))
    # The idle window takes the first of the 10 at once: 9 cases and a half before the new ticket's call.
    assert a == pytest.approx(9.5 * 6, abs=1)  # the config's 6 minutes a case
    assert b == pytest.approx(9.5 * 12, abs=1)  # the history's 12


def test_todays_cases_still_move_a_mean_that_started_from_history() -> None:
    e = Engine(b_hall())
    e.use_history(HandleHistory.from_cases([("sb01", 12.0)] * 40))
    ok(e, c.OpenWindow(2, "s2"), MONDAY_9)
    now = MONDAY_9
    issue(e, "sb01", 40, now)
    for _ in range(40):  # today's clerk takes 4 minutes a case
        ok(e, c.CallNext(2), now)
        ok(e, c.StartServing(2), now)
        now += dt.timedelta(minutes=4)
        ok(e, c.Finish(2), now)
    assert 4.0 < e.handle_times.mean("B") < 6.0


# --- the people ahead by their matters ---------------------------------------------------------------------


def test_people_waiting_for_a_longer_matter_lengthen_the_wait_behind_them() -> None:
    short, long_ = Engine(b_hall()), Engine(b_hall())
    for e, matter in ((short, "sb01"), (long_, "sb02")):
        ok(e, c.OpenWindow(2, "s2"), MONDAY_9)
        issue(e, matter, 6, MONDAY_9)
    a = point(issue(short, "sb01", 1, MONDAY_9))
    b = point(issue(long_, "sb01", 1, MONDAY_9))
    assert a == pytest.approx(5.5 * 6, abs=1)  # the idle window takes the first of the 6 at once
    assert b == pytest.approx(5.5 * 18, abs=1)


def test_the_mix_scales_todays_speed_not_the_config_priors() -> None:
    times = HandleTimes.from_matters(b_hall().matters, prior_weight=1.0, window=50)
    for _ in range(49):  # today every 社保卡补办 takes 12 minutes: twice its prior
        times.observe("B", 12.0, "sb01")
    ref = times.ref("sb02")
    assert ref == 18
    # People waiting for sb02 take twice their prior as well (about 36), not the config's 18.
    assert times.mix_mean("B", times.mean("B"), ref) == pytest.approx(36.0, rel=0.05)
    assert times.mix_mean("B", times.mean("B"), 6.0) == pytest.approx(12.0, rel=0.05)


def test_the_line_sum_of_matters_is_back_to_zero_once_the_line_is_empty() -> None:
    e = Engine(b_hall())
    ok(e, c.OpenWindow(2, "s2"), MONDAY_9)
    issue(e, "sb01", 3, MONDAY_9)
    issue(e, "sb02", 2, MONDAY_9)
    assert e.line_ref["B"] == pytest.approx(3 * 6 + 2 * 18)
    now = MONDAY_9
    for _ in range(5):
        ok(e, c.CallNext(2), now)
        ok(e, c.StartServing(2), now)
        now += dt.timedelta(minutes=5)
        ok(e, c.Finish(2), now)
    assert e.line_ref["B"] == 0.0
