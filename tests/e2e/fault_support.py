"""The fault suite's rig: a real `hallq server` subprocess on a fixed loopback port, the apps as subprocesses
(offscreen Qt), emulated printer and HQP/1 buses, a TCP proxy whose link a test can cut, an event-stream
watcher, and readers of the server's SQLite file.

The hall is the county config with round-the-clock hours in a zone where it is midday now
(`hallq.demohall.rewrite_config`: the apps' own clocks see it open whenever the suite runs), with the device
URLs of the stations under test pointed at this test's emulators. Clerks have numeric staff codes (`1000 +
window`) because keypads only have digits.

Everything started here is stopped by `Rig.close()` (tests use the rig as a context manager, so also on
failure): app process groups get SIGTERM then SIGKILL, the server is killed, and what was registered with
`on_close` (watchers, load threads) is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import pathlib
import re
import selectors
import shutil
import signal
import socket
import sqlite3
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from hallclient.enroll import save_pin, save_token
from hallclient.stream import EventStream
from hallclient.trust import Pin
from hallclient.types import EventItem, Snapshot
from hallcore.clock import SystemClock
from hallq.demohall import rewrite_config
from hallq.serverproc import start_server as start_server_process
from hallserver import admin
from tests.e2e.support import midday_timezone
from tests.fakes.live_server import MANAGER, Station, test_tls
from tests.fakes.processes import reap
from tests.server.test_faults import Ledger

ROOT = pathlib.Path(__file__).resolve().parents[2]
COUNTY = ROOT / "config" / "county.toml"
CLERK_PIN = "246810"
#: A county matter without pre-check questions (series A, windows 1-4): desks issue it directly.
MATTER = "HJ01"
#: Addresses on the emulated buses (the county config's own for counter-01; 200 for the hall board).
LED_1, KEYPAD_1, PAD_1 = 1, 61, 121
HALL_BOARD = 200

_seed_lock = threading.Lock()
_seed: list[pathlib.Path] = []


def clerk_code(window: int) -> str:
    return f"{1000 + window}"


def rid() -> str:
    return uuid.uuid4().hex


def wait_for(
    cond: Callable[[], bool], timeout: float = 15.0, what: str = "condition", step: float = 0.02
) -> None:
    """Poll `cond()` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seeded_db() -> pathlib.Path:
    """A database with the test manager and clerks 1001..1023 (PIN 2468), made once per process (argon2)."""
    with _seed_lock:
        if not _seed or not _seed[0].exists():
            path = pathlib.Path(tempfile.mkdtemp(prefix="hallq-fault-seed-")) / "hall.db"
            admin.create_manager(path, *MANAGER)
            for w in (1, 2, 3, 5):
                admin.add_clerk(path, clerk_code(w), f"{w}号窗口工作人员", CLERK_PIN)
            _seed[:] = [path]
        return _seed[0]


# ---- the config --------------------------------------------------------------------------------------------


def set_device_url(text: str, station: str, device: str, url: str) -> str:
    """Point `[stations.<device>]` of station `station` at `url` (the file edited line by line)."""
    out, current, section, done = [], "", "", False
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip()
            if section == "[[stations]]":
                current = ""
        m = re.match(r'^id = "([^"]+)"', line)
        if m and section == "[[stations]]":
            current = m.group(1)
        if current == station and section == f"[stations.{device}]" and line.startswith("url = "):
            out.append(f'url = "{url}"')
            done = True
        else:
            out.append(line)
    assert done, f"no [stations.{device}] url for {station}"
    return "\n".join(out) + "\n"


def hall_config(edit: Callable[[str], str] = lambda t: t) -> str:
    """The county config open round the clock in a zone where it is midday now (so no test meets the
    hall's midnight), then `edit`ed (device URLs of this test)."""
    zone = midday_timezone(dt.datetime.now(dt.UTC))
    return edit(rewrite_config(COUNTY.read_text(encoding="utf-8"), {}, "http://127.0.0.1:8700", zone))


def hall_tls() -> ssl.SSLContext:
    """What every client of these halls verifies with: the per-session test CA the servers serve
    (`--tls-dir`), pinned as the stations pin it."""
    return Pin.of(test_tls().ca_pem()).context()


def verify_for(url: str) -> ssl.SSLContext | bool:
    """The pinned test CA for an https:// hall; plain HTTP needs none."""
    return hall_tls() if url.startswith("https:") else True


# ---- processes ---------------------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", QT_API="pyside6", QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


