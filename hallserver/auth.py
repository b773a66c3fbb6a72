"""Who is calling: station tokens, manager sessions, clerk PINs (failed logins: hallserver/throttle.py).

Tokens are random (`secrets.token_urlsafe(32)`) and stored only as SHA-256: a fast hash is right for 256-bit
random secrets (nothing to brute-force), while PINs and passwords, which people choose, get argon2.

Station tokens are cached (every board and counter request uses one; revoking forgets the cached one). A
manager session is read from the database on every request — its expiry, whether it was ended, whether the
manager is still active —, so `hallq admin deactivate-manager` in another process ends it at once too.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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
    window: int | None = None  # the window its clerk is logged in at
    staff: str = ""  # clerk logged in at this counter station
    name: str = ""
    windows: frozenset[int] = frozenset()  # the windows the station is approved for

    @property
    def actor(self) -> str:
        """Who did it, for the audit table."""
        if self.kind == "manager":
            return f"manager:{self.id}"
        return f"staff:{self.staff}" if self.staff else f"station:{self.id}"


def parse_windows(text: str) -> frozenset[int]:
    """`stations.windows` ("3,4") as numbers."""
    return frozenset(int(w) for w in text.split(",") if w.strip().isdigit())


def format_windows(windows: Iterable[int]) -> str:
    return ",".join(str(w) for w in sorted(set(windows)))


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header's value, or None (the route guard's and the
    hot path's one reading of it)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_code(length: int = 6) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


#: argon2id at the OWASP Password Storage Cheat Sheet's first configuration (19 MiB, 2 passes, 1 lane), not
#: argon2-cffi's default (64 MiB, 3 passes, 4 lanes): every login attempt anyone on the LAN may send costs a
#: verification, and the default's ~180 ms of CPU and 64 MiB each (measured here: 182 ms CPU, 594 ms wall at
#: load 11, against 25 ms and 108 ms) let ten addresses at the public login budget keep both cores busy. A
#: hash keeps its own parameters: those made before verify as they were.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_secret(secret: str) -> str:
    """argon2id; slow on purpose (tens of ms): call it off the event loop."""
    return _hasher.hash(secret)


def rehashed(stored: str, secret: str) -> str | None:
    """`secret` hashed anew when `stored` (which it matched) was made with other parameters than `_hasher`'s,
    else None: a login moves an older, costlier hash to the current parameters (every attempt against that
    account is verified at the stored hash's cost)."""
    try:
        stale = _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        stale = True
    return hash_secret(secret) if stale else None


def verify_secret(stored: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """Verified against when the account does not exist, so a wrong name costs as long as a wrong password."""
    return hash_secret("not a real password")


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
    """Station token → principal, cached; the database is the truth (a cache miss reads it on the read pool).
    Manager sessions are never put here (see the module's docstring)."""

    def __init__(self) -> None:
        self._cache: dict[str, Principal] = {}

    def get(self, token_hash: str) -> Principal | None:
        return self._cache.get(token_hash)

    def put(self, p: Principal) -> None:
        if p.kind == "station":
            self._cache[p.token_hash] = p

    def forget(self, token_hash: str) -> None:
        self._cache.pop(token_hash, None)

    def update_staff(self, token_hash: str, staff: str, window: int | None) -> None:
        p = self._cache.get(token_hash)
        if p is not None:
            self._cache[token_hash] = replace(p, staff=staff, window=window)


def lookup(conn: sqlite3.Connection, token_hash: str, now: dt.datetime) -> Principal | None:
    """Read a token's principal from the database: an approved station, or a session that has not expired
    nor been ended, of a manager who is still active."""
    row = conn.execute(
        "SELECT id, role, window, staff, name, windows FROM stations"
        " WHERE token_hash = ? AND state = 'approved'",
        (token_hash,),
    ).fetchone()
    if row is not None:
        approved = parse_windows(row[5])
        return Principal("station", row[0], row[1], token_hash, row[2], row[3], row[4], approved)
    row = conn.execute(
        "SELECT s.username, s.expires_at FROM sessions s JOIN managers m ON m.username = s.username"
        " WHERE s.token_hash = ? AND s.revoked = 0 AND m.active = 1",
        (token_hash,),
    ).fetchone()
    if row is not None and dt.datetime.fromisoformat(row[1]) > now:
        return Principal("manager", row[0], Role.MANAGER.value, token_hash)
    return None
