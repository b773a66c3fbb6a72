"""Shared by the central tests: a throw-away PostgreSQL cluster, the centre as a real subprocess, halls that
ship to it, traffic through a hall's real API, and the hall's own statistics to compare with.

No SQLite stand-in and no mock of the database: every test database is a fresh database in a real
PostgreSQL cluster (hallcentral.devcluster), and the centre is `hallq central` in its own process, so a test
can kill -9 it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import os
import pathlib
import re
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import psycopg

from hallcentral import auth, halls
from hallcentral.db import open_pool
from hallcentral.devcluster import Cluster
from hallcore.config import Central, Hall, HallConfig
from hallfiles.config import read_config
from hallserver import stats
from tests.fakes.live_server import COUNTY, HJ01_PASSES, LiveServer
from tests.fakes.live_server import wait_for as live_wait_for

ROOT = pathlib.Path(__file__).resolve().parents[2]
ADMIN = ("province-admin", "province password 1")
CITY_A = ("city-a-viewer", "city a password 1")
CITY_B = ("city-b-viewer", "city b password 1")

CENTRAL_TOML = """
name = "测试省政务服务中心"

[database]
dsn = "{dsn}"

[server]
host = "127.0.0.1"
port = 0

[live]
offline_after_s = {offline_after_s}
push_every_s = 0.5

[rollups]
build_every_s = 0.3

[[regions]]
id = "prov"
name = "测试省"
level = "province"

[[regions]]
id = "city-a"
name = "甲市"
level = "city"
parent = "prov"

[[regions]]
id = "county-a1"
name = "甲市一县"
level = "county"
parent = "city-a"

[[regions]]
id = "city-b"
name = "乙市"
level = "city"
parent = "prov"
"""


def wait_for(cond: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """live_server's wait, with a longer default: shipping and catch-up cross processes."""
    live_wait_for(cond, timeout, what)


class _Proc:
    """A subprocess a test can kill -9 and restart."""

    proc: subprocess.Popen[bytes] | None = None

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self._close()

    def _close(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None


class CentreProc(_Proc):
    """`hallq central` as a subprocess on a port chosen at the first start and kept across restarts."""

    def __init__(self, cluster: Cluster, folder: pathlib.Path, offline_after_s: int = 3) -> None:
        self.cluster = cluster
        self.folder = folder
        self.dbname = "central_" + uuid.uuid4().hex[:10]
        self.dsn = cluster.create_database(self.dbname)
        self.config = folder / "central.toml"
        self.config.write_text(CENTRAL_TOML.format(dsn=self.dsn, offline_after_s=offline_after_s), "utf-8")
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder / "central.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hallq.cli", "central", "--config", str(self.config), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=ROOT,
        )

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "hallq.cli",
                    "central",
                    "--config",
                    str(self.config),
                    "--port",
                    str(self.port),
                ],
                stdout=subprocess.PIPE,
                stderr=out,
                cwd=ROOT,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.proc.kill()
            raise AssertionError(f"the centre did not start: {line!r}\n{self.log.read_text()[-2000:]}")
        self.port = int(m.group(1))

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as conn:
            return [tuple(r) for r in conn.execute(query.encode(), params).fetchall()]

    def acked(self, hall_id: str) -> int:
        rows = self.sql("SELECT acked_seq FROM halls WHERE hall_id = %s", (hall_id,))
        return int(rows[0][0]) if rows else -1

    def with_pool(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        """Run `work(pool)` on a small pool of this centre's database (what the CLI does, without paying
        for a process start per call: the tier runs on a loaded machine)."""

        async def run() -> Any:
            pool = await open_pool(self.dsn, min_size=1, max_size=1)
            try:
                return await work(pool)
            finally:
                await pool.close()

        # In a thread of its own: a test may be running an event loop here (Playwright's sync API does).
        with concurrent.futures.ThreadPoolExecutor(1) as ex:
            return ex.submit(asyncio.run, run()).result(timeout=60)

    def add_users(self) -> None:
        now = dt.datetime.now(dt.UTC)

        async def work(pool: Any) -> None:
            for (name, pw), region, admin in (
                (ADMIN, "prov", True),
                (CITY_A, "city-a", False),
                (CITY_B, "city-b", False),
            ):
                await auth.add_user(pool, name, pw, region, admin, now)

        self.with_pool(work)

    def approve(self, hall_id: str, region: str) -> None:
        now = dt.datetime.now(dt.UTC)
        assert self.with_pool(lambda pool: halls.approve(pool, now, hall_id, region, "test")), hall_id

    def login(self, user: tuple[str, str]) -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=10)
        r = c.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', r.text)
        assert token is not None
        r = c.post("/login", data={"csrf": token.group(1), "username": user[0], "password": user[1]})
        assert (r.status_code, r.headers.get("location")) == (303, "/overview"), r.text
        return c


@contextlib.contextmanager
def centre(cluster: Cluster, folder: pathlib.Path, offline_after_s: int = 3) -> Iterator[CentreProc]:
    c = CentreProc(cluster, folder, offline_after_s)
    c.start()
    try:
        yield c
    finally:
        c.stop()


