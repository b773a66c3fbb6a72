"""Find the hall server on the LAN: browse `_hallq._tcp.local.` over mDNS (zeroconf, asyncio API).

The server advertises TXT `hall=<hall id>`, `path=/`, `version=1` (and `tls=1` over HTTPS). Only services of
our hall are taken, so a demo or a neighbouring hall on the same network is never picked. Anyone on the LAN
can answer mDNS, so an answer is only a candidate: `hallclient.link` talks to it only if it shows the pinned
hall CA's certificate. mDNS can be silent (multicast blocked by the
switch, a VLAN between station and server): `find_server` then answers with the configured address.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Collection, Sequence

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

log = logging.getLogger(__name__)

SERVICE_TYPE = "_hallq._tcp.local."
PROTOCOL_VERSION = "1"
_RESOLVE_MS = 1500


def _text(value: bytes | None) -> str:
    return value.decode("utf-8", "replace") if value is not None else ""


def service_url(info: AsyncServiceInfo) -> str | None:
    """http(s)://host:port/path of a resolved service, preferring an IPv4 address; None without one."""
    if info.port is None:
        return None
    addresses = info.parsed_addresses(IPVersion.V4Only) or info.parsed_addresses(IPVersion.V6Only)
    if not addresses:
        return None
    host = addresses[0]
    if ipaddress.ip_address(host).version == 6:
        host = f"[{host}]"
    path = _text(info.properties.get(b"path")) or "/"
    if not path.startswith("/"):
        path = "/" + path
    scheme = "https" if _text(info.properties.get(b"tls")) == "1" else "http"
    return f"{scheme}://{host}:{info.port}{path}".rstrip("/")


async def discover(
    hall_id: str,
    timeout_s: float,
    interfaces: Sequence[str] | None = None,
    exclude: Collection[str] = (),
) -> str | None:
    """The base URL of the first server advertising `hall=<hall_id>` (protocol version 1) within
    `timeout_s`, or None. `interfaces` pins the addresses to use (tests pass ["127.0.0.1"]); URLs in
    `exclude` (candidates already tried) are passed over."""
    loop = asyncio.get_running_loop()
    found: asyncio.Future[str] = loop.create_future()
    resolving: set[asyncio.Task[None]] = set()

    async def resolve(zc: Zeroconf, service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        if not await info.async_request(zc, _RESOLVE_MS):
            return
        if _text(info.properties.get(b"hall")) != hall_id:
            return
        version = _text(info.properties.get(b"version"))
        if version and version != PROTOCOL_VERSION:
            log.warning("hall server %s speaks version %s, not %s: skipped", name, version, PROTOCOL_VERSION)
            return
        url = service_url(info)
        if url is not None and url not in exclude and not found.done():
            found.set_result(url)

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated) and not found.done():
            task = loop.create_task(resolve(zeroconf, service_type, name))
            resolving.add(task)
            task.add_done_callback(resolving.discard)

    aiozc = AsyncZeroconf(interfaces=list(interfaces)) if interfaces is not None else AsyncZeroconf()
    browser = AsyncServiceBrowser(aiozc.zeroconf, [SERVICE_TYPE], handlers=[on_change])
    try:
        return await asyncio.wait_for(asyncio.shield(found), timeout_s)
    except TimeoutError:
        return None
    finally:
        for task in list(resolving):
            task.cancel()
        for task in list(resolving):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await browser.async_cancel()
        await aiozc.async_close()


async def find_server(
    hall_id: str, fallback_url: str, timeout_s: float = 3.0, interfaces: Sequence[str] | None = None
) -> str:
    """The advertised server of this hall, or `fallback_url` (from config) if mDNS finds none in time."""
    try:
        url = await discover(hall_id, timeout_s, interfaces)
    except OSError as exc:
        # No multicast-capable interface at all (a locked-down PC): the configured address still works.
        log.warning("mDNS browse failed (%s); using the configured %s", exc, fallback_url)
        return fallback_url
    if url is None:
        log.info(
            "no hall server of hall %r answered mDNS in %.1f s; using %s", hall_id, timeout_s, fallback_url
        )
        return fallback_url
    return url
