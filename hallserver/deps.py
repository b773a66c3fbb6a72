"""Shared route helpers: who is calling (role checks), running a job with idempotency, JSON replies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from hallserver.auth import Principal, Role, forbidden, hash_token, lookup, unauthorized
from hallserver.errors import ApiError
from hallserver.service import HallServer
from hallserver.store import Job
from hallserver.writectx import Reply, WriteCtx


def get_hall(request: Request) -> HallServer:
    hall: HallServer = request.app.state.hall
    return hall


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


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
    request_id = getattr(body, "request_id", None) or ""
    fingerprint = ""
    if request_id and body is not None:
        fingerprint = hall.fingerprint(request.url.path, body.model_dump_json(exclude={"request_id"}))
    reply = await hall.run(Job(run, scope, request_id, fingerprint))
    return respond(reply)


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
