"""Estimates: who passes a ticket after it is issued (arrivals with a longer head start, soon enough), and how
a shared window (综合窗口) splits its service."""

from __future__ import annotations

import datetime as dt

import pytest

from hallcore import commands as c
from hallcore.engine import Accepted, Engine
from hallcore.estimates import estimate_wait
from hallcore.handletimes import ServiceShares
from hallcore.model import Source
from hallcore.passers import MAX_JUMP_SHARE, ArrivalRate, expected_passers
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


# --- expected_passers ---------------------------------------------------------------------------------------


def test_no_passers_no_extra() -> None:
    assert expected_passers(5, 10.0, 2.0, []) == 0.0
    assert expected_passers(5, 10.0, 2.0, [(0.0, 30)]) == 0.0
    assert expected_passers(5, 10.0, 0.0, [(0.1, 30)]) == 0.0
    assert expected_passers(5, 10.0, 2.0, [(0.1, 0)]) == 0.0  # a class with the same head start never passes


def test_passers_within_their_window() -> None:
    # ahead 3, mean 10, 2 windows: W0 = 17.5; share s = 0.05·10/2 = 0.25; W = 17.5/0.75 = 23.3 ≤ 30;
    # extra = 0.05 × 23.3 = 1.17 people.
    assert expected_passers(3, 10.0, 2.0, [(0.05, 30)]) == pytest.approx(0.05 * 17.5 / 0.75)


def test_passers_stop_at_their_window() -> None:
    # A long wait: a class with a 30-minute head start passes only if it arrives within 30 minutes.
    assert expected_passers(20, 10.0, 2.0, [(0.05, 30)]) == pytest.approx(0.05 * 30)
    # With a window longer than the wait, they pass all along.
    assert expected_passers(20, 10.0, 2.0, [(0.05, 1e9)]) == pytest.approx(0.05 * 102.5 / 0.75)


def test_several_classes_solve_the_wait_piece_by_piece() -> None:
    # k = mean/cap = 5. A 20-minute class fills, a 60-minute one does not: W = 17.5 + 5·(0.02·20 + 0.04·W).
    wait = (17.5 + 5 * 0.02 * 20) / (1 - 5 * 0.04)
    assert 20 < wait < 60
    got = expected_passers(3, 10.0, 2.0, [(0.02, 20), (0.04, 60)])
    assert got == pytest.approx(0.02 * 20 + 0.04 * wait)
    # The same as iterating W = W0 + k·Σ r·min(W, w) to its fixed point.
    w = 17.5
    for _ in range(200):
        w = 17.5 + 5 * (0.02 * min(w, 20) + 0.04 * min(w, 60))
    assert got == pytest.approx(0.02 * min(w, 20) + 0.04 * min(w, 60))


def test_a_flood_of_passers_is_capped() -> None:
    extra = expected_passers(3, 10.0, 1.0, [(1.0, 1e9)])
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


def test_a_priority_ticket_counts_only_the_tickets_its_head_start_does_not_pass() -> None:
    e = Engine(small_hall())
    assert isinstance(e.handle(c.OpenWindow(1, "s1"), MONDAY_9), Accepted)
    for minute in range(6):  # six normal tickets, 5 minutes apart from 09:00
        _issue(e, "hj01", MONDAY_9 + dt.timedelta(minutes=minute * 5))
    now = MONDAY_9 + dt.timedelta(minutes=30)
    out = _issue(e, "hj01", now, "elderly")
    # Head start 20: the tickets of 09:00, 09:05 and 09:10 go first; those of 09:15-09:25 come after it.
    assert out.ahead == 3
    assert e.people_ahead(out.ticket.id, now) == 3  # type: ignore[union-attr]
    military = _issue(e, "hj01", now, "military")  # head start 30: key 09:00, after the 09:00 ticket (a tie)
    assert military.ahead == 1
    assert e.people_ahead(out.ticket.id, now) == 4  # type: ignore[union-attr]


def test_a_normal_ticket_counts_priority_arrivals_to_come() -> None:
    e = Engine(small_hall())
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
    # An elderly ticket now is passed only by classes with a longer head start (military: none came).
    elderly = _issue(e, "hj01", now, "elderly")
    assert elderly.estimate is not None
    assert elderly.ahead is not None
    assert elderly.estimate == e.estimate_for("A", elderly.ahead)


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


def test_count_before_counts_like_a_full_scan() -> None:
    import random

    rng = random.Random(4)
    e = Engine(small_hall())
    assert isinstance(e.handle(c.OpenWindow(1, "s1"), MONDAY_9), Accepted)
    now = MONDAY_9
    for i in range(300):
        now += dt.timedelta(seconds=rng.uniform(0, 60))
        _issue(e, "hj01", now, rng.choice(["", "", "", "elderly", "military"]))
        if i % 7 == 0:
            for cmd in (c.CallNext(1), c.StartServing(1), c.Finish(1)):
                assert isinstance(e.handle(cmd, now), Accepted)
    line = e.lines["A"]
    keys = [t.key for t in e.tickets.values() if t.state.value == "waiting"]
    assert line.count == len(keys)
    for minutes in (0, 30, 90, 200, 400):
        bound = ((MONDAY_9 + dt.timedelta(minutes=minutes)).timestamp(), 10**9, 0)
        assert line.count_before(bound, e.tickets) == sum(1 for k in keys if k < bound)
