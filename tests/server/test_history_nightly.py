"""Issue 29: a server that runs past midnight reads the estimator's history again for the new day
(`hallserver.nightly.HistoryRefresh`), once, off the event loop, and swaps it in between commands; a failed
read keeps the running history, says why, and is tried again later. A real SQLite store, a fake clock."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import pathlib
import shutil
import sqlite3
import threading
from collections.abc import Iterator

import pytest

from hallcore.clock import FakeClock
from hallcore.config import Durability, HallConfig
from hallcore.history import HandleHistory
from hallserver import rows
from hallserver.loader import read_history
from hallserver.nightly import RETRY_S
from hallserver.service import Settings
from tests.fakes.live_server import COUNTY, MONDAY_9, wait_for
from tests.server.conftest import Running, start_server
from tests.server.test_history_load import past_case

MONDAY = MONDAY_9.date()
TUESDAY_0 = MONDAY_9.replace(hour=0) + dt.timedelta(days=1)


@contextlib.contextmanager
def hall_with_history(
    tmp_path: pathlib.Path, config: HallConfig | pathlib.Path, seeded_db: pathlib.Path
) -> Iterator[Running]:
    """The county hall at Monday 23:50 with last Monday's 20 cases of HJ01 at 30 minutes (its history) and
    today's 10 at 60 minutes (not history until tomorrow); housekeeping every 50 ms."""
    db = tmp_path / "hall.db"
    shutil.copy(seeded_db, db)
    tickets = [past_case(n, MONDAY - dt.timedelta(days=7), "HJ01", 30.0) for n in range(1, 21)]
    tickets += [past_case(n, MONDAY, "HJ01", 60.0) for n in range(901, 911)]
    with sqlite3.connect(db) as conn:
        conn.executemany(rows.TICKETS.upsert, [rows.TICKETS.row(t) for t in tickets])
    conn.close()
    settings = Settings(heartbeat_s=0.5, tick_s=0.05, freeze_gc=False, durability=Durability.NORMAL)
    clock = FakeClock(MONDAY_9.replace(hour=23, minute=50))
    with start_server(tmp_path, config, seeded_db, settings, clock, db) as (_st, r):
        yield r


@pytest.fixture
def running(tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path) -> Iterator[Running]:
    with hall_with_history(tmp_path, county, seeded_db) as r:
        yield r


def hj01_cases(r: Running) -> int:
    with r.hall.store.engine_lock:
        history = r.hall.store.engine.history
        assert history is not None
        return history.cases.get("HJ01", 0)


def prior_a(r: Running) -> float:
    with r.hall.store.engine_lock:
        return r.hall.store.engine.handle_times.prior("A")


def checks_after(r: Running, n: int) -> None:
    """Wait for `n` more housekeeping checks of the history (a hang guard, no sleep)."""
    target = r.hall.history.checks + n
    wait_for(lambda: r.hall.history.checks >= target, what=f"{n} more history checks")


def test_past_midnight_the_history_is_read_once_and_the_new_day_estimates_from_it(running: Running) -> None:
    r = running
    checks_after(r, 3)
    assert (r.hall.history.day, r.hall.history.refreshed) == (MONDAY, 0)
    assert hj01_cases(r) == 20
    assert prior_a(r) == pytest.approx(30.0)
    r.clock.set(TUESDAY_0 + dt.timedelta(seconds=30))
    wait_for(lambda: r.hall.history.refreshed == 1, what="the nightly history")
    # Monday's 10 cases of 60 minutes are history now: the series' prior is (20 × 30 + 10 × 60) / 30.
    assert hj01_cases(r) == 30
    assert prior_a(r) == pytest.approx(40.0)
    assert r.hall.history.day == MONDAY + dt.timedelta(days=1)
    assert r.hall.history.read_ms is not None
    with r.hall.store.engine_lock:
        # What the estimator and a forward model read for a case on Tuesday at 9: the new history's.
        dist = r.hall.store.engine.handle_dist("HJ01", TUESDAY_0.replace(hour=9))
    assert dist.mean_min == pytest.approx(40.0)
    # Later the same day, at opening and after: no second read.
    for later in (dt.timedelta(minutes=10), dt.timedelta(hours=9)):
        r.clock.set(TUESDAY_0 + later)
        checks_after(r, 5)
    assert (r.hall.history.refreshed, r.hall.history.failed) == (1, 0)


def test_a_failed_read_keeps_the_running_history_says_why_and_tries_again_later(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    r = running
    checks_after(r, 3)
    refresh = r.hall.history
    broken = True

    def read(conn: sqlite3.Connection, today: dt.date, tz: dt.tzinfo) -> HandleHistory:
        """The real read, on a store that fails as a damaged file does until it is repaired."""
        if broken:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return read_history(conn, today, tz)

    refresh.read = read
    with caplog.at_level(logging.ERROR, logger="hallserver.nightly"):
        r.clock.set(TUESDAY_0 + dt.timedelta(seconds=30))
        wait_for(lambda: refresh.failed == 1, what="the failed read")
        checks_after(r, 5)  # no retry before RETRY_S
    assert (refresh.failed, refresh.refreshed) == (1, 0)
    assert refresh.last_error == "DatabaseError: database disk image is malformed"
    assert any("could not be read" in rec.getMessage() for rec in caplog.records)
    # The running history is Monday's, whole: estimates go on from it.
    assert hj01_cases(r) == 20
    assert prior_a(r) == pytest.approx(30.0)
    broken = False
    r.clock.advance(RETRY_S)
    wait_for(lambda: refresh.refreshed == 1, what="the retried read")
    assert hj01_cases(r) == 30
    assert refresh.last_error == ""
    assert refresh.failed == 1


def test_a_config_reload_reads_the_history_on_the_read_pool_not_in_the_writers_job(
    tmp_path: pathlib.Path, seeded_db: pathlib.Path
) -> None:
    """A reload rebuilds the engine in one writer job, which holds every command of the hall meanwhile; the
    history (about a second on a provincial store) is read before it, on the read pool. Should that read
    fail, the job reads it itself, as a start does."""
    cfg = tmp_path / "hall.toml"
    shutil.copy(COUNTY, cfg)
    with hall_with_history(tmp_path, cfg, seeded_db) as r:
        threads: list[str] = []
        failing = [False, True]  # the first reload's read goes through, the second's fails

        def read(conn: sqlite3.Connection, today: dt.date, tz: dt.tzinfo) -> HandleHistory:
            threads.append(threading.current_thread().name)
            if failing.pop(0):
                raise sqlite3.OperationalError("disk I/O error")
            return read_history(conn, today, tz)

        r.hall.history.read = read
        for _ in range(2):
            reply = r.http.post("/api/admin/reload", headers=r.manager())
            assert reply.status_code == 200, reply.text
            assert hj01_cases(r) == 20  # the reloaded engine has the history either way
        assert failing == []
        assert len(threads) == 2
        assert all(name.startswith("hall-read") for name in threads), threads
