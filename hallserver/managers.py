"""Manager accounts and sessions, one home for the API (`POST /api/manager/login`, `/logout`, `/api/managers`)
and the web pages (`/web/login`, `/web/logout`, `/web/admin`): the password check behind the login throttle,
the session row, its end, and deactivating a manager (which ends every session of theirs at once).

A session token is stored hashed in `sessions`, so revoking or expiring one works the same whichever door
it came in by (a bearer token for the API, the HttpOnly cookie for the pages). Every request reads the session
back from the database (hallserver/auth.py), and the hall closes the event streams a session opened when it
ends (`HallServer.end_streams`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

from hallcore import replies
from hallserver.auth import SESSION_HOURS, dummy_hash, hash_token, new_token, rehashed, verify_secret
from hallserver.errors import ApiError
from hallserver.service import HallServer
from hallserver.store import Job
from hallserver.throttle import login_keys
from hallserver.writectx import Reply, WriteCtx, ok


async def login(
    hall: HallServer, username: str, password: str, ip: str, *, audit: str = ""
) -> tuple[str, Reply]:
    """Check the password (throttled per name and address, per name and per address, counted before the
    check: `ApiError` 429; 401 for a wrong name or password) and open a session: its token, and the reply of
    the job that stored it (`ManagerSession`). `audit` names the audit action to record with the session."""
    keys = login_keys("manager", username, ip)
    hall.logins.attempt(keys)

    def read(conn: sqlite3.Connection) -> str | None:
        row = conn.execute(
            "SELECT password_hash FROM managers WHERE username = ? AND active = 1", (username,)
        ).fetchone()
        return str(row[0]) if row else None

    stored = await hall.store.read(read)
    # A missing user costs the same hash as a wrong password: the time does not tell which names exist.
    good = await asyncio.to_thread(verify_secret, stored or dummy_hash(), password)
    if stored is None or not good:
        await hall.run(failed_login_job("manager", username if stored else "", ip))
        raise ApiError(401, "bad_login", "用户名或密码错误", "wrong user name or password")
    hall.logins.succeeded(keys)
    token = new_token()
    fresh = await asyncio.to_thread(rehashed, stored, password)

    def run(ctx: WriteCtx) -> Reply:
        if fresh is not None:
            ctx.execute("UPDATE managers SET password_hash = ? WHERE username = ?", (fresh, username))
        expires = ctx.now + dt.timedelta(hours=SESSION_HOURS)
        ctx.execute(
            "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?,?,?,?)",
            (hash_token(token), username, ctx.now.isoformat(), expires.isoformat()),
        )
        if audit:
            ctx.audit(f"manager:{username}", "", audit, username, ip=ip)
        return ok(replies.ManagerSession(token, expires))

    return token, await hall.run(Job(run))


def failed_login_job(kind: str, account: str, ip: str) -> Job:
    """Audit a login that failed its check. `account` is "" when no such account exists: what was typed as a
    name is not kept (people type their password into the name field)."""

    def run(ctx: WriteCtx) -> Reply:
        ctx.audit(f"{kind}:{account or '?'}", "", "login_failed", account or "?", ip=ip, kind=kind)
        return ok(replies.Empty())

    return Job(run)


async def logout(hall: HallServer, token_hash: str) -> Reply:
    """End a session: its token stops working at once, and the streams it opened are closed."""

    def run(ctx: WriteCtx) -> Reply:
        row = ctx.execute(
            "SELECT username FROM sessions WHERE token_hash = ? AND revoked = 0", (token_hash,)
        ).fetchone()
        ctx.execute("UPDATE sessions SET revoked = 1 WHERE token_hash = ?", (token_hash,))
        if row is not None:
            ctx.audit(f"manager:{row[0]}", "", "manager_logout", str(row[0]))
        return ok(replies.Empty())

    reply = await hall.run(Job(run))
    hall.end_streams({token_hash})
    return reply


def _accounts(conn: sqlite3.Connection, now: dt.datetime) -> list[replies.ManagerAccount]:
    rows = conn.execute(
        "SELECT m.username, m.active, m.created_at,"
        " (SELECT COUNT(*) FROM sessions s WHERE s.username = m.username AND s.revoked = 0"
        "  AND s.expires_at > ?)"
        " FROM managers m ORDER BY m.username",
        (now.isoformat(),),
    )
    return [replies.ManagerAccount(u, bool(a), dt.datetime.fromisoformat(c), int(n)) for u, a, c, n in rows]


async def accounts(hall: HallServer) -> list[replies.ManagerAccount]:
    now = hall.clock.now()
    return await hall.store.read(lambda conn: _accounts(conn, now))


async def set_active(hall: HallServer, actor: str, username: str, active: bool) -> Reply:
    """Deactivate (or reactivate) a manager. Deactivating ends every session of theirs in the same
    transaction and closes their streams; the last active manager cannot be deactivated (409)."""
    ended: list[str] = []

    def run(ctx: WriteCtx) -> Reply:
        row = ctx.execute("SELECT active FROM managers WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise ApiError(404, "unknown_manager", f"没有管理员 {username}", f"no manager {username!r}")
        if not active and row[0]:
            others = ctx.execute(
                "SELECT COUNT(*) FROM managers WHERE active = 1 AND username != ?", (username,)
            ).fetchone()[0]
            if not others:
                raise ApiError(
                    409,
                    "last_manager",
                    "不能停用最后一个在用的管理员",
                    "the last active manager cannot be deactivated",
                )
            ended.extend(
                r[0]
                for r in ctx.execute(
                    "SELECT token_hash FROM sessions WHERE username = ? AND revoked = 0", (username,)
                )
            )
            ctx.execute("UPDATE sessions SET revoked = 1 WHERE username = ?", (username,))
        ctx.execute("UPDATE managers SET active = ? WHERE username = ?", (int(active), username))
        ctx.audit(actor, "", "enable_manager" if active else "disable_manager", username, sessions=len(ended))
        (acct,) = [a for a in _accounts(ctx.conn, ctx.now) if a.username == username]
        return ok(acct)

    reply = await hall.run(Job(run))
    hall.end_streams(set(ended))
    return reply
