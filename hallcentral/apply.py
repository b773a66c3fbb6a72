"""A batch's derived rows into the centre's tables (hallcentral/derive.py computes them): one set-based
upsert per table per batch — the rows travel as one JSON array that PostgreSQL turns into records — instead
of a statement per row (a batch of 500 events touches ~150 tickets; per-row upserts were most of the
ingest's time). `derive` merged each row's changes within the batch, so no key appears twice in one
statement (which ON CONFLICT DO UPDATE refuses)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from psycopg import AsyncConnection, AsyncCursor

from hallcentral.derive import Derived

# (column, PostgreSQL type) of each derived table, after hall_id.
_TICKETS = (
    ("id", "text"),
    ("day", "date"),
    ("label", "text"),
    ("series", "text"),
    ("matter", "text"),
    ("matter_name", "text"),
    ("source", "text"),
    ("priority", "text"),
    ("state", "text"),
    ("issued_at", "timestamptz"),
    ("first_called_at", "timestamptz"),
    ("serving_at", "timestamptz"),
    ("ended_at", "timestamptz"),
    ("window", "int"),
    ("staff", "text"),
    ("recalls", "int"),
    ("transfers", "int"),
    ("outcome", "text"),
    ("department", "text"),
    ("seq", "bigint"),
)
_WINDOWS = (
    ("number", "int"),
    ("name", "text"),
    ("state", "text"),
    ("zone", "text"),
    ("staff", "text"),
    ("pause_reason", "text"),
    ("current", "text"),
    ("current_state", "text"),
    ("since", "timestamptz"),
)
_RATINGS = (
    ("ticket", "text"),
    ("day", "date"),
    ("score", "int"),
    ("matter", "text"),
    ("window", "int"),
    ("staff", "text"),
    ("at", "timestamptz"),
)
_CASES = (
    ("id", "text"),
    ("ticket", "text"),
    ("day", "date"),
    ("label", "text"),
    ("score", "int"),
    ("state", "text"),
    ("due", "date"),
    ("window", "int"),
    ("matter_name", "text"),
    ("opened_at", "timestamptz"),
    ("closed_at", "timestamptz"),
    ("at", "timestamptz"),
)


async def _upsert(
    cur: AsyncCursor[Any],
    hall: str,
    table: str,
    cols: Sequence[tuple[str, str]],
    rows: Sequence[Mapping[str, Any]],
    key: str,
    update: str,
) -> None:
    names = ", ".join(f'"{c}"' for c, _ in cols)
    record = ", ".join(f'"{c}" {t}' for c, t in cols)
    # One JSON array of the rows (orjson writes datetimes as RFC 3339 with their offset), turned back into
    # typed rows by PostgreSQL: far cheaper than adapting a Python list per column.
    data = orjson.dumps([{c: r[c] for c, _ in cols} for r in rows]).decode()
    await cur.execute(
        f"INSERT INTO {table} (hall_id, {names}) SELECT %s, {names}"  # noqa: S608 - our names
        f" FROM jsonb_to_recordset(%s::jsonb) AS x({record}) ON CONFLICT ({key}) DO UPDATE SET {update}",
        (hall, data),
    )


async def _add_day_counts(
    cur: AsyncCursor[Any], hall: str, table: str, by: str, counts: Mapping[tuple[dt.date, str], int]
) -> None:
    """Add a batch's counts per (day, `by`) to a table of such counts (the pre-check outcomes, the
    missing materials)."""
    await _upsert(
        cur,
        hall,
        table,
        (("day", "date"), (by, "text"), ("n", "int")),
        [{"day": day, by: key, "n": n} for (day, key), n in counts.items()],
        f"hall_id, day, {by}",
        f"n = {table}.n + EXCLUDED.n",
    )


async def apply(conn: AsyncConnection[Any], hall: str, d: Derived) -> None:
    """Write one batch's derived rows (inside the batch's transaction)."""
    async with conn.cursor() as cur:
        if d.tickets:
            await _upsert(
                cur,
                hall,
                "tickets",
                _TICKETS,
                list(d.tickets.values()),
                "hall_id, id",
                "day = EXCLUDED.day, label = EXCLUDED.label, series = EXCLUDED.series,"
                " matter = EXCLUDED.matter, matter_name = EXCLUDED.matter_name, source = EXCLUDED.source,"
                " priority = EXCLUDED.priority, state = EXCLUDED.state, issued_at = EXCLUDED.issued_at,"
                " first_called_at = COALESCE(tickets.first_called_at, EXCLUDED.first_called_at),"
                " serving_at = COALESCE(EXCLUDED.serving_at, tickets.serving_at),"
                " ended_at = COALESCE(EXCLUDED.ended_at, tickets.ended_at),"
                ' "window" = EXCLUDED."window",'
                " staff = CASE WHEN EXCLUDED.staff <> '' THEN EXCLUDED.staff ELSE tickets.staff END,"
                " recalls = EXCLUDED.recalls, transfers = EXCLUDED.transfers,"
                " outcome = COALESCE(EXCLUDED.outcome, tickets.outcome),"
                " department = COALESCE(EXCLUDED.department, tickets.department), seq = EXCLUDED.seq",
            )
        if d.windows:
            await _upsert(
                cur,
                hall,
                "windows",
                _WINDOWS,
                list(d.windows.values()),
                "hall_id, number",
                "name = EXCLUDED.name, state = EXCLUDED.state, zone = EXCLUDED.zone, staff = EXCLUDED.staff,"
                " pause_reason = EXCLUDED.pause_reason, current = EXCLUDED.current,"
                " current_state = EXCLUDED.current_state,"
                " since = CASE WHEN windows.state = EXCLUDED.state THEN windows.since"
                " ELSE EXCLUDED.since END",
            )
        if d.ratings:
            await _upsert(
                cur,
                hall,
                "ratings",
                _RATINGS,
                list(d.ratings.values()),
                "hall_id, ticket",
                'score = EXCLUDED.score, matter = EXCLUDED.matter, "window" = EXCLUDED."window",'
                " staff = EXCLUDED.staff, at = EXCLUDED.at",
            )
        if d.waiting:
            await _upsert(
                cur,
                hall,
                "series_waiting",
                (("series", "text"), ("waiting", "int")),
                [{"series": k, "waiting": n} for k, n in d.waiting.items()],
                "hall_id, series",
                "waiting = EXCLUDED.waiting",
            )
        if d.prechecks:
            await _add_day_counts(cur, hall, "precheck_days", "outcome", d.prechecks)
        if d.missing:
            await _add_day_counts(cur, hall, "precheck_missing", "material", d.missing)
        if d.cases:
            await _upsert(
                cur,
                hall,
                "cases",
                _CASES,
                list(d.cases.values()),
                "hall_id, id",
                "state = EXCLUDED.state, due = EXCLUDED.due, score = EXCLUDED.score,"
                " opened_at = COALESCE(cases.opened_at, EXCLUDED.opened_at), closed_at = EXCLUDED.closed_at,"
                " at = EXCLUDED.at",
            )
        if d.totals:
            await _upsert(
                cur,
                hall,
                "hall_days",
                (("day", "date"), ("tickets", "int"), ("rated", "int"), ("satisfied", "int")),
                [{"day": k, "tickets": t, "rated": r, "satisfied": s} for k, (t, r, s) in d.totals.items()],
                "hall_id, day",
                "tickets = hall_days.tickets + EXCLUDED.tickets, rated = hall_days.rated + EXCLUDED.rated,"
                " satisfied = hall_days.satisfied + EXCLUDED.satisfied",
            )
        days = sorted(d.days())
        if days:
            # The days this batch changed are (re)counted once over; a finished day changed late (a 差评
            # step, an expiry) loses its roll-up until then (hallcentral/rollups.py).
            await cur.execute(
                "INSERT INTO rollup_queue (hall_id, day) SELECT %s, unnest(%s::date[])"
                " ON CONFLICT DO NOTHING",
                (hall, days),
            )
            await cur.execute("DELETE FROM rollup_days WHERE hall_id = %s AND day = ANY(%s)", (hall, days))
