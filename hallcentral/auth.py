"""Central users: argon2 passwords (as the hall's managers), session cookies, failed-login limits, audit.

A user belongs to one region and sees its subtree only; `admin` users also approve halls enrolling into
their subtree and see the audit log of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

SESSION_HOURS = 12
COOKIE = "hallq_central"
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password")


@dataclass(frozen=True, slots=True)
class User:
    username: str
    region_id: str
    region_path: str
    admin: bool
    token_hash: str

    @property
    def actor(self) -> str:
        return f"user:{self.username}"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(secret: bytes, token_hash: str) -> str:
    return hmac.new(secret, b"csrf:" + token_hash.encode(), hashlib.sha256).hexdigest()[:32]


class LoginLimiter:
    """At most `limit` failures per key (user, address) in `window_s`; counted before the password check."""

    def __init__(self, limit: int = 5, window_s: float = 300.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._fails: dict[str, deque[float]] = {}

    def blocked(self, now: float, *keys: str) -> bool:
        for k in keys:
            q = self._fails.setdefault(k, deque())
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                return True
        return False

    def failed(self, now: float, *keys: str) -> None:
        for k in keys:
            self._fails.setdefault(k, deque()).append(now)

    def succeeded(self, *keys: str) -> None:
        for k in keys:
            self._fails.pop(k, None)


async def audit(
    conn: AsyncConnection[Any], now: dt.datetime, actor: str, action: str, target: str, detail: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO audit (at, actor, action, target, detail) VALUES (%s, %s, %s, %s, %s)",
        (now, actor, action, target, json.dumps(detail, ensure_ascii=False)),
    )


async def add_user(
    pool: AsyncConnectionPool, username: str, password: str, region: str, admin: bool, now: dt.datetime
) -> None:
    if len(password) < 10:
        raise ValueError("a password has at least 10 characters")
    digest = hash_password(password)
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO users (username, password_hash, region_id, admin, created_at)"
            " VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
            " region_id = EXCLUDED.region_id, admin = EXCLUDED.admin, active = true",
            (username, digest, region, admin, now),
        )
        await audit(conn, now, "cli", "user_set", username, {"region": region, "admin": admin})


async def login(pool: AsyncConnectionPool, username: str, password: str, now: dt.datetime) -> str | None:
    """A new session token, or None (the failure is audited)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT password_hash FROM users WHERE username = %s AND active", (username,)
        )
        row = await cur.fetchone()
        await conn.rollback()
    good = check_password(row[0] if row else None, password)
    async with pool.connection() as conn, conn.transaction():
        if not good:
            await audit(conn, now, f"user:{username}", "login_failed", username, {})
            return None
        token = secrets.token_urlsafe(32)
        await conn.execute(
            "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (%s, %s, %s, %s)",
            (hash_token(token), username, now, now + dt.timedelta(hours=SESSION_HOURS)),
        )
        await audit(conn, now, f"user:{username}", "login", username, {})
        return token


async def user_for(pool: AsyncConnectionPool, token: str, now: dt.datetime) -> User | None:
    """The user of a live session (checked on every request: revocation and expiry take effect at once)."""
    if not token:
        return None
    th = hash_token(token)
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT u.username, u.region_id, r.path, u.admin FROM sessions s"
            " JOIN users u ON u.username = s.username JOIN regions r ON r.id = u.region_id"
            " WHERE s.token_hash = %s AND NOT s.revoked AND s.expires_at > %s AND u.active",
            (th, now),
        )
        row = await cur.fetchone()
        await conn.rollback()
    if row is None:
        return None
    return User(row[0], row[1], row[2], bool(row[3]), th)


async def logout(pool: AsyncConnectionPool, user: User, now: dt.datetime) -> None:
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("UPDATE sessions SET revoked = true WHERE token_hash = %s", (user.token_hash,))
        await audit(conn, now, user.actor, "logout", user.username, {})
