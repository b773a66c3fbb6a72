"""The event stream: resume from memory and from the database, snapshot when too far behind, filters,
heartbeats, and a slow consumer dropped (4008) without slowing the others."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import pathlib
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hallcore.config import HallConfig
from hallserver.service import Settings
from tests.fakes.live_server import Station, wait_for
from tests.server.conftest import Running, next_event, recv, start_server


def small(config: HallConfig, backlog: int, threshold: int) -> HallConfig:
    return dataclasses.replace(
        config,
        server=dataclasses.replace(config.server, backlog_events=backlog, snapshot_threshold=threshold),
    )


@pytest.fixture
def tight(tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path) -> Iterator[Running]:
    """Backlog of 30 events in memory, snapshot beyond 60 behind, per-client buffer of 20."""
    settings = Settings(heartbeat_s=0.3, tick_s=3600, freeze_gc=False, queue_limit=20)
    with start_server(tmp_path, small(county, 30, 60), seeded_db, settings, sndbuf=8192) as (_st, running):
        yield running


async def events_until(ws: ClientConnection, last: int) -> list[dict[str, Any]]:
    """Messages other than heartbeats, until seq `last` (an event, or a heartbeat for filtered streams:
    every heartbeat carries the hall-wide seq, so "nothing more for me" is visible)."""
    out: list[dict[str, Any]] = []
    while True:
        msg = await recv(ws)
        if msg["kind"] != "heartbeat":
            out.append(msg)
        if msg["seq"] >= last:
            return out


def auth(st: Station) -> dict[str, str]:
    return {"Authorization": f"Bearer {st.token}"}


def issue_n(server: Running, desk: Station, n: int) -> None:
    for _ in range(n):
        assert server.issue(desk).status_code == 201


def test_reconnect_after_100_events_gets_all_in_order(server: Running) -> None:
    desk = server.station("desk")
    display = server.station("display")
    issue_n(server, desk, 5)

    async def main() -> None:
        async with connect(f"{server.ws_url}/events?since=0", additional_headers=auth(display)) as ws:
            got = await events_until(ws, server.hall.store.seq)
            assert [m["seq"] for m in got] == list(range(1, server.hall.store.seq + 1))
        away_from = server.hall.store.seq
        await asyncio.to_thread(issue_n, server, desk, 100)
        last = server.hall.store.seq
        assert last - away_from >= 100
        async with connect(
            f"{server.ws_url}/events?since={away_from}", additional_headers=auth(display)
        ) as ws:
            got = await events_until(ws, last)
            assert [m["seq"] for m in got] == list(range(away_from + 1, last + 1))
            hb = await recv(ws)
            assert hb == {"kind": "heartbeat", "seq": last, "at": hb["at"]}

    asyncio.run(main())


def test_behind_the_memory_backlog_replays_from_the_database(tight: Running) -> None:
    desk = tight.station("desk")
    display = tight.station("display")
    issue_n(tight, desk, 50)  # 50 events: beyond the 30 in memory, within the threshold of 60
    last = tight.hall.store.seq
    assert not tight.hall.hub.covers(0)

    async def main() -> None:
        async with connect(f"{tight.ws_url}/events?since=0", additional_headers=auth(display)) as ws:
            got = await events_until(ws, last)
            assert [m["seq"] for m in got] == list(range(1, last + 1))

    asyncio.run(main())


def test_far_behind_gets_a_snapshot_then_live_events(tight: Running) -> None:
    desk = tight.station("desk")
    display = tight.station("display")
    counter = tight.station("counter", window=1)
    assert tight.act(counter, "open").status_code == 200
    issue_n(tight, desk, 70)
    at_snapshot = tight.hall.store.seq

    async def main() -> None:
        async with connect(f"{tight.ws_url}/events?since=1", additional_headers=auth(display)) as ws:
            first = await recv(ws)
            assert first["kind"] == "snapshot"
            assert first["seq"] == at_snapshot
            snap = first["snapshot"]
            assert snap["waiting"]["A"] == 70
            assert {w["number"]: w["state"] for w in snap["windows"]}[1] == "open"
            assert any(d for d in snap.get("devices", [])) or "devices" in snap
            r = await asyncio.to_thread(tight.act, counter, "call-next")
            assert r.status_code == 200
            live = await events_until(ws, at_snapshot + 1)
            assert [m["seq"] for m in live] == [at_snapshot + 1]
            assert live[0]["action"] == "called"

    asyncio.run(main())


def test_status_token_filter_sees_its_ticket_and_calls_only(server: Running) -> None:
    desk = server.station("desk")
    counter = server.station("counter", window=1)
    server.act(counter, "open")
    mine = server.issue(desk).json()
    other = server.issue(desk).json()

    async def main() -> None:
        url = f"{server.ws_url}/events?since=0&token={mine['token']}"
        async with connect(url) as ws:  # no auth: the status token is enough, read-only
            got = await events_until(ws, server.hall.store.seq)
            seen = {m["ticket"]["id"] for m in got if "ticket" in m}
            assert seen == {mine["ticket"]["id"]}
            r = await asyncio.to_thread(server.act, counter, "call-next")  # calls A001: mine
            assert r.status_code == 200
            for action in ("start", "finish", "call-next"):  # then calls the other ticket
                assert (await asyncio.to_thread(server.act, counter, action)).status_code == 200
            got = await events_until(ws, server.hall.store.seq)
            actions = [(m["ticket"]["label"], m["action"]) for m in got]
            assert ("A002", "called") in actions, "every call is shown on the phone page"
            assert ("A001", "finished") in actions
            assert all(label == "A001" or action == "called" for label, action in actions)
            assert other["token"] not in json.dumps(got)

    asyncio.run(main())


def test_window_filter_and_bad_queries(server: Running) -> None:
    desk = server.station("desk")
    display = server.station("display")
    c1 = server.station("counter", window=1)
    c5 = server.station("counter", window=5)
    server.act(c1, "open")
    server.act(c5, "open")
    server.issue(desk)  # series A: window 1's
    server.issue(desk, matter="SB02")  # series B: window 5's

    async def main() -> None:
        url = f"{server.ws_url}/events?since=0&window=5"
        async with connect(url, additional_headers=auth(display)) as ws:
            got = await events_until(ws, _last_for_window(server))
            assert all(5 in _windows_of(m) or m["kind"] == "ticket_issued" for m in got)
            assert all(m["ticket"]["series"] == "B" for m in got if m["kind"] == "ticket_issued")
        for query, code in (("since=x", 4400), ("", 4401)):
            async with connect(
                f"{server.ws_url}/events?{query}", additional_headers=auth(display) if code != 4401 else {}
            ) as ws:
                with pytest.raises(Exception):  # noqa: B017, PT011 - the close code is checked below
                    await recv(ws)
                assert ws.close_code == code

    asyncio.run(main())


def test_refused_streams_close_with_the_documented_codes(server: Running) -> None:
    """docs/api.md: 4400 a bad query, 4401 no, unknown or revoked token (by header or `?auth=`, cached or
    read from the database), 4404 an unknown status token; each after the 101, on the stream path."""
    display = server.station("display")
    revoked = server.station("display")
    desk = server.station("desk")
    token = server.issue(desk).json()["token"]

    async def code_of(query: str, headers: dict[str, str] | None = None) -> int | None:
        async with connect(f"{server.ws_url}/events?{query}", additional_headers=headers or {}) as ws:
            with pytest.raises(ConnectionClosed):
                await recv(ws, 20)
            return ws.close_code

    async def main() -> None:
        async with connect(f"{server.ws_url}/events", additional_headers=auth(revoked)) as ws:
            assert (await recv(ws, 20))["kind"] == "snapshot"  # its principal is cached now
        r = server.http.post(f"/api/stations/{revoked.id}/revoke", headers=server.manager())
        assert r.status_code == 200, r.text
        for query, headers, code in (
            ("since=x", auth(display), 4400),
            ("window=-1", auth(display), 4400),
            ("since=0", None, 4401),
            ("since=0", {"Authorization": "Bearer not-a-token"}, 4401),
            (f"since=0&auth={'n' * 22}", None, 4401),
            ("since=0", auth(revoked), 4401),
            (f"since=0&auth={revoked.token}", None, 4401),
            ("token=" + "x" * 22, None, 4404),
            ("token=short", None, 4404),
            (f"token={token}&since=x", None, 4400),
        ):
            assert await code_of(query, headers) == code, (query, headers)
        # And the same tokens that are good are let in (the refusals are not a broken path).
        async with connect(f"{server.ws_url}/events?token={token}") as ws:
            assert (await recv(ws, 20))["kind"] == "snapshot"

    asyncio.run(main())


def _windows_of(m: dict[str, Any]) -> set[int]:
    w = m.get("window")
    if isinstance(w, dict):
        return {w["number"]}
    return set()


def _last_for_window(server: Running) -> int:
    import sqlite3

    conn = sqlite3.connect(str(server.db))
    try:
        rows = conn.execute("SELECT seq, body FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()
    last = 0
    for seq, body in rows:
        m = json.loads(body)
        if 5 in _windows_of(m) or (m["kind"] == "ticket_issued" and m["ticket"]["series"] == "B"):
            last = seq
    return last


def raw_ws_that_never_reads(port: int, token: str) -> socket.socket:
    """A subscriber stuck on a phone with no signal: handshake done, then it never reads again."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (
            f"GET /events?since=0&auth={token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    s.recv(1024)  # the 101 response
    return s


def test_slow_consumer_is_dropped_and_others_keep_up(tight: Running) -> None:
    desk = tight.station("desk")
    display = tight.station("display")
    stuck = raw_ws_that_never_reads(tight.port, display.token)
    try:
        wait_for(lambda: tight.hall.hub.count == 1, what="the stuck subscriber")

        async def main() -> int:
            async with connect(f"{tight.ws_url}/events", additional_headers=auth(display)) as ws:
                assert (await recv(ws))["kind"] == "snapshot"
                issued = 0
                # Bounded: the stuck client's socket buffers hold a few MB at most.
                while tight.hall.hub.count > 1 and issued < 2000:
                    r = await asyncio.to_thread(tight.issue, desk, holder_name="x" * 40)
                    assert r.status_code == 201
                    issued += 1
                    msg = await next_event(ws, 2.0)
                    assert msg["seq"] == tight.hall.store.seq, "the healthy reader fell behind"
                return issued

        issued = asyncio.run(main())
        wait_for(lambda: not tight.hall.hub.count, what=f"the stuck subscriber dropped ({issued} events)")
    finally:
        stuck.close()
