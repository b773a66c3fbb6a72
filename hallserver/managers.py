"""Manager sessions, one home for the API (`POST /api/manager/login`, `/logout`) and the web pages
(`/web/login`, `/web/logout`): the password check behind the login rate limit, the session row, its end.

A session token is stored hashed in `sessions`, so revoking or expiring one works the same whichever door
it came in by (a bearer token for the API, the HttpOnly cookie for the pages).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

from hallcore import replies
from hallserver.auth import SESSION_HOURS, dummy_hash, hash_token, new_token, verify_secret
from hallserver.errors import ApiError
from hallserver.service import HallServer
from hallserver.store import Job
from hallserver.writectx import Reply, WriteCtx, ok


async def login(
    hall: HallServer, username: str, password: str, ip: str, *, audit: str = ""
) -> tuple[str, Reply]:
    """Check the password (rate-limited per address and per name: `ApiError` 429, or 401 for a wrong name or
    password) and open a session: its token, and the reply of the job that stored it (`ManagerSession`).
    `audit` names the audit action to record with the session, if any."""
    keys = (f"ip:{ip}", f"manager:{username}")
    hall.limiter.check(*keys)

    def read(conn: sqlite3.Connection) -> str | None:
        row = conn.execute(
            "SELECT password_hash FROM managers WHERE username = ? AND active = 1", (username,)
        ).fetchone()
        return str(row[0]) if row else None

    stored = await hall.store.read(read)
    # A missing user costs the same hash as a wrong password: the time does not tell which names exist.
    good = await asyncio.to_thread(verify_secret, stored or dummy_hash(), password)
    if stored is None or not good:
        hall.limiter.failed(*keys)
        raise ApiError(401, "bad_login", "用户名或密码错误", "wrong user name or password")
    hall.limiter.succeeded(*keys)
    token = new_token()

    def run(ctx: WriteCtx) -> Reply:
        expires = ctx.now + dt.timedelta(hours=SESSION_HOURS)
        ctx.execute(
            "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?,?,?,?)",
            (hash_token(token), username, ctx.now.isoformat(), expires.isoformat()),
        )
        if audit:
            ctx.audit(f"manager:{username}", "", audit, username)
        return ok(replies.ManagerSession(token, expires))

    return token, await hall.run(Job(run))


async def logout(hall: HallServer, token_hash: str) -> Reply:
    """End a session: its token stops working at once (the cached principal is forgotten too)."""

    def run(ctx: WriteCtx) -> Reply:
        ctx.execute("UPDATE sessions SET revoked = 1 WHERE token_hash = ?", (token_hash,))
        return ok(replies.Empty())

    reply = await hall.run(Job(run))
    hall.principals.forget(token_hash)
    return reply
