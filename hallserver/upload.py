"""好差评 upload: ratings from the `outbox` table to the provincial platform (JSON over HTTP).

- Never lost: a rating enters the outbox in the same transaction as the rating itself (writectx.py); a row
  is marked sent only after the platform answered 2xx, so a crash or restart just sends it again.
- Idempotent: every row carries a stable key (`<hall id>:<ticket id>`) in the body and in the
  `Idempotency-Key` header, so a platform that saw a retry can drop the duplicate.
- Retried with exponential backoff (2 s, 4 s, … up to `upload.retry_max_s`), in order: the oldest unsent
  row is retried first and nothing newer overtakes it while the platform is down.
- The platform's field names come from `upload.field_map` (platform field → hallq field); with no map the
  hallq fields are sent as they are.

Backoff waits are real time (network retries), not hall time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

import httpx

from hallcore.config import Upload
from hallserver import rows
from hallserver.evloop import cancel
from hallserver.service import HallServer
from hallserver.store import Job
from hallserver.writectx import Reply, WriteCtx, ok

log = logging.getLogger(__name__)

BATCH = 50
FIRST_BACKOFF_S = 2.0
IDLE_POLL_S = 2.0


@dataclass(slots=True)
class UploadState:
    """What the dashboard shows."""

    enabled: bool
    endpoint: str
    pending: int = 0
    sent: int = 0
    failures: int = 0  # consecutive
    last_error: str = ""
    last_sent_at: str = ""
    oldest_pending_at: str = ""
    next_try_in_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "endpoint": self.endpoint,
            "pending": self.pending,
            "sent": self.sent,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_sent_at": self.last_sent_at,
            "oldest_pending_at": self.oldest_pending_at,
            "next_try_in_s": round(self.next_try_in_s, 1),
        }


def platform_body(
    hall_id: str, row_id: int, rating: dict[str, Any], field_map: dict[str, str]
) -> dict[str, Any]:
    """The JSON the platform gets for one rating."""
    key = f"{hall_id}:{rating.get('ticket', row_id)}"
    values = {**rating, "hall": hall_id, "idempotency_key": key}
    if not field_map:
        return values
    body = {platform: values.get(ours) for platform, ours in field_map.items()}
    body.setdefault("idempotencyKey", key)
    return body


def outbox_rating(text: str) -> dict[str, Any]:
    """An outbox body as a dict: the writer stores the rating row (a JSON array in column order)."""
    value = json.loads(text)
    if isinstance(value, list):
        return dict(zip(rows.RATINGS.columns, value, strict=False))
    return dict(value)


class Uploader:
    def __init__(self, hall: HallServer, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.hall = hall
        cfg = hall.config.upload
        self.state = UploadState(cfg.enabled and bool(cfg.endpoint), cfg.endpoint)
        self._transport = transport
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @property
    def config(self) -> Upload:
        return self.hall.config.upload

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hall-upload")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    def poke(self) -> None:
        """A new rating was committed: look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def refresh_counts(self) -> None:
        def read(conn: sqlite3.Connection) -> tuple[int, int, str]:
            pending, oldest = conn.execute(
                "SELECT COUNT(*), MIN(at) FROM outbox WHERE sent_at IS NULL AND kind = 'rating'"
            ).fetchone()
            sent = conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL").fetchone()[0]
            return int(pending), int(sent), oldest or ""

        self.state.pending, self.state.sent, self.state.oldest_pending_at = await self.hall.store.read(read)

    async def _run(self) -> None:
        async with httpx.AsyncClient(transport=self._transport, timeout=10.0) as client:
            backoff = 0.0
            while True:
                try:
                    await self.refresh_counts()
                    if not self.state.enabled or self.state.pending == 0:
                        await self._sleep(IDLE_POLL_S)
                        continue
                    done = await self._send_batch(client)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("好差评 upload: unexpected error")
                    done = False
                if done:
                    backoff = 0.0
                    self.state.next_try_in_s = 0.0
                    continue
                backoff = min(float(self.config.retry_max_s), max(FIRST_BACKOFF_S, backoff * 2))
                self.state.next_try_in_s = backoff
                await self._sleep(backoff)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _send_batch(self, client: httpx.AsyncClient) -> bool:
        """Send the oldest unsent rows in order; False at the first failure (retry later from there)."""

        def read(conn: sqlite3.Connection) -> list[tuple[int, str]]:
            return conn.execute(
                "SELECT id, body FROM outbox WHERE sent_at IS NULL AND kind = 'rating' ORDER BY id LIMIT ?",
                (BATCH,),
            ).fetchall()

        batch = await self.hall.store.read(read)
        hall_id = self.hall.config.hall.id
        for row_id, text in batch:
            rating = outbox_rating(text)
            body = platform_body(hall_id, row_id, rating, dict(self.config.field_map))
            key = f"{hall_id}:{rating.get('ticket', row_id)}"
            error = ""
            try:
                r = await client.post(self.config.endpoint, json=body, headers={"Idempotency-Key": key})
                if not 200 <= r.status_code < 300:
                    error = f"HTTP {r.status_code}: {r.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            await self.hall.store.submit(_mark_job(row_id, error))
            if error:
                if self.state.failures == 0:
                    log.warning("好差评 upload failing (%s); retrying with backoff", error)
                self.state.failures += 1
                self.state.last_error = error
                return False
            if self.state.failures:
                log.info("好差评 upload recovered after %d failed attempts", self.state.failures)
            self.state.failures = 0
            self.state.last_sent_at = self.hall.clock.now().isoformat()
        return True


def _mark_job(row_id: int, error: str) -> Job:
    def run(ctx: WriteCtx) -> Reply:
        if error:
            ctx.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, last_try_at = ? WHERE id = ?",
                (error, ctx.now.isoformat(), row_id),
            )
        else:
            ctx.execute(
                "UPDATE outbox SET attempts = attempts + 1, sent_at = ?, last_error = '', last_try_at = ?"
                " WHERE id = ? AND sent_at IS NULL",
                (ctx.now.isoformat(), ctx.now.isoformat(), row_id),
            )
        return ok({})

    return Job(run)
