"""EventStream against a scripted WebSocket server on 127.0.0.1: resume, gaps, snapshots, states, shutdown."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from hallclient.errors import AuthError, Refusal
from hallclient.stream import EventStream, events_url
from hallclient.types import ConnectionState, EventItem, Heartbeat, Snapshot, StreamItem
from hallcore.clock import FakeClock
from hallcore.codec import encode
from hallcore.events import WindowChanged, WindowView, encode_event
from tests.fakes.halls import MONDAY_9

WINDOW = WindowView(number=1, name="户籍窗口", state="open", zone="", series=("A",))

Script = Callable[[ServerConnection, int], Awaitable[None]]


def event(seq: int) -> str:
    return encode_event(WindowChanged(MONDAY_9, "opened", WINDOW), seq)


def heartbeat(seq: int) -> str:
    return json.dumps({"kind": "heartbeat", "seq": seq, "at": MONDAY_9.isoformat()})


async def hold(ws: ServerConnection) -> None:
    """Keep the connection open until the client goes away."""
    await ws.wait_closed()


class Scripted:
    """A WebSocket server that plays one script per connection and records each connection's query."""

    def __init__(self) -> None:
        self.scripts: list[Script] = []
        self.queries: list[dict[str, str]] = []
        self.headers: list[str | None] = []
        self.server: Server | None = None
        self.reject_with: HTTPStatus | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        if self.reject_with is not None:
            return conn.respond(self.reject_with, "no\n")
        return None

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        query = {k: v[0] for k, v in parse_qs(urlsplit(ws.request.path).query).items()}
        self.queries.append(query)
        self.headers.append(ws.request.headers.get("Authorization"))
        n = len(self.queries) - 1
        script = self.scripts[n] if n < len(self.scripts) else (lambda w, s: hold(w))
        await script(ws, int(query.get("since", "0")))


@pytest_asyncio.fixture
async def scripted() -> AsyncIterator[Scripted]:
    s = Scripted()
    async with serve(
        s.handler, "127.0.0.1", 0, compression=None, process_request=s.process_request
    ) as server:
        s.server = server
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_9)


async def collect(stream: EventStream, n: int, timeout: float = 5.0) -> list[StreamItem]:
    out: list[StreamItem] = []
    async with asyncio.timeout(timeout):
        async for item in stream:
            out.append(item)
            if len(out) == n:
                break
    return out


async def play(
    scripted: Scripted, clock: FakeClock, scripts: list[Script], n: int, **options: Any
) -> tuple[EventStream, list[StreamItem]]:
    """The server plays `scripts` (one a connection) to a new stream, read for `n` items and closed."""
    scripted.scripts = scripts
    stream = EventStream(scripted.url, "tok", clock=clock, **options)
    items = await collect(stream, n)
    await stream.aclose()
    return stream, items


def from_server(task: asyncio.Task[object]) -> bool:
    """A task of the scripted server (its handlers wind down on their own schedule)."""
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "websockets/asyncio/server" in code.co_filename


def seqs(items: list[StreamItem]) -> list[int]:
    return [i.seq for i in items]


def test_events_url() -> None:
    assert events_url("http://h:8700") == "ws://h:8700/events"
    assert events_url("https://h/") == "wss://h/events"
    assert events_url("ws://h/events") == "ws://h/events"


@pytest.mark.asyncio
async def test_resumes_from_the_last_seq_after_a_drop(scripted: Scripted, clock: FakeClock) -> None:
    async def first(ws: ServerConnection, since: int) -> None:
        await ws.send(event(1))
        await ws.send(event(2))
        await ws.close()  # server restart, network blip…

    async def second(ws: ServerConnection, since: int) -> None:
        await ws.send(event(2))  # overlap: already delivered
        await ws.send(event(3))
        await hold(ws)

    scripted.scripts = [first, second]
    stream = EventStream(scripted.url, "tok", clock=clock, backoff_s=0.01)
    states: list[ConnectionState] = [stream.state]
    stream.add_state_listener(lambda s: states.append(s.state))
    items = await collect(stream, 3)
    await stream.aclose()
    assert seqs(items) == [1, 2, 3]
    assert all(isinstance(i, EventItem) and isinstance(i.event, WindowChanged) for i in items)
    assert [q["since"] for q in scripted.queries] == ["0", "2"]
    assert scripted.headers == ["Bearer tok", "Bearer tok"]
    assert states == [
        ConnectionState.CONNECTING,
        ConnectionState.LIVE,
        ConnectionState.RECONNECTING,
        ConnectionState.LIVE,
        ConnectionState.CLOSED,
    ]


