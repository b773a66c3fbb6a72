"""HttpHall and EventStream against the real hall server (uvicorn on 127.0.0.1, SQLite in tmp).

The stream's network is cut with a TCP line between client and server (`tests.fakes.tcp_line`), so a
reconnect is a real one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import pathlib
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from hallclient.enroll import ensure_token, load_token
from hallclient.errors import AuthError, Refusal
from hallclient.http import HttpHall
from hallclient.stream import EventStream
from hallclient.types import ConnectionState, EventItem, Issued, Snapshot, StreamItem
from hallcore.clock import FakeClock
from hallcore.config import HallConfig
from hallcore.events import TicketChanged, TicketIssued
from tests.fakes.halls import MONDAY_9
from tests.fakes.tcp_line import Line
from tests.server.conftest import MATTER, Running, start_server


@pytest_asyncio.fixture
async def proxy(server: Running) -> AsyncIterator[Line]:
    p = Line(server.port)
    await p.start()
    yield p
    await p.aclose()


@pytest_asyncio.fixture
async def desk(server: Running) -> AsyncIterator[HttpHall]:
    st = server.station("desk")
    async with HttpHall(server.url, st.token) as api:
        yield api


@pytest_asyncio.fixture
async def counter(server: Running) -> AsyncIterator[HttpHall]:
    st = server.station("counter", window=1)
    async with HttpHall(server.url, st.token) as api:
        yield api


async def collect(stream: EventStream, n: int, timeout: float = 10.0) -> list[StreamItem]:
    out: list[StreamItem] = []
    async with asyncio.timeout(timeout):
        async for item in stream:
            if isinstance(item, EventItem | Snapshot):
                out.append(item)
            if len(out) == n:
                break
    return out


@pytest.mark.asyncio
async def test_issue_call_serve_rate_over_http(server: Running, desk: HttpHall, counter: HttpHall) -> None:
    issued = await desk.issue_ticket(MATTER, source="desk", request_id="double-tap")
    again = await desk.issue_ticket(MATTER, source="desk", request_id="double-tap")
    assert isinstance(issued, Issued)
    assert again == issued  # replayed, not issued twice
    assert issued.ticket.state == "waiting"
    assert issued.status_url.endswith(issued.token)
    status = await desk.status(issued.token)
    assert (status.label, status.state, status.ahead) == (issued.ticket.label, "waiting", 0)

    with pytest.raises(Refusal) as closed:
        await counter.call_next(1)
    assert (closed.value.code, closed.value.status) == ("window_closed", 409)
    opened = await counter.open_window(1)
    assert opened.window.state == "open"
    (cand,) = await counter.candidates(1)
    assert cand.ticket.id == issued.ticket.id
    called = await counter.call_next(1)
    assert called.ticket is not None
    assert called.ticket.label == issued.ticket.label
    assert called.window.current == issued.ticket.label
    await counter.start_serving(1)
    done = await counter.finish(1)
    assert done.ticket is not None
    assert done.ticket.state == "done"
    rating = await counter.rate(issued.ticket.id, 1)  # the id has a "/": one path segment
    assert rating.case is not None
    with pytest.raises(Refusal) as twice:
        await counter.rate(issued.ticket.id, 5)
    assert twice.value.code == "already_rated"

    snap = await counter.snapshot()
    assert snap.recent_calls[-1].ticket.label == issued.ticket.label  # oldest first
    assert [w.number for w in await counter.windows()][:2] == [1, 2]
    info = await counter.hall_info()
    assert any(m.code == MATTER for m in info.matters)
    assert info.hall.id == server.config.hall.id
    health = await counter.health()
    assert health.ok
    assert health.seq == snap.seq


@pytest.mark.asyncio
async def test_refusals_and_auth_errors(server: Running, desk: HttpHall) -> None:
    with pytest.raises(Refusal) as unknown:
        await desk.issue_ticket("NOPE", source="desk")
    assert (unknown.value.code, unknown.value.status) == ("unknown_matter", 404)
    issued = await desk.issue_ticket(MATTER, source="desk")
    assert isinstance(issued, Issued)
    cancelled = await desk.cancel_ticket(issued.ticket.id, "不办了")
    assert cancelled.state == "cancelled"
    async with HttpHall(server.url, "not-a-token") as stranger:
        with pytest.raises(AuthError) as info:
            await stranger.call_next(1)
        assert info.value.status == 401
    with pytest.raises(AuthError) as role:
        await desk.stations()
    assert role.value.status == 403


@pytest.mark.asyncio
async def test_enroll_and_approve_over_http(server: Running, tmp_path: pathlib.Path) -> None:
    async with HttpHall(server.url) as anon, HttpHall(server.url) as manager:
        manager.set_token(await manager.manager_login("boss", "correct horse battery"))
        codes: list[str] = []

        async def approve_when_shown() -> None:
            while not codes:
                await asyncio.sleep(0.01)
            pending = [s for s in await manager.stations() if s.code == codes[0]]
            await manager.approve_station(pending[0].station_id)

        approver = asyncio.create_task(approve_when_shown())
        path = tmp_path / "cred.json"
        token = await ensure_token(
            anon, path, name="一楼取号机", role="kiosk", on_code=codes.append, poll_s=0.05
        )
        await approver
        assert load_token(path) == token
        anon.set_token(token)
        assert (await anon.hall_info()).hall.name


@pytest.mark.asyncio
async def test_stream_resumes_from_the_last_seq_after_a_cut(
    server: Running, desk: HttpHall, proxy: Line
) -> None:
    display = server.station("display")
    stream = EventStream(proxy.url, display.token, clock=FakeClock(MONDAY_9), since=server.hall.hub.last_seq)
    stream_seq0 = stream.last_seq
    try:
        consumer = asyncio.create_task(collect(stream, 4))
        async with asyncio.timeout(10):
            while stream.state is not ConnectionState.LIVE:
                await asyncio.sleep(0.01)
        for _ in range(2):
            await desk.issue_ticket(MATTER, source="desk")
        async with asyncio.timeout(10):
            while stream.last_seq < stream_seq0 + 2:
                await asyncio.sleep(0.01)
        proxy.cut()
        for _ in range(2):
            await desk.issue_ticket(MATTER, source="desk")  # while the stream is away
        items = await consumer
    finally:
        await stream.aclose()
    assert [i.seq for i in items] == [stream_seq0 + k for k in range(1, 5)]
    assert all(isinstance(i, EventItem) and isinstance(i.event, TicketIssued) for i in items)
    assert stream.connections == 2


@pytest.fixture
def tiny_backlog_server(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> Iterator[Running]:
    cfg = dataclasses.replace(county, server=dataclasses.replace(county.server, snapshot_threshold=2))
    with start_server(tmp_path, cfg, seeded_db) as (_st, running):
        yield running


@pytest.mark.asyncio
async def test_a_client_far_behind_gets_a_snapshot_then_live_events(tiny_backlog_server: Running) -> None:
    server = tiny_backlog_server
    desk = server.station("desk")
    display = server.station("display", name=f"board-{uuid.uuid4().hex[:6]}")
    async with HttpHall(server.url, desk.token) as api:
        for _ in range(4):
            await api.issue_ticket(MATTER, source="desk")
        stream = EventStream(server.url, display.token, clock=FakeClock(MONDAY_9), since=0)
        try:
            consumer = asyncio.create_task(collect(stream, 2))
            async with asyncio.timeout(10):
                while stream.state is not ConnectionState.LIVE:
                    await asyncio.sleep(0.01)
            async with asyncio.timeout(10):
                while stream.last_seq == 0:
                    await asyncio.sleep(0.01)
            issued = await api.issue_ticket(MATTER, source="desk")
            snap, live = await consumer
        finally:
            await stream.aclose()
    assert isinstance(snap, Snapshot)
    assert snap.snapshot.waiting["A"] == 4
    assert isinstance(live, EventItem)
    assert live.seq == snap.seq + 1
    assert isinstance(issued, Issued)
    assert isinstance(live.event, TicketIssued | TicketChanged)
