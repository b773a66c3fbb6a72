"""A real hall server for app tests: `hallserver.create_app` on 127.0.0.1 (port 0), a temp SQLite file, the
county config (or one given), a manager, and approved stations with their tokens.

    with live_server(tmp_path) as hall:
        api = HttpHall(hall.url, hall.kiosk.token)
        ...
        hall.count("SELECT COUNT(*) FROM tickets WHERE state = 'voided'")

What you get (`LiveServer`): `url`, `ws_url`, `clock` (a `FakeClock` the server uses: Monday 2026-11-23 09:00
in Shanghai, the hall is open), `config`, `db`, `hall` (the `HallServer`, for assertions), `manager_token`,
and the stations `kiosk` (role kiosk), `counter` (role counter, approved for window `counter_window`; the
clerk `staff`/`pin` is *not* logged in — `login_counter()` does it, or the counter app does), `display`.
`station(role, …)` enrolls more; `stop()` and `start()` take the server down and bring it back on the same
port and database (for "server unreachable" tests); everything is shut down when the block ends.

`live_server(tls=True)` serves HTTPS with the per-session test CA (`test_tls()`: one hall CA and a server
certificate for 127.0.0.1, made once per test process), or `tls=TlsFiles(...)` with a test's own directory:
then `url` is https://, `ws_url` wss://, `pin` the hall CA a station pins and `ssl` its context (pass it as
`HttpHall(..., verify=live.ssl)`: the pinned certificate, as the stations use it). `live.http` verifies the
same way.

The server runs uvicorn in a thread with its own event loop, so it works from sync tests and from tests
that run their own (qasync) loop. Housekeeping (`tick_s`: voiding unconfirmed prints, expiry) and
heartbeats run fast by default so tests need not wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import pathlib
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from ssl import SSLContext
from typing import Any

import httpx
import uvicorn

from hallclient.trust import Pin
from hallcore.clock import FakeClock
from hallcore.config import HallConfig, Matter, Tls
from hallcore.events import Event, decode_event
from hallfiles.config import read_config
from hallq.serverproc import start_server as start_server_process
from hallserver import admin
from hallserver.app import bind, create_app, restore_listen_backlog, uvicorn_config
from hallserver.auth import hash_secret
from hallserver.evloop import new_event_loop
from hallserver.limits import LIMITS, WRITE, Bucket, Limit
from hallserver.service import HallServer, Settings
from hallserver.tls import TlsFiles
from tests.fakes import halls

ROOT = pathlib.Path(__file__).resolve().parents[2]
COUNTY = ROOT / "config" / "county.toml"
#: The tests' hall instant, a Monday at 09:00 hall time (the county hall open, taking walk-ins): one home,
#: tests/fakes/halls.py; the tests that start a server take it from here.
MONDAY_9 = halls.MONDAY_9
MANAGER = ("boss", "correct horse battery")
PIN = "246810"

#: The test servers' settings: heartbeats and housekeeping fast enough that tests need not wait.
TEST_SETTINGS = Settings(heartbeat_s=0.5, tick_s=0.2, freeze_gc=False)


def enrolling_many(settings: Settings = TEST_SETTINGS, stations: int = 40) -> Settings:
    """Settings for a test that enrolls more stations than one address may: `/api/enroll` spends the public
    write budget (burst 20 per address, hallserver/limits.py). In a hall every PC enrolls from its own
    address; here all of them are 127.0.0.1 and the budget refills on the fake clock only, so the 21st
    enrollment is refused. The budget itself is tested in tests/security."""
    write = LIMITS[WRITE]
    limits = {**LIMITS, WRITE: Limit(Bucket(write.per_address.rate_s, stations), write.total)}
    return dataclasses.replace(settings, public_limits=limits)


#: Clerks c1..c8 exist in every live server's database (staff code "c<window>", PIN `PIN`).
CLERK_WINDOWS = range(1, 9)

#: What most tests bring for an HJ01 walk-in (the county's 户口迁入): passes its pre-check.
HJ01_PASSES: dict[str, Any] = {"answers": {"in_person": True}, "present": ["idcard", "hukou", "move_permit"]}


def passing(m: Matter) -> dict[str, Any]:
    """A ticket request for `m` that passes its pre-check: every answer as expected, every material."""
    return {
        "matter": m.code,
        "answers": {q.id: q.expected for q in m.precheck.questions},
        "present": [x.id for x in m.precheck.materials],
    }


_seed_lock = threading.Lock()
_seed: dict[str, pathlib.Path] = {}
_tls: dict[str, TlsFiles] = {}


def make_tls(
    folder: pathlib.Path, names: tuple[str, ...] = ("localhost",), addresses: tuple[str, ...] = ("127.0.0.1",)
) -> TlsFiles:
    """A hall CA and a server certificate for `names` and `addresses` in `folder` (`hallq admin tls init`)."""
    from hallserver import tls

    config = dataclasses.replace(read_config(COUNTY), tls=Tls(names=names, addresses=addresses))
    files = TlsFiles(folder)
    tls.init(files, config, dt.datetime.now(dt.UTC))
    return files


def test_tls() -> TlsFiles:
    """The per-session test CA and server certificate (127.0.0.1, localhost), made once per test process."""
    with _seed_lock:
        files = _tls.get("dir")
        if files is None or not files.cert.exists():
            files = make_tls(pathlib.Path(tempfile.mkdtemp(prefix="hallq-tls-")) / "tls")
            _tls["dir"] = files
        return files


test_tls.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def wait_for(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll `cond()` until it holds (for sync code outside Qt); fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def seeded_db() -> pathlib.Path:
    """A database with the manager and clerks c1..c8, made once per test process (argon2 is slow)."""
    with _seed_lock:
        path = _seed.get("db")
        if path is None or not path.exists():
            path = pathlib.Path(tempfile.mkdtemp(prefix="hallq-seed-")) / "hall.db"
            admin.create_manager(path, *MANAGER)
            for w in CLERK_WINDOWS:
                admin.add_clerk(path, f"c{w}", f"窗口{w}", PIN)
            _seed["db"] = path
        return path


def with_kiosk(config: HallConfig, **kiosk: Any) -> HallConfig:
    """`config` with some `[kiosk]` settings changed, e.g. `with_kiosk(cfg, print_confirm_timeout_s=2)`."""
    return dataclasses.replace(config, kiosk=dataclasses.replace(config.kiosk, **kiosk))


@dataclass
class Station:
    id: str
    role: str
    token: str
    window: int | None = None
    staff: str = ""
    pin: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class UvicornThread:
    """uvicorn in a thread with its own loop, on a socket bound before start (so port 0 is known). `sndbuf`:
    the listener's send buffer, which accepted sockets inherit (a small one makes a stuck client's backlog
    reach the server's own buffers after a few hundred events instead of megabytes)."""

    def __init__(
        self, app: Any, port: int = 0, sndbuf: int | None = None, tls: TlsFiles | None = None
    ) -> None:
        self.sock = bind("127.0.0.1", port)
        if sndbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.port = int(self.sock.getsockname()[1])
        certs = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)} if tls is not None else {}
        self.server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", self.port, **certs))
        self.thread = threading.Thread(target=self._run, name="test-hall-server", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            # The loop `hallq server` runs (hallserver/evloop.py), so tests see the same scheduling.
            with asyncio.Runner(loop_factory=new_event_loop) as runner:
                runner.run(self._serve())
        except BaseException as exc:
            self.error = exc

    async def _serve(self) -> None:
        await self.server.serve(sockets=[self.sock])
        # Over TLS a connection ends only once its peer answers the server's close_notify; an idle client
        # whose loop is not running then (a sync client, a test's loop blocked in `stop()`) never does, and
        # uvicorn stops waiting after its graceful-shutdown timeout with the socket still open. Abort what is
        # left, as the process's exit does for `hallq server`, so no socket is left to the garbage collector.
        loop = asyncio.get_running_loop()
        left: dict[int, asyncio.BaseTransport] = getattr(loop, "_transports", {})
        for transport in list(left.values()):
            if isinstance(transport, asyncio.Transport):
                transport.abort()
        await asyncio.sleep(0)  # the aborts close their sockets in the next turn
        await asyncio.sleep(0)

    def start(self) -> None:
        self.thread.start()
        wait_for(lambda: self.server.started or not self.thread.is_alive(), 20, "hall server start")
        if self.error is not None or not self.server.started:
            self.thread.join()
            self.sock.close()
            raise RuntimeError("the hall server did not start (see captured stderr)") from self.error
        restore_listen_backlog(self.sock)  # as `hallq server` does once uvicorn listens

    def stop(self, wait: Callable[[Callable[[], bool]], None] | None = None) -> None:
        """Stop serving. `wait(done)`, when given, waits for the server's thread while the caller's own loop
        keeps running (a GUI test's qasync loop lives on the thread that calls this), as a real station's loop
        runs on while its server goes down: its clients can answer the close handshake and TLS close_notify.
        Blocked in `join` they could not; in one CI run that shutdown hit uvicorn's graceful timeout, the
        transports left were aborted, and one socket still reached the garbage collector (ResourceWarning)."""
        self.server.should_exit = True
        if wait is not None:
            wait(lambda: not self.thread.is_alive())
        self.thread.join(timeout=30)
        self.sock.close()
        if self.thread.is_alive():
            raise RuntimeError("the hall server thread did not stop")


def set_old_pin(db: pathlib.Path, staff: str, pin: str) -> None:
    """Give `staff` a PIN from before the 6-digit rule, as an older hall's database holds it (written past the
    server, which refuses such a PIN now)."""
    conn = sqlite3.connect(str(db))
    try:
        with conn:
            conn.execute("UPDATE staff SET pin_hash = ? WHERE code = ?", (hash_secret(pin), staff))
    finally:
        conn.close()


class ManagerLogin:
    """The hall's manager (`MANAGER`), logged in at the first request that needs it, for a test's server."""

    http: httpx.Client
    manager_token: str

    def manager_headers(self) -> dict[str, str]:
        if not self.manager_token:
            r = self.http.post("/api/manager/login", json={"username": MANAGER[0], "password": MANAGER[1]})
            assert r.status_code == 200, r.text
            self.manager_token = r.json()["token"]
        return {"Authorization": f"Bearer {self.manager_token}"}


@dataclass
class LiveServer(ManagerLogin):
    config: HallConfig
    db: pathlib.Path
    clock: FakeClock
    settings: Settings
    port: int = 0
    tls: TlsFiles | None = None
    http: httpx.Client = field(init=False)
    manager_token: str = ""
    kiosk: Station = field(init=False)
    counter: Station = field(init=False)
    display: Station = field(init=False)
    stations: list[Station] = field(default_factory=list)
    _server: UvicornThread | None = None
    _app: Any = None

    # ---- lifecycle --------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}"

    @property
    def pin(self) -> Pin | None:
        """The hall CA a station pins (None on plain HTTP)."""
        return Pin.of(self.tls.ca_pem()) if self.tls is not None else None

    @property
    def ssl(self) -> SSLContext | None:
        """The pinned hall CA's context for clients (None on plain HTTP)."""
        pin = self.pin
        return pin.context() if pin is not None else None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def hall(self) -> HallServer:
        """The server object of the current run (store, engine, hub) for assertions."""
        assert self._app is not None, "the server is stopped"
        hall: HallServer = self._app.state.hall
        return hall

    def start(self) -> None:
        """Start (or restart after `stop()`) on the same port and database."""
        if self._server is not None:
            return
        if getattr(self, "http", None) is not None and self.http.is_closed:
            self.http = httpx.Client(base_url=self.url, timeout=10, verify=self.ssl or True)
        settings = self.settings
        if self.tls is not None:
            settings = dataclasses.replace(settings, tls_ca_pem=self.tls.ca_pem())
        self._app = create_app(self.config, self.db, self.clock, settings)
        server = UvicornThread(self._app, self.port, tls=self.tls)
        server.start()
        self._server, self.port = server, server.port

    def stop(self, wait: Callable[[Callable[[], bool]], None] | None = None) -> None:
        """Take the server down (connections refused) until `start()`. A test whose clients run on its own
        thread's loop passes `wait` (e.g. a GUI rig's `until`): see `UvicornThread.stop`."""
        if self._server is not None:
            server, self._server = self._server, None
            # The test's own client first: over TLS its idle keep-alive connection would hold the server's
            # shutdown for the graceful timeout (it never answers close_notify); `start()` makes a new one.
            if getattr(self, "http", None) is not None:
                self.http.close()
            server.stop(wait)

    # ---- people and stations ----------------------------------------------------------------------------

    def enroll(self, role: str, name: str = "") -> dict[str, str]:
        """Start an enrollment as a station would; returns `{station_id, code, poll_secret}`."""
        r = self.http.post("/api/enroll", json={"name": name or f"{role}-{len(self.stations)}", "role": role})
        assert r.status_code == 201, r.text
        out: dict[str, str] = r.json()
        return out

    def approve(self, station_id: str, window: int | None = None) -> None:
        body = {"window": window} if window is not None else {}
        r = self.http.post(f"/api/stations/{station_id}/approve", json=body, headers=self.manager_headers())
        assert r.status_code == 200, r.text

    def approve_code(self, code: str, window: int | None = None) -> str:
        """Approve the pending station showing `code` (what the manager does on the dashboard)."""
        r = self.http.get("/api/stations", headers=self.manager_headers())
        assert r.status_code == 200, r.text
        for s in r.json():
            if s.get("code") == code and s.get("state") == "pending":
                self.approve(s["station_id"], window)
                return str(s["station_id"])
        raise AssertionError(f"no pending station shows code {code!r}")

    def station(self, role: str, name: str = "", window: int | None = None) -> Station:
        """Enroll, approve and collect the token of a new station (counters: bound to `window`)."""
        e = self.enroll(role, name)
        self.approve(e["station_id"], window)
        r = self.http.get(f"/api/enroll/{e['station_id']}", params={"poll_secret": e["poll_secret"]})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "approved", r.text
        st = Station(e["station_id"], role, r.json()["token"], window)
        if window is not None and window in CLERK_WINDOWS:
            st.staff, st.pin = f"c{window}", PIN
        self.stations.append(st)
        return st

    def login_counter(self, st: Station | None = None) -> None:
        """Log the window's clerk in on a counter station (the counter app normally does this)."""
        st = st or self.counter
        assert st.window is not None
        r = self.http.post(
            "/api/counter/login",
            json={"staff": st.staff, "pin": st.pin, "window": st.window},
            headers=st.headers,
        )
        assert r.status_code == 200, r.text

    # ---- shortcuts for test set-up -------------------------------------------------------------------------

    def post(self, st: Station, path: str, **body: Any) -> httpx.Response:
        """POST with a fresh request id as station `st`."""
        return self.http.post(path, json={"request_id": uuid.uuid4().hex, **body}, headers=st.headers)

    def act(self, st: Station, action: str, **body: Any) -> httpx.Response:
        """A window action (`open`, `call-next`, …) on the station's window."""
        assert st.window is not None
        return self.post(st, f"/api/windows/{st.window}/{action}", **body)

    def book(self, matter: str, day: dt.date, slot: dt.time, id_number: str = "110101199003070011") -> str:
        """Book a slot as a citizen on the phone page would; returns the booking code."""
        r = self.http.post(
            "/api/bookings",
            json={
                "request_id": uuid.uuid4().hex,
                "matter": matter,
                "day": day.isoformat(),
                "slot": slot.strftime("%H:%M"),
                "id_number": id_number,
            },
        )
        assert r.status_code == 201, r.text
        return str(r.json()["code"])

    # ---- the database ------------------------------------------------------------------------------------

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the server's SQLite file directly (a separate read connection; WAL)."""
        conn = sqlite3.connect(str(self.db))
        try:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def count(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return int(self.query(sql, params)[0][0])

    def event_log(self, after: int = 0) -> list[tuple[int, Event]]:
        """The hall's numbered events after seq `after`, as stored (what every subscriber got)."""
        rows = self.query("SELECT seq, body FROM events WHERE seq > ? ORDER BY seq", (after,))
        return [(int(seq), decode_event(body)[0]) for seq, body in rows]

    def last_seq(self) -> int:
        return self.count("SELECT COALESCE(MAX(seq), 0) FROM events")

    def ticket_state(self, label: str) -> str | None:
        """The state of today's ticket `label` ("A001") in the database, or None."""
        rows = self.query("SELECT state FROM tickets WHERE label = ? ORDER BY id DESC LIMIT 1", (label,))
        return str(rows[0][0]) if rows else None


@contextlib.contextmanager
def live_server(
    tmp_path: pathlib.Path | None = None,
    config: HallConfig | pathlib.Path | None = None,
    *,
    clock: FakeClock | None = None,
    settings: Settings | None = None,
    counter_window: int = 1,
    stations: bool = True,
    tls: bool | TlsFiles = False,
) -> Iterator[LiveServer]:
    """A running hall server with a manager and (unless `stations=False`) a kiosk, a counter for
    `counter_window` and a display; over HTTPS with `tls` (True: the per-session test CA). Stopped and
    cleaned up on exit."""
    cleanup: pathlib.Path | None = None
    if tmp_path is None:
        tmp_path = cleanup = pathlib.Path(tempfile.mkdtemp(prefix="hallq-live-"))
    if config is None:
        config = COUNTY
    cfg = config if isinstance(config, HallConfig) else read_config(pathlib.Path(config))
    db = tmp_path / f"hall-{uuid.uuid4().hex[:8]}.db"
    shutil.copy(seeded_db(), db)
    live = LiveServer(
        cfg,
        db,
        clock or FakeClock(MONDAY_9),
        settings or TEST_SETTINGS,
        tls=test_tls() if tls is True else (tls or None),
    )
    live.start()
    live.http = httpx.Client(base_url=live.url, timeout=10, verify=live.ssl or True)
    try:
        if stations:
            live.kiosk = live.station("kiosk", "kiosk-test")
            live.counter = live.station("counter", f"counter-{counter_window}", window=counter_window)
            live.display = live.station("display", "display-test")
        yield live
    finally:
        live.http.close()
        live.stop()
        if cleanup is not None:
            shutil.rmtree(cleanup, ignore_errors=True)


@contextlib.contextmanager
def server_process(cmd: list[str], log: pathlib.Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `python -m hallserver` process (`hallq.serverproc`) for the length of the block, listening when it
    starts; ended with SIGTERM after it (unless `kill9` ended it), its pipe closed whatever happened."""
    popen, _url = start_server_process(cmd, log, 45, cwd=ROOT)
    try:
        yield popen
    finally:
        if popen.poll() is None:
            popen.terminate()
        popen.wait(30)
        assert popen.stdout is not None
        popen.stdout.close()


def kill9(popen: subprocess.Popen[bytes]) -> None:
    """`kill -9`: the process dies where it stands (nothing of it runs after)."""
    os.kill(popen.pid, signal.SIGKILL)
    popen.wait(30)
