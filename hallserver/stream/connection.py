"""One WebSocket on the stream path: an asyncio Protocol that is also the hub's subscriber.

uvicorn parses the HTTP request and hands a WebSocket upgrade to `StreamServer.protocol` (its `ws` class), so
the stream shares the listening socket, the URL and any TLS of the HTTP API, with no ASGI layer and no task
per connection. The head waits in the admission queue (`server.py`); when admitted: the route authorises it
(a close code after the 101, as browsers cannot read a refused handshake's status), it subscribes, and the
catch-up is written — from the ring in the same tick when it covers `since`, else (database, snapshot) in a
task while live frames queue. Live frames are written straight to the transport; what the transport cannot
take (`pause_writing`) queues here up to `limit` frames, then the subscriber is closed with 4008 and resumes
with `since`. Order makes resume gap-free: subscribed before the catch-up is computed in the same tick, and
queued frames at or below what the catch-up covered (`floor`) are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import sqlite3
from collections import deque
from collections.abc import Awaitable
from typing import Any, Protocol

from hallserver.eventlog import StreamFilter, record_from_text
from hallserver.stream import wire
from hallserver.stream.access import Grant, Refusal, Route, origin_allowed
from hallserver.stream.hall import Hall
from hallserver.stream.hub import HEARTBEAT

log = logging.getLogger(__name__)


class Server(Protocol):
    """What a connection needs of the stream server (server.py `StreamServer`): a protocol, so that this
    module does not import the server that imports it."""

    hall: Hall
    routes: dict[str, Route]

    def admit(self, conn: Connection) -> None: ...


CLOSE_TOO_SLOW = 4008
#: How long a close handshake may take before the connection is dropped (a client that reads nothing at all
#: cannot take the close frame either).
CLOSE_TIMEOUT_S = 2.0
#: TCP_USER_TIMEOUT of a stream socket: heartbeats go out every few seconds, so a vanished client shows.
USER_TIMEOUT_MS = 60_000

HANDSHAKE, ADMITTING, OPENING, OPEN, CLOSING, CLOSED = range(6)

_NO_FILTER = StreamFilter()
#: Where frames go once a connection is closing: a queue that keeps nothing.
_DISCARD: deque[tuple[int, bytes]] = deque(maxlen=0)


class Connection(asyncio.Protocol):
    __slots__ = (
        "_catching_up",
        "_connections",
        "_drained",
        "_head",
        "_paused",
        "_pending",
        "_reader",
        "_server",
        "_state",
        "_subscribed",
        "_task",
        "_timer",
        "_transport",
        "filter",
        "floor",
        "owner",
    )

    def __init__(self, server: Server, connections: set[Any] | None) -> None:
        self._server = server
        self._connections = connections  # uvicorn's, so that its shutdown closes us too
        self._transport: asyncio.Transport | None = None
        self._state = HANDSHAKE
        self._head = b""
        self._reader: wire.FrameReader | None = None
        self.filter = _NO_FILTER
        self.floor = 0  # events at or below this seq were covered by the catch-up
        self.owner = ""  # the manager session it lives on (Grant.owner)
        self._pending: deque[tuple[int, bytes]] | None = None  # None: write straight to the transport
        self._paused = False
        self._catching_up = False
        self._subscribed = False
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._drained: asyncio.Future[None] | None = None

    # ---- asyncio.Protocol -------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if self._connections is not None:
            self._connections.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None and hasattr(socket, "TCP_USER_TIMEOUT"):
            # A phone that walked out of the hall (no FIN, no ACK) is dropped by the kernel after this long
            # with data unacknowledged, instead of TCP's ~15 minutes of retries holding its buffers.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, USER_TIMEOUT_MS)

    def data_received(self, data: bytes) -> None:
        if self._state <= ADMITTING:
            # A client sends nothing before the 101 (RFC 6455 §4.1); reading is not paused for the wait (two
            # more epoll calls per connection), but whatever comes is bounded.
            self._head += data
            if len(self._head) > wire.MAX_HEAD:
                self._refuse(400, "request head too large")
            elif self._state == HANDSHAKE and b"\r\n\r\n" in self._head:
                self._state = ADMITTING
                self._server.admit(self)
            return
        if self._reader is None or self._state >= CLOSED:
            return
        try:
            for ctl in self._reader.feed(data):
                self._on_control(ctl)
        except wire.ProtocolError as exc:
            self.close(exc.code, str(exc))

    def eof_received(self) -> bool:
        return False  # the transport closes itself; connection_lost cleans up

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: ARG002 - closed either way
        self._state = CLOSED
        self._pending = _DISCARD
        if self._subscribed:
            self._subscribed = False
            self._server.hall.hub.unsubscribe(self)
        for handle in (self._timer, self._task):
            if handle is not None:
                handle.cancel()
        self._timer = self._task = None
        if self._drained is not None and not self._drained.done():
            self._drained.cancel()
        if self._connections is not None:
            self._connections.discard(self)

    def pause_writing(self) -> None:
        self._paused = True
        if self._pending is None:
            self._pending = deque()

    def resume_writing(self) -> None:
        self._paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._flush()

    # ---- uvicorn ------------------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """The server is stopping: clients reconnect (with `since`) when it is back."""
        if self._state < OPENING:
            self._transport_or_die().abort()
        else:
            self.close(wire.SERVICE_RESTART, "server restarting")

    # ---- the hub's subscriber -------------------------------------------------------------------------

    def deliver(self, seq: int, frame: bytes) -> None:
        if 0 < seq <= self.floor:
            return
        pending = self._pending
        if pending is None:
            assert self._transport is not None
            self._transport.write(frame)
        elif len(pending) < self._server.hall.settings.queue_limit:
            pending.append((seq, frame))
        else:
            self.close(CLOSE_TOO_SLOW, "too slow: reconnect with since")

    def _flush(self) -> None:
        pending = self._pending
        if pending is None or pending is _DISCARD or self._catching_up:
            return
        write = self._transport_or_die().write
        floor = self.floor
        while pending and not self._paused:
            seq, frame = pending.popleft()
            if not 0 < seq <= floor:
                write(frame)
        if not pending and not self._paused:
            self._pending = None

    # ---- opening --------------------------------------------------------------------------------------

    def open(self) -> None:
        """Admitted: answer the handshake and start the stream (called by the admission queue)."""
        if self._state != ADMITTING:
            return  # gone while it waited
        transport = self._transport_or_die()
        server = self._server
        head, _, early = self._head.partition(b"\r\n\r\n")
        self._head = b""
        peer = transport.get_extra_info("peername")
        try:
            req = wire.parse_request(head, str(peer[0]) if peer else "")
        except wire.HandshakeError as exc:
            self._refuse(exc.status, str(exc))
            return
        route = server.routes.get(req.path)
        if route is None:
            self._refuse(404, f"no WebSocket at {req.path}")
            return
        if not origin_allowed(req):
            self._refuse(403, "a page of another origin may not open this stream")
            return
        transport.write(wire.switching_protocols(req.key))
        self._state = OPENING
        self._reader = wire.FrameReader()
        if early:
            self.data_received(early)  # frames sent before the 101 arrived (a client that did not wait)
            if self._state != OPENING:
                return
        try:
            result = route(req)
        except Exception:
            log.exception("stream route %s failed", req.path)
            self.close(1011, "internal error")
            return
        if isinstance(result, Awaitable):
            self._task = asyncio.ensure_future(self._await_route(result))
        else:
            self._start(result)

    async def _await_route(self, result: Awaitable[Grant | Refusal]) -> None:
        try:
            grant = await result
        except Exception:
            log.exception("stream authorisation failed")
            self.close(1011, "internal error")
            return
        if self._state == OPENING:
            self._start(grant)

    def _start(self, result: Grant | Refusal) -> None:
        if isinstance(result, Refusal):
            self.close(result.code, result.reason)
            return
        hub = self._server.hall.hub
        self.filter = result.filter
        self.owner = result.owner
        last = hub.last_seq  # read in the same tick as the subscription: nothing can slip between
        write = self._transport_or_die().write
        if result.hello:
            write(wire.text_frame(json.dumps({"kind": "hello", "seq": last})))
            self._go_live(last)
            return
        since = result.since
        public = not result.filter.authenticated
        if since is None or since > last or last - since > self._server.hall.config.server.snapshot_threshold:
            snap = self._server.hall.snapshots.cached(public)
            if snap is not None:
                write(snap.frame)
                self._go_live(snap.seq)
            else:
                self._catch_up_later(self._from_snapshot(public))
        elif hub.covers(since):
            matches = self.filter.matches
            for rec, frame in hub.after(since):
                if matches(rec):
                    write(frame if not public else wire.text_frame(rec.public_text))
            self._go_live(last)
        else:
            self._catch_up_later(self._from_database(since, last))

    def _go_live(self, floor: int) -> None:
        self.floor = floor
        self._state = OPEN
        self._subscribed = True
        self._server.hall.hub.subscribe(self)

    def _catch_up_later(self, work: Awaitable[int]) -> None:
        """Subscribe now (live frames queue), send the catch-up when it is ready, then the queue."""
        self._catching_up = True
        if self._pending is None:
            self._pending = deque()
        self._subscribed = True
        self._server.hall.hub.subscribe(self)
        self._task = asyncio.ensure_future(self._catch_up(work))

    async def _catch_up(self, work: Awaitable[int]) -> None:
        try:
            floor = await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("stream catch-up failed")
            self.close(1011, "catch-up failed: reconnect")
            return
        if self._state != OPENING:
            return
        self.floor = floor
        self._state = OPEN
        self._catching_up = False
        self._flush()

    async def _from_snapshot(self, public: bool) -> int:
        snap = await self._server.hall.snapshots.get(public)
        self._transport_or_die().write(snap.frame)
        return snap.seq

    async def _from_database(self, since: int, last: int) -> int:
        def read(conn: sqlite3.Connection) -> list[str]:
            cur = conn.execute(
                "SELECT body FROM events WHERE seq > ? AND seq <= ? ORDER BY seq", (since, last)
            )
            return [r[0] for r in cur]

        flt = self.filter
        config = self._server.hall.config
        everything = flt.unfiltered and flt.authenticated
        for text in await self._server.hall.store.read(read):
            if everything:
                self._transport_or_die().write(wire.text_frame(text))
            elif flt.matches(rec := record_from_text(text, config)):
                out = text if flt.authenticated else rec.public_text
                self._transport_or_die().write(wire.text_frame(out))
                if self._paused:
                    await self._until_drained()
        return last

    async def _until_drained(self) -> None:
        loop = asyncio.get_running_loop()
        self._drained = loop.create_future()
        await self._drained

    # ---- closing --------------------------------------------------------------------------------------

    def _on_control(self, ctl: wire.Control) -> None:
        transport = self._transport_or_die()
        if ctl.opcode == wire.OP_PING:
            if self._state < CLOSING:
                transport.write(wire.pong_frame(ctl.payload))
        elif ctl.opcode == wire.OP_CLOSE:
            if self._state < CLOSING:
                # Echo the client's code (RFC 6455 §5.5.1), then end the TCP connection from this side.
                self._closing()
                transport.write(wire.close_frame(ctl.code) if ctl.code is not None else b"\x88\x00")
            transport.close()

    def close(self, code: int, reason: str = "") -> None:
        """Start the close handshake (or just drop a connection that never got its 101)."""
        if self._state >= CLOSING:
            return
        opened = self._state >= OPENING
        self._closing()
        transport = self._transport_or_die()
        if not opened:
            transport.abort()
            return
        transport.write(wire.close_frame(code, reason))

    def _closing(self) -> None:
        self._state = CLOSING
        self._pending = _DISCARD
        if self._subscribed:
            self._subscribed = False
            # Not now: this may run inside the hub's fan-out loop over the very set we are in.
            asyncio.get_running_loop().call_soon(self._server.hall.hub.unsubscribe, self)
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self._timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, self._abort)

    def _abort(self) -> None:
        if self._transport is not None and self._state != CLOSED:
            self._transport.abort()

    def _refuse(self, status: int, message: str) -> None:
        transport = self._transport_or_die()
        self._state = CLOSING
        with contextlib.suppress(RuntimeError):
            transport.write(wire.http_refusal(status, message))
        transport.close()

    def _transport_or_die(self) -> asyncio.Transport:
        assert self._transport is not None, "used before connection_made"
        return self._transport


__all__ = ["CLOSE_TOO_SLOW", "HEARTBEAT", "Connection"]
