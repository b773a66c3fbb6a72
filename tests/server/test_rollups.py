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
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar, cast

import httpx
import pytest
from openpyxl import load_workbook

from hallcore.config import HallConfig
from hallfiles.config import read_config
from hallserver import exports, rollup_compute, rollups, stats
from tests.fakes.halls import SHANGHAI
from tests.fakes.live_server import COUNTY, MONDAY_9, LiveServer, live_server, wait_for
from tests.server.stats_harness import START, Harness, fill_random
from tests.server.web_helpers import WAIT_COLUMNS, Expected, build_fixture_day, http_login

T = TypeVar("T")

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
    return read_config(COUNTY)


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
    assert rollup_compute.fingerprint(harness.config) != rollup_compute.fingerprint(county)
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
    capped = rollup_compute.cap(dict(h))
    assert capped == {5: 2, 14_400: 1, 30_000: 2}
    merged: dict[int, int] = {}
    rollup_compute.merge_blob(merged, rollup_compute.encode({5: 2, 20_000: 1}))
    rollup_compute.merge_blob(merged, rollup_compute.encode({14_400: 1, 30_000: 1}))
    assert rollup_compute.cap(merged) == capped
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
    c.close()
    c = http_login(hall.url)  # yesterday's session has expired (12 h)
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
    assert tuple(x[k] for k in WAIT_COLUMNS) == Expected().xlsx_waits()
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