@dataclass
class ServerProc:
    """`hallq server` on a fixed port: restarts come back where the apps look for it."""

    config: pathlib.Path
    db: pathlib.Path
    port: int
    log: pathlib.Path
    popen: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)  # seconds from spawn to the start-up line
    tls: bool = True  # HTTPS with the per-session test CA, as a hall runs

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 45.0) -> float:
        cmd = [
            sys.executable, "-m", "hallq.cli", "server", "--config", str(self.config), "--db", str(self.db),
            "--host", "127.0.0.1", "--port", str(self.port), "--no-mdns",
            *(("--tls-dir", str(test_tls().dir)) if self.tls else ()),
            "--heartbeat-s", "1", "--tick-s", "1",
        ]  # fmt: skip
        t0 = time.monotonic()
        self.popen, _url = start_server_process(cmd, self.log, timeout, cwd=ROOT, env=_env())
        took = time.monotonic() - t0
        self.starts.append(took)
        return took

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        p, self.popen = self.popen, None
        if p is not None:
            reap(p)

    def signal(self, sig: int) -> None:
        assert self.popen is not None
        self.popen.send_signal(sig)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


@dataclass
class AppProc:
    """One app (`hallq kiosk|counter|display …`) in its own process group, logging to a file."""

    name: str
    args: list[str]
    log: pathlib.Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> AppProc:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "hallq.cli", *self.args],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=_env(),
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        p, self.popen = self.popen, None
        if p is None:
            return
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.text()))

    def wait_log(self, pattern: str, timeout: float = 30.0, *, count: int = 1) -> None:
        def seen() -> bool:
            if not self.alive():
                raise AssertionError(
                    f"{self.name} exited ({self.popen and self.popen.returncode}):\n{self.text()[-3000:]}"
                )
            return self.count(pattern) >= count

        try:
            wait_for(seen, timeout, f"{self.name} to log {pattern!r} ({count}x)", step=0.05)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.log}:\n{self.text()[-3000:]}") from None


# ---- the server over HTTP and on disk ----------------------------------------------------------------------


class Hall:
    """What a test does to the server through its API, and reads back from its SQLite file."""

    def __init__(self, server: ServerProc) -> None:
        self.server = server
        self._manager = ""

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, timeout: float = 10.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout, verify=verify_for(self.url))

    def manager_headers(self) -> dict[str, str]:
        if not self._manager:
            with self.client() as c:
                r = c.post("/api/manager/login", json={"username": MANAGER[0], "password": MANAGER[1]})
                assert r.status_code == 200, r.text
                self._manager = r.json()["token"]
        return {"Authorization": f"Bearer {self._manager}"}

    def station(self, role: str, name: str, window: int | None = None, *, login: bool = False) -> Station:
        """Enroll and approve a station (what the manager does on a first day); log its clerk in if asked."""
        with self.client() as c:
            r = c.post("/api/enroll", json={"name": name, "role": role})
            assert r.status_code == 201, r.text
            e = r.json()
            body = {"window": window} if window is not None else {}
            r = c.post(f"/api/stations/{e['station_id']}/approve", json=body, headers=self.manager_headers())
            assert r.status_code == 200, r.text
            r = c.get(f"/api/enroll/{e['station_id']}", params={"poll_secret": e["poll_secret"]})
            assert r.status_code == 200, r.text
            assert r.json()["state"] == "approved", r.text
            st = Station(e["station_id"], role, r.json()["token"], window)
            if login:
                assert window is not None
                r = c.post(
                    "/api/counter/login",
                    json={"staff": clerk_code(window), "pin": CLERK_PIN, "window": window},
                    headers=st.headers,
                )
                assert r.status_code == 200, r.text
        return st

    def provision(
        self, state_dir: pathlib.Path, station_id: str, role: str, window: int | None = None
    ) -> Station:
        """An app station approved and its token stored where the app looks for it."""
        st = self.station(role, station_id, window)
        save_token(state_dir / f"{station_id}.json", st.token, station_id=station_id, server=self.url)
        if self.server.tls:  # enrolled over TLS: the CA pinned
            save_pin(state_dir / f"{station_id}.json", self.url, Pin.of(test_tls().ca_pem()))
        return st

    def issue(self, st: Station, matter: str = MATTER) -> httpx.Response:
        """Issue as a citizen who passes the matter's pre-check (every answer as expected, every paper)."""
        with self.client() as c:
            body = passing_body(c, st, matter)
            return c.post("/api/tickets", json={"request_id": rid(), **body}, headers=st.headers)

    def act(self, st: Station, action: str, **body: Any) -> httpx.Response:
        assert st.window is not None
        with self.client() as c:
            return c.post(
                f"/api/windows/{st.window}/{action}", json={"request_id": rid(), **body}, headers=st.headers
            )

    # -- the file (a separate read connection; WAL) --

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(str(self.server.db), timeout=10)
        try:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def seq(self) -> int:
        return int(self.query("SELECT COALESCE(MAX(seq), 0) FROM events")[0][0])

    def calls(self, since_seq: int = 0) -> list[tuple[int, str, str, int]]:
        """(seq, ticket id, label, window) of every `called` event after `since_seq` (recalls excluded)."""
        out = []
        for seq, body in self.query(
            "SELECT seq, body FROM events WHERE kind = 'ticket_changed' AND seq > ? ORDER BY seq",
            (since_seq,),
        ):
            m = json.loads(body)
            if m.get("action") == "called":
                out.append((seq, m["ticket"]["id"], m["ticket"]["label"], m["window"]["number"]))
        return out

    def double_calls(self) -> dict[str, int]:
        """Tickets called more than once (none of these tests transfers, requeues or recalls)."""
        seen: dict[str, int] = {}
        for _, tid, _, _ in self.calls():
            seen[tid] = seen.get(tid, 0) + 1
        return {t: n for t, n in seen.items() if n > 1}


