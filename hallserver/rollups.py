"""Per-day statistics roll-ups of finished business days, built and stored (migration m004; docs/web.md
"Roll-ups").

A finished day (business day < today in the hall's time zone) is summarised once into small rows
(`rollup_compute`). A report merges the stored rows of its finished days with the same
rows computed on the fly for the days that are not rolled up (today, and any day being rebuilt), so the
figures are those of the SQL over the whole range (`stats.build_report(live_only=True)`), at the page's
resolution.

Building (`ensure`) respects the store's one writer:
1. a writer job claims the missing days (`rollup_days` row, state 'building', a fresh token);
2. the read pool computes the claimed days (a read transaction per chunk, started after the claim
   committed);
3. a writer job per chunk of days stores them, only for days whose claim still holds: any change to a
   day's rows after the claim has deleted the claim (triggers of m004), and that day is left to the
   next query (and computed live meanwhile).

A day is also rebuilt when the config fingerprint changes (series targets, 即办件 matters, time zone):
`within target` and the 即办件 share depend on them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from hallcore.config import HallConfig
from hallserver.rollup_compute import (
    COUNT_KINDS,
    HIST_WHAT,
    RATING_DIMS,
    TICKET_DIMS,
    Parts,
    compute,
    day_bounds,
    fingerprint,
    julian,
)
from hallserver.store import Job
from hallserver.writectx import Reply, WriteCtx, ok

log = logging.getLogger(__name__)
T = TypeVar("T")
Reader = Callable[[Callable[[sqlite3.Connection], T]], Awaitable[T]]
Submit = Callable[[Job], Awaitable[Reply]]

#: Days per build chunk: one read transaction and one writer job each (a few ms of the writer per day).
CHUNK_DAYS = 3
#: At most this many missing days (yesterday, a weekend) are built while a report waits (~0.35 s a provincial
#: day on 2 cores, about the SQL over a month); more are built in the background.
SYNC_BUILD_DAYS = 2
#: A claim older than this (its builder died or hung) may be taken over.
CLAIM_STALE_S = 120.0
#: How long a query waits for days another query is building before computing them itself.
WAIT_OTHERS_S = 60.0


# ---- stored roll-ups ---------------------------------------------------------------------------------------


def ready_days(conn: sqlite3.Connection, config: HallConfig, start: dt.date, end: dt.date) -> set[str]:
    fp = fingerprint(config)
    return {
        d
        for (d,) in conn.execute(
            "SELECT day FROM rollup_days WHERE day BETWEEN ? AND ? AND state = 'ready' AND fp = ?",
            (start.isoformat(), end.isoformat(), fp),
        )
    }


def read_stored(
    conn: sqlite3.Connection,
    config: HallConfig,
    start: dt.date,
    end: dt.date,
    *,
    group_dims: Iterable[str],
    hist_dims: Iterable[str],
    rating_dims: Iterable[str],
    count_kinds: Iterable[str] = COUNT_KINDS,
) -> tuple[set[str], Parts]:
    """The ready days of start..end and their stored rows (of the dimensions and kinds named), in one read
    transaction."""
    out = Parts()
    conn.execute("BEGIN")
    try:
        ready = ready_days(conn, config, start, end)
        if not ready:
            return ready, out
        r = (start.isoformat(), end.isoformat())

        def rows(sql: str, keys: Iterable[str], day_at: int) -> list[Any]:
            # Each query per dimension (or kind) is a range scan of its index; days not ready are dropped.
            return [row for k in keys for row in conn.execute(sql, (k, *r)) if row[day_at] in ready]

        out.groups += rows("SELECT * FROM rollup_groups WHERE dim = ? AND day BETWEEN ? AND ?", group_dims, 1)
        out.hists += rows(
            "SELECT dim, what, day, key, hist FROM rollup_hists"
            " WHERE dim = ? AND what IN ('wait', 'handle') AND day BETWEEN ? AND ?",
            hist_dims,
            2,
        )
        out.ratings += rows(
            "SELECT dim, day, key, score, n FROM rollup_ratings WHERE dim = ? AND day BETWEEN ? AND ?",
            rating_dims,
            1,
        )
        out.counts += rows(
            "SELECT kind, day, key, n, x FROM rollup_counts WHERE kind = ? AND day BETWEEN ? AND ?",
            count_kinds,
            1,
        )
    finally:
        conn.execute("COMMIT")
    return ready, out


def _store(conn: sqlite3.Connection, token: str, days: list[str], parts: Parts) -> list[str]:
    """Writer side: replace the rows of each day still claimed by `token`; returns the days stored."""
    stored = []
    for d in days:
        row = conn.execute("SELECT token, state FROM rollup_days WHERE day = ?", (d,)).fetchone()
        if row is None or row[0] != token or row[1] != "building":
            continue  # changed since the claim (trigger) or taken over: the next query rebuilds it
        for dim in TICKET_DIMS:
            conn.execute("DELETE FROM rollup_groups WHERE dim = ? AND day = ?", (dim, d))
            for what in HIST_WHAT:
                conn.execute(
                    "DELETE FROM rollup_hists WHERE dim = ? AND what = ? AND day = ?", (dim, what, d)
                )
        for dim in RATING_DIMS:
            conn.execute("DELETE FROM rollup_ratings WHERE dim = ? AND day = ?", (dim, d))
        for kind in COUNT_KINDS:
            conn.execute("DELETE FROM rollup_counts WHERE kind = ? AND day = ?", (kind, d))
        conn.executemany(
            "INSERT INTO rollup_groups VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [g for g in parts.groups if g[1] == d],
        )
        conn.executemany("INSERT INTO rollup_hists VALUES (?,?,?,?,?)", [h for h in parts.hists if h[2] == d])
        conn.executemany(
            "INSERT INTO rollup_ratings VALUES (?,?,?,?,?)", [r for r in parts.ratings if r[1] == d]
        )
        conn.executemany(
            "INSERT INTO rollup_counts VALUES (?,?,?,?,?)", [c for c in parts.counts if c[1] == d]
        )
        conn.execute("UPDATE rollup_days SET state = 'ready' WHERE day = ?", (d,))
        stored.append(d)
    return stored


async def ensure(
    read: Reader[Any],
    submit: Submit,
    config: HallConfig,
    days: list[dt.date],
    *,
    parallel: int = 2,
) -> dict[str, int]:
    """Roll up those of `days` (all finished) that are not stored yet; wait for days another query builds.

    Returns counts: built, taken by another builder, skipped (changed while building)."""
    fp = fingerprint(config)
    token = secrets.token_hex(8)
    want = [d.isoformat() for d in days]
    if not want:
        return {"built": 0, "others": 0, "skipped": 0}
    claimed: list[str] = []
    others: list[str] = []

    def claim(ctx: WriteCtx) -> Reply:
        conn = ctx.conn
        have = {
            d: (state, f, at)
            for d, state, f, at in conn.execute(
                "SELECT day, state, fp, claimed_at FROM rollup_days WHERE day BETWEEN ? AND ?",
                (want[0], want[-1]),
            )
        }
        wall = time.time()
        rows = []
        for d in want:
            cur = have.get(d)
            if cur is not None and cur[1] == fp and cur[0] == "ready":
                continue
            if cur is not None and cur[1] == fp and cur[0] == "building" and wall - cur[2] < CLAIM_STALE_S:
                others.append(d)
                continue
            lo, hi = day_bounds(config, dt.date.fromisoformat(d))
            rows.append((d, token, fp, julian(lo), julian(hi), wall))
        conn.executemany(
            "INSERT INTO rollup_days (day, state, token, fp, lo_jd, hi_jd, claimed_at)"
            " VALUES (?, 'building', ?, ?, ?, ?, ?) ON CONFLICT (day) DO UPDATE SET state = 'building',"
            " token = excluded.token, fp = excluded.fp, lo_jd = excluded.lo_jd, hi_jd = excluded.hi_jd,"
            " claimed_at = excluded.claimed_at",
            rows,
        )
        claimed.extend(r[0] for r in rows)
        return ok({})

    need = [d for d in want if d not in await read(lambda c: ready_days(c, config, days[0], days[-1]))]
    if not need:
        return {"built": 0, "others": 0, "skipped": 0}
    reply = await submit(Job(claim))
    if reply.status != 200:
        log.warning("roll-up claim refused: %s", reply.text)
        return {"built": 0, "others": 0, "skipped": len(need)}
    built = 0
    sem = asyncio.Semaphore(parallel)

    async def one(chunk: list[str]) -> int:
        async with sem:
            dates = [dt.date.fromisoformat(d) for d in chunk]
            parts = await read(lambda c: compute(c, config, dates))
        done: list[str] = []

        def store(ctx: WriteCtx) -> Reply:
            done.extend(_store(ctx.conn, token, chunk, parts))
            return ok({})

        await submit(Job(store))
        return len(done)

    chunks = [claimed[i : i + CHUNK_DAYS] for i in range(0, len(claimed), CHUNK_DAYS)]
    for n in await asyncio.gather(*(one(c) for c in chunks)):
        built += n
    if others:
        # Another query is building these: wait for it (its figures are ours) rather than duplicate the work.
        deadline = time.monotonic() + WAIT_OTHERS_S
        first, last = dt.date.fromisoformat(min(others)), dt.date.fromisoformat(max(others))
        while time.monotonic() < deadline:
            states = await read(lambda c: _states(c, first, last))
            if all(states.get(d) != "building" for d in others):
                break
            await asyncio.sleep(0.05)
    return {"built": built, "others": len(others), "skipped": len(claimed) - built}


def _states(conn: sqlite3.Connection, first: dt.date, last: dt.date) -> dict[str, str]:
    return dict(
        conn.execute(
            "SELECT day, state FROM rollup_days WHERE day BETWEEN ? AND ?",
            (first.isoformat(), last.isoformat()),
        ).fetchall()
    )


# ---- building in the background ----------------------------------------------------------------------------

_background: dict[int, asyncio.Task[None]] = {}


def build_in_background(read: Reader[Any], submit: Submit, config: HallConfig, days: list[dt.date]) -> None:
    """Build the roll-ups of `days` in a task of the running loop, one chunk at a time (one per store)."""
    owner = id(getattr(submit, "__self__", submit))
    running = _background.get(owner)
    if running is not None and not running.done():
        return

    async def run() -> None:
        try:
            result = await ensure(read, submit, config, days, parallel=1)
            log.info("statistics roll-ups built in the background: %s", result)
        except Exception:
            log.exception("statistics roll-ups: background build failed")
        finally:
            _background.pop(owner, None)

    _background[owner] = asyncio.get_running_loop().create_task(run(), name="stats-rollups")


async def drain() -> None:
    """Wait for the background builds of this loop (benchmarks and tests)."""
    loop = asyncio.get_running_loop()
    tasks = [t for t in _background.values() if t.get_loop() is loop]
    if tasks:
        await asyncio.gather(*tasks)
