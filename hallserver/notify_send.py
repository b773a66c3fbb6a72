"""The notifier: two tasks of the server's loop, never in the issue path.

- The rules' batch (hallserver/notify.py `evaluate`) runs on the writer when the hall's seq moved (a queue
  change) at most every `notify.batch_s`, and once a minute for the day rules (容缺, bookings); not at all
  while nobody is subscribed.
- The sender takes due `notice` rows from the outbox, oldest first, several at once: each row is claimed
  (`claimed_at`, committed) before its request leaves and settled after the answer. A claimed row found on
  the next start was cut off by a kill mid-send: an adapter with an idempotency key sends it again, an SMS
  adapter never does (a dead letter "in doubt": at most once). A number the gateway refuses becomes a dead
  letter alone; a throttled or unreachable gateway stops the round and backs off.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
import sqlite3
from dataclasses import dataclass
from typing import Any

import httpx

from hallcore.config import HallConfig
from hallcore.notices import mask_address
from hallserver.backoff import backoff_s
from hallserver.evloop import cancel
from hallserver.notify import evaluate_job
from hallserver.notify_adapters import (
    Adapter,
    AliyunAdapter,
    Delivery,
    LogAdapter,
    Message,
    TencentAdapter,
    WeChatAdapter,
    quiet_urls,
    read_secret,
)
from hallserver.service import HallServer
from hallserver.store import Job
from hallserver.writectx import Reply, WriteCtx, ok

log = logging.getLogger(__name__)

BATCH = 20
PARALLEL = 4
DAY_RULES_S = 60.0


@dataclass(slots=True)
class NotifyState:
    """What the dashboard shows (the day's figures come from `today`)."""

    enabled: bool
    sms: str
    live: int = 0
    failures: int = 0
    last_error: str = ""
    runs: int = 0  # batches of the rules run since start
    seq_done: int = -1  # the hall's seq when the last finished batch started (it saw everything up to it)

    def as_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "sms": self.sms,
            "live": self.live,
            "failures": self.failures,
            "last_error": self.last_error,
        }


def make_adapters(config: HallConfig, hall: HallServer) -> dict[str, Adapter]:
    """The adapters per channel. A secret file that cannot be read raises: the sender shows why on the
    dashboard and the rows wait (nothing is lost)."""
    n = config.notify
    out: dict[str, Adapter] = {}
    if n.sms == "aliyun":
        out["sms"] = AliyunAdapter(n.aliyun, hall.clock, read_secret(n.aliyun.secret_file))
    elif n.sms == "tencent":
        out["sms"] = TencentAdapter(n.tencent, hall.clock, read_secret(n.tencent.secret_file))
    else:
        out["sms"] = LogAdapter()
    out["wechat"] = (
        WeChatAdapter(n.wechat, hall.clock, read_secret(n.wechat.secret_file))
        if n.wechat_enabled
        else LogAdapter()
    )
    return out


