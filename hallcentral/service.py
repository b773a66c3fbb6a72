"""The running centre: config, connection pool, event partitions, live hub, login limits, housekeeping."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets

from fastapi import Request
from psycopg_pool import AsyncConnectionPool

from hallcentral import rollup_build
from hallcentral.auth import LoginLimiter
from hallcentral.config import CentralConfig, region_paths
from hallcentral.db import Partitions, migrate, month_of, open_pool
from hallcentral.live import Hub
from hallcore.clock import Clock

log = logging.getLogger(__name__)

HOUSEKEEPING_S = 3600.0
INGEST_SLOTS = 4


class Central:
    """The running centre: config, pool, partitions, live hub, login limits."""

    def __init__(self, config: CentralConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.partitions = Partitions()
        self.hub = Hub()
        self.limiter = LoginLimiter()
        # Batches applied at once: each holds a connection and the loop between its awaits; more in flight
        # only queue in PostgreSQL, and pages would wait behind all of them.
        self.ingest_slots = asyncio.Semaphore(INGEST_SLOTS)
        self.secret = secrets.token_bytes(32)  # CSRF tokens; a restart asks for a page reload, nothing more
        self._pool: AsyncConnectionPool | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pool(self) -> AsyncConnectionPool:
        assert self._pool is not None, "the centre is not started"
        return self._pool

    def now(self) -> dt.datetime:
        return self.clock.now()

    async def start(self) -> None:
        await migrate(self.config.database.dsn)
        self._pool = await open_pool(self.config.database.dsn, max_size=self.config.database.pool_max)
        await self.sync_regions()
        self._tasks = [
            asyncio.create_task(self._housekeeping(), name="central-housekeeping"),
            asyncio.create_task(self._keep_rollups(), name="central-rollups"),
        ]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks = []
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def sync_regions(self) -> None:
        """The config's region tree into `regions` (parents first); regions removed from the config stay
        while a hall or user refers to them."""
        paths = region_paths(self.config.regions)
        ordered = sorted(self.config.regions, key=lambda r: paths[r.id].count("/"))
        async with self.pool.connection() as conn, conn.transaction():
            for r in ordered:
                await conn.execute(
                    "INSERT INTO regions (id, parent, name, level, path) VALUES (%s, %s, %s, %s, %s)"
                    " ON CONFLICT (id) DO UPDATE SET parent = EXCLUDED.parent, name = EXCLUDED.name,"
                    " level = EXCLUDED.level, path = EXCLUDED.path",
                    (r.id, r.parent or None, r.name, r.level, paths[r.id]),
                )

    async def apply_retention(self) -> list[dt.date]:
        keep_from = month_of(self.now().date())
        for _ in range(self.config.retention.event_months - 1):
            keep_from = month_of(keep_from - dt.timedelta(days=1))
        dropped = await self.partitions.drop_before(self.pool, keep_from)
        if dropped:
            log.info("retention: dropped event months %s", ", ".join(m.isoformat()[:7] for m in dropped))
        return dropped

    async def build_rollups(self) -> rollup_build.Built:
        """Roll up the hall days that are over and not rolled up (or changed since)."""
        built = await rollup_build.build_due(self.pool, self.now(), self.config.rollups.days_per_round)
        if built.days:
            log.info("roll-ups: %d hall days (%d rows)", built.days, built.rows)
        return built

    async def _keep_rollups(self) -> None:
        while True:
            try:
                built = await self.build_rollups()
            except Exception:
                _stop_if_cancelled()
                log.exception("central roll-ups failed")
                built = rollup_build.Built()
            _stop_if_cancelled()
            # A full round means more are waiting (a hall caught up on a week): go on at once.
            if built.days < self.config.rollups.days_per_round:
                await asyncio.sleep(self.config.rollups.build_every_s)

    async def _housekeeping(self) -> None:
        while True:
            try:
                await self.apply_retention()
            except Exception:
                _stop_if_cancelled()
                log.exception("central housekeeping failed")
            _stop_if_cancelled()
            await asyncio.sleep(HOUSEKEEPING_S)


def _stop_if_cancelled() -> None:
    """A cancellation that arrives in the middle of a query may come out of psycopg as its own error or not
    at all (the pool's connection context completes the rollback first): a background loop that logs errors
    and goes on checks whether it was asked to stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def get_central(request: Request) -> Central:
    central: Central = request.app.state.central
    return central
