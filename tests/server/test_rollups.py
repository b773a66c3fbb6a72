"""Per-day roll-ups (hallserver/rollups.py): the statistics from roll-ups of finished days merged with today's
rows are exactly those of the SQL over the whole range (`live_only`), on random multi-day data and on the
hand-worked fixture day; a late change to a finished day is picked up; a change racing a build is not lost.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io
import json
import pathlib
import random
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

import httpx
import pytest
from openpyxl import load_workbook

from hallcore.config import HallConfig
from hallcore.configload import load_config
from hallserver import exports, rollups, rows, stats
from hallserver.store import Job, connect, migrate
from hallserver.writectx import Reply, WriteCtx
from tests.fakes.live_server import COUNTY, MONDAY_9, LiveServer, live_server, wait_for
from tests.server.web_helpers import Expected, build_fixture_day, http_login

T = TypeVar("T")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
START = dt.date(2026, 3, 2)


class Harness:
    """A database with the schema, a read pool like the server's, and a one-thread writer running jobs."""

    def __init__(self, path: pathlib.Path, config: HallConfig) -> None:
        self.path = path
        self.config = config
        migrate(path)
        self.pool = ThreadPoolExecutor(3)
        self.writer_pool = ThreadPoolExecutor(1)
        self.local = threading.local()
        self.conns: list[sqlite3.Connection] = []
        self.lock = threading.Lock()
        self.wconn: sqlite3.Connection | None = None
        self.jobs = 0

    def _conn(self) -> sqlite3.Connection:
        c: sqlite3.Connection | None = getattr(self.local, "c", None)
        if c is None:
            c = connect(self.path, readonly=True)
            self.local.c = c
            with self.lock:
                self.conns.append(c)
        return c

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, lambda: fn(self._conn()))

    def _run_job(self, job: Job) -> Reply:
        if self.wconn is None:
            self.wconn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        conn = self.wconn
        conn.execute("BEGIN IMMEDIATE")
        try:
            reply = job.run(cast(WriteCtx, _Ctx(conn)))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self.jobs += 1
        return reply

    async def submit(self, job: Job) -> Reply:
        return await asyncio.get_running_loop().run_in_executor(self.writer_pool, self._run_job, job)

    def write(self, sql: str, params: Any = ()) -> None:
        """A change made by the hall (on its own connection, committed)."""
        c = sqlite3.connect(str(self.path), isolation_level=None)
        c.execute(sql, params)
        c.close()

    def report(
        self, span: stats.Span, by: str, today: dt.date, *, live: bool, build: bool = True
    ) -> stats.Report:
        # The random days' windows close after midnight: "now" is after all of them (the open time of a
        # window still open now is checked on the server, with the fixture day).
        now = None
        return asyncio.run(
            stats.build_report(
                self.read,
                self.config,
                span,
                by,
                today,
                now,
                submit=self.submit if build else None,
                live_only=live,
                sync_days=1000,
            )
        )

    def ready(self) -> set[str]:
        c = sqlite3.connect(str(self.path))
        try:
            return {r[0] for r in c.execute("SELECT day FROM rollup_days WHERE state = 'ready'")}
        finally:
            c.close()

    def close(self) -> None:
        self.pool.shutdown()
        self.writer_pool.shutdown()
        for c in self.conns:
            c.close()
        if self.wconn is not None:
            self.wconn.close()


@dataclasses.dataclass
class _Ctx:
    conn: sqlite3.Connection


# ---- random days -------------------------------------------------------------------------------------------


def _iso(t: dt.datetime, rnd: random.Random) -> str:
    # Some rows are stored with a UTC offset, as a server with a UTC clock would write them.
    return (t.astimezone(dt.UTC) if rnd.random() < 0.2 else t).isoformat()