def hall_config(
    url: str, hall_id: str = "", name: str = "", batch: int = 50, enabled: bool = True
) -> HallConfig:
    """The county hall shipping to `url` (fast polls and heartbeats for tests)."""
    cfg = read_config(COUNTY)
    hall: Hall = cfg.hall
    if hall_id:
        hall = dataclasses.replace(hall, id=hall_id, name=name or hall_id)
    central = Central(
        enabled=enabled, url=url, batch_events=batch, poll_s=0.1, heartbeat_s=0.5, retry_max_s=1
    )
    return dataclasses.replace(cfg, hall=hall, central=central)


def ship_state(hall: LiveServer) -> dict[str, Any]:
    shipper = hall._app.state.shipper
    state: dict[str, Any] = shipper.snapshot()
    return state


def busy_morning(hall: LiveServer, start: dt.datetime, n: int = 10, seed: int = 0) -> None:
    """`n` citizens through the real API on the hall's fake clock from `start`: issue and print, call,
    serve, finish (every 4th a no-show after recalls, every 5th left waiting), most of the served rated."""
    hall.clock.set(start)
    if not hall.stations or hall.counter.staff == "":
        return
    hall.login_counter()
    r = hall.act(hall.counter, "open")
    assert r.status_code in (200, 409), r.text
    ids = []
    for _ in range(n):
        r = hall.post(
            hall.kiosk,
            "/api/tickets",
            matter="HJ01",
            **HJ01_PASSES,
        )
        if r.status_code != 201:
            return  # closed that day (a weekend): nothing to do
        ids.append(r.json()["ticket"]["id"])
        assert hall.post(hall.kiosk, f"/api/tickets/{ids[-1]}/printed").status_code == 200
        hall.clock.advance(30)
    for i in range(len(ids) - len(ids) // 5):  # a fifth are left waiting
        hall.clock.advance(120 + 7 * ((seed + i) % 5))
        r = hall.act(hall.counter, "call-next")
        assert r.status_code == 200, r.text
        tid = r.json()["ticket"]["id"]
        if i % 4 == 3:
            recalls = 0
            while True:
                hall.clock.advance(hall.config.no_show.min_recall_gap_s)  # people walk slowly
                r = hall.act(hall.counter, "no-show")
                if r.status_code == 200:
                    break
                assert hall.act(hall.counter, "recall").status_code == 200
                recalls += 1
                assert recalls < 10, r.text
            continue
        assert hall.act(hall.counter, "start").status_code == 200
        hall.clock.advance(90)
        assert hall.act(hall.counter, "finish").status_code == 200
        if i % 3 != 2:
            r = hall.post(hall.counter, f"/api/tickets/{tid}/rating", score=5 - ((seed + i) % 5))
            assert r.status_code == 200, r.text


def read_only(db: pathlib.Path) -> Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]:
    """A hall's SQLite file read-only, as the `read` that hallserver/stats.py's reports take (the server's own
    is its store's read pool)."""

    async def read(fn: Callable[[sqlite3.Connection], Any]) -> Any:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return fn(conn)
        finally:
            conn.close()

    return read


def hall_figures(db: pathlib.Path, config: HallConfig, day: dt.date) -> dict[str, Any]:
    """The hall's own statistics for `day` (hallserver/stats.py over its SQLite file)."""
    report = asyncio.run(stats.build_report(read_only(db), config, stats.Span(day, day), live_only=True))
    t = report.total
    return {
        "tickets": t.tickets,
        "called": t.called,
        "served": t.served,
        "no_shows": t.no_shows,
        "expired": t.expired,
        "cancelled": t.cancelled,
        "transfers": t.transfers,
        "rated": t.rated,
        "by_score": {k: v for k, v in t.by_score.items() if v},
        "satisfaction": t.satisfaction,
        "prechecks": {k: v for k, v in report.precheck.items() if v},
    }


def centre_figures(c: CentreProc, client: httpx.Client, hall_id: str, day: dt.date) -> dict[str, Any]:
    r = client.get(f"/api/halls/{hall_id}/days/{day.isoformat()}")
    assert r.status_code == 200, r.text
    d = r.json()
    d["by_score"] = {int(k): v for k, v in d["by_score"].items()}
    keep = (
        "tickets",
        "called",
        "served",
        "no_shows",
        "expired",
        "cancelled",
        "transfers",
        "rated",
        "by_score",
    )
    out = {k: d[k] for k in keep}
    out["satisfaction"] = d["satisfaction"]
    out["prechecks"] = d["prechecks"]
    return out