# ---- watching the event stream -----------------------------------------------------------------------------


class Watcher:
    """An `EventStream` client on its own thread and loop, recording (seq, arrival) of what it receives."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.seen: list[tuple[int, float]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stream: EventStream | None = None
        self._thread = threading.Thread(target=self._run, name="fault-watcher", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> Watcher:
        self._thread.start()
        wait_for(lambda: self._stream is not None, 10, "the watcher to start")
        return self

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            stream = EventStream(
                self.url,
                self.token,
                clock=SystemClock(),
                backoff_max_s=2.0,
                ssl_context=hall_tls() if self.url.startswith("https:") else None,
            )
            self._stream = stream
            async for item in stream:
                if isinstance(item, EventItem | Snapshot):
                    self.seen.append((item.seq, time.monotonic()))

        try:
            asyncio.run(main())
        except BaseException as exc:
            self.error = exc

    def received_after(self, t: float) -> list[int]:
        return [seq for seq, at in list(self.seen) if at >= t]

    @property
    def connections(self) -> int:
        return self._stream.connections if self._stream is not None else 0

    def stop(self) -> None:
        loop, stream = self._loop, self._stream
        if loop is not None and stream is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(stream.aclose(), loop).result(10)
        self._thread.join(10)


# ---- a link the test can cut -------------------------------------------------------------------------------


class CutProxy:
    """A TCP proxy on 127.0.0.1 in front of the server, for one app's traffic; the test cuts its link.

    Two kinds of cut: `reset` (the link is down and the app's side knows it at once: open connections are
    reset, new ones are reset on accept) and `silent` (packets are dropped: nothing moves either way, new
    connections are accepted and then hear nothing; when the link comes back, what is still open carries on
    as TCP would after retransmission). The server's side of open connections is left alone during a cut,
    as it would be: the server notices nothing. `cut_on(pattern)` cuts right after forwarding the first
    request that contains `pattern`, before its reply can come back: applied by the server, reply lost.
    """

    def __init__(self, upstream_port: int, scheme: str = "https") -> None:
        self.upstream_port = upstream_port
        self.scheme = scheme  # what the server behind speaks; `cut_on` needs "http" (it reads the requests)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.port = int(self.listener.getsockname()[1])
        self.mode = "up"
        self.cuts: list[tuple[str, float]] = []
        self.triggered = threading.Event()
        self._trigger: tuple[bytes, str] | None = None
        self._pairs: dict[socket.socket, socket.socket] = {}  # each side -> the other
        self._client_side: set[socket.socket] = set()
        self._held: list[socket.socket] = []  # accepted during a silent cut, not yet connected upstream
        self._orphans: list[socket.socket] = []  # server ends of connections a reset cut took away
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._stop = False
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.listener, selectors.EVENT_READ, "listen")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._run, name="cut-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"  # TLS passes through as bytes

    def cut(self, mode: str = "reset") -> None:
        assert mode in ("reset", "silent")
        with self._lock:
            self._cut(mode)
        self._wake()

    def cut_on(self, pattern: bytes, mode: str = "reset") -> None:
        with self._lock:
            self._trigger = (pattern, mode)

    def heal(self) -> None:
        with self._lock:
            self.mode = "heal"
        self._wake()
        wait_for(lambda: self.mode == "up", 10, "the proxy to heal")

    def close(self) -> None:
        self._stop = True
        self._wake()
        self._thread.join(10)
        for s in [*self._pairs, *self._held, *self._orphans, self.listener, self._wake_r, self._wake_w]:
            with contextlib.suppress(OSError):
                s.close()
        self._sel.close()

    # -- the loop (one thread: every socket is touched only here) --

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _cut(self, mode: str) -> None:
        self.mode = mode
        self.cuts.append((mode, time.monotonic()))
        self.triggered.set()

    @staticmethod
    def _reset(s: socket.socket) -> None:
        with contextlib.suppress(OSError):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            s.close()

    def _drop_pair(self, s: socket.socket, *, reset_client: bool = False) -> None:
        other = self._pairs.pop(s, None)
        for x in (s, other):
            if x is None:
                continue
            self._pairs.pop(x, None)
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(x)
            if reset_client and x in self._client_side:
                self._reset(x)
            else:
                with contextlib.suppress(OSError):
                    x.close()
            self._client_side.discard(x)

    def _connect(self, client: socket.socket) -> None:
        try:
            up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        except OSError:
            self._reset(client)  # the server is down: the app sees its connection refused/reset
            return
        up.settimeout(None)
        client.setblocking(True)
        self._pairs[client], self._pairs[up] = up, client
        self._client_side.add(client)
        self._sel.register(client, selectors.EVENT_READ, "conn")
        self._sel.register(up, selectors.EVENT_READ, "conn")

    def _apply_mode(self) -> None:
        if self.mode == "reset":
            # The app's ends are reset; the server's ends stay open, unread, until the link is back.
            for c in [s for s in self._client_side if s in self._pairs]:
                up = self._pairs.pop(c)
                self._pairs.pop(up, None)
                for x in (c, up):
                    with contextlib.suppress(KeyError, ValueError):
                        self._sel.unregister(x)
                self._client_side.discard(c)
                self._reset(c)
                self._orphans.append(up)
        elif self.mode == "heal":
            orphans, self._orphans = self._orphans, []
            for s in orphans:
                with contextlib.suppress(OSError):
                    s.close()
            held, self._held = self._held, []
            for c in held:
                self._connect(c)  # accepted during a silent cut: connected now, as a late SYN would be
            self.mode = "up"

    @staticmethod
    def _forward_rest(client: socket.socket, up: socket.socket, data: bytes) -> None:
        """Forward the rest of the HTTP request whose start is `data` (headers, then Content-Length bytes)."""
        client.settimeout(5)
        try:
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    return
                up.sendall(chunk)
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            missing = (int(m.group(1)) if m else 0) - len(body)
            while missing > 0:
                chunk = client.recv(missing)
                if not chunk:
                    return
                up.sendall(chunk)
                missing -= len(chunk)
        finally:
            client.settimeout(None)

    def _run(self) -> None:
        while not self._stop:
            events = self._sel.select(timeout=0.2)
            with self._lock:
                for key, _ in events:
                    s = key.fileobj
                    assert isinstance(s, socket.socket)
                    if key.data == "wake":
                        with contextlib.suppress(BlockingIOError, OSError):
                            s.recv(4096)
                        continue
                    if key.data == "listen":
                        with contextlib.suppress(BlockingIOError, OSError):
                            client, _ = s.accept()
                            if self.mode == "reset":
                                self._reset(client)
                            elif self.mode == "silent":
                                self._held.append(client)
                            else:
                                self._connect(client)
                        continue
                    if self.mode != "up" or s not in self._pairs:
                        continue  # a silent cut: nothing is read, nothing moves
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        self._drop_pair(s)
                        continue
                    other = self._pairs[s]
                    try:
                        other.sendall(data)
                    except OSError:
                        self._drop_pair(s)
                        continue
                    if s in self._client_side and self._trigger is not None and self._trigger[0] in data:
                        # The whole request goes through (its body may follow its headers in another
                        # packet); its reply must not come back: the link goes down now.
                        self._forward_rest(s, other, data)
                        self._cut(self._trigger[1])
                        self._trigger = None
                self._apply_mode()
                if self.mode == "silent":
                    # Stop watching for reads (they would spin the loop); watched again when healed.
                    for s in list(self._pairs):
                        with contextlib.suppress(KeyError, ValueError):
                            self._sel.unregister(s)
                elif self.mode == "up":
                    for s in list(self._pairs):
                        try:
                            self._sel.get_key(s)
                        except KeyError:
                            self._sel.register(s, selectors.EVENT_READ, "conn")


# ---- the rig -----------------------------------------------------------------------------------------------


@dataclass
class Rig:
    """One test's hall: files, server, apps and helpers; `close()` stops everything it started."""

    tmp: pathlib.Path
    config_text: str
    config: pathlib.Path = field(init=False)
    state: pathlib.Path = field(init=False)
    server: ServerProc = field(init=False)
    hall: Hall = field(init=False)
    apps: list[AppProc] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)
    tls: bool = True  # the server over HTTPS (the per-session test CA); False for a test that reads requests

    def __post_init__(self) -> None:
        self.state = self.tmp / "state"
        self.state.mkdir(parents=True, exist_ok=True)
        self.config = self.tmp / "hall.toml"
        self.config.write_text(self.config_text, encoding="utf-8")
        db = self.tmp / "hall.db"
        shutil.copy(seeded_db(), db)
        self.server = ServerProc(self.config, db, free_port(), self.tmp / "server.log", tls=self.tls)
        self.hall = Hall(self.server)

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def on_close(self, fn: Callable[[], None]) -> None:
        self.closers.append(fn)

    def app(self, kind: str, station: str, *extra: str, server: str = "") -> AppProc:
        args = [
            kind, "--config", str(self.config), "--server", server or self.server.url,
            "--state-dir", str(self.state), "--station", station, *extra,
        ]  # fmt: skip
        proc = AppProc(f"{kind} {station}", args, self.tmp / f"{station}.log")
        self.apps.append(proc)
        return proc.start()

    def close(self) -> None:
        for proc in reversed(self.apps):
            proc.stop()
        for fn in reversed(self.closers):
            with contextlib.suppress(Exception):
                fn()
        self.server.kill9()