def fill_random(h: Harness, days: list[dt.date], seed: int) -> None:
    """Tickets in every state, ratings, estimates, pre-checks, window events and 差评 cases, per day."""
    rnd = random.Random(seed)
    cfg = h.config
    series = [s.prefix for s in cfg.series]
    matters = {s: [m.code for m in cfg.matters if m.series == s] or ["HJ01"] for s in series}
    materials = [mat.id for m in cfg.matters for mat in m.precheck.materials]
    conn = sqlite3.connect(str(h.path), isolation_level=None)
    conn.execute("BEGIN")
    evs: list[tuple[dt.datetime, str, str]] = []
    busy_until: dict[int, dt.datetime] = {}
    for day in days:
        nine = dt.datetime.combine(day, dt.time(8, 30), SHANGHAI)
        for w in rnd.sample(range(1, 9), 5):
            opened = nine + dt.timedelta(minutes=rnd.randint(0, 60))
            if busy_until.get(w, opened) > opened:
                continue  # still open from the day before
            pause = opened + dt.timedelta(minutes=rnd.randint(30, 200))
            resumed = pause + dt.timedelta(minutes=rnd.randint(1, 40), seconds=rnd.randint(0, 59))
            # Some windows stay open past midnight (closed the next morning) or pause over it.
            closed = resumed + dt.timedelta(minutes=rnd.choice([200, 300, 1000]))
            if rnd.random() < 0.1:
                pause, resumed = closed - dt.timedelta(minutes=1), closed + dt.timedelta(minutes=600)
                closed = resumed + dt.timedelta(minutes=5)
            busy_until[w] = closed
            for at, action, reason in (
                (opened, "opened", ""),
                (pause, "paused", rnd.choice(["休息", "会议", ""])),
                (resumed, "resumed", ""),
                (closed, "closed", ""),
            ):
                body = {"window": {"number": w, "pause_reason": reason}, "action": action}
                evs.append((at, _iso(at, rnd), json.dumps(body)))
    seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
    for _at, text, body_text in sorted(evs, key=lambda e: e[0]):
        seq += 1
        conn.execute(
            "INSERT INTO events (seq, at, kind, body) VALUES (?,?,?,?)",
            (seq, text, "window_changed", body_text),
        )
    for day in days:
        nine = dt.datetime.combine(day, dt.time(8, 30), SHANGHAI)
        for i in range(rnd.randint(20, 90)):
            s = rnd.choice(series)
            m = rnd.choice(matters[s])
            issued = nine + dt.timedelta(minutes=rnd.randint(0, 480), seconds=rnd.randint(0, 59))
            state = rnd.choice(["done"] * 6 + ["no_show", "expired", "cancelled", "voided", "waiting"])
            wait = dt.timedelta(seconds=rnd.randint(0, 5400) if rnd.random() > 0.02 else rnd.randint(0, 2))
            called = issued + wait if state in ("done", "no_show") else None
            serving = (
                called + dt.timedelta(seconds=rnd.randint(5, 60)) if state == "done" and called else None
            )
            ended = serving + dt.timedelta(seconds=rnd.randint(30, 2400)) if serving else None
            window = rnd.randint(1, 8) if called else (None if rnd.random() < 0.7 else rnd.randint(1, 8))
            tid = f"{day.isoformat()}-{s}{i:03d}"
            row = {
                "id": tid,
                "day": day.isoformat(),
                "series": s,
                "number": i + 1,
                "label": f"{s}{i + 1:03d}",
                "matter": m,
                "source": "kiosk",
                "priority": "normal",
                "state": state,
                "issued_at": _iso(issued, rnd),
                "since": issued.isoformat(),
                "key_ts": issued.timestamp(),
                "key_seq": i,
                "key_rq": 0,
                "token": f"t{seed}{tid}",
                "precheck": "",
                "missing": "[]",
                "due": None,
                "holder_masked": "",
                "booking": "",
                "target_window": None,
                "window": window,
                "staff": f"c{window}" if window else "",
                "called_at": _iso(called, rnd) if called else None,
                "first_called_at": _iso(called, rnd) if called else None,
                "serving_at": _iso(serving, rnd) if serving else None,
                "ended_at": _iso(ended, rnd) if ended else None,
                "recalls": 0,
                "transfers": rnd.choice([0, 0, 0, 1, 2]),
                "requeues": 0,
                "call_reason": None,
                "ahead_at_issue": rnd.randint(0, 20),
                "estimate_low": None,
                "estimate_high": None,
                "rated": 0,
                "qtoken": 0,
            }
            conn.execute(rows.TICKET_SQL, [row[c] for c in rows.TICKET_COLUMNS])
            if called and rnd.random() < 0.8:
                low = rnd.randint(0, 40)
                conn.execute(
                    "INSERT INTO estimates (ticket, issued_at, series, ahead, low_min, high_min, point_min,"
                    " called_at, wait_min) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        tid,
                        row["issued_at"],
                        s,
                        0,
                        low,
                        low + 15,
                        low + 7,
                        row["called_at"],
                        wait.seconds / 60,
                    ),
                )
            if state == "done" and ended and rnd.random() < 0.7:
                score = rnd.choice([5, 5, 5, 4, 4, 3, 2, 1])
                conn.execute(
                    "INSERT INTO ratings (ticket, score, matter, window, staff, at, issued_at, called_at,"
                    " serving_at, finished_at, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (tid, score, m, window, row["staff"], ended.isoformat(), row["issued_at"],
                     row["called_at"], row["serving_at"], row["ended_at"], "pad"),
                )  # fmt: skip
                if score <= 2:
                    cid = f"case-{tid}"
                    due = day + dt.timedelta(days=rnd.randint(1, 8))
                    closed_at = None
                    if rnd.random() < 0.5:
                        closed_at = (ended + dt.timedelta(days=rnd.randint(0, 10))).isoformat()
                    steps = [["callback", "", "c1", ended.isoformat()]] if rnd.random() < 0.5 else []
                    conn.execute(
                        "INSERT INTO cases (id, ticket, score, window, staff, matter, opened_at, due, state,"
                        " steps, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (cid, tid, score, window, row["staff"], m, ended.isoformat(), due.isoformat(),
                         "closed" if closed_at else "open", json.dumps(steps), closed_at),
                    )  # fmt: skip
                    if rnd.random() < 0.6:
                        conn.execute(
                            "INSERT INTO case_contacts (case_id, phone, consent_at, source) VALUES (?,?,?,?)",
                            (cid, "13800001234", ended.isoformat(), "pad"),
                        )
        for _ in range(rnd.randint(5, 40)):
            at = nine + dt.timedelta(minutes=rnd.randint(-600, 900))  # some fall on the neighbouring days
            outcome = rnd.choice(["通过", "通过", "容缺", "不通过"])
            missing = [] if outcome == "通过" else rnd.sample(materials, rnd.randint(1, 3))
            conn.execute(
                "INSERT INTO prechecks (at, matter, outcome, missing, source) VALUES (?,?,?,?,?)",
                (_iso(at, rnd), "HJ01", outcome, json.dumps(missing), "kiosk"),
            )
    conn.execute("COMMIT")
    conn.close()


