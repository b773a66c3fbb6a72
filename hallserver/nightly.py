"""The nightly refresh of the estimator's history (issue 29): once a business day, the last HISTORY_DAYS days'
finished cases are read again (`loader.read_history`), so each day's estimates start from the days before it
even when the server runs for weeks without a restart.

The day rolls over at the hall's local midnight (`HallCalendar.business_day`, as ticket numbers do), hours
after the hall closed. The read runs on the store's read pool, never on the event loop (on a provincial
store of 28 days it takes about a second: 0.8-1.4 s in `bench/history.py`); the new history is swapped
into the engine by a job on the writer, between two commands, so no estimate ever sees half of it. A failed
read keeps the running history, logs why and tries again RETRY_S later by the hall's clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable

from hallcore.calendar import HallCalendar
from hallcore.clock import Clock
from hallcore.config import HallConfig
from hallcore.history import HandleHistory
from hallserver.loader import read_history
from hallserver.store import Job, Store
from hallserver.writectx import Reply, WriteCtx, ok

log = logging.getLogger(__name__)

#: After a failed read, the next try this many seconds later (by the hall's clock).
RETRY_S = 600.0


class HistoryRefresh:
    """Checked on every housekeeping tick (`check`): on a new business day, read and swap in the history.

    `day` is the business day the running history was read for (`start`: the engine's, read by
    `loader.load_engine` at start); `refreshed` and `failed` count the nightly reads swapped in and failed;
    `last_error` says why the last one failed ("" once one succeeds); `read_ms` is the last read's time;
    `checks` counts the calls of `check`; `read` is how the history is read (`loader.read_history`)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        calendar: Callable[[], HallCalendar],
        read: Callable[[sqlite3.Connection, dt.date, dt.tzinfo], HandleHistory] = read_history,
    ) -> None:
        self._store = store
        self.read = read
        self._clock = clock
        self._calendar = calendar
        self.day: dt.date | None = None
        self.refreshed = 0
        self.failed = 0
        self.last_error = ""
        self.read_ms: float | None = None
        self.checks = 0
        self._retry_at: float | None = None
        self.on_swap: Callable[[], None] = lambda: None

    def start(self) -> None:
        """The engine has just been loaded with the history of today (`loader.load_engine`)."""
        self.day = self._calendar().business_day(self._clock.now())

    async def check(self) -> bool:
        """Read and swap in the history if the business day has changed since the last one (and no failed
        read is waiting for its retry). Whether a new history was swapped in."""
        self.checks += 1
        calendar = self._calendar()
        today = calendar.business_day(self._clock.now())
        if today == self.day:
            return False
        if self._retry_at is not None and self._clock.monotonic() < self._retry_at:
            return False
        tz = calendar.tz
        began = time.perf_counter()
        try:
            history = await self._store.read(lambda conn: self.read(conn, today, tz))
        except Exception as exc:  # a broken store or row: whatever it is, the running history stays
            return self._failed(today, f"{type(exc).__name__}: {exc}")
        self.read_ms = (time.perf_counter() - began) * 1000

        def swap(ctx: WriteCtx) -> Reply:
            ctx.engine.use_history(history)
            return ok({})

        reply = await self._store.submit(Job(swap))
        if reply.status != 200:
            return self._failed(today, f"the swap was refused: {reply.text}")
        self.day = today
        self.refreshed += 1
        self.last_error = ""
        self._retry_at = None
        self.on_swap()
        log.info(
            "history for %s: %d past cases of %d matters, read in %.0f ms",
            today,
            sum(history.cases.values()),
            len(history.cases),
            self.read_ms,
        )
        return True

    async def read_for(self, config: HallConfig) -> HandleHistory | None:
        """Today's history for a hall about to run `config` (a reload), read on the read pool: the reload's
        writer job would otherwise hold every command for it (a provincial month: about a second). None
        when the read fails: the job reads it again, as a start does."""
        calendar = HallCalendar(config.hall)
        today = calendar.business_day(self._clock.now())
        try:
            return await self._store.read(lambda conn: self.read(conn, today, calendar.tz))
        except Exception as exc:  # whatever it is, the reload's own read decides
            log.warning("config reload: the history read failed, the reload reads it itself: %s", exc)
            return None

    def _failed(self, today: dt.date, why: str) -> bool:
        self.failed += 1
        self.last_error = why
        self._retry_at = self._clock.monotonic() + RETRY_S
        log.error(
            "the history for %s could not be read, the estimates keep the one of %s (again in %.0f s): %s",
            today,
            self.day,
            RETRY_S,
            why,
        )
        return False