class Notifier:
    def __init__(
        self,
        hall: HallServer,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.hall = hall
        self.state = NotifyState(hall.config.notify.enabled, hall.config.notify.sms)
        self._transport = transport
        self._adapters_of: HallConfig | None = None
        self._cached: dict[str, Adapter] = {}
        self._rng = rng or random.Random()
        self._tasks: list[asyncio.Task[None]] = []
        self._wake_send = asyncio.Event()
        self._wake_rules = asyncio.Event()
        self.client: httpx.AsyncClient | None = None

    def start(self) -> None:
        quiet_urls()  # numbers and secrets never reach the log through httpx's request lines
        self.client = httpx.AsyncClient(transport=self._transport)
        self._tasks = [
            asyncio.create_task(self._rules_loop(), name="hall-notify-rules"),
            asyncio.create_task(self._send_loop(), name="hall-notify-send"),
        ]

    async def stop(self) -> None:
        await cancel(*self._tasks)
        self._tasks = []
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    def poke(self) -> None:
        """A subscription changed (or rows were retried): look now."""
        self.state.live = max(self.state.live, 1)
        self._wake_rules.set()
        self._wake_send.set()

    def adapters(self) -> dict[str, Adapter]:
        config = self.hall.config
        if self._adapters_of is not config:
            self._cached = make_adapters(config, self.hall)
            self._adapters_of = config
        return self._cached

    # ---- the rules --------------------------------------------------------------------------------------

    async def run_rules(self) -> dict[str, int]:
        seq = self.hall.store.seq

        reply = await self.hall.store.submit(evaluate_job())
        out: dict[str, int] = json.loads(reply.text) if reply.status == 200 else {"queued": 0, "live": 0}
        self.state.live = out.get("live", 0)
        self.state.runs += 1
        self.state.seq_done = seq
        if out.get("queued"):
            self._wake_send.set()
        return out

    async def _rules_loop(self) -> None:
        seen = -1
        last_day_rules = -DAY_RULES_S
        self.state.live = 1  # look once at start
        while True:
            cfg = self.hall.config.notify
            mono = self.hall.clock.monotonic()
            seq = self.hall.store.seq
            day_rules = mono - last_day_rules >= DAY_RULES_S
            if self.state.live and (seq != seen or day_rules or self._wake_rules.is_set()):
                self._wake_rules.clear()
                seen = seq
                if day_rules:
                    last_day_rules = mono
                try:
                    await self.run_rules()
                except Exception:
                    log.exception("notices: the rules' batch failed")
            # Queue changes are gathered for batch_s: one batch per burst, not one per command.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_rules.wait(), max(0.05, cfg.batch_s))

    # ---- sending ----------------------------------------------------------------------------------------

    async def _send_loop(self) -> None:
        settled = False  # the rows a killed process left on the wire: first, once the adapters are there
        while True:
            wait = 2.0
            try:
                if not settled:
                    await self._settle_in_doubt()
                    settled = True
                sent_any, retry_after = await self.send_round()
                if retry_after is not None:
                    wait = retry_after
                elif sent_any:
                    wait = 0.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("notices: sending failed")
                wait = self._failed(f"{type(exc).__name__}: {exc}", 0.0)
            if wait > 0:
                self._wake_send.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake_send.wait(), wait)

    def _failed(self, error: str, retry_after: float) -> float:
        if self.state.failures == 0:
            log.warning("notices: gateway failing (%s); retrying with backoff", error)
        self.state.failures += 1
        self.state.last_error = error[:300]
        cfg = self.hall.config.notify
        wait = backoff_s(self.state.failures, cfg.retry_first_s, cfg.retry_max_s, self._rng)
        return min(float(cfg.retry_max_s), max(wait, retry_after))

    async def _settle_in_doubt(self) -> None:
        """Rows claimed by a process that was killed before the answer was stored."""
        adapters = self.adapters()
        rows = await self.hall.store.read(_claimed)
        for row_id, channel in rows:
            adapter = adapters.get(channel)
            if adapter is not None and adapter.idempotent:
                await self.hall.store.submit(_unclaim_job(row_id, "resent after a restart (idempotent)"))
            else:
                d = Delivery("refused", "in_doubt", "cut off mid-send; not resent (at most once)")
                await self.hall.store.submit(
                    _settle_job(row_id, adapter.name if adapter else channel, d, dead=True)
                )
                log.warning("notices: row %d was cut off mid-send; not resent (at most once)", row_id)

    async def send_round(self) -> tuple[bool, float | None]:
        """One round: (whether anything was settled, the backoff when the gateway failed)."""
        if not self.hall.config.notify.enabled:
            return False, None
        now = self.hall.clock.now()
        rows = await self.hall.store.read(lambda conn: _due(conn, now, BATCH))
        if not rows:
            return False, None
        adapters = self.adapters()
        sem = asyncio.Semaphore(PARALLEL)
        retry: list[float] = []

        async def one(row: tuple[int, str, str, str]) -> None:
            row_id, key, text, address = row
            body = json.loads(text)
            channel = str(body.get("channel", "sms"))
            adapter = adapters[channel]
            if not address:
                await self.hall.store.submit(_discard_job(row_id, "number purged or consent withdrawn"))
                return
            claimed = await self.hall.store.submit(_claim_job(row_id))
            if claimed.status != 200:
                return  # withdrawn meanwhile
            m = Message(
                key,
                str(body["kind"]),
                str(body.get("lang", "zh")),
                channel,
                address,
                str(body.get("text", "")),
                {k: str(v) for k, v in body.get("params", {}).items()},
            )
            async with sem:
                assert self.client is not None
                d = await adapter.send(self.client, m, self.hall.config.notify.timeout_s)
            masked = mask_address(channel, address)
            if d.verdict == "sent":
                await self.hall.store.submit(_settle_job(row_id, adapter.name, d, dead=False))
            elif d.verdict == "refused" or (d.verdict == "doubt" and not adapter.idempotent):
                await self.hall.store.submit(_settle_job(row_id, adapter.name, d, dead=True))
                log.warning("notices: %s to %s refused: %s %s", key, masked, d.code, d.detail)
            else:
                await self.hall.store.submit(_settle_job(row_id, adapter.name, d, dead=False, again=True))
                retry.append(d.retry_after_s)
                self.state.last_error = f"{d.code} {d.detail}"[:300]
                if d.account:
                    self._adapters_of = None  # read the secret files again before the next try

        await asyncio.gather(*(one(r) for r in rows))
        self._wake_rules.set()  # the last notice a number was kept for may have gone: purge it now
        if retry:
            return True, self._failed(self.state.last_error, max(retry))
        self.state.failures = 0
        return True, None


