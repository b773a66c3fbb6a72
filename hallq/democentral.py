"""`hallq demo --central`: the demo hall plus a centre on a throw-away PostgreSQL cluster and two simulated
halls (hall servers on copies of the county config, worked by their own crowds), all shipping to it.

The cluster lives in a temporary directory (as the `postgres` user when root) and is removed on exit, like
the tests'. The centre's administrator login is printed with the other URLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from hallq.crowd import CROWD_WINDOWS, Crowd

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from hallcentral.service import Central

CENTRAL_ADMIN = ("admin", "hallq-central-demo")
#: The demo hall and the simulated ones: (hall id, name, region in config/central.toml).
DEMO_REGION = "ah-la-jinzhai"
SIM_HALLS = (
    ("sim-huoshan", "霍山县政务服务中心（模拟）", "ah-la-huoshan"),
    ("sim-feixi", "肥西县政务服务中心（模拟）", "ah-hf-feixi"),
)
#: A user scoped to one city (合肥市): sees 肥西县 only.
CITY_USER = ("hefei", "ah-hf")


def central_section(url: str) -> str:
    """The `[central]` table appended to a demo hall's config (after its last table: appending is safe)."""
    return f'\n[central]\nenabled = true\nurl = "{url}"\npoll_s = 0.5\nheartbeat_s = 5.0\nretry_max_s = 10\n'


def renamed(text: str, hall_id: str, name: str) -> str:
    """The county config as another hall: the [hall] table's id and name changed (the first of each)."""
    text = re.sub(r'^id = "[^"]+"', f'id = "{hall_id}"', text, count=1, flags=re.MULTILINE)
    return re.sub(r'^name = "[^"]+"', f'name = "{name}"', text, count=1, flags=re.MULTILINE)


class Host(Protocol):
    """What the centre's part needs of the demo (hallq/demo.py `Demo`, which starts it): a protocol, so that
    this module does not import the demo that imports it."""

    state: Path
    timezone: str | None
    procs: dict[str, subprocess.Popen[bytes]]
    stack: contextlib.ExitStack

    def log(self, text: str) -> None: ...

    def spawn(self, name: str, *args: str) -> None: ...


class CentralDemo:
    def __init__(self, demo: Host) -> None:
        self.demo = demo
        self.config = demo.state / "central.toml"
        self.url = ""

    def start(self) -> str:
        """Cluster, database, centre process, administrator; the centre's URL."""
        import httpx

        from hallcentral.devcluster import start_cluster
        from hallq.demohall import CONFIG_DIR, free_port

        cluster = start_cluster()
        self.demo.stack.callback(cluster.stop)
        self.demo.log(f"centre: throw-away PostgreSQL cluster in {cluster.root} on port {cluster.port}")
        dsn = cluster.create_database("hallq_central")
        port = free_port(8800)
        text = (CONFIG_DIR / "central.toml").read_text(encoding="utf-8")
        text = re.sub(r'^dsn = ".*"$', f'dsn = "{dsn}"', text, count=1, flags=re.MULTILINE)
        text = re.sub(r"^port = \d+$", f"port = {port}", text, count=1, flags=re.MULTILINE)
        text = re.sub(r"^offline_after_s = \d+", "offline_after_s = 20", text, count=1, flags=re.MULTILINE)
        self.config.write_text(text, encoding="utf-8")
        asyncio.run(self._users())
        self.demo.spawn("central", "central", "--config", str(self.config))
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.demo.procs["central"].poll() is not None:
                raise RuntimeError(f"the centre exited; see {self.demo.state / 'central.log'}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self.url
            time.sleep(0.2)
        raise RuntimeError("the centre did not answer within 60 s")

    async def _users(self) -> None:
        """The schema, the administrator and a city's user (what `hallq central … user add` does)."""
        from hallcentral import auth

        async with self._central() as central:
            await auth.add_user(central.pool, CENTRAL_ADMIN[0], CENTRAL_ADMIN[1], "ah", True, central.now())
            await auth.add_user(
                central.pool, CITY_USER[0], CENTRAL_ADMIN[1], CITY_USER[1], False, central.now()
            )

    @contextlib.asynccontextmanager
    async def _central(self) -> AsyncIterator[Central]:
        from hallcentral.config import load
        from hallcentral.service import Central
        from hallcore.clock import SystemClock

        central = Central(load(self.config), SystemClock())
        await central.start()
        try:
            yield central
        finally:
            await central.stop()

    def approve(self, hall_id: str, region: str, timeout: float = 60.0) -> None:
        """Approve a hall once its enrollment arrived (an operator would compare the code first)."""
        from hallcentral.web import approve_hall

        async def run() -> bool:
            async with self._central() as central:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    if await approve_hall(central, hall_id, region, "demo"):
                        return True
                    await asyncio.sleep(0.2)
                return False

        if not asyncio.run(run()):
            raise RuntimeError(f"hall {hall_id} did not enroll at the centre within {timeout:.0f} s")
        self.demo.log(f"centre: {hall_id} approved into {region}")

    def sim_halls(self) -> list[Crowd]:
        """Two more hall servers shipping to the centre, each worked by its own crowd."""
        from hallfiles.config import read_config
        from hallq.demohall import CLERK_PIN, CONFIG_DIR, MANAGER, clerk_code, free_port, rewrite_config
        from hallserver import admin

        crowds: list[Crowd] = []
        for hall_id, name, region in SIM_HALLS:
            folder = self.demo.state / hall_id
            folder.mkdir()
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            text = rewrite_config(
                (CONFIG_DIR / "county.toml").read_text(encoding="utf-8"), {}, url, self.demo.timezone
            )
            config = folder / "hall.toml"
            config.write_text(renamed(text, hall_id, name) + central_section(self.url), encoding="utf-8")
            db = folder / "hall.db"
            cfg = read_config(config)
            admin.create_manager(db, *MANAGER)
            for w in CROWD_WINDOWS:  # the windows the crowd's clerks work (argon2 per clerk: only those)
                admin.add_clerk(db, clerk_code(w), f"{w}号窗口工作人员", CLERK_PIN)
            self.demo.spawn(
                hall_id, "server", "--config", str(config), "--db", str(db), "--host", "127.0.0.1",
                "--port", str(port), "--no-mdns", "--durability", "normal",
            )  # fmt: skip
            self.wait(url, hall_id)
            self.approve(hall_id, region)
            crowd = Crowd(cfg, url, MANAGER, CLERK_PIN, clerk_code, self.demo.log, seed=len(crowds) + 11)
            asyncio.run(crowd.provision([], folder))
            crowds.append(crowd)
        return crowds

    def wait(self, url: str, name: str) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.demo.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited; see {self.demo.state / (name + '.log')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/health", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer within 60 s")

    def lines(self) -> list[str]:
        login = (
            f"{CENTRAL_ADMIN[0]} / {CENTRAL_ADMIN[1]}; {CITY_USER[0]} / {CENTRAL_ADMIN[1]} sees 合肥市 only"
        )
        return [
            f"  centre        {self.url}/overview   (login: {login})",
            f"  centre halls  the demo hall and {', '.join(h for h, _n, _r in SIM_HALLS)} ship to it",
        ]