def manager_web(url: str) -> httpx.Client:
    """A client holding a manager's dashboard session (the login form, as a browser submits it)."""
    from tests.server.web_helpers import http_login

    return http_login(url, verify=verify_for(url))


# ---- load --------------------------------------------------------------------------------------------------


def passing_body(http: httpx.Client, st: Station, matter: str) -> dict[str, Any]:
    """The issue request of a citizen who passes `matter`'s pre-check (answers as expected, every paper)."""
    r = http.get("/api/hall", headers=st.headers)
    assert r.status_code == 200, r.text
    m = next(x for x in r.json()["matters"] if x["code"] == matter)
    pre = m.get("precheck") or {}
    return {
        "matter": matter,
        "answers": {q["id"]: q["expected"] for q in pre.get("questions", [])},
        "present": [x["id"] for x in pre.get("materials", [])],
    }


def kiosk_client(
    url: str, st: Station, matter: str, ledger: Ledger, pace_s: float, stop: threading.Event
) -> None:
    """A kiosk on the API: issue (as a citizen who passes the pre-check), confirm the print, wait `pace_s`.

    The pace keeps the peak one the machine can carry with the apps beside it (a tight loop issues hundreds
    a second and starves the counter app of CPU on two cores). It ends when the server goes away: what was
    in flight then is unknown, not acknowledged.
    """
    with httpx.Client(base_url=url, headers=st.headers, timeout=10, verify=verify_for(url)) as http:
        try:
            body = passing_body(http, st, matter)
        except httpx.HTTPError:
            return
        while not stop.is_set():
            try:
                r = http.post("/api/tickets", json={"request_id": rid(), **body})
                if r.status_code != 201:
                    time.sleep(0.05)  # a refusal (e.g. the matter full): not a fault of this suite
                    continue
                t = r.json()["ticket"]
                with ledger.lock:
                    ledger.issued[t["id"]] = t["label"]
                if t["state"] == "pending_print":
                    http.post(f"/api/tickets/{quote_id(t['id'])}/printed", json={"request_id": rid()})
                stop.wait(pace_s)
            except httpx.TimeoutException:
                continue  # slow (a loaded machine), not gone: unknown, not acknowledged; the peak goes on
            except httpx.HTTPError:
                return


def quote_id(ticket_id: str) -> str:
    from urllib.parse import quote

    return quote(ticket_id, safe="")


class Load:
    """Threads that play a peak against the server until `stop()`; each ends by itself if the server dies."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def add(self, target: Callable[..., None], *args: Any) -> None:
        t = threading.Thread(target=target, args=(*args, self.stop_event), daemon=True)
        self.threads.append(t)
        t.start()

    def stop(self) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(15)
        self.threads.clear()
        self.stop_event = threading.Event()
