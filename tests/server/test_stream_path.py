"""The stream path itself (hallserver/stream) on a real server: same port and URL as the API, the Origin
check, handshake refusals, pings and the close handshake, protocol errors, admission in batches, the
dashboard's `/web/events` on the same code, restarts (1012), and snapshots cached per seq and audience for the
stream and `GET /api/snapshot` (answered before the framework when the caller's token is known)."""

from __future__ import annotations

import asyncio
import base64
import contextvars
import os
import pathlib
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVarTuple

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from hallcore.clock import FakeClock
from hallcore.config import Durability, HallConfig
from hallcore.events import DeviceHealth
from hallserver.app import bind, create_app, uvicorn_config
from hallserver.eventlog import EventRecord
from hallserver.hotpath import HotPaths
from hallserver.service import Settings
from hallserver.store import Job, Store
from hallserver.stream.connection import USER_TIMEOUT_MS
from hallserver.writectx import Reply, WriteCtx, ok
from tests.fakes.live_server import COUNTY, MONDAY_9, Station, live_server, wait_for
from tests.server.conftest import Running, ServerThread, next_event, recv, start_server
from tests.server.web_helpers import http_login


def auth(st: Station) -> dict[str, str]:
    return {"Authorization": f"Bearer {st.token}"}


def raw_handshake(
    port: int, path: str = "/events?since=0", extra: str = "", version: str = "13"
) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n{extra}\r\n"
        ).encode()
    )
    return s


