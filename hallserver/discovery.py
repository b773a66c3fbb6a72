"""Advertise the hall server on the LAN as `_hallq._tcp.local.` (DESIGN.md §6).

The contract with `hallclient` is only the service type and the TXT properties `hall=<hall id>`, `path=/`,
`version=1` (and `tls=1` over HTTPS); clients filter by hall id so a demo on the same LAN does not interfere.
Registration probes for about 1.7 s (PITFALLS.md), so it runs as a background task and start-up never waits
for it. An answer is only a candidate: stations verify the hall CA they pinned (hallclient/link.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from hallserver.evloop import cancel

log = logging.getLogger(__name__)

SERVICE_TYPE = "_hallq._tcp.local."
PROTOCOL_VERSION = "1"


@dataclass(frozen=True, slots=True)
class MdnsSettings:
    port: int
    addresses: tuple[str, ...] = ("127.0.0.1",)  # the addresses clients should connect to
    interfaces: tuple[str, ...] | None = None  # None: every interface; tests pin ("127.0.0.1",)
    instance: str = ""  # service instance name; "" = "hallq <hall id> <host>"
    tls: bool = False  # TXT tls=1: the server speaks HTTPS (a candidate only: stations verify the pinned CA)


class Advertiser:
    def __init__(self, settings: MdnsSettings, hall_id: str) -> None:
        self.settings = settings
        self.hall_id = hall_id
        self.zc: AsyncZeroconf | None = None
        self.info: AsyncServiceInfo | None = None
        self.registered = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._register(), name="hall-mdns")

    async def _register(self) -> None:
        s = self.settings
        instance = s.instance or f"hallq {self.hall_id} {socket.gethostname()}"
        self.info = AsyncServiceInfo(
            SERVICE_TYPE,
            f"{instance}.{SERVICE_TYPE}",
            port=s.port,
            addresses=[socket.inet_aton(a) for a in s.addresses],
            properties={
                "hall": self.hall_id,
                "path": "/",
                "version": PROTOCOL_VERSION,
                **({"tls": "1"} if s.tls else {}),
            },
        )
        try:
            interfaces: list[str] | None = list(s.interfaces) if s.interfaces is not None else None
            if interfaces is None:
                self.zc = AsyncZeroconf(ip_version=IPVersion.V4Only)
            else:
                self.zc = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
            await (await self.zc.async_register_service(self.info, allow_name_change=True))
            self.registered.set()
            log.info("advertising %s on port %d", self.info.name, s.port)
        except Exception:
            # Discovery is a convenience: a configured URL always works (DESIGN.md §6).
            log.exception("mDNS advertising failed; clients must use the configured URL")

    async def stop(self) -> None:
        await cancel(self._task)
        if self.zc is not None:
            with contextlib.suppress(Exception):
                if self.info is not None and self.registered.is_set():
                    await self.zc.async_unregister_service(self.info)
            await self.zc.async_close()
            self.zc = None
