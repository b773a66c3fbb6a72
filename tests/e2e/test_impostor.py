"""A second hall server with its own CA answers mDNS for the same hall (issue 24): every station — the kiosk,
the counter and the display, each a subprocess found by mDNS with no `--server` — refuses it (nothing is
sent to it: it never sees a station, a login or a ticket), shows "服务器证书不符，请联系管理员", and works
with the real server as soon as that answers: the kiosk prints a ticket, the counter and the display follow
the hall's events."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hallclient.trust import UNTRUSTED_TEXT
from hallfiles.config import read_config
from hallq.crowd import Crowd
from hallq.demohall import CLERK_PIN, MANAGER, clerk_code
from hallserver import admin
from tests.e2e.support import COUNTER, DISPLAY, KIOSK, HallRun, _prepare, silent_voice_pack
from tests.fakes.live_server import make_tls

pytestmark = pytest.mark.slow

MATTER = "HJ01"
LOOPBACK = "127.0.0.1"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[HallRun, str]]:
    """The hall prepared (TLS, its stations provisioned while the real server ran) under a hall id of its own,
    so only this test's two servers answer mDNS for it; the real server is then stopped."""
    state = tmp_path / "hall"
    state.mkdir()
    with contextlib.ExitStack() as stack:
        hall = _prepare(state, stack)
        stack.callback(hall.stop_all)
        hall_id = f"e2e-{uuid.uuid4().hex[:8]}"
        config = state / "hall.toml"
        config.write_text(
            re.sub(r'(?m)^id = "jinzhai"$', f'id = "{hall_id}"', config.read_text("utf-8")), "utf-8"
        )
        hall.config = read_config(config)
        assert hall.config.hall.id == hall_id
        with hall.explain():
            start_real(hall)
            crowd = Crowd(
                hall.config, hall.url, MANAGER, CLERK_PIN, clerk_code, lambda _t: None, ca_pem=hall.ca_pem
            )
            asyncio.run(crowd.provision([KIOSK, COUNTER, DISPLAY], state))
            hall.stop("server")
            del hall.procs["server"]  # down on purpose: not a resident that died
        yield hall, hall_id


def start_real(hall: HallRun) -> None:
    port = hall.url.rsplit(":", 1)[1]
    hall.spawn(
        "server", "server", "--config", str(hall.state / "hall.toml"), "--db", str(hall.db),
        "--host", LOOPBACK, "--port", port, "--mdns-interface", LOOPBACK, "--mdns-name", "real hall server",
        "--durability", "normal", "--tls-dir", str(hall.state / "tls"),
    )  # fmt: skip
    hall.wait_for(lambda: hall.health().get("ok"), "the real server to answer /api/health", 60)


def start_impostor(hall: HallRun) -> tuple[Path, int]:
    """The same hall's config on another port, with a CA of its own, answering mDNS for the hall."""
    from hallq.demohall import free_port

    tls = make_tls(hall.state / "impostor-tls")
    db = hall.state / "impostor.db"
    admin.create_manager(db, *MANAGER)
    port = free_port()
    hall.spawn(
        "impostor", "server", "--config", str(hall.state / "hall.toml"), "--db", str(db),
        "--host", LOOPBACK, "--port", str(port), "--mdns-interface", LOOPBACK, "--mdns-name", "impostor",
        "--durability", "normal", "--tls-dir", str(tls.dir),
    )  # fmt: skip
    hall.wait_for(lambda: "hallq server: https://" in hall.log_text("impostor"), "the impostor to listen", 60)
    return db, port


def app_args(hall: HallRun, station: str) -> list[str]:
    """Like `HallRun.app_args` but without `--server`: the station looks for its server by mDNS."""
    return [
        "--config", str(hall.state / "hall.toml"), "--state-dir", str(hall.state), "--station", station,
        "--mdns-interface", LOOPBACK,
    ]  # fmt: skip


def test_every_station_refuses_a_server_with_another_ca_and_works_with_its_own(
    rig: tuple[HallRun, str],
) -> None:
    hall, _hall_id = rig
    with hall.explain():
        impostor_db, impostor_port = start_impostor(hall)
        voice = silent_voice_pack(hall.state / "voice-pack")
        hall.spawn(COUNTER, "counter", *app_args(hall, COUNTER))
        hall.spawn(DISPLAY, "display", *app_args(hall, DISPLAY), "--windowed", "--voice-pack", str(voice))
        before = len(hall.papers())
        hall.spawn(
            "kiosk", "kiosk", *app_args(hall, KIOSK), "--windowed", "--autopilot", MATTER
        )  # fmt: skip
        stations = ("kiosk", COUNTER, DISPLAY)
        impostor = f"https://{LOOPBACK}:{impostor_port}"
        for name in stations:

            def refused(name: str = name) -> bool:
                text = hall.log_text(name)
                return f"showing {UNTRUSTED_TEXT[0]}" in text and f"refused {impostor}" in text

            hall.wait_for(
                refused,
                f"{name} to refuse the impostor and show the screen",
                90,
                also=("kiosk", "impostor"),
            )
        # Nothing reached the impostor: no enrollment, no login, no ticket (the handshake failed first).
        assert count(impostor_db, "SELECT COUNT(*) FROM stations") == 0
        assert count(impostor_db, "SELECT COUNT(*) FROM tickets") == 0
        assert len(hall.papers()) == before

        # The real server answers again (where the stations pinned it): each one goes on with it.
        start_real(hall)
        hall.wait_for(
            lambda: len(hall.papers()) > before,
            "the kiosk's ticket from the real server",
            90,
            also=("kiosk",),
        )
        hall.wait_for(
            lambda: (hall.health().get("subscribers") or 0) >= 2,
            "the counter and the display to follow the real server",
            90,
        )
        for name in stations:
            assert f"hall server https://{LOOPBACK}:" in hall.log_text(name), name
        assert count(impostor_db, "SELECT COUNT(*) FROM stations") == 0
        assert count(hall.db, "SELECT COUNT(*) FROM tickets") == 1


def count(db: Path, sql: str) -> int:
    import sqlite3

    conn = sqlite3.connect(str(db))
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()
