"""The durable store: one writer thread that owns the engine and the write connection, a read pool, and a
checkpoint thread (DESIGN.md §3, §6; PITFALLS.md "sqlite-utils, SQLite").

Every state change is a `Job` run on the writer thread. The writer takes whatever is queued (group commit),
opens one transaction, runs each job — an engine command plus the rows it changed, its numbered events, its
idempotency record, audit rows — commits once, and only then hands the replies and events back to the event
loop. A failed transaction (full disk, I/O error) is rolled back whole and the engine is rebuilt from the
database, so memory never holds a state the disk does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import pathlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlite_utils import Database

from hallcore.clock import Clock
from hallcore.config import Durability, HallConfig
from hallcore.engine import Engine
from hallserver import audit, schema
from hallserver.errors import ApiError, disk_full, internal
from hallserver.eventlog import EventRecord
from hallserver.keys import HallKey, open_key
from hallserver.loader import load_engine
from hallserver.private import tighten_database
from hallserver.writectx import Reply, WriteCtx, error_reply

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Most jobs in one transaction: bounds the time a reply waits behind others in a burst.
BATCH_MAX = 512
CHECKPOINT_INTERVAL_S = 1.0


@dataclass(slots=True)
class Job:
    """One unit of work for the writer. `run` executes on the writer thread with the engine lock held."""

    run: Callable[[WriteCtx], Reply]
    scope: str = ""  # idempotency scope: the station (or "public")
    request_id: str = ""
    fingerprint: str = ""
    #: Whether the job runs (a caller gone before it ran cancels it) and its reply, for any thread.
    future: Future[Reply] = field(default_factory=Future)
    #: What `Store.submit`'s caller awaits on its loop: a batch's replies are handed to the loop in one
    #: wake-up (`_deliver`), not one cross-thread call per job (12 % of the writer's samples at ~40 a batch).
    waiter: asyncio.Future[Reply] | None = None


class _Stop:
    pass


OnCommit = Callable[[list[EventRecord]], None]


def connect(path: pathlib.Path, *, readonly: bool = False) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE … COMMIT) so a batch is exactly one.
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=not readonly, timeout=10.0)
    conn.execute("PRAGMA busy_timeout = 10000")
    # 64 MiB of page cache (the default is 2 MiB): with a million tickets, an insert into the random-keyed
    # token and idempotency indexes would otherwise read a leaf page from the OS for nearly every ticket.
    conn.execute("PRAGMA cache_size = -65536")
    # What is deleted or overwritten is zeroed in its page, so purged personal data does not linger in free
    # space of the file, its WAL or a backup (docs/security.md, 剩余信息保护).
    conn.execute("PRAGMA secure_delete = ON")
    if readonly:
        conn.execute("PRAGMA query_only = 1")
    return conn


def migrate(path: pathlib.Path) -> None:
    """Create or upgrade the schema in `path` (used by the writer at start and by `hallq admin`); the file is
    made 0600 before SQLite first opens it, so its WAL and shared-memory files are 0600 too."""
    tighten_database(path)
    conn = connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        schema.migrate(Database(conn, execute_plugins=False))
    finally:
        conn.close()


def check_key(path: pathlib.Path, key_file: pathlib.Path | None) -> HallKey:
    """Create or upgrade the database and open its key (moving it out of an older database): raises
    `HallKeyError` with what to do when the key file is missing or wrong."""
    migrate(path)
    conn = connect(path)
    try:
        return open_key(conn, path, given=key_file)
    finally:
        conn.close()


class ReadPool:
    """Read-only connections to one database on a pool of threads, one per thread (made on its first read,
    kept until `close`): `read` runs a function with one, off the event loop."""

    def __init__(self, path: pathlib.Path, threads: int, *, name: str = "hall-read") -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._conn()))

    def close(self) -> None:
        """Wait for the reads under way, then close every connection."""
        self._executor.shutdown(wait=True)
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()


class Store:
    """Owns the database file. `start()` blocks until the engine is rebuilt; `stop()` drains and closes."""

    def __init__(
        self,
        path: pathlib.Path,
        config: HallConfig,
        clock: Clock,
        *,
        durability: Durability | None = None,
        read_threads: int = 3,
        writer_pragmas: tuple[str, ...] = (),
        key_file: pathlib.Path | None = None,
    ) -> None:
        self.path = path
        self.key_file = key_file
        self.config = config
        self.clock = clock
        self.durability = durability or config.server.durability
        self.writer_pragmas = writer_pragmas
        self.engine = Engine(config)
        # Held by the writer while it applies a batch, and by readers of engine state (never during fsync).
        self.engine_lock = threading.Lock()
        self.tokens: dict[str, str] = {}  # status token -> ticket id, for loaded tickets
        self.seq = 0  # last committed event seq
        self.on_commit: OnCommit | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._queue: queue.SimpleQueue[Job | _Stop] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()
        self._checkpoint_lock = threading.Lock()
        self._reads = ReadPool(path, read_threads)
        # The hall key (hallserver/keys.py), read at start: `secret` keys the person keys and CSRF tokens,
        # `fingerprint_key` the idempotency fingerprints.
        self.key: HallKey | None = None
        self.secret = b""
        self.fingerprint_key = b""
        self.audit_key = b""
        self.device_health: dict[tuple[str, str], tuple[str, str]] = {}
        self.batches = 0
        self.jobs = 0

    # ---- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> None:
        started: Future[None] = Future()
        self._writer = threading.Thread(
            target=self._write_loop, args=(started,), name="hall-writer", daemon=True
        )
        self._writer.start()
        started.result()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="hall-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def stop(self) -> None:
        if self._writer is not None:
            self._queue.put(_Stop())
            self._writer.join()
            self._writer = None
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
            self._checkpointer = None
        self._reads.close()

    # ---- writing ----------------------------------------------------------------------------------------

    def submit_nowait(self, job: Job) -> Future[Reply]:
        self._queue.put(job)
        return job.future

    async def submit(self, job: Job) -> Reply:
        """Queue `job` and wait for its reply, which comes only after its transaction committed."""
        job.waiter = asyncio.get_running_loop().create_future()
        self._queue.put(job)
        try:
            return await job.waiter
        except asyncio.CancelledError:
            job.future.cancel()  # not run yet: the writer drops it (once running, its reply lands anyway)
            raise

    def _open_writer(self) -> sqlite3.Connection:
        migrate(self.path)
        conn = connect(self.path)
        conn.execute("PRAGMA journal_mode = WAL")
        # Per connection, not stored in the file (PITFALLS.md): set on the writer every time.
        sync = "FULL" if self.durability is Durability.FULL else "NORMAL"
        conn.execute(f"PRAGMA synchronous = {sync}")
        # The writer never checkpoints; the side thread does, so a checkpoint's fsync never delays a commit.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        for pragma in self.writer_pragmas:
            conn.execute(f"PRAGMA {pragma}")
        return conn

    def _load(self, conn: sqlite3.Connection) -> None:
        engine = Engine(self.config)
        tokens = load_engine(engine, conn, self.clock.now())
        self.engine = engine
        self.tokens = tokens
        row = conn.execute("SELECT MAX(seq) FROM events").fetchone()
        self.seq = int(row[0] or 0)
        self.device_health = {
            (s, d): (h, r)
            for s, d, h, r in conn.execute("SELECT station, device, health, reason FROM device_health")
        }

    def _init_key(self, conn: sqlite3.Connection) -> None:
        key = open_key(conn, self.path, given=self.key_file)
        self.key = key
        self.secret = key.raw
        self.fingerprint_key = key.derive("idempotency")
        self.audit_key = key.derive("audit")
        audit.seal(conn, self.audit_key, self.clock.now().isoformat())

    def _write_loop(self, started: Future[None]) -> None:
        try:
            conn = self._open_writer()
            self._init_key(conn)
            with self.engine_lock:
                self._load(conn)
        except BaseException as exc:
            started.set_exception(exc)
            return
        started.set_result(None)
        try:
            while True:
                first = self._queue.get()
                if isinstance(first, _Stop):
                    return
                # A job whose caller went away before it ran is dropped (its client retries with the same
                # request id); once running, it can no longer be cancelled, so its reply always lands.
                batch = [first] if first.future.set_running_or_notify_cancel() else []
                stop = False
                while len(batch) < BATCH_MAX:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(nxt, _Stop):
                        stop = True
                        break
                    if nxt.future.set_running_or_notify_cancel():
                        batch.append(nxt)
                if batch:
                    self._run_batch(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: list[Job]) -> None:
        replies: list[Reply] = []
        ctx = WriteCtx(self, conn, self.seq)
        mutated = False
        try:
            conn.execute("BEGIN IMMEDIATE")
            with self.engine_lock:
                for job in batch:
                    ctx.begin_job(self.clock.now())
                    reply = ctx.replay(job.scope, job.request_id, job.fingerprint)
                    if reply is None:
                        # A savepoint per job: a job refused after writing plain rows leaves nothing behind.
                        conn.execute("SAVEPOINT job")
                        try:
                            reply = job.run(ctx)
                        except ApiError as exc:
                            if ctx.job_mutated:
                                raise  # an error after the engine changed: roll everything back
                            conn.execute("ROLLBACK TO job")
                            reply = error_reply(exc)
                        conn.execute("RELEASE job")
                        if job.request_id and 200 <= reply.status < 300:
                            ctx.remember(job.scope, job.request_id, job.fingerprint, reply)
                    mutated = mutated or ctx.job_mutated
                    replies.append(reply)
            conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            full = (
                isinstance(exc, sqlite3.Error)
                and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            )
            if full:
                log.error("disk full: %d requests refused, nothing written", len(batch))
            else:
                log.exception("write batch failed; rolled back")
            if mutated or ctx.job_mutated:
                self._reload_after_failure(conn)
            err = disk_full() if full else internal()
            self._deliver(batch, [error_reply(err)] * len(batch), [])
            if not isinstance(exc, Exception):
                raise
            return
        self.seq = ctx.seq
        self.tokens.update(ctx.new_tokens)
        self.batches += 1
        self.jobs += len(batch)
        records = ctx.records
        # The fan-out runs on the loop before the replies are set: a client that got its reply and then asks
        # for the snapshot (or resumes the stream) finds the loop's published seq at or past its own change.
        # Publishing is cheap on the loop (boards at once, phones through the hub's lane), so the clerk's
        # call-next answer does not wait behind thousands of sends.
        self._deliver(batch, replies, records)

    def _deliver(self, batch: list[Job], replies: list[Reply], records: list[EventRecord]) -> None:
        """Hand a batch's events and replies over: one call into each waiting loop, which publishes the events
        first and then sets the replies, in that order (see `_run_batch`)."""
        on_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Reply], Reply]]] = {}
        for job, reply in zip(batch, replies, strict=True):
            job.future.set_result(reply)
            if job.waiter is not None:
                on_loop.setdefault(job.waiter.get_loop(), []).append((job.waiter, reply))
        publish = self.on_commit if records else None
        if publish is not None and self.loop is not None:
            on_loop.setdefault(self.loop, [])
        for loop, waiters in on_loop.items():
            try:
                loop.call_soon_threadsafe(_wake, publish if loop is self.loop else None, records, waiters)
            except RuntimeError:
                log.warning("a loop closed before its replies came")  # its callers are gone with it

    def _reload_after_failure(self, conn: sqlite3.Connection) -> None:
        try:
            with self.engine_lock:
                self._load(conn)
        except sqlite3.Error:
            log.exception("could not rebuild the engine from the database")

    def _checkpoint_loop(self) -> None:
        """PASSIVE checkpoints on their own connection: never blocks the writer, and the writer never waits
        for a checkpoint's fsync (it runs with wal_autocheckpoint off)."""
        conn = connect(self.path)
        try:
            while not self._stop_checkpoints.wait(CHECKPOINT_INTERVAL_S):
                try:
                    with self._checkpoint_lock:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            conn.close()

    def truncate_wal(self) -> bool:
        """Checkpoint the WAL into the database and truncate it (after a purge: the WAL still holds the pages
        as they were). Waits for readers (busy timeout), never runs beside the side thread's checkpoint (a
        second checkpoint at once would only answer busy), never on the writer thread. False if still busy."""
        conn = connect(self.path)
        try:
            with self._checkpoint_lock:
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            conn.close()
        if busy:
            log.warning("the WAL could not be truncated after the purge (readers busy): at the next purge")
        return not busy

    # ---- reading ----------------------------------------------------------------------------------------

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` with a read connection on the read pool (never on the event loop)."""
        return await self._reads.read(fn)

    async def engine_read(self, fn: Callable[[Engine], T]) -> T:
        """Run `fn` against the live engine under its lock, off the event loop."""

        def run(_conn: sqlite3.Connection) -> T:
            with self.engine_lock:
                return fn(self.engine)

        return await self.read(run)

    def now(self) -> dt.datetime:
        return self.clock.now()


def _wake(
    publish: OnCommit | None, records: list[EventRecord], waiters: list[tuple[asyncio.Future[Reply], Reply]]
) -> None:
    """On the loop: publish a batch's events, then set its callers' replies (a caller gone is skipped)."""
    if publish is not None:
        publish(records)
    for waiter, reply in waiters:
        if not waiter.done():
            waiter.set_result(reply)


def json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
