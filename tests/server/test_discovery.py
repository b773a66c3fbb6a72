"""The server advertises `_hallq._tcp` on loopback (TXT hall/path/version); a browse finds it, and a hall that
nobody advertises yields None so the client falls back to its configured URL."""

from __future__ import annotations

import asyncio
import pathlib
import uuid

import httpx

from hallcore.config import HallConfig
from hallserver.discovery import MdnsSettings, browse_once
from hallserver.service import Settings
from tests.fakes.live_server import wait_for
from tests.server.conftest import start_server

LOOPBACK = ("127.0.0.1",)


def test_advertised_on_loopback_and_silent_for_other_halls(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    # The port is only known after binding: advertise a placeholder port, then check the real one is served
    # by looking the URL up and calling it.
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    name = f"hallq-test-{uuid.uuid4().hex[:10]}"
    mdns = MdnsSettings(port=port, addresses=LOOPBACK, interfaces=LOOPBACK, instance=name)
    settings = Settings(heartbeat_s=5, tick_s=3600, freeze_gc=False, mdns=mdns)
    with start_server(tmp_path, county, seeded_db, settings) as (_st, server):
        adv = server.hall.advertiser
        assert adv is not None
        wait_for(adv.registered.is_set, 15, "mDNS registration")
        found = asyncio.run(browse_once(county.hall.id, 5.0, LOOPBACK))
        assert found == f"http://127.0.0.1:{port}/"
        assert asyncio.run(browse_once("no-such-hall", 1.5, LOOPBACK)) is None
        assert httpx.get(f"{server.url}/api/health").json()["ok"] is True  # start did not wait on mDNS
