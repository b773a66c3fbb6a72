"""Token buckets on every public endpoint, per client address and for the whole hall (DESIGN.md §9).

Public endpoints answer anyone: the phone status page and its stream, booking, enrollment, the login forms,
health. Each request of one takes a token from its address's bucket and from the hall's; an empty bucket is
429 `too_many_requests` with `Retry-After`, before the handler runs (the WebSocket stream closes with 4429).
Requests with a station's or manager's token go to authenticated endpoints and are not counted here.

Sized for hundreds of phones behind the one address of the hall's Wi-Fi (NAT): a phone page reads its status
on its own ticket's events and at most every 3 s otherwise (static/phone.js), so 500 phones make ~170 reads
a second from one address. The numbers (docs/api.md "Public endpoints"):

| class | what | per address: rate/s, burst | whole hall |
|---|---|---|---|
| read | status, slots, phone and booking pages, scripts, health, enrollment polls | 300, 600 | 3000, 6000 |
| write | book, cancel a booking, rate from the phone, call-back number, enroll | 0.2, 20 | 20, 100 |
| login | manager login (API and page) | 1, 10 | 10, 30 |
| stream | phone event streams opened | 100, 1000 | 1000, 6000 |
| import | a booking partner's signed requests (before the signature is checked) | 20, 200 | 100, 1000 |

Writes are the scalper's tool: 20 at once, then one every 5 s from an address (720 an hour would still be a
lot, so per-person limits by ID number, `[persons]`, and GB 11643 checks stand behind them). Logins have
their own per-account throttle (hallserver/throttle.py); this only bounds the argon2 work anyone can cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hallcore.clock import Clock
from hallserver.asgi import ASGIApp, Receive, Scope, Send
from hallserver.errors import ApiError, retry_later
from hallserver.writectx import dumps


@dataclass(frozen=True, slots=True)
class Bucket:
    rate_s: float  # tokens added per second
    burst: float  # the bucket's size


@dataclass(frozen=True, slots=True)
class Limit:
    per_address: Bucket
    total: Bucket


READ, WRITE, LOGIN, STREAM, IMPORT = "read", "write", "login", "stream", "import"

LIMITS: Mapping[str, Limit] = {
    READ: Limit(Bucket(300, 600), Bucket(3000, 6000)),
    WRITE: Limit(Bucket(0.2, 20), Bucket(20, 100)),
    LOGIN: Limit(Bucket(1, 10), Bucket(10, 30)),
    STREAM: Limit(Bucket(100, 1000), Bucket(1000, 6000)),
    # Before the signature is checked: bounds the HMAC work anyone can cause. A partner also has its own
    # budget after its signature is good (`booking_import.partners.rate_per_s`, hallserver/bookimport.py).
    IMPORT: Limit(Bucket(20, 200), Bucket(100, 1000)),
}

#: Public GET prefixes (and exact paths) that read.
_READ_PREFIXES = ("/api/status/", "/web/api/status/", "/s/", "/book/", "/api/enroll/", "/web/static/")
_READ_PATHS = frozenset(
    {"/api/health", "/api/tls/ca", "/api/booking/slots", "/book", "/web/login", "/openapi.json"}
)


def public_class(method: str, path: str) -> str | None:
    """The limit class of a public request, or None for an endpoint that needs a token (or does not exist)."""
    if method in ("GET", "HEAD"):
        if path in _READ_PATHS or path.startswith(_READ_PREFIXES):
            return READ
        return None
    if method != "POST":
        return None
    if path in ("/api/manager/login", "/web/login"):
        return LOGIN
    if path.startswith("/api/import/"):
        return IMPORT
    if path in ("/api/bookings", "/api/enroll"):
        return WRITE
    if path.startswith("/api/bookings/") and path.endswith("/cancel"):
        return WRITE
    if path.startswith("/web/api/status/") and path.endswith(("/contact", "/rating", "/notify", "/withdraw")):
        return WRITE
    return None


class Buckets:
    """The buckets' levels: `take(cls, address)` spends one token of the address's and the hall's bucket."""

    def __init__(self, clock: Clock, limits: Mapping[str, Limit] | None = None) -> None:
        self.clock = clock
        self.limits = dict(LIMITS if limits is None else limits)
        self._levels: dict[tuple[str, str], tuple[float, float]] = {}  # (class, address|"") -> (tokens, at)
        self.refused = 0

    def _level(self, key: tuple[str, str], bucket: Bucket, now: float) -> float:
        tokens, at = self._levels.get(key, (bucket.burst, now))
        return min(bucket.burst, tokens + (now - at) * bucket.rate_s)

    def take(self, cls: str, address: str) -> float:
        """0.0 when a token was taken from both buckets, else the seconds until one will be there (nothing
        is taken then)."""
        limit = self.limits[cls]
        now = self.clock.monotonic()
        mine, hall = (cls, address), (cls, "")
        have_mine = self._level(mine, limit.per_address, now)
        have_hall = self._level(hall, limit.total, now)
        wait = 0.0
        for have, bucket in ((have_mine, limit.per_address), (have_hall, limit.total)):
            if have < 1.0:
                wait = max(wait, (1.0 - have) / bucket.rate_s)
        if wait > 0:
            self.refused += 1
            return wait
        self._levels[mine] = (have_mine - 1.0, now)
        self._levels[hall] = (have_hall - 1.0, now)
        return 0.0

    def forget_full(self) -> None:
        """Drop addresses whose bucket has filled up again (called now and then, so they do not pile up)."""
        now = self.clock.monotonic()
        for key in list(self._levels):
            cls, address = key
            limit = self.limits[cls]
            bucket = limit.per_address if address else limit.total
            if self._level(key, bucket, now) >= bucket.burst:
                del self._levels[key]


def too_many(wait_s: float) -> ApiError:
    return retry_later(
        "too_many_requests",
        "请求过于频繁，请 {secs} 秒后再试",
        "too many requests: try again in {secs} s",
        wait_s,
    )


class PublicLimits:
    """ASGI: public requests spend tokens (`public_class`) or are answered 429 before the app sees them."""

    def __init__(self, app: ASGIApp, buckets: Buckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        if scope["type"] == "http":
            cls = public_class(scope["method"], scope["path"])
            if cls is not None:
                client = scope.get("client") or ("?", 0)
                wait = self.buckets.take(cls, client[0])
                if wait > 0:
                    err = too_many(wait)
                    body = dumps(err.body()).encode()
                    headers = [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ]
                    headers += [(k.lower().encode(), v.encode()) for k, v in (err.headers or {}).items()]
                    await send({"type": "http.response.start", "status": 429, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)
