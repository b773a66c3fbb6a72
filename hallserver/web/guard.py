"""What every manager page asks of a request: the session behind the cookie, the CSRF check of a POST, the
form fields, and the answer when nobody is logged in (pages redirect to the login form, JSON answers 401).

Manager pages need the session cookie (HttpOnly, SameSite=Strict); every POST from them needs the session's
CSRF token (form field `csrf` or header `X-CSRF-Token`). See hallserver/web/session.py.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hallserver.auth import Principal
from hallserver.deps import get_hall
from hallserver.errors import ApiError
from hallserver.web import session as ws_session
from hallserver.writectx import Reply


class LoginRequired(Exception):
    """Not logged in: pages redirect to the login form, JSON answers 401."""


async def manager(request: Request) -> tuple[Principal, str, str]:
    """The manager behind the session cookie, the session token and the page's CSRF token."""
    found = await ws_session.manager_from_cookie(request)
    if found is None:
        raise LoginRequired
    p, token = found
    return p, token, ws_session.csrf_for(get_hall(request).store.secret, token)


async def form(request: Request) -> dict[str, str]:
    """An urlencoded form body (no multipart dependency: our forms send only short text fields)."""
    raw = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}


async def checked_post(request: Request) -> tuple[Principal, str, dict[str, str]]:
    """The manager of a POST whose CSRF token matches (form field or header); the form fields."""
    p, token, _csrf = await manager(request)
    ctype = request.headers.get("content-type", "")
    fields = await form(request) if "x-www-form-urlencoded" in ctype else {}
    given = request.headers.get(ws_session.CSRF_HEADER, "") or fields.get(ws_session.CSRF_FIELD, "")
    if not ws_session.csrf_ok(request, token, given):
        raise ApiError(
            403, "csrf", "页面已过期，请刷新后重试", "the page's CSRF token is missing or wrong: reload"
        )
    return p, token, fields


def guard(
    fn: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """A manager route: `LoginRequired` inside becomes the login redirect (pages) or a 401 (JSON, POSTs)."""

    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except LoginRequired:
            if request.url.path.startswith("/web/api/") or request.method != "GET":
                return JSONResponse(
                    {"error": "unauthorized", "message": "请先登录", "message_en": "log in"}, 401
                )
            return RedirectResponse("/web/login", 303)

    wrapped.__name__ = fn.__name__
    return wrapped


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, 303)


def reply_json(reply: Reply) -> Response:
    return Response(reply.text, reply.status, media_type="application/json")


def cookie(request: Request) -> dict[str, Any]:
    """The session cookies' attributes for this request (Secure only when it came over HTTPS)."""
    return ws_session.cookie_args(request.url.scheme == "https")
