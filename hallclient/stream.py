"""`EventStream`: the hall's WebSocket event stream (`/events`), resumed after every loss.

`async for item in stream` yields `EventItem`, `Snapshot` and `Heartbeat`. The stream remembers the last seq
it delivered and reconnects by itself with `?since=<last seq>` (bounded exponential backoff with jitter, so a
hall's worth of stations do not reconnect in step after a server restart). Duplicates after a resume are
dropped. An unfiltered stream knows every seq must arrive, so a jump in seq (or a heartbeat ahead of what it
has) means it missed something: it reconnects from its last seq and the server fills the gap or sends a
snapshot. The connection state and the age of the data are always available, so an app can say "data is
N s old" instead of showing a stale board as if it were live.

The iteration runs in the consumer's task: there is no background task to leak. `aclose()` ends the
iteration promptly from any task.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from hallclient.errors import AuthError, BadReply, HallReplyError, Refusal
from hallclient.trust import certificate_problem
from hallclient.types import (
    ConnectionState,
    EventItem,
    HallSnapshot,
    Heartbeat,
    Snapshot,
    StateChange,
    StreamItem,
)
from hallclient.wire import read
from hallcore.clock import Clock
from hallcore.events import EventCodecError, decode_event

log = logging.getLogger(__name__)
#: How long a lost connection's close handshake may take before the stream moves on.
CLOSE_WAIT_S = 1.0

T = TypeVar("T")

#: Close code the server uses for a client that reads too slowly: reconnect at once, with `since`.
CLOSE_TOO_SLOW = 4008


#: Close codes after which reconnecting cannot help: the request itself is wrong (docs/api.md, hallserver).
_FINAL_CLOSE = {
    4400: ("bad_query", 400, "事件流参数有误", "bad event stream query"),
    4401: ("unauthorized", 401, "事件流拒绝了本站的令牌", "the event stream refused this station's token"),
    4403: ("forbidden", 403, "本站无权订阅事件流", "this station's role may not follow the event stream"),
    4404: ("unknown_token", 404, "没有这张票", "no ticket has this status token"),
}


def _final_error(code: int, text: str) -> HallReplyError:
    error, status, zh, en = _FINAL_CLOSE[code]
    cls = AuthError if status in (401, 403) else Refusal
    return cls(error, zh, f"{en}: {text}" if text else en, {"close_code": code}, status)


class _ResyncError(Exception):
    """A gap in seq: drop this connection and resume from the last seq delivered."""


def events_url(base_url: str) -> str:
    """ws(s)://host:port/events for a server base URL given as http(s):// or ws(s)://."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path.endswith("/events"):
        path += "/events"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