def read_head(s: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        assert chunk, f"closed before the head: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def read_frames_until_close(s: socket.socket, buf: bytes) -> tuple[list[bytes], int]:
    """Server frames (unmasked) until a close frame; returns the text payloads and the close code."""
    texts: list[bytes] = []
    while True:
        while len(buf) < 2 or len(buf) < 2 + _extra(buf) + _length(buf):
            chunk = s.recv(65536)
            assert chunk, "closed without a close frame"
            buf += chunk
        op, n, at = buf[0] & 0x0F, _length(buf), 2 + _extra(buf)
        payload, buf = buf[at : at + n], buf[at + n :]
        if op == 0x8:
            return texts, struct.unpack("!H", payload[:2])[0]
        texts.append(payload)


def _extra(buf: bytes) -> int:
    n = buf[1] & 0x7F
    return 2 if n == 126 else 8 if n == 127 else 0


def _length(buf: bytes) -> int:
    n = buf[1] & 0x7F
    if n == 126:
        return int.from_bytes(buf[2:4], "big") if len(buf) >= 4 else 1 << 30
    if n == 127:
        return int.from_bytes(buf[2:10], "big") if len(buf) >= 10 else 1 << 30
    return n


@pytest.fixture
def srv(tmp_path: pathlib.Path, seeded_db: pathlib.Path) -> Iterator[tuple[ServerThread, Running]]:
    """A server started from the config file (so `POST /api/admin/reload` works)."""
    with start_server(tmp_path, COUNTY, seeded_db) as (st, running):
        yield st, running


def test_origin_of_another_site_is_refused_and_the_halls_own_pages_are_not(server: Running) -> None:
    display = server.station("display")
    url = f"{server.ws_url}/events"

    async def main() -> None:
        async with connect(
            url, additional_headers=auth(display), origin=Origin(f"http://127.0.0.1:{server.port}")
        ) as ws:
            assert (await recv(ws))["kind"] == "snapshot"
        for origin in ("http://evil.example", f"http://127.0.0.1:{server.port + 1}", "null"):
            with pytest.raises(InvalidStatus) as err:
                async with connect(url, additional_headers=auth(display), origin=Origin(origin)):
                    pass
            assert err.value.response.status_code == 403, origin

    asyncio.run(main())


def test_handshakes_the_stream_does_not_take_get_an_http_refusal(server: Running) -> None:
    for path, version, extra, status in (
        ("/nowhere", "13", "", 404),
        ("/events", "8", "", 426),
        ("/events", "13", "X-Long: " + "x" * 20_000 + "\r\n", 400),
    ):
        s = raw_handshake(server.port, path, extra, version)
        try:
            got, _ = read_head(s)
        finally:
            s.close()
        assert got == status, (path, version)
    assert server.http.get("/api/health").status_code == 200  # HTTP on the same port is unaffected


def test_pings_are_answered_the_close_handshake_echoes_the_code_and_dead_links_time_out(
    server: Running,
) -> None:
    display = server.station("display")

    async def main() -> None:
        async with connect(
            f"{server.ws_url}/events", additional_headers=auth(display), ping_interval=None
        ) as ws:
            await recv(ws)
            # The kernel drops a client that vanished (no FIN, nothing acknowledged) after a minute.
            (sub,) = server.hall.hub.staff
            sock = sub._transport.get_extra_info("socket")  # type: ignore[attr-defined]
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == USER_TIMEOUT_MS
            pong = await ws.ping(b"still there?")
            await asyncio.wait_for(pong, 5)
            await ws.close(3001, "going home")
            assert ws.protocol.close_rcvd is not None
            assert ws.protocol.close_rcvd.code == 3001  # echoed (RFC 6455 §5.5.1)

    asyncio.run(main())
    wait_for(lambda: server.hall.hub.count == 0, what="the subscriber gone after the close")


def test_a_client_breaking_the_framing_is_closed_with_1002(server: Running) -> None:
    display = server.station("display")
    s = raw_handshake(server.port, f"/events?since=0&auth={display.token}")
    try:
        status, rest = read_head(s)
        assert status == 101
        s.sendall(bytes([0x81, 0x02]) + b"hi")  # unmasked: RFC 6455 §5.1 says close the connection
        _texts, code = read_frames_until_close(s, rest)
        assert code == 1002
    finally:
        s.close()


def test_a_reconnect_burst_is_admitted_in_batches_and_every_client_gets_its_catch_up(server: Running) -> None:
    display = server.station("display")
    desk = server.station("desk")
    for _ in range(3):
        assert server.issue(desk).status_code == 201
    seq = server.hall.store.seq
    streams = server.app.state.streams
    streams.batch = 8
    batches0 = streams.batches

    async def one(i: int) -> list[int]:
        async with connect(
            f"{server.ws_url}/events?since={seq - 3}", additional_headers=auth(display), ping_interval=None
        ) as ws:
            return [(await recv(ws, 20))["seq"] for _ in range(3)]

    async def main() -> list[list[int]]:
        return await asyncio.gather(*(one(i) for i in range(120)))

    got = asyncio.run(main())
    assert all(g == [seq - 2, seq - 1, seq] for g in got)
    assert streams.batches - batches0 >= 120 // 8
    # The health check says how long the loop's longest turn was, in its own CPU time.
    busy = server.http.get("/api/health").json()["loop_busy_max_ms"]
    assert isinstance(busy, float)
    assert busy > 0


def test_the_dashboard_stream_needs_the_session_cookie_and_the_halls_origin() -> None:
    with live_server() as hall:
        web = http_login(hall.url)
        cookie = "; ".join(f"{k}={v}" for k, v in web.cookies.items())
        url = f"{hall.ws_url}/web/events"
        own = Origin(f"http://127.0.0.1:{hall.port}")

        async def main() -> None:
            async with connect(url, additional_headers={"Cookie": cookie}, origin=own) as ws:
                hello = await recv(ws)
                assert hello == {"kind": "hello", "seq": hall.hall.hub.last_seq}
                hall.login_counter()
                r = await asyncio.to_thread(hall.act, hall.counter, "open")
                assert r.status_code == 200
                ev = await next_event(ws)
                assert ev["kind"] == "window_changed"
                assert ev["seq"] == hello["seq"] + 1
            async with connect(url, origin=own) as ws:
                with pytest.raises(ConnectionClosed):
                    await recv(ws)
                assert ws.close_code == 4401
            with pytest.raises(InvalidStatus) as err:
                async with connect(
                    url, additional_headers={"Cookie": cookie}, origin=Origin("http://evil.example")
                ):
                    pass
            assert err.value.response.status_code == 403

        try:
            asyncio.run(main())
        finally:
            web.close()


def test_a_restart_closes_streams_with_1012() -> None:
    with live_server() as hall:

        async def main() -> None:
            async with connect(f"{hall.ws_url}/events", additional_headers=hall.display.headers) as ws:
                await recv(ws)
                await asyncio.to_thread(hall.stop)
                with pytest.raises(ConnectionClosed):
                    await _until_closed(ws)
                assert ws.close_code == 1012

        asyncio.run(main())


async def _until_closed(ws: ClientConnection) -> None:
    while True:
        await recv(ws)


# ---- snapshots ---------------------------------------------------------------------------------------------


def test_snapshots_are_built_once_per_seq_and_audience_and_shared_with_the_stream(
    srv: tuple[ServerThread, Running],
) -> None:
    st, server = srv
    desk = server.station("desk")
    display = server.station("display")
    r = server.http.post(
        "/api/devices/health",
        json={"device": "screen", "health": "degraded", "reason": "dim"},
        headers=display.headers,
    )
    assert r.status_code == 200, r.text
    snaps = server.hall.snapshots
    hot: Any = st.server.config.app
    while not isinstance(hot, HotPaths):  # under the client-address and security-header wrappers
        hot = hot.app
    assert server.http.get("/api/snapshot", headers=display.headers).status_code == 200  # caches the token
    builds, served = snaps.builds, hot.served
    first = server.http.get("/api/snapshot", headers=display.headers)
    again = server.http.get("/api/snapshot", headers=display.headers)
    assert first.content == again.content
    assert first.headers["content-type"] == "application/json"
    assert snaps.builds == builds  # the same seq: no new build
    assert hot.served == served + 2  # answered before the framework
    issued = server.issue(desk)
    assert issued.status_code == 201, issued.text
    ticket = issued.json()
    # Read-your-writes: the reply came after the event was published, so the snapshot shows it (held to
    # however the writer thread is scheduled by test_a_reply_never_overtakes_its_fan_out).
    after = server.http.get("/api/snapshot", headers=display.headers).json()
    assert after["seq"] == first.json()["seq"] + 1
    assert after["waiting"]["A"] == first.json()["waiting"].get("A", 0) + 1
    assert snaps.builds == builds + 1
    # Its `at` is never older than the cache's max age.
    server.clock.advance(snaps.max_age_s + 1)
    later = server.http.get("/api/snapshot", headers=display.headers).json()
    assert later["at"] > after["at"]
    assert snaps.builds == builds + 2

    async def stream_snapshot(query: str, headers: dict[str, str]) -> dict[str, Any]:
        async with connect(f"{server.ws_url}/events?{query}", additional_headers=headers) as ws:
            return await recv(ws)

    staff = asyncio.run(stream_snapshot("", auth(display)))
    assert staff["snapshot"] == later  # the HTTP body, shared
    assert snaps.builds == builds + 2
    public = asyncio.run(stream_snapshot(f"token={ticket['token']}", {}))
    assert public["snapshot"]["devices"] == []  # a phone never sees device health
    assert [d["device"] for d in staff["snapshot"]["devices"]] == ["screen"]
    assert snaps.builds == builds + 3  # the public audience has its own
    # A config reload moves no seq but may change what a snapshot shows: built again.
    r = server.http.post("/api/admin/reload", headers=server.manager())
    assert r.status_code == 200, r.text
    server.http.get("/api/snapshot", headers=display.headers)
    assert snaps.builds == builds + 4


Ts = TypeVarTuple("Ts")


class WriterStallsBeforeTheFanOut(asyncio.SelectorEventLoop):
    """A loop on which the writer thread loses its CPU just before it hands a commit's fan-out and replies to
    the loop (what a loaded machine does to it now and then): the window in which a reply could overtake its
    own events, were they handed over apart."""

    fan_out: Any = None

    def call_soon_threadsafe(
        self,
        callback: Callable[[*Ts], object],
        *args: *Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        if callback is self.fan_out or threading.current_thread().name == "hall-writer":
            time.sleep(0.05)
        return super().call_soon_threadsafe(callback, *args, context=context)


def test_a_reply_never_overtakes_its_fan_out(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    """Read-your-writes, made deterministic: whoever got a reply finds its events published on the loop (the
    cached snapshot and a stream resume go by the published seq). Replies set before the fan-out was queued
    let the snapshot test above fail now and then on a loaded machine; here the window is held open."""
    db = tmp_path / "hall.db"
    shutil.copy(seeded_db, db)
    store = Store(db, county, FakeClock(MONDAY_9), durability=Durability.NORMAL)
    published: list[int] = []

    def on_commit(records: list[EventRecord]) -> None:
        published.extend(r.seq for r in records)

    def report(ctx: WriteCtx) -> Reply:
        ctx.emit(DeviceHealth(ctx.now, "st-1", "printer", "degraded", "paper low"))
        return ok({})

    async def main() -> None:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, WriterStallsBeforeTheFanOut)
        loop.fan_out = store.on_commit = on_commit
        store.loop = loop
        await asyncio.to_thread(store.start)
        try:
            for _ in range(3):
                reply = await store.submit(Job(report))
                assert reply.status == 200
                assert published[-1:] == [store.seq], "a reply came before its events"
        finally:
            await asyncio.to_thread(store.stop)

    with asyncio.Runner(loop_factory=WriterStallsBeforeTheFanOut) as runner:
        runner.run(main())


def test_snapshot_refusals_come_from_the_app(srv: tuple[ServerThread, Running], county: HallConfig) -> None:
    _st, server = srv
    display = server.station("display")
    assert server.http.get("/api/snapshot", headers=display.headers).status_code == 200
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer nope"}, 401),
        ({"Authorization": f"Basic {display.token}"}, 401),
    ):
        r = server.http.get("/api/snapshot", headers=headers)
        assert r.status_code == status
        assert r.json()["error"] == "unauthorized"
    r = server.http.post(f"/api/stations/{display.id}/revoke", headers=server.manager())
    assert r.status_code == 200, r.text
    assert server.http.get("/api/snapshot", headers=display.headers).status_code == 401
    assert county.hall.id == server.config.hall.id


# ---- TLS: the stream behind the API's own certificate ------------------------------------------------------


def self_signed(tmp: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """A certificate for 127.0.0.1 (what a hall's pinned certificate is to its stations)."""
    cert, key = tmp / "hall.crt", tmp / "hall.key"
    args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"]
    args += ["-subj", "/CN=hallq test hall", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        ["openssl", *args, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def test_the_stream_is_served_over_tls_with_the_apis_certificate(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    cert, key = self_signed(tmp_path)
    db = tmp_path / "hall.db"
    shutil.copy(seeded_db, db)
    app = create_app(county, db, FakeClock(MONDAY_9), Settings(heartbeat_s=0.5, tick_s=3600, freeze_gc=False))
    sock = bind("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn_config(app, "127.0.0.1", port, ssl_certfile=str(cert), ssl_keyfile=str(key))
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 20, "the TLS server")
        pinned = ssl.create_default_context(cafile=str(cert))  # trusts this certificate and nothing else
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=pinned, timeout=10) as http:
            running = Running(
                http.base_url.__str__(), port, app.state.hall, FakeClock(MONDAY_9), db, county, http
            )
            display = running.station("display")
            desk = running.station("desk")

            async def main() -> None:
                url = f"wss://127.0.0.1:{port}/events"
                async with connect(url, additional_headers=auth(display), ssl=pinned) as ws:
                    snap = await recv(ws)
                    assert snap["kind"] == "snapshot"
                    r = await asyncio.to_thread(running.issue, desk)
                    assert r.status_code == 201
                    ev = await next_event(ws)
                    assert ev["kind"] == "ticket_issued"
                    assert ev["seq"] == snap["seq"] + 1
                with pytest.raises(ssl.SSLError):  # a station that does not hold the certificate is refused
                    async with connect(
                        url, additional_headers=auth(display), ssl=ssl.create_default_context()
                    ):
                        pass

            asyncio.run(main())
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
