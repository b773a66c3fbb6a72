"""What a station trusts: the hall CA it pinned at enrollment (DESIGN.md §9, docs/install.md).

A station enrolling over TLS fetches the hall CA from the server (`GET /api/tls/ca`, the one request made
without verification: what it learns there is checked by a person, who compares the short fingerprint the
station shows beside its enrollment code with the one on the dashboard). From then on every connection uses
`Pin.context()`: that CA and nothing else, the server's name checked, so another server that answers mDNS
for the hall (or takes over its address) is refused before a token or a PIN is sent.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from hallclient.errors import ServerUnavailable, ServerUntrusted
from hallcore.fingerprint import FingerprintError, ca_fingerprint, short_fingerprint

#: What a station shows when a server's certificate is not its hall's (every app, one text).
UNTRUSTED_TEXT = (
    "服务器证书不符，请联系管理员",
    "The server's certificate does not match: contact the hall manager",
)


@dataclass(frozen=True, slots=True)
class Pin:
    """The hall CA a station trusts: its PEM and SHA-256 fingerprint (kept in the credentials file)."""

    ca_pem: str
    fingerprint: str

    @classmethod
    def of(cls, ca_pem: str) -> Pin:
        """The pin for a CA certificate; `ServerUntrusted` when the text is not a certificate."""
        try:
            return cls(ca_pem, ca_fingerprint(ca_pem))
        except FingerprintError as exc:
            raise ServerUntrusted(f"the hall CA is unreadable: {exc}") from exc

    @property
    def short(self) -> str:
        """The fingerprint people compare (`3F2A-91C0-7B44-E1D8`)."""
        return short_fingerprint(self.fingerprint)

    def context(self) -> ssl.SSLContext:
        """TLS 1.2+ trusting this CA only (no system CAs), the server's name or address checked."""
        if ca_fingerprint(self.ca_pem) != self.fingerprint:  # a credentials file edited by hand
            raise ServerUntrusted(
                "the pinned hall CA does not match its fingerprint: enroll the station again"
            )
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=self.ca_pem)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx


def is_tls(url: str) -> bool:
    return urlsplit(url).scheme in ("https", "wss")


def is_loopback(url: str) -> bool:
    """127.0.0.1, ::1 or localhost: the demo's plain HTTP, which never leaves the machine."""
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def certificate_problem(exc: BaseException) -> str | None:
    """Why the server's certificate was refused, if that is what `exc` (or what caused it) says; else None.

    httpx wraps the `ssl` error in `ConnectError`; websockets raises it as it is."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLCertVerificationError):
            return str(cur.verify_message or cur.reason or cur)
        if isinstance(cur, ssl.SSLError) and "CERTIFICATE" in str(cur).upper():
            return str(cur)
        cur = cur.__cause__ or cur.__context__
    return None


async def fetch_ca(
    url: str, *, timeout: float = 5.0, transport: httpx.AsyncBaseTransport | None = None
) -> Pin:
    """The hall CA a TLS server offers (`GET /api/tls/ca`), checked against the server's own certificate.

    Unverified by necessity (this is how the station learns it): a person compares the fingerprint. The
    server must then pass a verified request with it, so a server whose certificate is not signed by the CA
    it offers is refused here rather than after the manager approved it."""
    base = url.rstrip("/")
    try:
        async with httpx.AsyncClient(verify=False, timeout=timeout, transport=transport) as c:  # noqa: S501
            r = await c.get(f"{base}/api/tls/ca")
    except httpx.HTTPError as exc:
        raise ServerUnavailable(f"{type(exc).__name__} fetching the hall CA from {base}") from exc
    if r.status_code != 200:
        raise ServerUntrusted(
            f"{base} offers no hall CA (status {r.status_code}): is it a hall server over TLS?"
        )
    pin = Pin.of(r.text)
    try:
        async with httpx.AsyncClient(verify=pin.context(), timeout=timeout, transport=transport) as c:
            await c.get(f"{base}/api/health")
    except httpx.HTTPError as exc:
        problem = certificate_problem(exc)
        if problem is not None:
            raise ServerUntrusted(
                f"{base}: its certificate is not signed by the CA it offers ({problem})"
            ) from exc
        raise ServerUnavailable(f"{type(exc).__name__} on {base}") from exc
    return pin
