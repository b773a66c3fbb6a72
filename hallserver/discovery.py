"""Advertise the hall server on the LAN as `_hallq._tcp.local.` (DESIGN.md §6).

The contract with `hallclient` is only the service type and the TXT properties `hall=<hall id>`, `path=/`,
`version=1`; clients filter by hall id so a demo on the same LAN does not interfere. Registration probes for
about 1.7 s (PITFALLS.md), so it runs as a background task and start-up never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass
from typing import Any

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

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
            properties={"hall": self.hall_id, "path": "/", "version": PROTOCOL_VERSION},
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


async def browse_once(
    hall_id: str, timeout_s: float = 3.0, interfaces: tuple[str, ...] | None = None
) -> str | None:
    """Find a server of `hall_id`; its base URL or None when mDNS stays silent (use the configured URL)."""
    zc = AsyncZeroconf(interfaces=list(interfaces)) if interfaces else AsyncZeroconf()
    found: asyncio.Queue[str] = asyncio.Queue()

    def on_change(**kwargs: Any) -> None:
        # zeroconf calls handlers with keyword arguments (zeroconf, service_type, name, state_change).
        found.put_nowait(str(kwargs["name"]))

    browser = AsyncServiceBrowser(zc.zeroconf, SERVICE_TYPE, handlers=[on_change])
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (left := deadline - loop.time()) > 0:
            try:
                name = await asyncio.wait_for(found.get(), left)
            except TimeoutError:
                break
            info = AsyncServiceInfo(SERVICE_TYPE, name)
            if not await info.async_request(zc.zeroconf, 1000):
                continue
            props = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
            if props.get("hall") != hall_id:
                continue
            addrs = info.parsed_addresses()
            if addrs:
                return f"http://{addrs[0]}:{info.port}{props.get('path', '/')}"
        return None
    finally:
        await browser.async_cancel()
        await zc.async_close()
