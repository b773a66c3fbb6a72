"""The server advertises `_hallq._tcp` on loopback (TXT hall/path/version); the stations' own browse
(`hallclient.discovery`) finds it, and a hall that nobody advertises yields None so the client falls back to
its configured URL.

Loopback mDNS is shared by everything on the machine (another worktree's demo hall advertises there too), so
the server here runs a hall of its own: a unique hall id, which is what a station filters on, and a unique
instance name. Another hall's advertisement, running or not, cannot be taken for ours.
"""

from __future__ import annotations

import asyncio
import dataclasses
import pathlib
import socket
import uuid

import httpx

from hallclient.discovery import discover
from hallcore.config import HallConfig
from hallserver.discovery import MdnsSettings
from hallserver.service import Settings
from tests.fakes.live_server import wait_for
from tests.server.conftest import start_server

LOOPBACK = ("127.0.0.1",)


def test_advertised_on_loopback_and_silent_for_other_halls(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    # The port is only known after binding: advertise a placeholder port, then check the real one is served
    # by looking the URL up and calling it.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    unique = uuid.uuid4().hex[:10]
    config = dataclasses.replace(county, hall=dataclasses.replace(county.hall, id=f"test-hall-{unique}"))
    mdns = MdnsSettings(port=port, addresses=LOOPBACK, interfaces=LOOPBACK, instance=f"hallq-test-{unique}")
    settings = Settings(heartbeat_s=5, tick_s=3600, freeze_gc=False, mdns=mdns)
    with start_server(tmp_path, config, seeded_db, settings) as (_st, server):
        adv = server.hall.advertiser
        assert adv is not None
        wait_for(adv.registered.is_set, 15, "mDNS registration")
        assert adv.info is not None
        assert adv.info.name == f"hallq-test-{unique}._hallq._tcp.local."
        found = asyncio.run(discover(config.hall.id, 10.0, LOOPBACK))
        assert found == f"http://127.0.0.1:{port}"
        assert asyncio.run(discover(f"no-such-hall-{unique}", 1.5, LOOPBACK)) is None
        assert httpx.get(f"{server.url}/api/health").json()["ok"] is True  # start did not wait on mDNS
