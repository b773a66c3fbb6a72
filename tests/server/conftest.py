"""A real hall server on 127.0.0.1:0 with a real SQLite file in tmp_path, and helpers to enroll stations.

The server runs uvicorn in a thread with its own event loop; tests talk to it over HTTP and WebSocket like
any station would. Hall time is a `FakeClock` at Monday 2026-11-23 09:00 in Shanghai (the hall is open).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn

from hallcore.clock import FakeClock
from hallcore.config import Durability, HallConfig
from hallserver import admin
from hallserver.app import bind, create_app, restore_listen_backlog, uvicorn_config
from hallserver.configfile import read_config
from hallserver.evloop import new_event_loop
from hallserver.service import HallServer, Settings

ROOT = pathlib.Path(__file__).resolve().parents[2]
COUNTY = ROOT / "config" / "county.toml"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MONDAY_9 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
MANAGER = ("boss", "correct horse battery")
PIN = "246810"
#: A county matter without pre-check questions that a desk can issue for directly.
MATTER = "HJ01"


def wait_for(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Wait until `cond()` holds, polling; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def rid() -> str:
    return uuid.uuid4().hex


@dataclass
class Station:
    id: str
    role: str
    token: str
    window: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Running:
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
        if not self.manager_token:
            r = self.http.post("/api/manager/login", json={"username": MANAGER[0], "password": MANAGER[1]})
            assert r.status_code == 200, r.text
            self.manager_token = r.json()["token"]
        return {"Authorization": f"Bearer {self.manager_token}"}

    def station(self, role: str, name: str = "", window: int | None = None, staff: str = "") -> Station:
        """Enroll, approve and collect the token of a new station; log a clerk in for counters."""
        r = self.http.post("/api/enroll", json={"name": name or f"{role}-{len(self.stations)}", "role": role})
        assert r.status_code == 201, r.text
        e = r.json()
        r = self.http.post(f"/api/stations/{e['station_id']}/approve", json={}, headers=self.manager())
        assert r.status_code == 200, r.text
        r = self.http.get(f"/api/enroll/{e['station_id']}", params={"poll_secret": e["poll_secret"]})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "approved", r.text
        st = Station(e["station_id"], role, r.json()["token"])
        if window is not None:
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

    def count(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        import sqlite3

        conn = sqlite3.connect(str(self.db))
        try:
            return int(conn.execute(sql, params).fetchone()[0])
        finally:
            conn.close()


class ServerThread:
    def __init__(self, app: Any, sndbuf: int | None = None) -> None:
        self.sock = bind("127.0.0.1", 0)
        if sndbuf is not None:
            # Accepted sockets inherit the listener's send buffer: a small one makes a stuck client's
            # backlog reach the server's own buffers after a few hundred events instead of megabytes.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.port = int(self.sock.getsockname()[1])
        self.server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", self.port))
        self.thread = threading.Thread(target=self._run, name="test-uvicorn", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            # The loop `hallq server` runs (hallserver/evloop.py), so tests see the same scheduling.
            with asyncio.Runner(loop_factory=new_event_loop) as runner:
                runner.run(self.server.serve(sockets=[self.sock]))
        except BaseException as exc:
            self.error = exc

    def start(self) -> None:
        self.thread.start()
        wait_for(lambda: self.server.started or not self.thread.is_alive(), 20, "server start")
        if self.error is not None or not self.server.started:
            self.thread.join()
            self.sock.close()
            raise RuntimeError("the server did not start (see captured stderr)") from self.error
        restore_listen_backlog(self.sock)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()
        assert not self.thread.is_alive(), "server thread did not stop"


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


def start_server(
    tmp_path: pathlib.Path,
    config: HallConfig | pathlib.Path,
    seeded: pathlib.Path,
    settings: Settings | None = None,
    clock: FakeClock | None = None,
    db: pathlib.Path | None = None,
    sndbuf: int | None = None,
) -> tuple[ServerThread, Running]:
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
    st = ServerThread(app, sndbuf)
    st.start()
    url = f"http://127.0.0.1:{st.port}"
    running = Running(
        url, st.port, app.state.hall, clock, db, app.state.hall.config, httpx.Client(base_url=url), app=app
    )
    return st, running


@pytest.fixture
def server(tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path) -> Iterator[Running]:
    st, running = start_server(tmp_path, county, seeded_db)
    try:
        yield running
    finally:
        running.http.close()
        st.stop()
