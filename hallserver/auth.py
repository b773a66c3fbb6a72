"""Who is calling: station tokens, manager sessions, clerk PINs, failed-login limits.

Tokens are random (`secrets.token_urlsafe(32)`) and stored only as SHA-256: a fast hash is right for 256-bit
random secrets (nothing to brute-force), while PINs and passwords, which people choose, get argon2.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import sqlite3
from collections import deque
from dataclasses import dataclass, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hallcore.clock import Clock
from hallcore.replies import STATION_ROLES, Role
from hallserver.errors import ApiError

__all__ = [  # Role is re-exported: the routes name roles from here
    "ANY_STATION",
    "CODE_ALPHABET",
    "SESSION_HOURS",
    "Principal",
    "Role",
]

SESSION_HOURS = 12
# Enrollment codes avoid 0/O and 1/I/L so they can be read aloud from a kiosk screen.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


ANY_STATION = frozenset(r.value for r in STATION_ROLES)
#: Who may read the hall's live state (`GET /api/snapshot`, the event stream): every station and managers.
HALL_READERS = frozenset({*ANY_STATION, Role.MANAGER.value})


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "station" | "manager"
    id: str  # station id or manager username
    role: str
    token_hash: str
    window: int | None = None
    staff: str = ""  # clerk logged in at this counter station
    name: str = ""

    @property
    def actor(self) -> str:
        """Who did it, for the audit table."""
        if self.kind == "manager":
            return f"manager:{self.id}"
        return f"staff:{self.staff}" if self.staff else f"station:{self.id}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_code(length: int = 6) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


_hasher = PasswordHasher()


def hash_secret(secret: str) -> str:
    """argon2id; slow on purpose (tens of ms): call it off the event loop."""
    return _hasher.hash(secret)


def verify_secret(stored: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """Verified against when the account does not exist, so a wrong name costs as long as a wrong password."""
    return hash_secret("not a real password")


class RateLimiter:
    """At most `limit` failures per key in `window_s`; then refuse until the oldest failure ages out."""

    def __init__(self, clock: Clock, limit: int = 5, window_s: float = 300.0) -> None:
        self.clock = clock
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        cutoff = self.clock.monotonic() - self.window_s
        while q and q[0] <= cutoff:
            q.popleft()
        return q

    def check(self, *keys: str) -> None:
        for key in keys:
            q = self._recent(key)
            if len(q) >= self.limit:
                wait = max(1, int(q[0] + self.window_s - self.clock.monotonic()) + 1)
                raise ApiError(
                    429,
                    "too_many_attempts",
                    f"登录失败次数过多，请 {wait} 秒后再试",
                    f"too many failed logins: try again in {wait} s",
                    {"retry_after_s": wait},
                    headers={"Retry-After": str(wait)},
                )

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._recent(key).append(self.clock.monotonic())

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)


def unauthorized(en: str = "a valid token is needed", zh: str = "需要有效的令牌") -> ApiError:
    return ApiError(401, "unauthorized", zh, en, headers={"WWW-Authenticate": "Bearer"})


def forbidden(role: str, allowed: frozenset[str]) -> ApiError:
    want = ", ".join(sorted(allowed))
    return ApiError(
        403,
        "forbidden",
        f"此操作需要以下角色之一：{want}（当前：{role}）",
        f"this needs one of the roles {want} (you are {role})",
        {"role": role, "allowed": sorted(allowed)},
    )


class Principals:
    """Token → principal, cached; the database is the truth (a cache miss reads it on the read pool)."""

    def __init__(self) -> None:
        self._cache: dict[str, Principal] = {}

    def get(self, token_hash: str) -> Principal | None:
        return self._cache.get(token_hash)

    def put(self, p: Principal) -> None:
        self._cache[p.token_hash] = p

    def forget(self, token_hash: str) -> None:
        self._cache.pop(token_hash, None)

    def update_staff(self, token_hash: str, staff: str, window: int | None) -> None:
        p = self._cache.get(token_hash)
        if p is not None:
            self._cache[token_hash] = replace(p, staff=staff, window=window)


def lookup(conn: sqlite3.Connection, token_hash: str, now: dt.datetime) -> Principal | None:
    """Read a token's principal from the database (approved stations, live manager sessions)."""
    row = conn.execute(
        "SELECT id, role, window, staff, name FROM stations WHERE token_hash = ? AND state = 'approved'",
        (token_hash,),
    ).fetchone()
    if row is not None:
        return Principal("station", row[0], row[1], token_hash, row[2], row[3], row[4])
    row = conn.execute(
        "SELECT username, expires_at FROM sessions WHERE token_hash = ? AND revoked = 0", (token_hash,)
    ).fetchone()
    if row is not None and dt.datetime.fromisoformat(row[1]) > now:
        return Principal("manager", row[0], Role.MANAGER.value, token_hash)
    return None
