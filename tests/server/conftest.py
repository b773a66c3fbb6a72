"""A real hall server on 127.0.0.1:0 with a real SQLite file in tmp_path, and helpers to enroll stations.

The server runs uvicorn in a thread with its own event loop; tests talk to it over HTTP and WebSocket like
any station would. Hall time is a `FakeClock` at Monday 2026-11-23 09:00 in Shanghai (the hall is open).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from hallcore.clock import FakeClock
from hallcore.config import Durability, HallConfig
from hallfiles.config import read_config
from hallserver import admin
from hallserver.app import create_app
from hallserver.service import HallServer, Settings
from tests.fakes.live_server import (
    COUNTY,
    MANAGER,
    MONDAY_9,
    PIN,
    LiveServer,
    ManagerLogin,
    Station,
    UvicornThread,
    live_server,
)
from tests.fakes.partner import FakePartner, fake_partner
from tests.server.web_helpers import http_login, module_browser

#: A headless Chromium for each browser test module, as the fixture `browser` (tests/server/web_helpers.py:
#: per module, not per session, since the tier has asyncio tests).
__all__ = ["module_browser"]

#: The live server's uvicorn thread (tests/fakes/live_server.py), under the name these tests know.
ServerThread = UvicornThread

#: A county matter without pre-check questions that a desk can issue for directly.
MATTER = "HJ01"


async def recv(ws: ClientConnection, timeout: float = 20.0) -> dict[str, Any]:
    """The next message of a stream (`timeout`: a hang guard)."""
    msg: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return msg


async def next_event(ws: ClientConnection, timeout: float = 20.0) -> dict[str, Any]:
    """The next message that is not a heartbeat (one may come between any two events)."""
    msg = await recv(ws, timeout)
    while msg["kind"] == "heartbeat":
        msg = await recv(ws, timeout)
    return msg


def rid() -> str:
    return uuid.uuid4().hex


@dataclass
class Running(ManagerLogin):
    url: str
    port: int
    hall: HallServer
    clock: FakeClock
    db: pathlib.Path
    config: HallConfig
    http: httpx.Client
    manager_token: str = ""
    stations: list[Station] = field(default_factory=list)
    app: Any = None  # the FastAPI app (`app.state.streams`: the stream path)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def manager(self) -> dict[str, str]:
        return self.manager_headers()

    def station(
        self, role: str, name: str = "", window: int | None = None, staff: str = "", *, login: bool = True
    ) -> Station:
        """Enroll, approve (for `window`, if any) and collect the token of a new station; with a window, log
        its clerk in (`staff`, else "c<window>") unless `login` is False."""
        r = self.http.post("/api/enroll", json={"name": name or f"{role}-{len(self.stations)}", "role": role})
        assert r.status_code == 201, r.text
        e = r.json()
        approve = {} if window is None else {"window": window}
        r = self.http.post(f"/api/stations/{e['station_id']}/approve", json=approve, headers=self.manager())
        assert r.status_code == 200, r.text
        r = self.http.get(f"/api/enroll/{e['station_id']}", params={"poll_secret": e["poll_secret"]})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "approved", r.text
        st = Station(e["station_id"], role, r.json()["token"])
        if window is not None and login:
            r = self.http.post(
                "/api/counter/login",
                json={"staff": staff or f"c{window}", "pin": PIN, "window": window},
                headers=st.headers,
            )
            assert r.status_code == 200, r.text
            st.window = window
        self.stations.append(st)
        return st

    def act(self, st: Station, action: str, **body: Any) -> httpx.Response:
        assert st.window is not None
        return self.http.post(
            f"/api/windows/{st.window}/{action}", json={"request_id": rid(), **body}, headers=st.headers
        )

    def issue(self, st: Station, matter: str = MATTER, **body: Any) -> httpx.Response:
        return self.http.post(
            "/api/tickets", json={"request_id": rid(), "matter": matter, **body}, headers=st.headers
        )

    def book(self, day: str, slot: str, id_number: str, matter: str = "SW03", **more: Any) -> httpx.Response:
        """Book a slot as a citizen on the phone page does (no token; `more`: name, phone)."""
        body = {"request_id": rid(), "matter": matter, "day": day, "slot": slot, "id_number": id_number}
        return self.http.post("/api/bookings", json={**body, **more})

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query on the hall's database file (read beside the running server: WAL)."""
        import sqlite3

        conn = sqlite3.connect(str(self.db))
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def count(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        import sqlite3

        conn = sqlite3.connect(str(self.db))
        try:
            return int(conn.execute(sql, params).fetchone()[0])
        finally:
            conn.close()


def make_clerks(db: pathlib.Path, windows: range | list[int]) -> None:
    for w in windows:
        admin.add_clerk(db, f"c{w}", f"窗口{w}", PIN)


@pytest.fixture(scope="session")
def county() -> HallConfig:
    return read_config(COUNTY)


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A database with the manager and clerks c1..c8 (argon2 is slow: hash once, copy per test)."""
    db = tmp_path_factory.mktemp("seed") / "hall.db"
    admin.create_manager(db, *MANAGER)
    make_clerks(db, range(1, 9))
    return db


@contextlib.contextmanager
def start_server(
    tmp_path: pathlib.Path,
    config: HallConfig | pathlib.Path,
    seeded: pathlib.Path,
    settings: Settings | None = None,
    clock: FakeClock | None = None,
    db: pathlib.Path | None = None,
    sndbuf: int | None = None,
) -> Iterator[tuple[ServerThread, Running]]:
    """A server on 127.0.0.1:0 over a copy of the seeded database (or `db`), stopped when the block ends."""
    import shutil

    if db is None:
        db = tmp_path / "hall.db"
        shutil.copy(seeded, db)
    clock = clock or FakeClock(MONDAY_9)
    # `normal` durability: the same code paths, without this disk's fsync stalls in every test's timing
    # (test_faults.py runs `full`, and kill -9 loses nothing in either mode).
    settings = settings or Settings(
        heartbeat_s=0.5, tick_s=3600, freeze_gc=False, durability=Durability.NORMAL
    )
    app = create_app(config, db, clock, settings)
    st = ServerThread(app, sndbuf=sndbuf)
    st.start()
    url = f"http://127.0.0.1:{st.port}"
    running = Running(
        url,
        st.port,
        app.state.hall,
        clock,
        db,
        app.state.hall.config,
        httpx.Client(base_url=url, timeout=30),  # a hang guard, generous for a loaded machine
        app=app,
    )
    try:
        yield st, running
    finally:
        running.http.close()
        st.stop()


@pytest.fixture
def server(tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path) -> Iterator[Running]:
    with start_server(tmp_path, county, seeded_db) as (_st, running):
        yield running


@pytest.fixture
def hall() -> Iterator[LiveServer]:
    """The county hall (`tests.fakes.live_server`) that the page tests drive, with its stations; a module that
    needs another hall defines its own `hall`."""
    with live_server() as h:
        yield h


@pytest.fixture
def c(hall: LiveServer) -> Iterator[httpx.Client]:
    """A client of `hall` logged in as the manager (the session cookie), as the web pages' tests use it."""
    client = http_login(hall.url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A phone-sized page (360 × 740) of the module's Chromium, for the phone page's tests (a module with
    pages of its own defines its own `page`)."""
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


@pytest.fixture
def partner() -> Iterator[FakePartner]:
    """A booking partner (一网通办) on 127.0.0.1 whose clock is the hall's Monday 9:00."""
    with fake_partner(lambda: MONDAY_9) as p:
        yield p
