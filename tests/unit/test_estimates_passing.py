"""Estimates: who passes a ticket after it is issued (priority arrivals, anti-starvation, priority runs),
and how a shared window (综合窗口) splits its service."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable

import pytest

from hallcore import commands as c
from hallcore.engine import Accepted, Engine
from hallcore.estimates import (
    MAX_JUMP_SHARE,
    ArrivalRate,
    ServiceShares,
    estimate_wait,
    expected_jumps,
    passed_by_lower,
)
from hallcore.model import Source
from tests.fakes.halls import MONDAY_9, small_hall

T0 = MONDAY_9.timestamp()


# --- ArrivalRate -------------------------------------------------------------------------------------------


def test_steady_arrivals_give_their_rate() -> None:
    rate = ArrivalRate(tau_min=60)
    for i in range(90):  # one every 2 minutes for 3 hours
        rate.record("A", T0 + i * 120)
    assert rate.rate("A", T0 + 89 * 120) == pytest.approx(0.5, rel=0.1)


def test_the_first_minutes_are_not_read_as_a_slow_day() -> None:
    rate = ArrivalRate(tau_min=60)
    for i in range(6):  # one every 2 minutes for the first 10 minutes
        rate.record("A", T0 + i * 120)
    assert rate.rate("A", T0 + 600) == pytest.approx(0.5, rel=0.25)


def test_rate_fades_and_the_night_starts_over() -> None:
    rate = ArrivalRate(tau_min=60)
    for i in range(60):
        rate.record("A", T0 + i * 60)
    busy = rate.rate("A", T0 + 3600)
    assert rate.rate("A", T0 + 2 * 3600) < busy / 2
    assert rate.rate("A", T0 + 16 * 3600) == 0.0
    assert rate.rate("B", T0 + 3600) == 0.0


def test_tau_must_be_positive() -> None:
    with pytest.raises(ValueError, match="tau_min"):
        ArrivalRate(tau_min=0)


# --- expected_jumps -----------------------------------------------------------------------------------------


def test_no_priority_arrivals_no_jumps() -> None:
    assert expected_jumps(5, 10.0, 2.0, 0.0, 30) == 0.0
    assert expected_jumps(5, 10.0, 0.0, 0.1, 30) == 0.0


def test_jumps_within_the_aging_limit() -> None:
    # ahead 3, mean 10, 2 windows: W0 = 17.5; share s = 0.05·10/2 = 0.25; W = 17.5/0.75 = 23.3 ≤ 30;
    # extra = 0.05 × 23.3 = 1.17 people.
    assert expected_jumps(3, 10.0, 2.0, 0.05, 30) == pytest.approx(0.05 * 17.5 / 0.75)


def test_jumps_stop_at_the_aging_limit() -> None:
    # A long wait: priority arrivals pass only during the first 30 minutes.
    assert expected_jumps(20, 10.0, 2.0, 0.05, 30) == pytest.approx(0.05 * 30)
    # Without a limit they pass all along.
    assert expected_jumps(20, 10.0, 2.0, 0.05, None) == pytest.approx(0.05 * 102.5 / 0.75)


def test_a_flood_of_priority_arrivals_is_capped() -> None:
    extra = expected_jumps(3, 10.0, 1.0, 1.0, None)
    assert extra == pytest.approx(MAX_JUMP_SHARE / 10.0 * 35 / (1 - MAX_JUMP_SHARE))


def test_extra_people_lengthen_the_estimate_and_widen_nothing_else() -> None:
    plain = estimate_wait(4, 10.0, 1.0)
    more = estimate_wait(4, 10.0, 1.0, extra=1.0)
    assert more == estimate_wait(5, 10.0, 1.0)
    assert plain.point_min is not None
    assert more.point_min is not None
    assert more.point_min > plain.point_min
    with pytest.raises(ValueError, match="extra"):
        estimate_wait(4, 10.0, 1.0, extra=-1.0)


def joined(lower: list[float]) -> Callable[[float], int]:
    return lambda until_s: bisect.bisect_right(lower, until_s)


# --- passed_by_lower ---------------------------------------------------------------------------------------


def test_nobody_lower_nobody_passes() -> None:
    assert passed_by_lower(3, 10.0, 1.0, joined([]), 0, T0, 30, 3) == 0


def test_lower_tickets_that_will_age_before_the_call_pass() -> None:
    # Normal tickets joined 25, 20 and 5 minutes ago; the new priority ticket has 1 ahead.
    lower = [T0 - 25 * 60, T0 - 20 * 60, T0 - 5 * 60]
    # Cases of 10 min: called in 15 min, when the first two are past 30 min; they pass, pushing the call
    # to 35 min, when the third is past the limit too.
    assert passed_by_lower(1, 10.0, 1.0, joined(lower), len(lower), T0, 30, None) == 3
    # Cases of 5 min: called in 7.5 min (one passes), then 12.5 (two), then 17.5: the third would need 25.
    assert passed_by_lower(1, 5.0, 1.0, joined(lower), len(lower), T0, 30, None) == 2
    assert passed_by_lower(1, 5.0, 1.0, joined(lower), len(lower), T0, None, None) == 0


def test_priority_run_limit_lets_normal_tickets_in() -> None:
    lower = [T0 - 60, T0]
    assert passed_by_lower(6, 1.0, 1.0, joined(lower), len(lower), T0, None, 3) == 2
    assert passed_by_lower(2, 1.0, 1.0, joined(lower), len(lower), T0, None, 3) == 0
    assert passed_by_lower(6, 1.0, 1.0, joined(lower), len(lower), T0, None, None) == 0


# --- ServiceShares -----------------------------------------------------------------------------------------


def test_a_shared_window_starts_at_one_over_k() -> None:
    shares = ServiceShares()
    assert shares.share(3, ("C", "A", "B"), "A", {}) == pytest.approx(1 / 3)
    assert shares.share(3, ("C", "A", "B"), "X", {}) == 0.0


def test_a_shared_window_busy_with_its_first_series_has_little_for_the_others() -> None:
    shares = ServiceShares()
    for _ in range(30):
        shares.observe(3, "C")
    means = {"A": 10.0, "B": 10.0, "C": 10.0}
    first = shares.share(3, ("C", "A", "B"), "C", means)
    later = shares.share(3, ("C", "A", "B"), "A", means)
    assert first > 0.8
    assert later < 0.1
    assert first + 2 * later == pytest.approx(1.0)


def test_shares_weigh_calls_by_handle_time() -> None:
    shares = ServiceShares(alpha=1.0)  # only the last call counts, against the prior's 2
    shares.observe(3, "A")
    shares.observe(3, "B")  # last call only: weight 1 for B
    assert shares.share(3, ("A", "B"), "B", {"A": 5.0, "B": 20.0}) == pytest.approx((2 * 0.5 + 1) / 3)


# --- in the engine -----------------------------------------------------------------------------------------


def _issue(e: Engine, matter: str, now: dt.datetime, priority: str = "") -> Accepted:
    out = e.handle(c.IssueTicket(matter, Source.DESK, f"t{now.timestamp()}{priority}", priority), now)
    assert isinstance(out, Accepted)
    return out


def test_a_priority_ticket_behind_an_old_queue_is_told_the_truth() -> None:
    e = Engine(small_hall(aging_limit_min=30))
    assert isinstance(e.handle(c.OpenWindow(1, "s1"), MONDAY_9), Accepted)
    for minute in range(6):  # six normal tickets, 10 minutes apart from 09:00
        _issue(e, "hj01", MONDAY_9 + dt.timedelta(minutes=minute * 5))
    now = MONDAY_9 + dt.timedelta(minutes=30)
    out = _issue(e, "hj01", now, "elderly")
    assert out.ahead == 0
    plain = e.estimate_for("A", 0)
    assert out.estimate is not None
    assert out.estimate.point_min is not None
    assert plain.point_min is not None
    # The tickets from 09:00 and 09:05 are past the limit by the time it would be called: they go first.
    assert out.estimate.point_min > plain.point_min


def test_a_normal_ticket_counts_priority_arrivals_to_come() -> None:
    e = Engine(small_hall(aging_limit_min=30))
    assert isinstance(e.handle(c.OpenWindow(1, "s1"), MONDAY_9), Accepted)
    for minute in range(0, 30, 3):
        _issue(e, "hj01", MONDAY_9 + dt.timedelta(minutes=minute), "elderly")
    now = MONDAY_9 + dt.timedelta(minutes=30)
    out = _issue(e, "hj01", now)
    assert out.ahead is not None
    assert out.estimate is not None
    assert out.estimate.point_min is not None
    plain = e.estimate_for("A", out.ahead).point_min
    assert plain is not None
    assert out.estimate.point_min > plain


def test_a_shared_window_counts_the_share_it_really_gives() -> None:
    e = Engine(small_hall())
    assert isinstance(e.handle(c.OpenWindow(3, "s3"), MONDAY_9), Accepted)
    now = MONDAY_9
    before = e.estimate_for("A", 4).point_min
    for _ in range(10):  # the 综合窗口 serves C first, and C keeps coming
        _issue(e, "zh01", now)
        assert isinstance(e.handle(c.CallNext(3), now), Accepted)
        now += dt.timedelta(minutes=1)
        assert isinstance(e.handle(c.StartServing(3), now), Accepted)
        now += dt.timedelta(minutes=4)
        assert isinstance(e.handle(c.Finish(3), now), Accepted)
    after = e.estimate_for("A", 4).point_min
    assert before is not None
    assert after is not None
    assert after > 2 * before


def test_joined_by_counts_like_a_full_scan() -> None:
    import random

    from hallcore.engine.waits import joined_by
    from hallcore.ordering import NORMAL_RANK, iter_waiting

    rng = random.Random(4)
    e = Engine(small_hall(aging_limit_min=30))
    assert isinstance(e.handle(c.OpenWindow(1, "s1"), MONDAY_9), Accepted)
    now = MONDAY_9
    for i in range(300):
        now += dt.timedelta(seconds=rng.uniform(0, 60))
        _issue(e, "hj01", now, rng.choice(["", "", "", "elderly"]))
        if i % 7 == 0:
            for cmd in (c.CallNext(1), c.StartServing(1), c.Finish(1)):
                assert isinstance(e.handle(cmd, now), Accepted)
    line = e.lines["A"]
    for minutes in (0, 30, 90, 200, 400):
        until = (MONDAY_9 + dt.timedelta(minutes=minutes)).timestamp()
        for rank in (1, NORMAL_RANK - 1):
            brute = sum(
                1 for r, t in iter_waiting(line, e.tickets) if r > rank and t.since.timestamp() <= until
            )
            assert joined_by(e, line, until, rank) == brute
