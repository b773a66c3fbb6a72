"""Web benchmark: statistics over one month and one year of the provincial hall, and the dashboard's live
update latency after a call, in a real browser.

    .venv/bin/python -m bench.web [--days-month 31] [--skip-browser]

Data: a few provincial days are simulated with the real engine (`hallq.sim`) and written as the server
writes them (same row functions); the days are then copied with shifted dates by SQL to reach ≥ 150,000
tickets in a month and a full year. Window events (open, pause, resume, close) are written per day, and
filler ticket events make the event log its real size for the month.
Writes bench/results/web.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import pathlib
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any, TypeVar

from bench.common import figure, write
from hallcore.config import HallConfig
from hallcore.configload import load_config
from hallq.sim import SimParams, simulate
from hallserver import rows, stats
from hallserver.store import connect, migrate

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROVINCIAL = ROOT / "config" / "provincial.toml"
T = TypeVar("T")


def simulate_days(config: HallConfig, days: list[dt.date]) -> list[dict[str, list[tuple[Any, ...]]]]:
    """One engine day per date: its ticket, rating, case and estimate rows and window events."""
    out = []
    for i, day in enumerate(days):
        res = simulate(config, SimParams(day=day, seed=10 + i))
        eng = res.engine
        assert eng is not None
        tickets = [rows.ticket_row(t) for t in eng.tickets.values()]
        # A ticket transferred to another series keeps its number, so (day, series, number) can repeat in
        # the engine while the schema's unique index refuses it (reported to the server engineer): give
        # such rows a number of their own here so the day is stored whole.
        tickets = [
            (*r[:3], 5_000 + i, *r[4:]) if r[2] != r[4][: len(r[2])] else r for i, r in enumerate(tickets)
        ]
        ratings = [rows.rating_row(r) for r in eng.ratings.values()]
        cases = [rows.case_row(c) for c in eng.cases.values()]
        estimates = []
        prechecks = []
        for t in eng.tickets.values():
            wait = (t.first_called_at - t.issued_at).total_seconds() / 60 if t.first_called_at else None
            estimates.append(
                (
                    t.id,
                    t.issued_at.isoformat(),
                    t.series,
                    t.ahead_at_issue,
                    t.estimate_low,
                    t.estimate_high,
                    t.estimate_point,
                    t.first_called_at.isoformat() if t.first_called_at else None,
                    wait,
                )
            )
            if t.precheck:
                prechecks.append(
                    (t.issued_at.isoformat(), t.matter, t.precheck, json.dumps(list(t.missing)), "kiosk")
                )
        for _ in range(res.prechecks.get("不通过", 0)):
            m = config.matters[len(prechecks) % len(config.matters)]
            ids = [x.id for x in m.precheck.materials][:2]
            at = dt.datetime.combine(day, dt.time(10), eng.calendar.tz).isoformat()
            prechecks.append((at, m.code, "不通过", json.dumps(ids), "kiosk"))
        windows: dict[int, list[dt.datetime]] = {}
        for t in eng.tickets.values():
            if t.window is not None and t.first_called_at and t.ended_at:
                windows.setdefault(t.window, []).extend([t.first_called_at, t.ended_at])
        events = []
        for n, times in windows.items():
            a, b = min(times) - dt.timedelta(minutes=1), max(times) + dt.timedelta(minutes=1)
            mid = a + (b - a) / 2
            for when, action, reason in (
                (a, "opened", ""),
                (mid, "paused", "休息"),
                (mid + dt.timedelta(minutes=15), "resumed", ""),
                (b, "closed", ""),
            ):
                body = {
                    "window": {"number": n, "pause_reason": reason},
                    "action": action,
                    "kind": "window_changed",
                }
                events.append((when.isoformat(), "window_changed", json.dumps(body)))
        out.append(
            {
                "day": [(day.isoformat(),)],
                "tickets": tickets,
                "ratings": ratings,
                "cases": cases,
                "estimates": estimates,
                "prechecks": prechecks,
                "events": events,
            }
        )
        print(f"  simulated {day}: {len(tickets)} tickets, {len(ratings)} ratings ({res.wall_s:.1f} s)")
    return out


Sim = dict[str, list[tuple[Any, ...]]]


def fill(db: pathlib.Path, sims: list[Sim], days: list[dt.date], copies: int, filler: bool) -> int:
    """Copy the simulated days onto every date of `days`, `copies` hall-days per date (distinct ids)."""
    migrate(db)
    conn = connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    seq = 0
    plan = [(day, sims[(i + k) % len(sims)], k) for i, day in enumerate(days) for k in range(copies)]
    for day, original, k in plan:
        src = original if k == 0 else _variant(original, k)
        d0, d1 = src["day"][0][0], day.isoformat()

        def sh(v: Any, d0: str = d0, d1: str = d1) -> Any:
            return v.replace(d0, d1) if isinstance(v, str) else v

        conn.executemany(rows.TICKET_SQL, ([sh(v) for v in r] for r in src["tickets"]))
        conn.executemany(rows.RATING_SQL, ([sh(v) for v in r] for r in src["ratings"]))
        conn.executemany(rows.CASE_SQL, ([sh(v) for v in r] for r in src["cases"]))
        conn.executemany(
            "INSERT INTO estimates (ticket, issued_at, series, ahead, low_min, high_min, point_min,"
            " called_at, wait_min) VALUES (?,?,?,?,?,?,?,?,?)",
            ([sh(v) for v in r] for r in src["estimates"]),
        )
        conn.executemany(
            "INSERT INTO prechecks (at, matter, outcome, missing, source) VALUES (?,?,?,?,?)",
            ([sh(v) for v in r] for r in src["prechecks"]),
        )
        evs = [(sh(a), k, b) for a, k, b in src["events"]]
        if filler:
            # The real log has ~5 events per ticket; the statistics must not scan them.
            evs += [(sh(r[9]), "ticket_changed", '{"filler":true}') for r in src["tickets"] for _ in range(4)]
        rows_ev = []
        for at, kind, body in evs:
            seq += 1
            rows_ev.append((seq, at, kind, body))
        conn.executemany("INSERT INTO events (seq, at, kind, body) VALUES (?,?,?,?)", rows_ev)
    conn.execute("COMMIT")
    n = int(conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])
    conn.execute("ANALYZE")
    conn.close()
    return n


def open_days(config: HallConfig, start: dt.date, end: dt.date) -> list[dt.date]:
    from hallcore.calendar import HallCalendar

    cal = HallCalendar(config.hall)
    out = []
    d = start
    while d <= end:
        if cal.hours_on(d) is not None and not cal.is_booking_only(d):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def time_report(
    db: pathlib.Path, config: HallConfig, span: stats.Span, repeats: int = 3
) -> tuple[float, int]:
    """Best-of wall time of the whole statistics report (all queries, three read threads as the server)."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(3)
    local: dict[int, sqlite3.Connection] = {}

    def conn_for() -> sqlite3.Connection:
        import threading

        key = threading.get_ident()
        if key not in local:
            local[key] = connect(db, readonly=True)
        return local[key]

    async def read(fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, lambda: fn(conn_for()))

    best = float("inf")
    tickets = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        rep = asyncio.run(stats.build_report(read, config, span, "matter", span.end))
        best = min(best, time.perf_counter() - t0)
        tickets = rep.total.tickets
    pool.shutdown()
    for c in local.values():
        c.close()
    return best, tickets


