"""Who the client is: the TCP peer, or — only when the peer is a configured proxy — the address it forwards.

uvicorn trusts `X-Forwarded-For` from 127.0.0.1 by default, so any process on the hall server could claim to
be any address (and spend someone else's login allowance). hallq turns uvicorn's handling off and trusts the
header only from the addresses given with `hallq server --trusted-proxy` (the hall's public gateway, DESIGN.md
§9): the client is then the right-most address in the header that is not itself a trusted proxy, and
`X-Forwarded-Proto: https` marks the request as HTTPS (the session cookie gets `Secure`). The HTTP requests
(`ClientAddress`, in front of the app) and the stream path's handshakes (`TrustedProxies.client`) use the
same rule.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from hallserver.asgi import ASGIApp, HttpMiddleware, Receive, Scope, Send


class TrustedProxies:
    """Addresses (or networks, `10.0.0.0/24`) whose forwarding headers are believed."""

    def __init__(self, addresses: Iterable[str] = ()) -> None:
        self.networks = tuple(ipaddress.ip_network(a.strip(), strict=False) for a in addresses if a.strip())

    def trusted(self, address: str) -> bool:
        if not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The client's address: `peer`, unless `peer` is a trusted proxy that forwarded the request."""
        if not forwarded_for or not self.trusted(peer):
            return peer
        for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
            if not hop:
                continue
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return peer  # a forged or broken header: believe only the proxy itself
            if not self.trusted(hop):
                return hop
        return peer


class ClientAddress(HttpMiddleware):
    """ASGI: put the real client into `scope["client"]` (and the scheme) for requests through a trusted proxy;
    every other request keeps its peer address and the forwarding headers are ignored."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        super().__init__(app)
        self.proxies = proxies

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.proxies.networks:
            peer = scope.get("client") or ("", 0)
            if self.proxies.trusted(peer[0]):
                raw = scope.get("headers", ())
                forwarded = ",".join(v.decode("latin-1") for k, v in raw if k == b"x-forwarded-for")
                proto = [v.decode("latin-1").strip().lower() for k, v in raw if k == b"x-forwarded-proto"]
                scope = dict(scope)
                scope["client"] = (self.proxies.client(peer[0], forwarded), 0)
                if proto and proto[-1] == "https":
                    scope["scheme"] = "https"
        await self.app(scope, receive, send)