# ---- comparing reports -------------------------------------------------------------------------------------


def _close(a: Any, b: Any, where: str) -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert a is not None, where
        assert b is not None, where
        assert a == b, f"{where}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert isinstance(b, dict), where
        assert a.keys() == b.keys(), f"{where}: {a!r} != {b!r}"
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)), where
        assert len(a) == len(b), f"{where}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        for f in dataclasses.fields(a):
            _close(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def assert_same(rolled: stats.Report, live: stats.Report) -> None:
    """Every figure equal — exactly: sums are integers (ms, µs) and maxima and histograms merge exactly —,
    so the exports are identical too."""
    _close(rolled, live, "report")
    assert rolled == live
    assert exports.sheets(rolled) == exports.sheets(live)


@pytest.fixture
def county() -> HallConfig:
    return load_config(COUNTY)


@pytest.fixture
def harness(tmp_path: pathlib.Path, county: HallConfig) -> Iterator[Harness]:
    h = Harness(tmp_path / "hall.db", county)
    yield h
    h.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_the_live_query_on_random_days(harness: Harness, seed: int) -> None:
    rnd = random.Random(seed)
    days = sorted(rnd.sample([START + dt.timedelta(days=i) for i in range(21)], 6))
    fill_random(harness, days, seed)
    today = days[-1]  # the last day is today: live, the others from roll-ups
    spans = [
        stats.Span(START, START + dt.timedelta(days=20)),
        stats.span_for("week", days[1]),
        stats.Span(days[0], days[0]),
        stats.Span(days[2], today),
    ]
    for span in spans:
        for by in stats.DIMENSIONS:
            live = harness.report(span, by, today, live=True)
            rolled = harness.report(span, by, today, live=False)
            assert_same(rolled, live)
    assert harness.ready() == {
        (START + dt.timedelta(days=i)).isoformat() for i in range(21) if START + dt.timedelta(days=i) < today
    }
    # Once built, a report reads them (no more writer jobs) and still agrees.
    jobs = harness.jobs
    span = stats.Span(START, START + dt.timedelta(days=20))
    assert_same(
        harness.report(span, "window", today, live=False), harness.report(span, "window", today, live=True)
    )
    assert harness.jobs == jobs
    # The next morning today is finished too.
    tomorrow = today + dt.timedelta(days=1)
    assert_same(
        harness.report(span, "clerk", tomorrow, live=False),
        harness.report(span, "clerk", tomorrow, live=True),
    )
    assert today.isoformat() in harness.ready()


def test_late_changes_rebuild_the_day(harness: Harness) -> None:
    days = [START, START + dt.timedelta(days=1), START + dt.timedelta(days=2)]
    fill_random(harness, days, 7)
    today = START + dt.timedelta(days=3)
    span = stats.Span(START, days[-1])
    before = harness.report(span, "matter", today, live=False)
    assert harness.ready() == {d.isoformat() for d in days}
    d1 = days[1].isoformat()

    # A rating for a day-1 ticket arrives a day later (ratings count in the ticket's day).
    tid = harness_one(harness, f"SELECT id FROM tickets WHERE day = '{d1}' AND state = 'done'"
                      " AND id NOT IN (SELECT ticket FROM ratings) LIMIT 1")  # fmt: skip
    harness.write(
        "INSERT INTO ratings (ticket, score, matter, window, staff, at, issued_at, source)"
        " SELECT id, 1, matter, window, staff, ?, issued_at, 'phone' FROM tickets WHERE id = ?",
        (dt.datetime.combine(today, dt.time(10), SHANGHAI).isoformat(), tid),
    )
    assert d1 not in harness.ready()
    after = harness.report(span, "matter", today, live=False)
    assert after.total.rated == before.total.rated + 1
    assert after.total.by_score[1] == before.total.by_score[1] + 1
    assert d1 in harness.ready()
    assert_same(after, harness.report(span, "matter", today, live=True))

    # The next morning's housekeeping expires a ticket left waiting; a case step closes a case.
    d2 = days[2].isoformat()
    harness.write(f"UPDATE tickets SET state = 'expired' WHERE day = '{d2}' AND state = 'waiting'")
    harness.write("UPDATE cases SET closed_at = ?, state = 'closed' WHERE closed_at IS NULL",
                  (dt.datetime.combine(today, dt.time(11), SHANGHAI).isoformat(),))  # fmt: skip
    harness.write("DELETE FROM case_contacts")  # the privacy purge
    assert_same(
        harness.report(span, "series", today, live=False), harness.report(span, "series", today, live=True)
    )

    # Today's writes leave finished days alone: a ticket, a pre-check and a window event of today.
    ready = harness.ready()
    now = dt.datetime.combine(today, dt.time(9), SHANGHAI).isoformat()
    harness.write(
        "INSERT INTO prechecks (at, matter, outcome, missing, source) VALUES (?, 'HJ01', '通过', '[]', 'k')",
        (now,),
    )
    harness.write(
        "INSERT INTO events (seq, at, kind, body) VALUES (10000000, ?, 'window_changed', ?)",
        (now, json.dumps({"window": {"number": 1, "pause_reason": ""}, "action": "opened"})),
    )
    assert harness.ready() == ready
    # A pre-check recorded late for a finished day (an import) does reach it.
    old = dt.datetime.combine(days[0], dt.time(12), SHANGHAI).isoformat()
    harness.write(
        "INSERT INTO prechecks (at, matter, outcome, missing, source) VALUES (?, 'HJ01', '通过', '[]', 'k')",
        (old,),
    )
    assert harness.ready() == ready - {days[0].isoformat()}
    assert_same(
        harness.report(span, "hour", today, live=False), harness.report(span, "hour", today, live=True)
    )


def test_config_change_rebuilds(harness: Harness, county: HallConfig) -> None:
    days = [START, START + dt.timedelta(days=1)]
    fill_random(harness, days, 11)
    today = START + dt.timedelta(days=2)
    span = stats.Span(START, days[-1])
    harness.report(span, "series", today, live=False)
    series = tuple(dataclasses.replace(s, target_wait_min=s.target_wait_min + 17) for s in county.series)
    harness.config = dataclasses.replace(county, series=series)
    assert rollups.fingerprint(harness.config) != rollups.fingerprint(county)
    assert_same(
        harness.report(span, "series", today, live=False), harness.report(span, "series", today, live=True)
    )


def test_a_change_during_a_build_is_not_lost(harness: Harness) -> None:
    days = [START, START + dt.timedelta(days=1)]
    fill_random(harness, days, 5)
    today = START + dt.timedelta(days=2)
    d0 = days[0].isoformat()
    tid = harness_one(harness, f"SELECT id FROM tickets WHERE day = '{d0}' AND state = 'done' LIMIT 1")
    calls = 0

    async def racing_read(fn: Callable[[sqlite3.Connection], T]) -> T:
        # The first computation of the days: the hall changes a ticket of day 0 just before it reads.
        nonlocal calls
        if getattr(fn, "__qualname__", "").startswith("ensure.<locals>.one"):
            calls += 1
        if calls == 1:
            calls += 1
            harness.write("UPDATE tickets SET state = 'no_show' WHERE id = ?", (tid,))
        return await harness.read(fn)

    async def run() -> dict[str, int]:
        return await rollups.ensure(racing_read, harness.submit, harness.config, days)

    result = asyncio.run(run())
    assert result["skipped"] == 1, result
    assert harness.ready() == {days[1].isoformat()}
    span = stats.Span(START, days[-1])
    assert_same(
        harness.report(span, "matter", today, live=False), harness.report(span, "matter", today, live=True)
    )
    assert harness.ready() == {d.isoformat() for d in days}


def test_histogram_cap_keeps_the_max_and_percentiles(county: HallConfig) -> None:
    h = {5: 2, 20_000: 1, 30_000: 1, 14_400: 1}
    capped = rollups.cap(dict(h))
    assert capped == {5: 2, 14_400: 1, 30_000: 2}
    merged: dict[int, int] = {}
    rollups.merge_blob(merged, rollups.encode({5: 2, 20_000: 1}))
    rollups.merge_blob(merged, rollups.encode({14_400: 1, 30_000: 1}))
    assert rollups.cap(merged) == capped
    assert stats.percentile(capped, 0.5) == 1440.0
    assert stats.percentile(capped, 1.0) == 3000.0


def harness_one(h: Harness, sql: str) -> Any:
    c = sqlite3.connect(str(h.path))
    try:
        row = c.execute(sql).fetchone()
        assert row is not None, sql
        return row[0]
    finally:
        c.close()


# ---- the fixture day, the day after -----------------------------------------------------------------------


@pytest.fixture
def hall() -> Iterator[LiveServer]:
    with live_server(stations=True) as h:
        yield h


def _text(html: str, id_: str) -> str:
    import re

    m = re.search(rf'id="{id_}"[^>]*>([^<]*)<', html)
    assert m is not None, id_
    return m.group(1).strip()


def test_fixture_day_from_its_rollup_the_next_day(hall: LiveServer) -> None:
    build_fixture_day(hall)
    # The window closes at the end of the day (else its open time runs on to midnight the next day).
    assert hall.act(hall.counter, "close").status_code == 200
    c = http_login(hall.url)
    q = {"period": "day", "date": "2026-11-23", "by": "matter"}
    csv_today = c.get("/web/stats.csv", params=q).content
    hall.clock.set(MONDAY_9 + dt.timedelta(days=1))
    assert hall.count("SELECT COUNT(*) FROM rollup_days") == 0
    html = c.get("/web/stats", params={"period": "day", "date": "2026-11-23"}).text
    assert hall.query("SELECT day, state FROM rollup_days") == [("2026-11-23", "ready")]
    want = Expected()
    assert _text(html, "total-tickets") == str(want.tickets)
    for id_, value in (
        ("total-wait-mean", want.wait_mean),
        ("total-wait-p50", want.wait_p50),
        ("total-wait-p90", want.wait_p90),
        ("total-wait-max", want.wait_max),
        ("total-within", want.within),
        ("total-handle", want.handle),
        ("total-rated", str(want.rated)),
        ("total-satisfaction", want.satisfaction),
        ("total-participation", want.participation),
        ("precheck-pass", str(want.precheck_pass)),
        ("precheck-tolerated", str(want.precheck_tolerated)),
        ("precheck-fail", str(want.precheck_fail)),
    ):
        assert _text(html, id_) == value, id_
    # The CSV of the finished day is the one of the day itself, but for the overdue count of its cases.
    csv_next = c.get("/web/stats.csv", params=q).content
    assert _csv_without_cases(csv_next) == _csv_without_cases(csv_today)
    rows_ = list(csv.reader(io.StringIO(csv_next.decode("utf-8-sig"))))
    header = next(r for r in rows_ if r and r[0] == "key")
    got = dict(zip(header, rows_[rows_.index(header) + 1], strict=True))
    assert (got["取号数"], got["P50等候(分)"], got["P90等候(分)"], got["最长等候(分)"], got["满意率"]) == (
        "12",
        "12.0",
        "26.0",
        "30.0",
        "0.8",
    )
    assert (got["P50办理(分)"], got["P90办理(分)"], got["最长办理(分)"]) == ("1.0", "1.0", "1.0")
    wb = load_workbook(io.BytesIO(c.get("/web/stats.xlsx", params=q).content))
    x = dict(zip(*list(wb["按matter"].iter_rows(values_only=True))[1:3], strict=True))
    assert (x["取号数"], x["平均等候(分)"], x["P50等候(分)"], x["P90等候(分)"], x["最长等候(分)"]) == (
        12,
        14.0,
        12.0,
        26.0,
        30.0,
    )
    # Every grouping and period from roll-ups equals the SQL over the range, on the server's own database.
    server = hall.hall
    today = dt.date(2026, 11, 24)
    for period in ("day", "week", "month"):
        span = stats.span_for(period, dt.date(2026, 11, 23))
        for by in stats.DIMENSIONS:

            async def both(span: stats.Span = span, by: str = by) -> tuple[stats.Report, stats.Report]:
                now = hall.clock.now()
                store = server.store
                a = await stats.build_report(
                    store.read, server.config, span, by, today, now, submit=store.submit
                )
                b = await stats.build_report(store.read, server.config, span, by, today, now, live_only=True)
                return a, b

            rolled, live = _on_server_loop(hall, both())
            assert_same(rolled, live)
    c.close()


def _csv_without_cases(data: bytes) -> list[list[str]]:
    rows_ = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return [r for r in rows_ if not (r and r[0] == "overdue")]


def _on_server_loop(hall: LiveServer, coro: Awaitable[T]) -> T:
    server = hall.hall
    assert server.store.loop is not None
    result: T = asyncio.run_coroutine_threadsafe(cast(Any, coro), server.store.loop).result(timeout=30)
    return result


def test_stats_page_works_while_rollups_are_missing(hall: LiveServer) -> None:
    # No ticket at all on the finished days of the month: the days still roll up (empty) and the page draws.
    hall.clock.set(MONDAY_9 + dt.timedelta(days=2))
    c: httpx.Client = http_login(hall.url)
    r = c.get("/web/stats", params={"period": "month", "date": "2026-11-01"})
    assert r.status_code == 200, r.text
    # More than a week is missing: this report was computed over the range, the days are built behind it.
    wait_for(
        lambda: hall.count("SELECT COUNT(*) FROM rollup_days WHERE state = 'ready'") == 24, what="roll-ups"
    )
    assert c.get("/web/stats", params={"period": "month", "date": "2026-11-01"}).status_code == 200
    c.close()