def _claimed(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    return [
        (int(i), str(ch))
        for i, ch in conn.execute(
            "SELECT id, json_extract(body, '$.channel') FROM outbox WHERE kind = 'notice'"
            " AND claimed_at IS NOT NULL AND sent_at IS NULL AND dead_at IS NULL AND discarded_at IS NULL"
        )
    ]


def _due(conn: sqlite3.Connection, now: dt.datetime, limit: int) -> list[tuple[int, str, str, str]]:
    """Pending notice rows whose time has come: (id, key, body, the subscription's address)."""
    rows = conn.execute(
        "SELECT o.id, o.key, o.body, COALESCE(s.address, '') FROM outbox o"
        " LEFT JOIN notice_subs s ON s.id = json_extract(o.body, '$.sub')"
        " WHERE o.kind = 'notice' AND o.sent_at IS NULL AND o.dead_at IS NULL AND o.discarded_at IS NULL"
        " AND o.claimed_at IS NULL ORDER BY o.id LIMIT ?",
        (limit * 5,),
    ).fetchall()
    stamp = now.isoformat()
    due = [r for r in rows if str(json.loads(r[2]).get("not_before", "")) <= stamp]
    return due[:limit]


def _claim_job(row_id: int) -> Job:
    def run(ctx: WriteCtx) -> Reply:
        cur = ctx.execute(
            "UPDATE outbox SET claimed_at = ?, attempts = attempts + 1, last_try_at = ? WHERE id = ?"
            " AND sent_at IS NULL AND dead_at IS NULL AND discarded_at IS NULL AND claimed_at IS NULL",
            (ctx.now.isoformat(), ctx.now.isoformat(), row_id),
        )
        return ok({}) if cur.rowcount else ok({}, 409)

    return Job(run)


def _settle_job(row_id: int, adapter: str, d: Delivery, *, dead: bool, again: bool = False) -> Job:
    """Store a try's result: sent, dead (refused, or in doubt without idempotency) or back to pending."""

    def run(ctx: WriteCtx) -> Reply:
        now = ctx.now.isoformat()
        if d.verdict == "sent":
            ctx.execute(
                "UPDATE outbox SET sent_at = ?, claimed_at = NULL, last_error = '' WHERE id = ?",
                (now, row_id),
            )
        elif dead:
            ctx.execute(
                "UPDATE outbox SET dead_at = ?, claimed_at = NULL, last_error = ? WHERE id = ?",
                (now, f"{d.code} {d.detail}".strip()[:500], row_id),
            )
        elif again:
            ctx.execute(
                "UPDATE outbox SET claimed_at = NULL, last_error = ? WHERE id = ?",
                (f"{d.code} {d.detail}".strip()[:500], row_id),
            )
        ctx.execute(
            "INSERT INTO notice_results (outbox, at, adapter, ok, code, detail, provider_id, cost_fen)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (
                row_id,
                now,
                adapter,
                int(d.verdict == "sent"),
                d.code,
                d.detail[:200],
                d.provider_id,
                d.cost_fen,
            ),
        )
        return ok({})

    return Job(run)


def _unclaim_job(row_id: int, note: str) -> Job:
    def run(ctx: WriteCtx) -> Reply:
        ctx.execute("UPDATE outbox SET claimed_at = NULL, last_error = ? WHERE id = ?", (note, row_id))
        return ok({})

    return Job(run)


def _discard_job(row_id: int, reason: str) -> Job:
    def run(ctx: WriteCtx) -> Reply:
        ctx.execute(
            "UPDATE outbox SET discarded_at = ?, last_error = ? WHERE id = ? AND sent_at IS NULL",
            (ctx.now.isoformat(), reason, row_id),
        )
        return ok({})

    return Job(run)


def figures_today(conn: sqlite3.Connection, day_start: str) -> dict[str, int]:
    """The dashboard's figures: notices sent, failed (dead) and their cost (fen) since `day_start`."""
    sent, cost = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(cost_fen), 0) FROM notice_results WHERE ok = 1 AND at >= ?",
        (day_start,),
    ).fetchone()
    failed = conn.execute(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'notice' AND dead_at IS NOT NULL AND dead_at >= ?",
        (day_start,),
    ).fetchone()[0]
    pending = conn.execute(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'notice' AND sent_at IS NULL AND dead_at IS NULL"
        " AND discarded_at IS NULL"
    ).fetchone()[0]
    return {"sent": int(sent), "failed": int(failed), "cost_fen": int(cost), "pending": int(pending)}
