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
import statistics
import tempfile
import time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bench.common import figure, write
from hallcore.config import HallConfig
from hallfiles.config import read_config
from hallq.sim import SimParams, simulate
from hallserver import rollups, rows, stats
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
        tickets = [rows.TICKETS.row(t) for t in eng.tickets.values()]
        # A ticket transferred to another series keeps its number, so (day, series, number) can repeat in
        # the engine while the schema's unique index refuses it (reported to the server engineer): give
        # such rows a number of their own here so the day is stored whole.
        tickets = [
            (*r[:3], 5_000 + i, *r[4:]) if r[2] != r[4][: len(r[2])] else r for i, r in enumerate(tickets)
        ]
        ratings = [rows.RATINGS.row(r) for r in eng.ratings.values()]
        cases = [rows.CASES.row(c) for c in eng.cases.values()]
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

        conn.executemany(rows.TICKETS.upsert, ([sh(v) for v in r] for r in src["tickets"]))
        conn.executemany(rows.RATINGS.upsert, ([sh(v) for v in r] for r in src["ratings"]))
        conn.executemany(rows.CASES.upsert, ([sh(v) for v in r] for r in src["cases"]))
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
        if cal.sessions_on(d) and not cal.is_booking_only(d):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def time_report(db: pathlib.Path, config: HallConfig, span: stats.Span, repeats: int = 3) -> dict[str, Any]:
    """Wall time of the whole statistics report, on a real `Store` (its read pool of three threads and its
    one writer thread, as in the server), with the last day of the span as today (computed live):

    - live: every figure by SQL over the whole range (`live_only`, the path before roll-ups), best of;
    - cold: the first report, which builds the roll-ups of every finished day on the way;
    - warm: the report once they are stored, best of."""
    from hallcore.clock import FakeClock
    from hallserver.store import Store

    today = span.end
    now = dt.datetime.combine(today, dt.time(17), ZoneInfo(config.hall.timezone))
    clean = connect(db)
    for table in ("rollup_days", "rollup_groups", "rollup_hists", "rollup_ratings", "rollup_counts"):
        clean.execute(f"DELETE FROM {table}")
    clean.close()
    store = Store(db, config, FakeClock(now))
    store.start()
    out: dict[str, Any] = {}
    try:

        async def one(live_only: bool) -> tuple[float, int]:
            t0 = time.perf_counter()
            rep = await stats.build_report(
                store.read, config, span, "matter", today, now, submit=store.submit, live_only=live_only
            )
            return time.perf_counter() - t0, rep.total.tickets

        async def run() -> None:
            store.loop = asyncio.get_running_loop()
            live = [await one(True) for _ in range(repeats)]
            out["live_s"] = min(t for t, _ in live)
            out["tickets"] = live[0][1]
            jobs = store.jobs
            # The first report: the finished days are missing, so it is the SQL over the range and the
            # roll-ups are built behind it; then the build's own duration, and the first-report time
            # when a report must wait for a few missing days (a week: the sync limit).
            cold, n_cold = await one(False)
            out["cold_s"] = cold
            t0 = time.perf_counter()
            await rollups.drain()
            out["build_s"] = time.perf_counter() - t0
            out["build_writer_jobs"] = store.jobs - jobs
            conn = connect(db)
            conn.execute(
                "DELETE FROM rollup_days WHERE day IN"
                " (SELECT day FROM rollup_days ORDER BY day DESC LIMIT ?)",
                (rollups.SYNC_BUILD_DAYS,),
            )
            conn.close()
            out["week_missing_s"], _ = await one(False)
            warm = [await one(False) for _ in range(repeats)]
            out["warm_s"] = min(t for t, _ in warm)
            assert n_cold == out["tickets"] == warm[0][1], (n_cold, out["tickets"], warm[0][1])
            # The other groupings, warm (each reads its own dimension's roll-ups).
            for by in ("series", "window", "clerk", "hour", "department"):
                t0 = time.perf_counter()
                await stats.build_report(store.read, config, span, by, today, now, submit=store.submit)
                out[f"warm_{by}_s"] = time.perf_counter() - t0

        asyncio.run(run())
    finally:
        store.stop()
    conn = connect(db, readonly=True)
    out["rollup_days"] = conn.execute("SELECT COUNT(*) FROM rollup_days WHERE state = 'ready'").fetchone()[0]
    out["rollup_rows"] = sum(
        conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
        for t in ("rollup_groups", "rollup_hists", "rollup_ratings", "rollup_counts")
    )
    conn.close()
    return out


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
    config = read_config(PROVINCIAL)
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
        # (label, the whole range, the filler rows on?, target in s)
        ranges = [("month", stats.Span(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "month"), True, 1.0)]
        if not args.skip_year:
            ranges.append(
                ("year", stats.Span(dt.date(2026, 1, 1), dt.date(2026, 12, 31), "year"), False, 3.0)
            )
        for label, span, filler, target_s in ranges:
            db = tmp / f"{label}.db"
            t0 = time.perf_counter()
            days = month if label == "month" else open_days(config, span.start, span.end)
            n = fill(db, sims, days, copies, filler=filler)
            print(f"{label} db: {n} tickets ({time.perf_counter() - t0:.1f} s)")
            res = time_report(db, config, span)
            print(f"{label} statistics: {res}")
            figures += _stat_figures(f"one {label}", res, target_s)
            extra[label] = res
            extra[f"{label}_tickets"] = res["tickets"]
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


def _stat_figures(what: str, res: dict[str, Any], target_s: float) -> list[dict[str, Any]]:
    n = res["tickets"]
    t = f"< {target_s:g} s"
    return [
        figure(
            f"statistics, {what}, warm (roll-ups stored)",
            round(res["warm_s"], 3),
            "s",
            t,
            res["warm_s"] < target_s,
            f"{n} tickets; {res['rollup_days']} finished days from roll-ups, the last day (today) live",
        ),
        figure(
            f"statistics, {what}, cold (no roll-ups yet: SQL over the range, build starts behind it)",
            round(res["cold_s"], 3),
            "s",
            t,
            res["cold_s"] < target_s,
            f"{n} tickets",
        ),
        figure(
            f"statistics, {what}: background build of every finished day's roll-ups",
            round(res["build_s"], 3),
            "s",
            "",
            None,
            f"once per finished day; {res['build_writer_jobs']} writer jobs of {rollups.CHUNK_DAYS} days",
        ),
        figure(
            f"statistics, {what}, the last {rollups.SYNC_BUILD_DAYS} finished days missing (built first)",
            round(res["week_missing_s"], 3),
            "s",
            t,
            res["week_missing_s"] < target_s,
            "e.g. the first report after a weekend",
        ),
        figure(
            f"statistics, {what}, SQL over the whole range (no roll-ups, before)",
            round(res["live_s"], 3),
            "s",
            t,
            res["live_s"] < target_s,
            f"{n} tickets; `live_only=True`",
        ),
    ]


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
    row[4] = f"{row[4]}-{k}"  # label: unique per day (migration m003)
    row[14] = f"{row[14]}{k}" if row[14] else row[14]
    return tuple(row)


if __name__ == "__main__":
    raise SystemExit(main())
