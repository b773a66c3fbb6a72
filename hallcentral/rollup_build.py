"""Building the roll-ups of finished hall days (hallcentral/rollups.py counts them; rollup_months.py merges a
month): the builder takes the queued hall days that are over (before the hall's today) and stores each in its
own transaction.

Building a day holds the hall's row in `halls` FOR SHARE: a batch of that hall (which locks the row FOR
UPDATE) waits until the day is stored, and the build reads only committed batches; a batch that changes a
built day deletes its `rollup_days` row and queues it again (hallcentral/apply.py). The rows are counted and
stored by PostgreSQL in one statement each (INSERT … SELECT): nothing travels through Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from hallcentral import rollup_months
from hallcentral.rollups import COUNTS_SQL, DIMS, STAT_COLS, compute_sql, params


@dataclass(slots=True)
class Built:
    days: int = 0
    rows: int = 0


async def build_day(conn: AsyncConnection[Any], hall: str, day: dt.date, now: dt.datetime) -> int:
    """Count and store one hall day and merge its month (inside the caller's transaction); the day's rows
    stored, -1 if the hall is gone."""
    cur = await conn.execute(
        "SELECT coalesce(p.fingerprint, '') FROM halls h LEFT JOIN hall_profiles p USING (hall_id)"
        " WHERE h.hall_id = %s FOR SHARE OF h",
        (hall,),
    )
    row = await cur.fetchone()
    if row is None:
        return -1
    fingerprint = str(row[0])
    p = params([(hall, day)])
    async with conn.cursor() as c:
        await c.execute("DELETE FROM day_stats WHERE hall_id = %s AND day = %s", (hall, day))
        await c.execute("DELETE FROM day_counts WHERE hall_id = %s AND day = %s", (hall, day))
        cols = ", ".join(STAT_COLS)
        await c.execute(
            f"INSERT INTO day_stats (hall_id, dim, day, key, {cols}) {compute_sql(DIMS)}".encode(), p
        )
        rows = c.rowcount
        await c.execute(f"INSERT INTO day_counts (hall_id, day, kind, key, n) {COUNTS_SQL}".encode(), p)
        rows += c.rowcount
        await c.execute(
            "INSERT INTO rollup_days (hall_id, day, fingerprint, built_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (hall_id, day) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
            " built_at = EXCLUDED.built_at",
            (hall, day, fingerprint, now),
        )
        await c.execute("DELETE FROM rollup_queue WHERE hall_id = %s AND day = %s", (hall, day))
        await rollup_months.merge(c, hall, day, now)
    return rows


async def due(pool: AsyncConnectionPool, limit: int = 100) -> list[tuple[str, dt.date]]:
    """Queued hall days that are over (before the hall's today), oldest first."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT q.hall_id, q.day FROM rollup_queue q JOIN halls h USING (hall_id)"
            " WHERE h.today IS NOT NULL AND q.day < h.today ORDER BY q.day, q.hall_id LIMIT %s",
            (limit,),
        )
        out = [(str(h), d) for h, d in await cur.fetchall()]
        await conn.rollback()
    return out


async def build_due(pool: AsyncConnectionPool, now: dt.datetime, limit: int = 100) -> Built:
    """Roll up the finished days waiting in the queue (each in its own transaction)."""
    out = Built()
    for hall, day in await due(pool, limit):
        async with pool.connection() as conn, conn.transaction():
            n = await build_day(conn, hall, day, now)
        if n >= 0:
            out.days += 1
            out.rows += n
    return out
