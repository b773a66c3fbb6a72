"""The running hall: store, hub, principals, background tasks (tick, heartbeat, purge) and config reload.

Built once per process by `create_app`; routes reach it as `request.app.state.hall`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import hashlib
import hmac
import json
import logging
import pathlib
import signal
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from hallcore import commands as c
from hallcore import replies
from hallcore import replybuilders as build
from hallcore.calendar import HallCalendar
from hallcore.clock import Clock
from hallcore.config import Durability, HallConfig
from hallcore.configload import ConfigError
from hallcore.engine import Engine
from hallfiles.config import read_config
from hallserver import rollups
from hallserver.auth import Principals, lookup
from hallserver.discovery import Advertiser, MdnsSettings
from hallserver.enrollment import expire_enrollments
from hallserver.errors import ApiError
from hallserver.eventlog import EventRecord, record_from_text
from hallserver.evloop import HallLoop, cancel
from hallserver.forecasts import TIMEOUT_S as FORECAST_TIMEOUT_S
from hallserver.forecasts import ExecutorFactory, Forecaster
from hallserver.limits import Buckets, Limit
from hallserver.loader import config_problems, load_engine
from hallserver.nightly import HistoryRefresh
from hallserver.proxies import TrustedProxies
from hallserver.purge import COUNTED, purge_step
from hallserver.store import Job, Store
from hallserver.stream.hub import Hub
from hallserver.stream.snapshots import SnapshotCache
from hallserver.throttle import LoginThrottle
from hallserver.views import call_events
from hallserver.writectx import Reply, WriteCtx, ok

log = logging.getLogger(__name__)


class RequestBody(Protocol):
    """A request body (a pydantic model, hallserver/bodies.py) as the idempotency record sees it."""

    def model_dump_json(self, *, exclude: set[str]) -> str: ...


@dataclass(frozen=True, slots=True)
class Settings:
    heartbeat_s: float = 5.0
    tick_s: float = 5.0
    # Per-subscriber buffer (frames the socket could not take yet) before it is dropped (4008); above what one
    # group commit can publish at once (BATCH_MAX commands of a few events each), so a healthy reader is
    # never dropped by a burst.
    queue_limit: int = 4096
    purge_interval_s: float = 3600.0
    # Finished days' statistics roll-ups are built this often (and once just after start), so the first
    # report of a long range after closing is served from them instead of the slow full-range query.
    rollup_interval_s: float = 600.0
    durability: Durability | None = None  # None: the config's server.durability
    mdns: MdnsSettings | None = None  # None: do not advertise
    freeze_gc: bool = True  # and collector thresholds for short pauses, full collections when closed
    gc_full_interval_s: float = 6 * 3600  # a hall that never closes still gets a full collection this often
    # Proxies whose X-Forwarded-For is believed (`hallq server --trusted-proxy`; hallserver/proxies.py).
    trusted_proxies: tuple[str, ...] = ()
    # The public endpoints' token buckets (hallserver/limits.py); None: `limits.LIMITS`.
    public_limits: Mapping[str, Limit] | None = None
    reload_on_sighup: bool = False  # only in the main thread (`hallq server`)
    # The hall CA's PEM when the server serves TLS (`--tls-dir`): served at /api/tls/ca, its fingerprint on
    # the dashboard. Empty: plain HTTP.
    tls_ca_pem: str = ""
    # Extra PRAGMAs for the writer connection, e.g. "max_page_count = 60" to test a full disk.
    writer_pragmas: tuple[str, ...] = ()
    # The hall key's file (`hallq server --key`; hallserver/keys.py); None: where the database recorded it,
    # else `<db>.key` beside the database.
    key_file: pathlib.Path | None = None
    # What runs the wait estimates' forward model (hallserver/forecasts.py): `forecasts.worker_process` in
    # `hallq server`; None: the inline estimates only.
    forecasts: ExecutorFactory | None = None
    forecast_timeout_s: float = FORECAST_TIMEOUT_S  # a slower worker leaves the hall on the inline estimates


class HallServer:
    def __init__(
        self,
        config: HallConfig,
        db_path: pathlib.Path,
        clock: Clock,
        settings: Settings,
        config_path: pathlib.Path | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.db_path = db_path
        self.clock = clock
        self.settings = settings
        self.store = Store(
            db_path,
            config,
            clock,
            durability=settings.durability,
            writer_pragmas=settings.writer_pragmas,
            key_file=settings.key_file,
        )
        self.hub = Hub(config.server.backlog_events)
        self.snapshots = SnapshotCache(self.hub, clock, self._build_snapshot)
        self.principals = Principals()
        self.logins = LoginThrottle(clock)
        self.buckets = Buckets(clock, settings.public_limits)
        self.proxies = TrustedProxies(settings.trusted_proxies)
        self.recent_calls: deque[str] = deque(maxlen=20)
        self.loop_lags: deque[tuple[float, float]] = deque()
        self.started_mono = clock.monotonic()
        self.advertiser: Advertiser | None = None
        self.last_reload_errors: list[str] = []
        self._wal_to_truncate = False  # a purge's WAL truncation that found readers busy: again next time
        self._tasks: list[asyncio.Task[None]] = []
        self.forecaster: Forecaster | None = None
        self._gc_thresholds = gc.get_threshold()
        # The estimator's history, read again each night (issue 29); estimates change with it.
        self.history = HistoryRefresh(self.store, clock, lambda: HallCalendar(self.config.hall))
        self.history.on_swap = self.snapshots.invalidate

    # ---- lifecycle --------------------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.store.loop = loop
        self.store.on_commit = self._on_commit
        await asyncio.to_thread(self.store.start)
        self.history.start()
        seq, config = self.store.seq, self.config
        recent = await self.store.read(lambda conn: _recent_events(conn, seq, config))
        # Clients that come back after a restart resume from memory, not one database read each.
        self.hub.reset(seq, recent)
        self.recent_calls.extend(await self.store.read(_recent_call_texts))
        self._tasks = [
            asyncio.create_task(self._every(self.settings.tick_s, self._tick), name="hall-tick"),
            asyncio.create_task(
                self._every(self.settings.heartbeat_s, self._heartbeat), name="hall-heartbeat"
            ),
            asyncio.create_task(self._every(self.settings.purge_interval_s, self.purge), name="hall-purge"),
            asyncio.create_task(self._every(self.settings.tick_s, self.history.check), name="hall-history"),
            asyncio.create_task(self._keep_rollups(), name="hall-rollups"),
            asyncio.create_task(self._watch_loop_lag(), name="hall-loop-lag"),
        ]
        if self.settings.forecasts is not None:
            self.forecaster = Forecaster(
                self.store, self.clock, self.settings.forecasts, timeout_s=self.settings.forecast_timeout_s
            )
            self.forecaster.start()
        if self.settings.mdns is not None:
            self.advertiser = Advertiser(self.settings.mdns, self.config.hall.id)
            # Registration probes for ~1.7 s (PITFALLS.md): in the background, never blocking start.
            self.advertiser.start()
        if self.settings.reload_on_sighup:
            loop.add_signal_handler(signal.SIGHUP, self._reload_in_background)
        if self.settings.freeze_gc:
            # Start-up objects (config, engine, app) never die: move them out of the collector's view.
            gc.collect()
            gc.freeze()
            # The collector's pauses must stay short with thousands of connections (bench/server.py (f)):
            # a young collection costs about a microsecond per young object, so 2,000 keeps it near 2 ms
            # (50,000 made 20-50 ms pauses during a reconnect storm); the middle generation holds what
            # survived 5 of those (a storm's new connections: ~5 ms). A full collection walks every
            # long-lived object, thousands of connections among them (0.3 s and more): never automatic,
            # `_collect_when_quiet` runs it when the hall is closed.
            self._gc_thresholds = gc.get_threshold()
            gc.set_threshold(2_000, 5, 1_000_000)
            self._tasks.append(asyncio.create_task(self._collect_when_quiet(), name="hall-gc"))

    async def stop(self) -> None:
        await cancel(*self._tasks)
        self._tasks = []
        if self.forecaster is not None:
            await self.forecaster.stop()
            self.forecaster = None
        if self.advertiser is not None:
            await self.advertiser.stop()
            self.advertiser = None
        await asyncio.to_thread(self.store.stop)
        if self.settings.freeze_gc:
            gc.unfreeze()
            gc.set_threshold(*self._gc_thresholds)

    def _reload_in_background(self) -> None:
        async def run() -> None:
            try:
                result = await self.reload()
                log.info("SIGHUP: %s", result)
            except ApiError as exc:
                log.error("SIGHUP: config reload refused: %s %s", exc.message_en, exc.detail)

        task = asyncio.create_task(run())
        self._tasks.append(task)

    async def _every(self, interval: float, fn: Any) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await fn()
            except Exception:
                log.exception("background task %s failed", getattr(fn, "__name__", fn))

    async def _keep_rollups(self) -> None:
        await asyncio.sleep(min(5.0, self.settings.rollup_interval_s))  # let start-up traffic through first
        while True:
            try:
                await self.build_rollups()
            except Exception:
                log.exception("background task build_rollups failed")
            await asyncio.sleep(self.settings.rollup_interval_s)

    async def build_rollups(self) -> dict[str, int]:
        """Roll up every finished business day that has tickets and no stored roll-up yet (one at a time
        through the writer, computed on the read pool; `rollups.ensure` skips the days already built)."""
        config = self.config
        today = HallCalendar(config.hall).business_day(self.clock.now())

        def first_day(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT MIN(day) FROM tickets").fetchone()
            return row[0] if row and row[0] else None

        first = await self.store.read(first_day)
        if first is None:
            return {"built": 0, "others": 0, "skipped": 0}
        start = dt.date.fromisoformat(first)
        days = [start + dt.timedelta(days=i) for i in range((today - start).days)]
        have = (
            await self.store.read(lambda c: rollups.ready_days(c, config, days[0], days[-1]))
            if days
            else set()
        )
        missing = [d for d in days if d.isoformat() not in have]
        if not missing:
            return {"built": 0, "others": 0, "skipped": 0}
        result = await rollups.ensure(self.store.read, self.store.submit, config, missing, parallel=1)
        log.info("statistics roll-ups for %d finished days: %s", len(missing), result)
        return result

    async def _collect_when_quiet(self) -> None:
        """The full garbage collection the thresholds set in `start` leave out: once the hall has closed
        (checked every 10 minutes, at most hourly), or after `gc_full_interval_s` in a hall open round the
        clock. Cyclic garbage that lived long enough to reach the oldest generation waits for it."""
        last = self.clock.monotonic()
        while True:
            await asyncio.sleep(600)
            since = self.clock.monotonic() - last
            closed = not HallCalendar(self.config.hall).is_open(self.clock.now())
            if full_collection_due(closed, since, self.settings.gc_full_interval_s):
                t = time.perf_counter()
                found = gc.collect()  # on the loop: the collector stops every thread anyway
                took = (time.perf_counter() - t) * 1000
                log.info("full garbage collection: %d objects in %.0f ms", found, took)
                last = self.clock.monotonic()

    async def _watch_loop_lag(self) -> None:
        """How late the loop wakes a 20 ms sleep: a stall (GC, a blocking call, a reconnect storm) shows here.
        Kept for the last 60 s; `/api/health` reports the worst of the last 10 s."""
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(0.02)
            lag = loop.time() - t - 0.02
            self.loop_lags.append((t, lag))
            while self.loop_lags and self.loop_lags[0][0] < t - 60:
                self.loop_lags.popleft()

    def loop_lag_max_ms(self, window_s: float = 10.0) -> float:
        """The worst loop lag of the last `window_s` seconds, by the clock."""
        now = asyncio.get_running_loop().time()
        lags = [lag for t, lag in self.loop_lags if t >= now - window_s]
        return round(max(lags, default=0.0) * 1000, 1)

    @staticmethod
    def loop_busy_max_ms(window_s: float = 10.0) -> float | None:
        """The longest loop turn of the last `window_s` seconds in CPU time (the server's own share of a
        stall: on a machine shared with other work the clock's lag also counts waiting for a CPU); None when
        the loop is not the server's own (hallserver/evloop.py)."""
        loop = asyncio.get_running_loop()
        if not isinstance(loop, HallLoop):
            return None
        return round(loop.longest_turn_s(window_s) * 1000, 1)

    def _on_commit(self, records: list[Any]) -> None:
        self.hub.publish(records)
        self.recent_calls.extend(r.text for r in records if r.is_call)

    async def _tick(self) -> None:
        def run(ctx: WriteCtx) -> Reply:
            ctx.apply(c.Tick())
            expire_enrollments(ctx)
            return ok({})

        await self.store.submit(Job(run))

    async def _heartbeat(self) -> None:
        self.hub.heartbeat(self.clock.now().isoformat())
        await self._check_sessions()
        self.logins.forget_idle()
        self.buckets.forget_full()

    async def _check_sessions(self) -> None:
        """Close the streams of manager sessions that ended behind the server's back: expired, or ended by
        `hallq admin` in another process (the server's own logout and deactivation close them at once)."""
        owners = {sink.owner for sink in self.hub.owned()}
        if not owners:
            return
        now = self.clock.now()

        def alive(conn: sqlite3.Connection) -> set[str]:
            return {th for th in owners if lookup(conn, th, now) is not None}

        self.end_streams(owners - await self.store.read(alive))

    def end_streams(self, token_hashes: set[str]) -> None:
        """Close (4401) the event streams opened with these manager sessions."""
        if token_hashes:
            for sink in self.hub.owned():
                if sink.owner in token_hashes:
                    sink.close(4401, "the session ended: log in again")

    async def _build_snapshot(self, public: bool) -> Reply:
        """A snapshot consistent with its seq: built on the writer, between commands, like a command."""

        def run(ctx: WriteCtx) -> Reply:
            extra = [r.text for r in ctx.records if r.is_call]
            calls = call_events(self.calls_now(extra))
            devices = None if public else ctx.store.device_health
            return ok(build.snapshot(ctx.engine, ctx.seq, ctx.now, calls, devices))

        return await self.run(Job(run))

    # ---- jobs -------------------------------------------------------------------------------------------

    async def run(self, job: Job) -> Reply:
        return await self.store.submit(job)

    async def run_request(
        self, path: str, scope: str, body: RequestBody | None, run: Callable[[WriteCtx], Reply]
    ) -> Reply:
        """Run a request's job on the writer; with a `request_id` in `body`, a repeat of the same request to
        `path` gets the first 2xx reply back (and a different request under that id a 422)."""
        request_id = getattr(body, "request_id", None) or ""
        fingerprint = ""
        if request_id and body is not None:
            fingerprint = self.fingerprint(path, body.model_dump_json(exclude={"request_id"}))
        return await self.run(Job(run, scope, request_id, fingerprint))

    def fingerprint(self, path: str, body: Any) -> str:
        """The idempotency fingerprint of a request: keyed, since a booking's body holds an ID number, a name
        and a phone number (a plain hash of it could be brute-forced from the stored fingerprint)."""
        text = f"{path}\n{body}".encode()
        return hmac.new(self.store.fingerprint_key, text, hashlib.sha256).hexdigest()[:32]

    def calls_now(self, extra: list[str] | None = None) -> list[str]:
        calls = list(self.recent_calls)
        if extra:
            calls = (calls + extra)[-20:]
        return calls

    # ---- operations -------------------------------------------------------------------------------------

    async def purge(self) -> dict[str, Any]:
        """The scheduled purge (hallserver/purge.py), in short steps (each its own job, so the hall's commands
        go between them) until nothing of the period is left: audited once when it changed anything, then the
        WAL is checkpointed and truncated so the old pages are not left in it."""
        retention = self.config.privacy.retention_days
        totals = dict.fromkeys(COUNTED, 0)
        cutoff = ""

        def run(ctx: WriteCtx) -> Reply:
            nonlocal cutoff
            step = purge_step(ctx, retention)
            cutoff = (ctx.now - dt.timedelta(days=retention)).isoformat()
            for k, v in step.counts.items():
                totals[k] += v
            if not step.more and any(totals.values()):
                changed = {k: v for k, v in totals.items() if v}
                ctx.audit("hallq", "", "purge", cutoff, retention_days=retention, **changed)
            return ok({"more": step.more})

        while True:
            reply = await self.store.submit(Job(run))
            if reply.status != 200:
                log.error("the purge stopped: %s", reply.text)
                break
            if not json.loads(reply.text)["more"]:
                break
        if self._wal_to_truncate or any(totals.values()):
            self._wal_to_truncate = not await asyncio.to_thread(self.store.truncate_wal)
        return {**totals, "cutoff": cutoff}

    async def reload(self) -> replies.Reloaded:
        """Load the config file again; on any error keep the running config and say why."""
        if self.config_path is None:
            raise ApiError(
                409, "no_config_file", "服务器不是从配置文件启动的", "the server was not started from a file"
            )
        try:
            new = await asyncio.to_thread(read_config, self.config_path)
            for warning in new.warnings:
                log.warning("config: %s", warning)
        except ConfigError as exc:
            self.last_reload_errors = [str(i) for i in exc.issues]
            log.error("config reload failed, keeping the running config: %s", self.last_reload_errors)
            raise ApiError(
                422,
                "config_invalid",
                "配置文件有误，继续使用原配置",
                "the config file has errors; the running config is kept",
                {"errors": self.last_reload_errors},
            ) from exc
        except OSError as exc:
            self.last_reload_errors = [str(exc)]
            raise ApiError(
                422,
                "config_unreadable",
                "无法读取配置文件，继续使用原配置",
                f"cannot read the config file ({exc}); the running config is kept",
                {"errors": self.last_reload_errors},
            ) from exc

        history = await self.history.read_for(new)  # on the read pool: the job below holds the hall

        def run(ctx: WriteCtx) -> Reply:
            engine = Engine(new)
            problems = config_problems(engine, ctx.conn)
            if problems:
                raise ApiError(
                    422,
                    "config_conflicts",
                    "新配置与当前排队状态冲突，继续使用原配置",
                    "the new config conflicts with the live queue; the running config is kept",
                    {"errors": problems},
                )
            tokens = load_engine(engine, ctx.conn, ctx.now, history)
            ctx.store.engine = engine
            ctx.store.tokens = tokens
            ctx.store.config = new
            return ok({"reloaded": True})

        reply = await self.store.submit(Job(run))
        if reply.status != 200:
            body = json.loads(reply.text)
            self.last_reload_errors = list(body.get("detail", {}).get("errors", []))
            raise ApiError(reply.status, body["error"], body["message"], body["message_en"], body["detail"])
        self.config = new
        self.hub.resize(new.server.backlog_events)
        self.snapshots.invalidate()
        self.last_reload_errors = []
        log.info("config reloaded from %s", self.config_path)
        return replies.Reloaded(True, new.hall.id, len(new.windows), len(new.matters))


def _recent_call_texts(conn: Any) -> list[str]:
    rows = conn.execute(
        "SELECT body FROM events WHERE kind = 'ticket_changed' ORDER BY seq DESC LIMIT 200"
    ).fetchall()
    out = [r[0] for r in reversed(rows) if '"action":"called"' in r[0] or '"action":"recalled"' in r[0]]
    return out[-20:]


def full_collection_due(hall_closed: bool, since_last_s: float, interval_s: float) -> bool:
    """A full garbage collection (a stall of a few hundred milliseconds with thousands of connections) is run
    when nobody waits on the server: the hall closed, at most once an hour; a hall that never closes gets one
    every `interval_s` regardless."""
    return (hall_closed and since_last_s >= 3600) or since_last_s >= interval_s


#: Events loaded into the ring at start (at most `server.backlog_events`): enough for every client that was
#: connected when the server stopped to resume from memory, without slowing the start much.
RING_AT_START = 2000


def _recent_events(conn: sqlite3.Connection, seq: int, config: HallConfig) -> list[EventRecord]:
    n = min(RING_AT_START, config.server.backlog_events)
    rows = conn.execute(
        "SELECT body FROM events WHERE seq > ? AND seq <= ? ORDER BY seq", (seq - n, seq)
    ).fetchall()
    return [record_from_text(r[0], config) for r in rows]
