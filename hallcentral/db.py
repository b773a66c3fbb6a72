"""PostgreSQL access for the centre: the connection pool, migrations, monthly event partitions, retention."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from hallcentral.schema import MIGRATIONS

log = logging.getLogger(__name__)

# One advisory lock key for "migrating": two centres starting at once apply each migration once.
_MIGRATE_LOCK = 7_316_204_551
_PARTITION = re.compile(r"^events_y(\d{4})m(\d{2})$")


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def partition_name(month: dt.date) -> str:
    return f"events_y{month.year:04d}m{month.month:02d}"


async def open_pool(dsn: str, min_size: int = 2, max_size: int = 10) -> AsyncConnectionPool:
    # No JIT: the centre's queries are short or read roll-ups, and compiling them cost seconds (measured).
    pool = AsyncConnectionPool(
        dsn, min_size=min_size, max_size=max_size, open=False, timeout=30, kwargs={"options": "-c jit=off"}
    )
    await pool.open(wait=True, timeout=30)
    return pool


async def migrate(dsn: str) -> int:
    """Apply the migrations not applied yet (each in its own transaction); the schema version."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATE_LOCK,))
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur = await conn.execute("SELECT version FROM schema_migrations")
            done = {int(r[0]) for r in await cur.fetchall()}
            for version, script in MIGRATIONS:
                if version in done:
                    continue
                async with conn.transaction():
                    for statement in script.split(";\n"):
                        if statement.strip():
                            await conn.execute(statement.encode())
                    await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                log.info("central schema: migration %d applied", version)
            return max(v for v, _ in MIGRATIONS)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATE_LOCK,))


class Partitions:
    """Creates the monthly partitions of `events` on demand (outside the ingest transaction) and drops the
    ones past retention."""

    def __init__(self) -> None:
        self._known: set[dt.date] = set()

    async def ensure(self, pool: AsyncConnectionPool, months: set[dt.date]) -> None:
        missing = months - self._known
        if not missing:
            return
        async with pool.connection() as conn:
            await conn.set_autocommit(True)
            try:
                for month in sorted(missing):
                    stmt = sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} PARTITION OF events FOR VALUES FROM ({}) TO ({})"
                    ).format(
                        sql.Identifier(partition_name(month)),
                        month.isoformat(),
                        next_month(month).isoformat(),
                    )
                    # Another ingest may create it between our check and our create.
                    with contextlib.suppress(psycopg.errors.DuplicateTable, psycopg.errors.UniqueViolation):
                        await conn.execute(stmt)
                    self._known.add(month)
            finally:
                await conn.set_autocommit(False)

    @staticmethod
    async def months(pool: AsyncConnectionPool) -> list[dt.date]:
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'events'"
            )
            out = []
            for (name,) in await cur.fetchall():
                m = _PARTITION.match(name)
                if m:
                    out.append(dt.date(int(m.group(1)), int(m.group(2)), 1))
            return sorted(out)

    async def drop_before(self, pool: AsyncConnectionPool, keep_from: dt.date) -> list[dt.date]:
        """Drop every month partition that ends on or before `keep_from` (retention): whole tables, no
        row-by-row delete, no vacuum debt. Derived tables and the per-hall cursors are kept."""
        dropped = []
        for month in await self.months(pool):
            if next_month(month) <= keep_from:
                async with pool.connection() as conn:
                    await conn.execute(
                        sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(partition_name(month)))
                    )
                self._known.discard(month)
                dropped.append(month)
        return dropped