class EventStream:
    """Follow the hall's events from `since`, optionally filtered by window, series, zone or status token.

    `token` is the station's bearer token (None for the public status-token filter). `detect_gaps` defaults
    to True for an unfiltered stream, where every seq must arrive. State: CONNECTING at first, LIVE while
    connected, RECONNECTING after a loss, OFFLINE once a reconnect attempt fails `offline_after_s` or more
    after the loss (by `clock`), CLOSED after `aclose()`.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        clock: Clock,
        since: int = 0,
        window: int | None = None,
        series: str | None = None,
        zone: str | None = None,
        ticket_token: str | None = None,
        detect_gaps: bool | None = None,
        backoff_s: float = 0.5,
        backoff_max_s: float = 15.0,
        offline_after_s: float = 10.0,
        stale_after_s: float = 20.0,
        open_timeout_s: float = 5.0,
        rng: random.Random | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._url = events_url(url)
        self._ssl = ssl_context  # wss://: the station's pinned hall CA (None: the system's CAs)
        self._token = token
        self._clock = clock
        self._last_seq = since
        self._filters: dict[str, str] = {}
        if window is not None:
            self._filters["window"] = str(window)
        if series is not None:
            self._filters["series"] = series
        if zone is not None:
            self._filters["zone"] = zone
        if ticket_token is not None:
            self._filters["token"] = ticket_token
        self._detect_gaps = not self._filters if detect_gaps is None else detect_gaps
        self._backoff_s = backoff_s
        self._backoff_max_s = backoff_max_s
        self._offline_after_s = offline_after_s
        self._stale_after_s = stale_after_s
        self._open_timeout_s = open_timeout_s
        self._rng = rng or random.Random()
        self._state = StateChange(ConnectionState.CONNECTING, clock.monotonic())
        self._listeners: list[Callable[[StateChange], None]] = []
        self._queues: list[asyncio.Queue[StateChange]] = []
        self._closing = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._gen: AsyncGenerator[StreamItem, None] | None = None
        self._last_message_at: float | None = None
        self._lost_at: float | None = None
        self.connections = 0  # successful connections so far (for tests and diagnostics)

    # ---- observation ----------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state.state

    @property
    def state_change(self) -> StateChange:
        """The current state with since when it holds."""
        return self._state

    @property
    def last_seq(self) -> int:
        """The seq of the last event, snapshot or heartbeat taken into account; resumes from here."""
        return self._last_seq

    def data_age_s(self) -> float | None:
        if self._last_message_at is None:
            return None
        return self._clock.monotonic() - self._last_message_at

    def add_state_listener(self, listener: Callable[[StateChange], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    async def states(self) -> AsyncIterator[StateChange]:
        queue: asyncio.Queue[StateChange] = asyncio.Queue()
        self._queues.append(queue)
        try:
            current = self._state
            yield current
            while current.state is not ConnectionState.CLOSED:
                current = await queue.get()
                yield current
        finally:
            self._queues.remove(queue)

    def _set_state(self, state: ConnectionState, reason: str = "") -> None:
        if state is self._state.state:
            return
        previous = self._state.state
        self._state = StateChange(state, self._clock.monotonic(), reason)
        # Log once on loss and once on recovery, not at every failed attempt.
        if previous is ConnectionState.LIVE and state is not ConnectionState.CLOSED:
            log.warning("event stream %s lost: %s", self._url, reason)
        elif state is ConnectionState.LIVE and previous is not ConnectionState.CONNECTING:
            log.info("event stream %s back (since=%d)", self._url, self._last_seq)
        for listener in list(self._listeners):
            try:
                listener(self._state)
            except Exception:
                log.exception("state listener failed")
        for queue in self._queues:
            queue.put_nowait(self._state)

    # ---- lifecycle ------------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop: the iteration ends, the connection is closed, state becomes CLOSED."""
        self._closing.set()
        ws = self._ws
        if ws is not None:
            await ws.close()  # wakes a consumer blocked in recv: it sees the closing flag and stops
        gen = self._gen
        if gen is not None and not getattr(gen, "ag_running", False):
            await gen.aclose()  # suspended at a yield: run its cleanup now, not at garbage collection
        self._set_state(ConnectionState.CLOSED, "closed")

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> StreamItem:
        """The next item. Leaving an `async for` early and iterating again continues where it stopped."""
        if self._gen is None:
            self._gen = self._iterate()
        return await anext(self._gen)

    # ---- the loop -------------------------------------------------------------------------------------

    def _connect_url(self) -> str:
        query = urlencode({"since": str(self._last_seq), **self._filters})
        return f"{self._url}?{query}"

    async def _until_closing(self, aw: Awaitable[T]) -> T | None:
        """Await `aw` unless `aclose()` comes first (then cancel it and return None)."""
        task = asyncio.ensure_future(aw)
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({task, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closing
        if task.cancelled():
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return None
        return task.result()

    async def _open(self) -> ClientConnection | None:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        # No per-message compression: it costs the server memory per connection and events are small.
        return await self._until_closing(
            connect(
                self._connect_url(),
                additional_headers=headers,
                compression=None,
                open_timeout=self._open_timeout_s,
                ssl=self._ssl if self._url.startswith("wss:") else None,
                max_size=16 * 2**20,
            )
        )

    async def _iterate(self) -> AsyncGenerator[StreamItem, None]:
        attempt = 0
        while not self._closing.is_set():
            reason = ""
            immediate = False
            try:
                ws = await self._open()
            except InvalidStatus as exc:
                code = exc.response.status_code
                if code in (401, 403):
                    self._set_state(ConnectionState.OFFLINE, f"refused with {code}")
                    raise AuthError(
                        "unauthorized" if code == 401 else "forbidden",
                        "事件流拒绝了本站的令牌",
                        f"the event stream refused this station's token ({code})",
                        status=code,
                    ) from exc
                reason = f"handshake refused with {code}"
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                problem = certificate_problem(exc)
                # A refused certificate says "untrusted" in the state's reason: the app can tell it from a
                # server that is merely down, and nothing was sent to that server.
                reason = f"untrusted: {problem}" if problem is not None else f"{type(exc).__name__}: {exc}"
            else:
                if ws is None:
                    break
                if self._closing.is_set():  # aclose() came as the handshake finished
                    await ws.close()
                    break
                self._ws = ws
                self.connections += 1
                self._lost_at = None
                self._set_state(ConnectionState.LIVE)
                try:
                    while True:
                        item = await self._receive(ws)
                        if item is None:
                            continue
                        attempt = 0
                        yield item
                except _ResyncError as exc:
                    reason, immediate = str(exc), True
                except ConnectionClosed as exc:
                    close_code = exc.rcvd.code if exc.rcvd is not None else None
                    if close_code in _FINAL_CLOSE and not self._closing.is_set():
                        text = exc.rcvd.reason if exc.rcvd is not None else ""
                        self._set_state(ConnectionState.OFFLINE, f"closed ({close_code}) {text}".strip())
                        raise _final_error(close_code, text) from exc
                    reason = f"closed ({close_code})"
                    immediate = close_code == CLOSE_TOO_SLOW
                except TimeoutError:
                    reason = f"no message for {self._stale_after_s:g} s"
                finally:
                    self._ws = None
                    # Bounded: on a silent link the close handshake itself would wait for the library's
                    # close timeout (10 s) before the app may show "reconnecting".
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(ws.close(), CLOSE_WAIT_S)
            if self._closing.is_set():
                break
            now = self._clock.monotonic()
            if self._lost_at is None:
                self._lost_at = now
            if now - self._lost_at >= self._offline_after_s:
                self._set_state(ConnectionState.OFFLINE, reason)
            else:
                self._set_state(ConnectionState.RECONNECTING, reason)
            delay = 0.0 if immediate and attempt == 0 else self._backoff(attempt)
            attempt += 1
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay)

    def _backoff(self, attempt: int) -> float:
        # "Equal jitter": between half and all of the exponential step, never zero, never above the cap.
        step = min(self._backoff_max_s, self._backoff_s * 2.0**attempt)
        return step * (0.5 + self._rng.random() / 2)

    async def _receive(self, ws: ClientConnection) -> StreamItem | None:
        """The next item to deliver, or None for a message that is not delivered (duplicate, unknown)."""
        async with asyncio.timeout(self._stale_after_s):
            raw = await ws.recv()
        self._last_message_at = self._clock.monotonic()
        try:
            data: Any = json.loads(raw)
        except json.JSONDecodeError:
            log.warning("event stream: a message that is not JSON: %.80r", raw)
            return None
        if not isinstance(data, dict):
            log.warning("event stream: a message that is not an object: %.80r", raw)
            return None
        kind, seq = data.get("kind"), data.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            log.warning("event stream: a %r message without a seq", kind)
            return None
        if kind == "heartbeat":
            return self._heartbeat(seq, data.get("at"))
        if kind == "snapshot":
            try:
                snap = read(HallSnapshot, data.get("snapshot"), "snapshot")
            except BadReply as exc:
                log.warning("event stream: unreadable snapshot at seq %d: %s", seq, exc)
                raise _ResyncError(f"unreadable snapshot at seq {seq}") from exc
            self._last_seq = seq
            return Snapshot(seq, snap)
        if seq <= self._last_seq:
            return None  # already delivered before a reconnect
        if self._detect_gaps and seq > self._last_seq + 1:
            raise _ResyncError(f"gap: seq {seq} after {self._last_seq}")
        try:
            event, _ = decode_event(raw)
        except EventCodecError as exc:
            # A newer server's event kind: skip it but count it as seen, or every resume would stall on it.
            log.info("event stream: skipping seq %d: %s", seq, exc)
            self._last_seq = seq
            return None
        self._last_seq = seq
        return EventItem(seq, event)

    def _heartbeat(self, seq: int, at: Any) -> Heartbeat:
        if seq > self._last_seq:
            if self._detect_gaps:
                raise _ResyncError(f"heartbeat at seq {seq}, last seen {self._last_seq}")
            # Filtered: everything up to `seq` that was for us has arrived, in order.
            self._last_seq = seq
        when: dt.datetime | None = None
        if isinstance(at, str):
            with contextlib.suppress(ValueError):
                when = dt.datetime.fromisoformat(at)
        return Heartbeat(seq, when)