@pytest.mark.asyncio
async def test_a_gap_in_seq_resyncs(scripted: Scripted, clock: FakeClock) -> None:
    async def lossy(ws: ServerConnection, since: int) -> None:
        await ws.send(event(1))
        await ws.send(event(3))  # 2 went missing
        await hold(ws)

    async def fills(ws: ServerConnection, since: int) -> None:
        for seq in range(since + 1, 4):
            await ws.send(event(seq))
        await hold(ws)

    _, items = await play(scripted, clock, [lossy, fills], 3, backoff_s=5)  # a resync does not wait
    assert seqs(items) == [1, 2, 3]
    assert [q["since"] for q in scripted.queries] == ["0", "1"]


@pytest.mark.asyncio
async def test_a_heartbeat_ahead_resyncs_an_unfiltered_stream(scripted: Scripted, clock: FakeClock) -> None:
    async def silent_loss(ws: ServerConnection, since: int) -> None:
        await ws.send(event(1))
        await ws.send(heartbeat(2))
        await hold(ws)

    async def fills(ws: ServerConnection, since: int) -> None:
        await ws.send(event(2))
        await ws.send(heartbeat(2))
        await hold(ws)

    _, items = await play(scripted, clock, [silent_loss, fills], 3, backoff_s=5)
    assert [type(i).__name__ for i in items] == ["EventItem", "EventItem", "Heartbeat"]
    assert seqs(items) == [1, 2, 2]


@pytest.mark.asyncio
async def test_a_filtered_stream_moves_on_with_heartbeats(scripted: Scripted, clock: FakeClock) -> None:
    async def sparse(ws: ServerConnection, since: int) -> None:
        await ws.send(heartbeat(5))
        await ws.send(event(7))
        await ws.close()

    scripted.scripts = [sparse]
    stream = EventStream(scripted.url, "tok", clock=clock, window=1, backoff_s=0.01)
    assert stream.data_age_s() is None
    items = await collect(stream, 2)
    assert items[0] == Heartbeat(5, MONDAY_9)
    assert seqs(items) == [5, 7]
    clock.advance(4)
    assert stream.data_age_s() == 4
    # Pulling again continues the same stream: it sees the close and resumes after the heartbeat's seq.
    task = asyncio.create_task(collect(stream, 1))
    async with asyncio.timeout(5):
        while len(scripted.queries) < 2:
            await asyncio.sleep(0.01)
    await stream.aclose()
    assert await task == []
    assert scripted.queries[1] == {"since": "7", "window": "1"}


@pytest.mark.asyncio
async def test_a_snapshot_replaces_the_backlog(scripted: Scripted, clock: FakeClock) -> None:
    snap = {
        "seq": 100,
        "at": MONDAY_9.isoformat(),
        "windows": [encode(WINDOW)],
        "waiting": {"A": 12},
        "recent_calls": [],
        "devices": [],
    }

    async def far_behind(ws: ServerConnection, since: int) -> None:
        await ws.send(json.dumps({"kind": "snapshot", "seq": 100, "snapshot": snap}))
        await ws.send(event(101))
        await hold(ws)

    stream, items = await play(scripted, clock, [far_behind], 2)
    assert isinstance(items[0], Snapshot)
    assert items[0].snapshot.waiting == {"A": 12}
    assert items[0].snapshot.windows == (WINDOW,)
    assert seqs(items) == [100, 101]
    assert stream.last_seq == 101