def dashboard_latency(samples: int = 40) -> dict[str, Any]:
    """Call-next over HTTP → the window cell shows the ticket on the dashboard (Playwright, chromium)."""
    from playwright.sync_api import sync_playwright

    from tests.fakes.live_server import live_server
    from tests.server.web_helpers import CHROMIUM_ARGS, browser_login

    lat: list[float] = []
    with live_server(stations=True) as hall:
        hall.login_counter()
        hall.act(hall.counter, "open")
        for _ in range(samples + 1):
            hall.post(
                hall.kiosk,
                "/api/tickets",
                matter="HJ01",
                answers={"in_person": True},
                present=["idcard", "hukou", "move_permit"],
            )
        for t in hall.query("SELECT id FROM tickets WHERE state = 'pending_print'"):
            hall.post(hall.kiosk, f"/api/tickets/{t[0]}/printed")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            browser_login(page, hall.url)
            page.wait_for_selector("#conn.live")
            cell = f"#win-{hall.counter.window} .current"
            for _i in range(samples):
                hall.act(hall.counter, "finish") if _i else None
                t0 = time.perf_counter()
                r = hall.act(hall.counter, "call-next")
                label = r.json()["ticket"]["label"]
                page.wait_for_function(
                    "([sel, l]) => document.querySelector(sel)?.textContent.includes(l)",
                    arg=[cell, label],
                    polling="raf",
                )
                lat.append((time.perf_counter() - t0) * 1000)
                hall.act(hall.counter, "start")
            browser.close()
    lat.sort()
    return {
        "n": len(lat),
        "p50_ms": statistics.median(lat),
        "p95_ms": lat[int(0.95 * (len(lat) - 1))],
        "max_ms": lat[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.web")
    parser.add_argument("--sim-days", type=int, default=3)
    parser.add_argument("--skip-year", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--keep", type=pathlib.Path, help="keep the generated databases in this folder")
    args = parser.parse_args(argv)
    config = load_config(PROVINCIAL)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="hallq-bench-web-"))
    figures: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    try:
        month = open_days(config, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        print(f"simulating {args.sim_days} provincial days")
        sims = simulate_days(config, month[: args.sim_days])
        per_day = statistics.mean(len(s["tickets"]) for s in sims)
        # The simulated day is a quiet one (~2,400 tickets); the issue asks for ≥ 150,000 in a month, so each
        # date holds as many simulated hall-days as needed (distinct ids), like a busier hall.
        copies = -(-150_000 // int(per_day * len(month)))
        month_db = tmp / "month.db"
        t0 = time.perf_counter()
        n_month = fill(month_db, sims, month, copies, filler=True)
        print(f"month db: {n_month} tickets ({time.perf_counter() - t0:.1f} s)")
        span = stats.Span(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "month")
        secs, counted = time_report(month_db, config, span)
        print(f"month statistics: {secs:.3f} s over {counted} tickets")
        figures.append(
            figure("statistics, one month", round(secs, 3), "s", "< 1 s", secs < 1.0, f"{counted} tickets")
        )
        extra["month_tickets"] = counted
        if not args.skip_year:
            year = open_days(config, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
            year_db = tmp / "year.db"
            t0 = time.perf_counter()
            n_year = fill(year_db, sims, year, copies, filler=False)
            print(f"year db: {n_year} tickets ({time.perf_counter() - t0:.1f} s)")
            yspan = stats.Span(dt.date(2026, 1, 1), dt.date(2026, 12, 31), "year")
            secs, counted = time_report(year_db, config, yspan)
            print(f"year statistics: {secs:.3f} s over {counted} tickets")
            figures.append(
                figure("statistics, one year", round(secs, 3), "s", "< 3 s", secs < 3.0, f"{counted} tickets")
            )
            extra["year_tickets"] = counted
        if not args.skip_browser:
            lat = dashboard_latency()
            print(f"dashboard latency: p50 {lat['p50_ms']:.0f} ms, p95 {lat['p95_ms']:.0f} ms")
            figures.append(
                figure(
                    "dashboard update after a call, p95",
                    round(lat["p95_ms"], 1),
                    "ms",
                    "< 200 ms",
                    lat["p95_ms"] < 200,
                    f"HTTP call-next sent → window cell shows the ticket; n={lat['n']},"
                    f" p50 {lat['p50_ms']:.0f} ms",
                )
            )
            extra["dashboard_latency"] = lat
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for f in tmp.glob("*.db"):
                shutil.copy(f, args.keep / f.name)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
    print(write("web", figures, **extra))
    return 0


def _variant(s: Sim, k: int) -> Sim:
    """Another hall-day on the same date: ids and numbers made distinct."""
    return {
        **s,
        "tickets": [_suffix_ticket(r, k) for r in s["tickets"]],
        "ratings": [(f"{r[0]}#{k}", *r[1:]) for r in s["ratings"]],
        "cases": [(f"{r[0]}#{k}", f"{r[1]}#{k}", *r[2:]) for r in s["cases"]],
        "estimates": [(f"{r[0]}#{k}", *r[1:]) for r in s["estimates"]],
        "events": [],
    }


def _suffix_ticket(r: tuple[Any, ...], k: int) -> tuple[Any, ...]:
    row = list(r)
    row[0] = f"{row[0]}#{k}"
    row[3] = int(row[3]) + 10_000 * k  # number: unique per (day, series)
    row[14] = f"{row[14]}{k}" if row[14] else row[14]
    return tuple(row)


if __name__ == "__main__":
    raise SystemExit(main())
