"""Issue 29: at start (and each reload) the server reads each matter's past time at the window from its store
(`hallserver.loader.read_history`) and the estimator starts the day from it, not from the config's guesses."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
import shutil
import sqlite3

import pytest

from hallcore.config import HallConfig
from hallcore.engine import Engine
from hallcore.history import HISTORY_DAYS, HandleHistory
from hallcore.model import Source, Ticket, TicketState
from hallserver import rows
from hallserver.loader import load_engine, read_history
from tests.fakes.live_server import MONDAY_9


def past_case(
    n: int, day: dt.date, matter: str, minutes: float, state: TicketState = TicketState.DONE
) -> Ticket:
    called = dt.datetime.combine(day, dt.time(9), MONDAY_9.tzinfo) + dt.timedelta(minutes=20 * n)
    return Ticket(
        id=f"{day.isoformat()}/A{n:03d}",
        day=day,
        series="A",
        number=n,
        label=f"A{n:03d}",
        matter=matter,
        source=Source.KIOSK,
        priority="",
        state=state,
        issued_at=called - dt.timedelta(minutes=15),
        since=called - dt.timedelta(minutes=15),
        key=(0.0, n, 0),
        called_at=called,
        serving_at=called + dt.timedelta(minutes=1),
        ended_at=called + dt.timedelta(minutes=minutes),
    )


def assert_same(got: HandleHistory, expected: HandleHistory) -> None:
    assert got.cases == expected.cases
    assert got.mean_min == pytest.approx(expected.mean_min)
    for name in ("matters", "weekdays", "hours"):
        mine, theirs = getattr(got, name), getattr(expected, name)
        assert mine.keys() == theirs.keys()
        for key, cell in mine.items():
            assert dataclasses.astuple(cell) == pytest.approx(dataclasses.astuple(theirs[key]), abs=1e-6), (
                name,
                key,
            )


@pytest.fixture
def db(tmp_path: pathlib.Path, seeded_db: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "hall.db"
    shutil.copy(seeded_db, path)
    return path


def test_the_estimator_starts_the_day_from_the_stores_past_cases(
    db: pathlib.Path, county: HallConfig
) -> None:
    today = MONDAY_9.date()
    tickets = [past_case(n, today - dt.timedelta(days=7), "HJ01", 30.0) for n in range(1, 21)]
    tickets += [past_case(n, today - dt.timedelta(days=1), "HJ02", 20.0) for n in range(21, 31)]
    # Not history: a no-show, a case older than the history reaches, today's own case, and a case whose
    # finish cannot be read (a damaged row is left out, not the whole history).
    tickets.append(past_case(31, today - dt.timedelta(days=2), "HJ01", 90.0, TicketState.NO_SHOW))
    tickets.append(past_case(32, today - dt.timedelta(days=HISTORY_DAYS + 1), "HJ01", 90.0))
    tickets.append(past_case(33, today, "HJ01", 90.0))
    tickets.append(past_case(34, today - dt.timedelta(days=3), "HJ01", 90.0))
    with sqlite3.connect(db) as conn:
        conn.executemany(rows.TICKETS.upsert, [rows.TICKETS.row(t) for t in tickets])
        conn.execute("UPDATE tickets SET ended_at = 'not a time' WHERE id = ?", (tickets[-1].id,))
    tz = Engine(county).calendar.tz
    conn = sqlite3.connect(db)
    try:
        history = read_history(conn, today, tz)
        assert history.cases == {"HJ01": 20, "HJ02": 10}
        assert history.mean_min == {"HJ01": pytest.approx(30.0), "HJ02": pytest.approx(20.0)}
        # The same as the pure definition over the same tickets (one home for what a case's time is; SQLite
        # computes it to the millisecond).
        expected = HandleHistory.from_tickets(tickets[:30], tz=tz)
        assert_same(history, expected)
        conn.execute("DELETE FROM tickets WHERE id = ?", (tickets[-1].id,))  # load_engine parses every row
        # Per weekday and hour of the hall's clock: HJ01's cases were on a Monday, called 9:20 to 15:40.
        assert history.weekdays[("HJ01", 0)].cases == 20
        assert sorted(h for m, _d, h in history.hours if m == "HJ01") == list(range(9, 16))
        engine = Engine(county)
        cold = engine.handle_times.prior("A")
        load_engine(engine, conn, MONDAY_9)
    finally:
        conn.close()
    assert cold == pytest.approx(sum(m.prior_handle_min for m in county.matters if m.series == "A") / 6)
    assert engine.handle_times.prior("A") == pytest.approx((20 * 30 + 10 * 20) / 30)
    assert engine.handle_times.ref("HJ01") == pytest.approx(30.0)