def env_without_proxy() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HallProc(_Proc):
    """`hallq server` as a subprocess on an existing hall database, shipping to `centre_url` (for kill -9)."""

    def __init__(
        self, folder: pathlib.Path, db: pathlib.Path, centre_url: str, start: dt.datetime, batch: int = 10
    ) -> None:
        self.db = db
        self.config = folder / "hall.toml"
        text = COUNTY.read_text(encoding="utf-8")
        text += (
            f'\n[central]\nenabled = true\nurl = "{centre_url}"\nbatch_events = {batch}\npoll_s = 0.1\n'
            "heartbeat_s = 0.5\nretry_max_s = 1\n"
        )
        self.config.write_text(text, "utf-8")
        self.start_at = start
        self.log = folder / "hall.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            args = ["server", "--config", str(self.config), "--db", str(self.db), "--port", "0", "--no-mdns"]
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hallq.cli", *args, "--fake-start", self.start_at.isoformat()],
                stdout=out,
                stderr=out,
                cwd=ROOT,
            )

    def max_seq(self) -> int:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT max(seq) FROM events").fetchone()[0] or 0)
        finally:
            conn.close()


class SimHall:
    """A hall speaking the shipping protocol directly (its own key, events made here): for tests that need
    several halls' data at the centre quickly. Real halls ship through hallserver/shipper.py."""

    def __init__(self, url: str, hall_id: str, name: str, day: dt.date = dt.date(2026, 11, 23)) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self.url = url
        self.hall_id = hall_id
        self.name = name
        self.key = Ed25519PrivateKey.generate()
        self.seq = 0
        self.day = day
        self.numbers = 0
        self.profile: dict[str, Any] | None = (
            None  # sent with the next batch (hallcore.shipping.hall_profile)
        )

    def _post(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        import base64
        import json

        from hallcore.shipping import HALL_HEADER, SIGNATURE_HEADER

        body = json.dumps(payload, ensure_ascii=False).encode()
        sig = base64.b64encode(self.key.sign(body)).decode()
        return httpx.post(
            self.url + path, content=body, headers={HALL_HEADER: self.hall_id, SIGNATURE_HEADER: sig}
        )

    def enroll(self) -> str:
        import base64

        from hallserver.shipper import public_bytes

        pub = base64.b64encode(public_bytes(self.key)).decode()
        r = self._post("/api/v1/enroll", {"hall": self.hall_id, "name": self.name, "public_key": pub})
        assert r.status_code in (200, 202), r.text
        return str(r.json()["code"])

    def at(self, minute: int) -> str:
        return (
            dt.datetime.combine(self.day, dt.time(9, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
            .replace(minute=minute % 60, hour=9 + minute // 60)
            .isoformat()
        )

    def ship(self, *events: tuple[str, dict[str, Any]]) -> None:
        from hallcore.shipping import envelope, export_event

        items = []
        for kind, body in events:
            self.seq += 1
            items.append(export_event(self.seq, body["at"], kind, body))
        r = self._post(
            "/api/v1/batches",
            envelope(
                self.hall_id, items[-1]["at"] if items else self.at(0), self.seq, None, items, self.profile
            ),
        )
        assert r.status_code == 200, r.text
        self.profile = None

    def window(self, number: int, state: str, minute: int, current: str = "") -> tuple[str, dict[str, Any]]:
        view = {
            "number": number,
            "name": f"{number}号窗口",
            "state": state,
            "zone": "",
            "series": ["A"],
            "current": current,
        }
        return "window_changed", {"at": self.at(minute), "action": "opened", "window": view}

    def issue(self, minute: int, matter: str = "HJ01") -> tuple[str, dict[str, Any]]:
        self.numbers += 1
        label = f"A{self.numbers:03d}"
        return "ticket_issued", {
            "at": self.at(minute),
            "ticket": self._ticket(label, "waiting", minute, matter=matter),
            "ahead": 0,
            "waiting": {},
        }

    def _ticket(
        self, label: str, state: str, minute: int, window: int | None = None, matter: str = "HJ01"
    ) -> dict[str, Any]:
        return {
            "id": f"{self.day.isoformat()}/{label}",
            "label": label,
            "series": "A",
            "matter": matter,
            "matter_name": "户口迁移",
            "source": "kiosk",
            "priority": "normal",
            "state": state,
            "issued_at": self.at(0),
            "window": window,
        }

    def finish(
        self, label: str, window: int, minute: int, matter: str = "HJ01", outcome: str = ""
    ) -> tuple[str, dict[str, Any]]:
        """The clerk finishes the case (with the outcome the outcomes issue adds to the event)."""
        kind, body = self.call(label, window, minute, matter=matter)
        body["action"] = "finished"
        body["ticket"]["state"] = "done"
        if outcome:
            body["ticket"]["outcome"] = outcome
        return kind, body

    def call(self, label: str, window: int, minute: int, matter: str = "HJ01") -> tuple[str, dict[str, Any]]:
        w = {
            "number": window,
            "name": f"{window}号窗口",
            "state": "open",
            "zone": "",
            "series": ["A"],
            "current": label,
        }
        return "ticket_changed", {
            "at": self.at(minute),
            "action": "called",
            "ticket": self._ticket(label, "called", minute, window, matter=matter),
            "window": w,
            "waiting": {},
        }

    def rate(self, label: str, score: int, minute: int) -> tuple[str, dict[str, Any]]:
        return "rating_recorded", {
            "at": self.at(minute),
            "ticket": f"{self.day.isoformat()}/{label}",
            "label": label,
            "score": score,
            "matter": "HJ01",
            "window": 1,
            "staff": "c1",
        }
