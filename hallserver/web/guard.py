"""What every manager page asks of a request: the session behind the cookie, the CSRF check of a POST, the
form fields, and the answer when nobody is logged in (pages redirect to the login form, JSON answers 401).

Manager pages need the session cookie (HttpOnly, SameSite=Strict); every POST from them needs the session's
CSRF token (form field `csrf` or header `X-CSRF-Token`). See hallserver/web/session.py.

Bad input in a form is the manager's to fix, never a server error: `form_int` and `form_text` refuse a field
with 422 naming it, and `guard` turns every `ApiError` (and a request body model's validation error) into an
error page with its status (JSON for the scripts' `/web/api/` calls).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from hallcore.text import text_problem
from hallserver.auth import Principal
from hallserver.deps import get_hall
from hallserver.errors import ApiError
from hallserver.store import Job
from hallserver.web import session as ws_session
from hallserver.web.pages import e, page
from hallserver.writectx import Reply, WriteCtx, dumps, ok


class LoginRequired(Exception):
    """Not logged in: pages redirect to the login form, JSON answers 401."""


async def manager(request: Request) -> tuple[Principal, str, str]:
    """The manager behind the session cookie, the session token and the page's CSRF token."""
    found = await ws_session.manager_from_cookie(request)
    if found is None:
        raise LoginRequired
    p, token = found
    return p, token, ws_session.csrf_for(get_hall(request).store.secret, token)


async def audit_export(request: Request, what: str, kind: str, **detail: Any) -> None:
    """An export takes the hall's data out of it: who took what, for which span, is audited (安全审计)."""
    found = await ws_session.manager_from_cookie(request)
    actor = found[0].actor if found is not None else "?"

    def run(ctx: WriteCtx) -> Reply:
        ctx.audit(actor, "", "export", f"{what}.{kind}", **detail)
        return ok({})

    reply = await get_hall(request).run(Job(run))
    if reply.status != 200:  # not audited, not exported
        raise ApiError(
            503, "not_audited", "导出未能记入审计日志，请稍后重试", "the export could not be audited"
        )


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
        except ValidationError as exc:
            return error_page(request, invalid_model(exc))
        except ApiError as exc:
            return error_page(request, exc)

    wrapped.__name__ = fn.__name__
    return wrapped


def invalid_model(exc: ValidationError) -> ApiError:
    """A request model built from form fields refused them: 422 naming the first field."""
    first = exc.errors()[0] if exc.errors() else {"loc": ("form",), "msg": "invalid"}
    field = ".".join(str(x) for x in first.get("loc", ())) or "form"
    msg = first.get("msg", "invalid")
    return ApiError(
        422, "invalid_field", f"字段 {field} 有误：{msg}", f"field {field}: {msg}", {"field": field}
    )


def error_page(request: Request, exc: ApiError) -> Response:
    """A refused manager request: JSON for the scripts, for forms a page that says what to fix."""
    if request.url.path.startswith("/web/api/"):
        return Response(dumps(exc.body()), exc.status, exc.headers, media_type="application/json")
    back = "/" + "/".join(request.url.path.split("/")[1:3])  # the page the form was on, e.g. /web/admin
    body = (
        f'<h1>出错了</h1><p class="badc" role="alert" id="error">{e(exc.message)}</p>'
        f'<p class="muted">{e(exc.message_en)}</p>'
    )
    return HTMLResponse(page("出错", f'{body}<p><a href="{e(back)}">返回</a></p>'), exc.status, exc.headers)


def form_int(fields: dict[str, str], name: str, *, required: bool = True) -> int | None:
    """A whole number from a form field (422 naming the field otherwise); None for an empty optional one."""
    raw = fields.get(name, "").strip()
    if not raw and not required:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise ApiError(
            422,
            "invalid_field",
            f"字段 {name} 须为数字",
            f"field {name}: a whole number is needed",
            {"field": name},
        )
    return int(raw)


def path_int(request: Request, name: str) -> int:
    """A number in the path (`/web/admin/roster/{window}`), refused like a form field."""
    return form_int({name: str(request.path_params.get(name, ""))}, name) or 0


def form_text(fields: dict[str, str], name: str, *, max_length: int, required: bool = True) -> str:
    """A line of text from a form field: trimmed, at most `max_length`, no control or format characters."""
    value = fields.get(name, "").strip()
    problem = None
    if required and not value:
        problem = ("必填", "required")
    elif len(value) > max_length:
        problem = (f"最多 {max_length} 个字符", f"at most {max_length} characters")
    elif (bad := text_problem(value)) is not None:
        problem = (bad.zh, bad.en)
    if problem is not None:
        raise ApiError(
            422, "invalid_field", f"字段 {name}：{problem[0]}", f"field {name}: {problem[1]}", {"field": name}
        )
    return value


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, 303)


def reply_json(reply: Reply) -> Response:
    return Response(reply.text, reply.status, media_type="application/json")


def cookie(request: Request) -> dict[str, Any]:
    """The session cookies' attributes for this request (Secure only when it came over HTTPS)."""
    return ws_session.cookie_args(request.url.scheme == "https")
