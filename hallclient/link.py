"""Which server a station talks to, and with what trust (DESIGN.md §9; docs/install.md "TLS").

`locate()` answers a `Link`: the server's URL and the hall CA the station pinned (None on plain HTTP, the
demo's). A pinned station tries its own server first, then what mDNS finds, then the config's address, and
takes the first whose certificate the pinned CA signed; a server that shows another certificate is refused
before anything is sent to it (logged; `ServerUntrusted` when nothing else answered). A station that is not
pinned yet pins the CA of the https server it enrolls with (`hallclient.trust.fetch_ca`). A station that was
enrolled before the hall turned TLS on pins on its first TLS contact and says so in the log, unless the hall
requires such stations to enroll again (`[tls] pin_on_first_contact = false`). With `[tls] required = true`
a station refuses plain HTTP (but on 127.0.0.1), so an mDNS answer cannot talk it out of TLS.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from hallclient.discovery import discover
from hallclient.enroll import forget_token, load_credentials, load_pin, save_pin
from hallclient.errors import ServerUnavailable, ServerUntrusted
from hallclient.trust import Pin, certificate_problem, fetch_ca, is_loopback, is_tls

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrustPolicy:
    """The hall's `[tls]` settings a station applies (hallcore.config.Tls)."""

    required: bool = False
    pin_on_first_contact: bool = True


@dataclass(frozen=True, slots=True)
class Link:
    """The server a station talks to and the hall CA it trusts there (None: plain HTTP)."""

    url: str
    pin: Pin | None = None

    def context(self) -> ssl.SSLContext | None:
        """The TLS context for `HttpHall(verify=…)` and the event stream; None on plain HTTP."""
        return self.pin.context() if self.pin is not None else None


@dataclass(frozen=True, slots=True)
class Where:
    """Where to look: `given` (`--server`) alone when set, else mDNS for `hall_id`, then `fallback`."""

    hall_id: str
    fallback: str
    given: str = ""
    interfaces: Sequence[str] | None = None  # mDNS interfaces (tests: ["127.0.0.1"])
    discover_s: float = 3.0
    probe_s: float = 5.0


async def locate(
    path: Path, where: Where, policy: TrustPolicy, *, transport: httpx.AsyncBaseTransport | None = None
) -> Link:
    """The server to talk to and its trust, per the credentials file at `path` (pinned there as needed).

    Raises `ServerUntrusted` when only servers with the wrong certificate (or plain HTTP where TLS is pinned
    or required) answered. When none answered, a pinned station gets its own server (it shows its offline
    state and reconnects as it did before TLS); one that is not pinned yet gets `ServerUnavailable`."""
    pinned = load_pin(path)
    if pinned is not None:
        server, pin = pinned
        return await _pinned(path, where, server, pin, transport)
    url = where.given or await _first_candidate(where)
    if not is_tls(url):
        if policy.required and not is_loopback(url):
            raise ServerUntrusted(f"{url} is plain HTTP and this hall requires TLS ([tls] required)")
        return Link(url)
    pin = await fetch_ca(url, timeout=where.probe_s, transport=transport)
    cred = load_credentials(path)
    if cred is not None and cred.token is not None:
        if not policy.pin_on_first_contact:
            log.warning(
                "station %s was enrolled before TLS and this hall requires enrolling again "
                "([tls] pin_on_first_contact = false): its token is dropped",
                cred.station_id,
            )
            forget_token(path)
        else:
            log.warning(
                "station %s was enrolled before TLS: pinned the hall CA %s of %s on first contact "
                "(compare it with the dashboard's; [tls] pin_on_first_contact = false makes such stations "
                "enroll again instead)",
                cred.station_id,
                pin.short,
                url,
            )
    save_pin(path, url, pin)
    return Link(url, pin)


async def _first_candidate(where: Where) -> str:
    try:
        found = await discover(where.hall_id, where.discover_s, where.interfaces)
    except OSError as exc:
        log.warning("mDNS browse failed (%s); using the configured %s", exc, where.fallback)
        return where.fallback
    return found or where.fallback


async def _pinned(
    path: Path, where: Where, server: str, pin: Pin, transport: httpx.AsyncBaseTransport | None
) -> Link:
    refused: list[str] = []
    tried: set[str] = set()
    ctx = pin.context()

    async def works(url: str) -> bool:
        tried.add(url)
        if not is_tls(url):
            refused.append(f"{url}: plain HTTP, but this station pinned the hall CA {pin.short}")
            log.warning("refused %s: plain HTTP (this station pinned the hall CA %s)", url, pin.short)
            return False
        try:
            async with httpx.AsyncClient(verify=ctx, timeout=where.probe_s, transport=transport) as c:
                r = await c.get(f"{url.rstrip('/')}/api/health")
        except httpx.HTTPError as exc:
            problem = certificate_problem(exc)
            if problem is None:
                log.info("hall server candidate %s: %s", url, type(exc).__name__)
                return False
            refused.append(f"{url}: {problem}")
            log.warning(
                "refused %s: its certificate is not the pinned hall CA's %s (%s)", url, pin.short, problem
            )
            return False
        return r.status_code > 0  # any answer over a verified connection: our server (even if not ready)

    if where.given:
        candidates: list[str] = [where.given]
    else:
        candidates = [server] if server else []
    for url in candidates:
        if await works(url):
            return _moved(path, server, url, pin)
    if not where.given:
        while True:
            try:
                found = await discover(where.hall_id, where.discover_s, where.interfaces, exclude=tried)
            except OSError as exc:
                log.warning("mDNS browse failed (%s)", exc)
                found = None
            if found is None:
                break
            if await works(found):
                return _moved(path, server, found, pin)
        if where.fallback and where.fallback not in tried and await works(where.fallback):
            return _moved(path, server, where.fallback, pin)
    if refused:
        raise ServerUntrusted("; ".join(refused))
    # Nobody answered at all (the server box still booting at 8:00): start with the pinned server as before
    # TLS, so the app shows its own offline state and reconnects; every connection still checks the pin.
    own = where.given or server
    if own and is_tls(own):
        log.info("no hall server answered yet; starting with %s (CA %s)", own, pin.short)
        return Link(own, pin)
    raise ServerUnavailable(f"no hall server answered ({', '.join(sorted(tried)) or 'no candidate'})")


def _moved(path: Path, old: str, url: str, pin: Pin) -> Link:
    if url != old:
        log.info("the hall server (CA %s) now answers at %s (was %s)", pin.short, url, old or "unknown")
        save_pin(path, url, pin)
    return Link(url, pin)


async def locate_until_found(
    path: Path,
    where: Where,
    policy: TrustPolicy,
    *,
    on_untrusted: Callable[[str], None],
    on_found: Callable[[Link], None],
    retry_s: float = 5.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Link:
    """`locate()` until it finds the server: `on_untrusted(reason)` while only wrong servers answer (the app
    shows "服务器证书不符，请联系管理员"), `on_found(link)` once it has one."""
    while True:
        try:
            link = await locate(path, where, policy, transport=transport)
        except ServerUntrusted as exc:
            on_untrusted(exc.reason)
        except ServerUnavailable as exc:
            log.info("no hall server yet: %s", exc.reason)
        else:
            on_found(link)
            return link
        await sleep(retry_s)
