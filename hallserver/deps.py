"""Shared route helpers: who is calling (role checks), running a job with idempotency, JSON replies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from hallserver.auth import Principal, Role, bearer_token, forbidden, hash_token, lookup, unauthorized
from hallserver.errors import ApiError
from hallserver.service import HallServer
from hallserver.writectx import Reply, WriteCtx


def get_hall(request: Request) -> HallServer:
    hall: HallServer = request.app.state.hall
    return hall


def bearer(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization", ""))


async def resolve(hall: HallServer, token: str | None) -> Principal | None:
    if not token:
        return None
    th = hash_token(token)
    p = hall.principals.get(th)
    if p is None:
        now = hall.clock.now()

        def read(conn: object) -> Principal | None:
            import sqlite3

            assert isinstance(conn, sqlite3.Connection)
            return lookup(conn, th, now)

        p = await hall.store.read(read)
        if p is not None:
            hall.principals.put(p)
    return p


class RoleGuard:
    """A dependency that returns the caller, or raises 401 (no/bad/revoked token) / 403 (wrong role).
    `allowed` is also what the OpenAPI schema lists as the operation's roles."""

    def __init__(self, allowed: Iterable[Role | str]) -> None:
        self.allowed = frozenset(str(a) for a in allowed)

    async def __call__(self, request: Request) -> Principal:
        hall = get_hall(request)
        token = bearer(request)
        if token is None:
            raise unauthorized("send `Authorization: Bearer <token>`", "请在请求头中提供令牌")
        p = await resolve(hall, token)
        if p is None:
            raise unauthorized("the token is unknown, expired or revoked", "令牌无效、已过期或已被吊销")
        if p.role not in self.allowed:
            raise forbidden(p.role, self.allowed)
        return p


def roles(*allowed: Role | str) -> RoleGuard:
    return RoleGuard(allowed)


# ---- least privilege (DESIGN.md §9): a counter or desk acts for its approved windows, a clerk there --------


def not_approved_for(p: Principal, number: int) -> ApiError:
    approved = sorted(p.windows)
    return ApiError(
        403,
        "window_not_approved",
        f"本站点未获准用于 {number} 号窗口（获准：{'、'.join(map(str, approved)) or '无'}）",
        f"this station is not approved for window {number} (approved: {approved or 'none'})",
        {"window": number, "approved": approved},
    )


def approved_for(p: Principal, number: int) -> None:
    """A station may read or act for window `number` only when approved for it (managers: any window)."""
    if p.kind == "station" and number not in p.windows:
        raise not_approved_for(p, number)


def clerk_at(p: Principal, number: int) -> str:
    """The staff code acting for window `number`: a manager, or the clerk logged in there on a station that is
    approved for it (403 `window_not_approved`, `not_logged_in_here`)."""
    if p.role == Role.MANAGER:
        return p.id
    approved_for(p, number)
    if not p.staff or p.window != number:
        where = f"（当前登录：{p.window} 号窗口）" if p.staff and p.window is not None else ""
        raise ApiError(
            403,
            "not_logged_in_here",
            f"请先以工作人员身份登录 {number} 号窗口{where}",
            f"log a clerk in at window {number} first"
            + (f" (this station is logged in at window {p.window})" if p.staff else ""),
            {"window": number, "station_window": p.window},
        )
    return p.staff


def clerk_window(p: Principal) -> int | None:
    """The window a station's ticket action is for (its clerk's, 403 `not_logged_in_here` when no clerk is
    logged in), or None for a manager (any ticket)."""
    if p.role == Role.MANAGER:
        return None
    if not p.staff or p.window is None or p.window not in p.windows:
        raise ApiError(
            403,
            "not_logged_in_here",
            "请先在本站点登录工作人员",
            "log a clerk in at this station first",
            {"station_window": p.window},
        )
    return p.window


def respond(reply: Reply) -> Response:
    return Response(content=reply.text, status_code=reply.status, media_type="application/json")


async def run_job(
    hall: HallServer,
    request: Request,
    scope: str,
    body: BaseModel | None,
    run: Callable[[WriteCtx], Reply],
) -> Response:
    """Run `run` on the writer; with a `request_id` in `body`, a repeat gets the first 2xx reply back."""
    return respond(await hall.run_request(request.url.path, scope, body, run))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


def require_fields(body: BaseModel, names: Iterable[str], action: str) -> None:
    missing = [n for n in names if getattr(body, n, None) in (None, "")]
    if missing:
        raise ApiError(
            422,
            "missing_field",
            f"{action} 需要字段：{'、'.join(missing)}",
            f"{action} needs the field(s): {', '.join(missing)}",
            {"fields": missing},
        )


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