@pytest.mark.asyncio
async def test_unknown_kinds_and_junk_are_skipped(scripted: Scripted, clock: FakeClock) -> None:
    async def newer_server(ws: ServerConnection, since: int) -> None:
        await ws.send(json.dumps({"kind": "hologram", "seq": 1}))
        await ws.send("not json")
        await ws.send(event(2))
        await hold(ws)

    _, items = await play(scripted, clock, [newer_server], 1)
    assert seqs(items) == [2]
    assert len(scripted.queries) == 1  # an unknown kind counts as seen: no resync


@pytest.mark.asyncio
async def test_too_slow_close_reconnects_at_once(scripted: Scripted, clock: FakeClock) -> None:
    async def drops(ws: ServerConnection, since: int) -> None:
        await ws.send(event(1))
        await ws.close(4008, "too slow")

    async def resumes(ws: ServerConnection, since: int) -> None:
        await ws.send(event(since + 1))
        await hold(ws)

    # A backoff would time the test out.
    _, items = await play(scripted, clock, [drops, resumes], 2, backoff_s=30)
    assert seqs(items) == [1, 2]


@pytest.mark.asyncio
async def test_unreachable_goes_offline_and_closes_cleanly(clock: FakeClock) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    stream = EventStream(f"http://127.0.0.1:{port}", "tok", clock=clock, backoff_s=0.01, offline_after_s=3)
    seen: list[ConnectionState] = []

    async def watch() -> None:
        async for change in stream.states():
            seen.append(change.state)
            if change.state is ConnectionState.RECONNECTING:
                clock.advance(3)  # the app's patience runs out on the next failed attempt

    watcher = asyncio.create_task(watch())
    consumer = asyncio.create_task(collect(stream, 1))
    async with asyncio.timeout(5):
        while stream.state is not ConnectionState.OFFLINE:
            await asyncio.sleep(0.01)
    await stream.aclose()
    assert await consumer == []
    await watcher
    assert seen == [
        ConnectionState.CONNECTING,
        ConnectionState.RECONNECTING,
        ConnectionState.OFFLINE,
        ConnectionState.CLOSED,
    ]


@pytest.mark.asyncio
async def test_a_refused_token_is_an_auth_error(scripted: Scripted, clock: FakeClock) -> None:
    scripted.reject_with = HTTPStatus.UNAUTHORIZED
    stream = EventStream(scripted.url, "revoked", clock=clock)
    with pytest.raises(AuthError) as info:
        await collect(stream, 1)
    assert info.value.status == 401
    await stream.aclose()


@pytest.mark.parametrize(
    ("code", "cls", "status"), [(4401, AuthError, 401), (4403, AuthError, 403), (4404, Refusal, 404)]
)
@pytest.mark.asyncio
async def test_final_close_codes_end_the_stream(
    scripted: Scripted, clock: FakeClock, code: int, cls: type[Exception], status: int
) -> None:
    async def refuse(ws: ServerConnection, since: int) -> None:
        await ws.close(code, "no")

    scripted.scripts = [refuse]
    stream = EventStream(scripted.url, "tok", clock=clock, backoff_s=0.01)
    with pytest.raises(cls) as info:
        await collect(stream, 1)
    assert getattr(info.value, "status", None) == status
    assert len(scripted.queries) == 1  # not retried
    assert stream.state is ConnectionState.OFFLINE
    await stream.aclose()


@pytest.mark.asyncio
async def test_aclose_ends_a_waiting_consumer_without_leaking_tasks(
    scripted: Scripted, clock: FakeClock
) -> None:
    before = asyncio.all_tasks()
    stream = EventStream(scripted.url, None, clock=clock, ticket_token="st-abc")
    consumer = asyncio.create_task(collect(stream, 1))
    async with asyncio.timeout(5):
        while stream.state is not ConnectionState.LIVE:
            await asyncio.sleep(0.01)
    assert scripted.queries[0] == {"since": "0", "token": "st-abc"}
    assert scripted.headers == [None]
    await stream.aclose()
    async with asyncio.timeout(1):
        assert await consumer == []
    await asyncio.sleep(0)
    ours = {t for t in asyncio.all_tasks() - before if not t.done() and not from_server(t)}
    assert ours <= {asyncio.current_task()}
