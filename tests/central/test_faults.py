"""Faults between a hall and the centre on a real PostgreSQL: kill -9 of the centre or of the hall mid-batch,
a hall offline for a simulated week. Afterwards nothing is lost or applied twice, and the centre's counts
for each day equal the hall's own statistics."""

from __future__ import annotations

import datetime as dt
import pathlib
import shutil
from contextlib import closing

import psycopg
import pytest

from hallcentral.devcluster import Cluster
from hallcore.config import HallConfig
from tests.central.support import (
    ADMIN,
    CentreProc,
    HallProc,
    busy_morning,
    centre,
    centre_figures,
    free_port,
    hall_config,
    hall_figures,
    ship_state,
    wait_for,
)
from tests.fakes.live_server import MONDAY_9, live_server
from tests.server.web_helpers import http_login

DAYS = [MONDAY_9.date() + dt.timedelta(days=i) for i in range(7)]
HALL = "jinzhai"


def _same_figures(c: CentreProc, db: pathlib.Path, config: HallConfig, days: list[dt.date]) -> None:
    with closing(c.login(ADMIN)) as client:
        for day in days:
            assert centre_figures(c, client, HALL, day) == hall_figures(db, config, day), day


def _exactly_once(c: CentreProc, last_seq: int) -> None:
    """Every hall seq 1..last at the centre once (the key would refuse a second copy in a month; count and
    range together show none is missing or doubled across months)."""
    assert c.sql(
        "SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM events WHERE hall_id = %s", (HALL,)
    ) == [(last_seq, last_seq, 1, last_seq)]


def _batch_waiting(c: CentreProc) -> bool:
    """An ingest transaction of the centre is waiting for the hall's cursor row."""
    rows = c.sql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query LIKE 'SELECT acked_seq FROM halls%%FOR UPDATE'"
    )
    return bool(rows[0][0])


@pytest.fixture(scope="module")
def prepared_hall(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, HallConfig]:
    """A hall database with two busy mornings, made once with shipping off (each test ships a copy)."""
    folder = tmp_path_factory.mktemp("prepared-hall")
    with live_server(folder, hall_config("http://127.0.0.1:9", enabled=False)) as hall:
        for i in range(2):
            busy_morning(hall, MONDAY_9 + dt.timedelta(days=i), n=16, seed=i)
        return hall.db, hall.config


@pytest.mark.parametrize("victim", ["centre", "hall"])
def test_kill9_mid_batch_then_restart(
    cluster: Cluster, tmp_path: pathlib.Path, victim: str, prepared_hall: tuple[pathlib.Path, HallConfig]
) -> None:
    db, config = tmp_path / "hall.db", prepared_hall[1]
    for suffix in ("", "-wal", "-shm"):  # a WAL left by the closed server, if any, belongs to the copy
        src = prepared_hall[0].with_name(prepared_hall[0].name + suffix)
        if src.exists():
            shutil.copy(src, db.with_name(db.name + suffix))
    with centre(cluster, tmp_path) as c:
        c.add_users()
        proc = HallProc(tmp_path, db, c.url, MONDAY_9 + dt.timedelta(days=1, hours=3), batch=5)
        proc.start()
        try:
            wait_for(
                lambda: c.sql("SELECT state FROM halls WHERE hall_id = %s", (HALL,)) == [("pending",)],
                what="enroll",
            )
            c.approve(HALL, "county-a1")
            last = proc.max_seq()
            assert last > 150
            wait_for(lambda: c.acked(HALL) > last // 4, what="shipping under way")
            # Mid-batch, for sure: hold the hall's cursor row, so the next batch stops inside its transaction
            # at the centre (the hall waiting for the answer), then kill.
            with psycopg.connect(c.dsn) as blocker:
                row = blocker.execute(
                    "SELECT acked_seq FROM halls WHERE hall_id = %s FOR UPDATE", (HALL,)
                ).fetchone()
                assert row is not None
                stopped_at = int(row[0])
                assert 0 < stopped_at < last
                wait_for(lambda: _batch_waiting(c), what="a batch in flight")
                if victim == "centre":
                    c.kill9()
                else:
                    proc.kill9()
                blocker.rollback()
            if victim == "centre":
                c.start()
            else:
                # The batch in flight may still commit at the centre with nobody to read the answer: the
                # restarted hall resends it, and the cursor makes the second copy a no-op.
                proc.start()
            wait_for(lambda: c.acked(HALL) == proc.max_seq(), timeout=60, what="catch-up after the restart")
            last = proc.max_seq()
            proc.stop()
            _exactly_once(c, last)
            _same_figures(c, db, config, DAYS[:2])
        finally:
            proc.stop()


def test_hall_offline_for_a_week_catches_up_oldest_first(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    c = CentreProc(cluster, tmp_path)
    c.port = port
    c.start()
    try:
        c.add_users()
        with live_server(tmp_path, hall_config(url)) as hall:
            wait_for(lambda: ship_state(hall)["state"] == "pending", what="enroll")
            c.approve(HALL, "county-a1")
            wait_for(lambda: ship_state(hall)["state"] == "shipping", what="approved")
            c.stop()  # the WAN is down for a week
            for i, day in enumerate(DAYS):
                busy_morning(hall, dt.datetime.combine(day, MONDAY_9.timetz()), n=12, seed=i)
            hall.clock.set(MONDAY_9 + dt.timedelta(days=7))
            wait_for(lambda: ship_state(hall)["state"] == "offline", what="the shipper to notice")
            state = ship_state(hall)
            assert state["backlog"] == hall.hall.store.seq - state["acked_seq"] > 300
            assert state["backlog_age_s"] >= 6 * 86400  # the oldest unshipped event is a week old
            with closing(http_login(hall.url)) as boss:  # the hall's manager sees it on the dashboard
                before = hall.hall.store.seq
                shown = boss.get("/web/api/dashboard").json()["central"]
                after = hall.hall.store.seq
            # The cursor stands still while offline; the hall's own tick may still add an event or two (the
            # week's expiries) between the reads, so the backlog shown is the one at the moment it was read.
            assert shown["state"] == "offline"
            assert before - state["acked_seq"] <= shown["backlog"] <= after - state["acked_seq"]
            c.start()
            wait_for(lambda: c.acked(HALL) == hall.hall.store.seq, timeout=60, what="the week's catch-up")
            wait_for(lambda: ship_state(hall)["backlog"] == 0, what="the hall to see it")
            _exactly_once(c, hall.hall.store.seq)
            # Oldest first: events arrived in seq order (each batch's receipt time never goes back).
            assert c.sql(
                "SELECT count(*) FROM (SELECT received_at < lag(received_at) OVER (ORDER BY seq) AS back"
                " FROM events WHERE hall_id = %s) x WHERE back",
                (HALL,),
            ) == [(0,)]
            _same_figures(c, hall.db, hall.config, DAYS)
    finally:
        c.stop()
