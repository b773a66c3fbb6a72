"""好差评 upload: the outbox (hallserver/outbox.py) to the provincial platform, signed JSON over HTTP(S)
(docs/integrations.md).

- Never lost: a report enters the outbox in the same transaction as the rating or the case close it reports;
  a row is marked sent only after the platform answered 2xx, so a crash or restart just sends it again.
- Never counted twice: every row carries its idempotency key (`<hall>:<ticket>`, `<hall>:<case>:close<n>`) in
  the body and in the `Idempotency-Key` header, the same on every resend, so a platform that saw the request
  before the kill drops the repeat.
- Signed (`hallcore.provincial`): appKey, timestamp, nonce and the body's digest under HMAC-SHA256.
- Transient failures (network, timeout, 408, 429, 5xx) stop the round and back off with jitter (a 429's
  `Retry-After` is honoured, capped at `upload.retry_max_s`); the oldest row is tried first again. Any other
  4xx is permanent: the row becomes a dead letter with the platform's reason and the rows after it go on.
- The platform's field names come from `upload.field_map` (platform field → hallq data item).

Backoff waits are real time (network retries), not hall time; the signature's timestamp is the hall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import pathlib
import random
import secrets
import sqlite3
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from hallcore.config import Upload
from hallcore.provincial import HmacSigner, NoSigner, Signer, platform_body
from hallserver import outbox
from hallserver.backoff import backoff_s
from hallserver.errors import ApiError
from hallserver.evloop import Worker
from hallserver.private import PrivateFileError, read_secret
from hallserver.service import HallServer
from hallserver.store import Job
from hallserver.writectx import Reply, WriteCtx, error_reply, ok

log = logging.getLogger(__name__)

BATCH = 50
IDLE_POLL_S = 2.0
TRANSIENT = frozenset({408, 429})
ACTIONS_ZH = {"retry": "重试", "discard": "作废"}


@dataclass(slots=True)
class UploadState:
    """What the dashboard shows."""

    enabled: bool
    endpoint: str
    pending: int = 0
    sent: int = 0
    dead: int = 0
    failures: int = 0  # consecutive transient failures
    last_error: str = ""
    last_sent_at: str = ""
    oldest_pending_at: str = ""
    next_try_in_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "next_try_in_s": round(self.next_try_in_s, 1)}


def retry_after_s(r: httpx.Response) -> float:
    value = r.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else 0.0


def classify(status: int) -> str:
    """The verdict on a reply: sent, transient (try again later, in order) or dead (refused for good)."""
    if 200 <= status < 300:
        return "sent"
    if status in TRANSIENT or status >= 500 or status < 400:
        return "transient"
    return "dead"


def make_signer(cfg: Upload) -> Signer:
    """The configured signer; the app secret is read from its 0600 file (stripped of the trailing newline).
    A secret other users could read is refused (the dashboard shows why; rows wait, nothing is lost)."""
    if cfg.signer == "none":
        return NoSigner()
    try:
        return HmacSigner(cfg.app_key, read_secret(pathlib.Path(cfg.secret_file)))
    except PrivateFileError as exc:
        raise ValueError(str(exc)) from exc


class _Transient(Exception):
    def __init__(self, error: str, retry_after: float = 0.0) -> None:
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after


class Uploader(Worker):
    task_name = "hall-upload"

    def __init__(
        self,
        hall: HallServer,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self.hall = hall
        cfg = hall.config.upload
        self.state = UploadState(cfg.enabled and bool(cfg.endpoint), cfg.endpoint)
        self._transport = transport
        self._rng = rng or random.Random()
        self._nonce = nonce
        self._signer: tuple[Upload, Signer] | None = None
        self._wake = asyncio.Event()

    @property
    def config(self) -> Upload:
        return self.hall.config.upload

    def poke(self) -> None:
        """Rows were put back in the queue (or added): look now, not after the backoff."""
        self.state.failures = 0
        self._wake.set()

    async def refresh_counts(self) -> None:
        c = await self.hall.store.read(outbox.counts)
        self.state.pending, self.state.sent, self.state.dead = c["pending"], c["sent"], c["dead"]
        self.state.oldest_pending_at = c["oldest_pending_at"]

    def signer(self) -> Signer:
        cfg = self.config
        if self._signer is None or self._signer[0] is not cfg:
            self._signer = (cfg, make_signer(cfg))
        return self._signer[1]

    async def _run(self) -> None:
        async with httpx.AsyncClient(transport=self._transport) as client:
            while True:
                wait = 0.0
                try:
                    await self.refresh_counts()
                    if not self.state.enabled or self.state.pending == 0:
                        wait = IDLE_POLL_S
                    else:
                        await self._send_batch(client)
                        self.state.next_try_in_s = 0.0
                except asyncio.CancelledError:
                    raise
                except _Transient as exc:
                    wait = self._failed(exc.error, exc.retry_after)
                except Exception as exc:
                    log.exception("好差评 upload: unexpected error")
                    wait = self._failed(f"{type(exc).__name__}: {exc}", 0.0)
                if wait > 0:
                    await self._sleep(wait)

    def _failed(self, error: str, retry_after: float) -> float:
        if self.state.failures == 0:
            log.warning("好差评 upload failing (%s); retrying with backoff", error)
        self.state.failures += 1
        self.state.last_error = error[:300]
        cfg = self.config
        wait = backoff_s(self.state.failures, cfg.retry_first_s, cfg.retry_max_s, self._rng)
        wait = min(float(cfg.retry_max_s), max(wait, retry_after))
        self.state.next_try_in_s = wait
        return wait

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _send_batch(self, client: httpx.AsyncClient) -> None:
        """Send the oldest pending rows in order: a dead letter is set aside, a transient failure stops."""
        batch = await self.hall.store.read(lambda conn: outbox.pending(conn, BATCH, outbox.KINDS))
        cfg = self.config
        signer = self.signer()
        path = urllib.parse.urlsplit(cfg.endpoint).path or "/"
        for row_id, _kind, key, text in batch:
            item = outbox.item_of(key, text, self.hall.config)
            body = json.dumps(
                platform_body(item, dict(cfg.field_map)), ensure_ascii=False, separators=(",", ":")
            ).encode()
            headers = {
                "Content-Type": "application/json",
                "Idempotency-Key": item["idempotency_key"],
                **signer.headers("POST", path, body, self.hall.clock.now(), self._nonce()),
            }
            try:
                r = await client.post(cfg.endpoint, content=body, headers=headers, timeout=cfg.timeout_s)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                await self.hall.store.submit(mark_job(row_id, error, dead=False))
                raise _Transient(error) from exc
            verdict = classify(r.status_code)
            if verdict == "sent":
                await self.hall.store.submit(mark_job(row_id, "", dead=False))
                if self.state.failures:
                    log.info("好差评 upload recovered after %d failed attempts", self.state.failures)
                self.state.failures = 0
                self.state.last_error = ""
                self.state.last_sent_at = self.hall.clock.now().isoformat()
                continue
            error = f"HTTP {r.status_code}: {r.text[:200]}"
            await self.hall.store.submit(mark_job(row_id, error, dead=verdict == "dead"))
            if verdict == "transient":
                raise _Transient(error, retry_after_s(r))
            log.warning("好差评 upload: row %d (%s) refused for good, set aside: %s", row_id, key, error)


def mark_job(row_id: int, error: str, *, dead: bool) -> Job:
    def run(ctx: WriteCtx) -> Reply:
        if error:
            outbox.mark_failed(ctx.conn, row_id, ctx.now, error, dead=dead)
        else:
            outbox.mark_sent(ctx.conn, row_id, ctx.now)
        return ok({})

    return Job(run)


def action_job(action: str, ids: Sequence[int], actor: str, station: str = "") -> Job:
    """Retry or discard outbox rows from the dashboard, audited as the manager who did it."""

    def run(ctx: WriteCtx) -> Reply:
        try:
            if action == "retry":
                done = outbox.retry(ctx.conn, ids)
            else:
                done = outbox.discard(ctx.conn, ids, ctx.now)
        except outbox.OutboxError as exc:
            return error_reply(ApiError(409, "outbox_refused", f"不能{ACTIONS_ZH[action]}：{exc}", str(exc)))
        for i in done:
            ctx.audit(actor, station, f"outbox_{action}", str(i))
        return ok({"action": action, "ids": done})

    return Job(run)


def read_rows(state: str, kind: str = "") -> Callable[[sqlite3.Connection], list[dict[str, Any]]]:
    return lambda conn: [r.as_json() for r in outbox.list_rows(conn, state, kind)]
