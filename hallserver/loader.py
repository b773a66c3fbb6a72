"""Rebuild the engine from the database at start (and after a failed batch, or a config reload).

Only what the live queue needs is loaded, so start-up time and memory stay flat as history grows: the last
two business days' tickets, every ticket still live from earlier days (so closing can expire it), the last
finished tickets of each series (handle-time warm-up), bookings from the current ISO week on, every rating of
a loaded ticket and every 差评 case. Everything else stays in the database for statistics.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator

from hallcore.engine import Engine
from hallcore.handletimes import DEFAULT_WINDOW
from hallcore.history import HISTORY_DAYS, HandleHistory, Slot, TimedCase, slot_of
from hallcore.model import Ticket
from hallserver import rows

_LIVE = ("pending_print", "waiting", "called", "serving", "no_show")


def load_engine(
    engine: Engine, conn: sqlite3.Connection, now: dt.datetime, history: HandleHistory | None = None
) -> dict[str, str]:
    """Fill a fresh `engine` from `conn`; returns the status-token → ticket id map of the loaded tickets. The
    estimator's history is `history` when the caller has read it already (a config reload reads it on the
    read pool, so the writer's job does not hold the hall's commands for it), else read here."""
    today = engine.calendar.business_day(now)
    since_day = (today - dt.timedelta(days=1)).isoformat()
    found: dict[str, Ticket] = {}
    q = rows.TICKETS.select
    for row in conn.execute(f"{q} WHERE day >= ?", (since_day,)):
        t = rows.TICKETS.entity(row)
        found[t.id] = t
    marks = ",".join("?" for _ in _LIVE)
    for row in conn.execute(f"{q} WHERE state IN ({marks})", _LIVE):
        t = rows.TICKETS.entity(row)
        found.setdefault(t.id, t)
    for s in engine.config.series:
        for row in conn.execute(
            f"{q} WHERE series = ? AND state = 'done' ORDER BY ended_at DESC LIMIT ?",
            (s.prefix, DEFAULT_WINDOW),
        ):
            t = rows.TICKETS.entity(row)
            found.setdefault(t.id, t)
    # Issue order, as Engine.load requires (handle times are observed in this order too).
    tickets = sorted(found.values(), key=lambda t: (t.issued_at, t.key[1]))
    known = engine.config.matter_by_code
    tickets = [t for t in tickets if t.matter in known and t.series in engine.config.series_by_prefix]
    windows = [rows.WINDOWS.entity(r) for r in conn.execute(rows.WINDOWS.select)]
    week_start = today - dt.timedelta(days=today.weekday() + 1)
    bookings = [
        rows.BOOKINGS.entity(r)
        for r in conn.execute(
            f"{rows.BOOKINGS.select} WHERE day >= ? OR state = 'booked'", (week_start.isoformat(),)
        )
    ]
    bookings = [b for b in bookings if b.matter in known]
    ratings = [
        rows.RATINGS.entity(r) for r in conn.execute(f"{rows.RATINGS.select} WHERE at >= ?", (since_day,))
    ]
    cases = [rows.CASES.entity(r) for r in conn.execute(rows.CASES.select)]
    cases = [c for c in cases if c.matter in known]
    engine.use_history(history if history is not None else read_history(conn, today, engine.calendar.tz))
    engine.load(tickets, windows, bookings, ratings, cases)
    # A case's ticket must be known to the engine (its events name the ticket's label).
    for c in cases:
        if c.ticket not in engine.tickets:
            row = conn.execute(f"{q} WHERE id = ?", (c.ticket,)).fetchone()
            if row is not None:
                engine.tickets[c.ticket] = rows.TICKETS.entity(row)
    return {t.token: t.id for t in tickets if t.token}


def read_history(conn: sqlite3.Connection, today: dt.date, tz: dt.tzinfo) -> HandleHistory:
    """The finished cases of the HISTORY_DAYS business days before `today`: each matter's past time at the
    window, per weekday and hour in the hall's time zone `tz` too (`hallcore.history`), read at every start
    and reload, and each night by the server (`hallserver.nightly`), so each new day knows yesterday.

    A case's time is `case_minutes`' (from the last call, else the serving start, to the finish), computed by
    SQLite (to the millisecond): parsing three timestamps a row in Python made a provincial month (112,000
    cases) take 1.6 s, most of it holding the interpreter. `+state` keeps SQLite off the state index (every
    finished ticket of every day) and on the day's. A row whose times cannot be read is left out."""
    since = (today - dt.timedelta(days=HISTORY_DAYS)).isoformat()
    slots: dict[int, Slot] = {}  # quarter hours since 1970 -> its local weekday and hour (any tz offset)

    def cases() -> Iterator[TimedCase]:
        for matter, minutes, began_ms in conn.execute(
            "SELECT matter, (julianday(ended_at) - julianday(COALESCE(called_at, serving_at))) * 1440.0,"
            " CAST(ROUND((julianday(COALESCE(called_at, serving_at)) - 2440587.5) * 86400000.0) AS INTEGER)"
            " FROM tickets WHERE +state = 'done' AND day >= ? AND day < ?",
            (since, today.isoformat()),
        ):
            if minutes is None or began_ms is None:
                continue
            quarter = began_ms // 900_000
            slot = slots.get(quarter)
            if slot is None:
                slot = slots[quarter] = slot_of(dt.datetime.fromtimestamp(quarter * 900, dt.UTC), tz)
            yield matter, minutes, slot

    return HandleHistory.from_timed(cases())


def config_problems(engine: Engine, conn: sqlite3.Connection) -> list[str]:
    """Why a new config cannot take over the stored state (live tickets of a removed matter, …)."""
    problems: list[str] = []
    cfg = engine.config
    marks = ",".join("?" for _ in _LIVE)
    for tid, matter, series in conn.execute(
        f"SELECT id, matter, series FROM tickets WHERE state IN ({marks})",  # noqa: S608
        _LIVE,
    ):
        if matter not in cfg.matter_by_code:
            problems.append(f"ticket {tid} is live but its matter {matter!r} is not in the new config")
        if series not in cfg.series_by_prefix:
            problems.append(f"ticket {tid} is live but its series {series!r} is not in the new config")
    for (number,) in conn.execute("SELECT number FROM windows WHERE state != 'closed'"):
        if number not in cfg.window_by_number:
            problems.append(f"window {number} is open but not in the new config: close it first")
    return problems[:20]
