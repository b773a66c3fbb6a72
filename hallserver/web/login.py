"""Manager login and logout (`/web/login`, `/web/logout`): the session cookie, the login form's
double-submit CSRF cookie, the login throttle shared with `POST /api/manager/login`.

The page shows only its own messages: `?error=` carries a code from `MESSAGES`, never text (a link to the
login page with a made-up "message" would be a phishing page on the hall's own address)."""

# ruff: noqa: E501 - HTML markup reads better on one line than split mid-tag

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hallserver import managers
from hallserver.auth import SESSION_HOURS, hash_token
from hallserver.deps import client_ip, get_hall
from hallserver.errors import ApiError
from hallserver.web import session as ws_session
from hallserver.web.guard import checked_post, cookie, form, guard, see_other
from hallserver.web.pages import e, page

router = APIRouter(include_in_schema=False)

#: `?error=` codes and what the page says for each; anything else shows nothing.
MESSAGES = {
    "bad_login": "用户名或密码错误 / wrong user name or password",
    "too_many_attempts": "登录尝试过于频繁，请稍后再试 / too many attempts: try again later",
    "expired": "页面已过期，请重新登录 / the page expired: log in again",
}


@router.get("/web")
async def web_root() -> Response:
    return see_other("/web/dashboard")


@router.get("/web/login")
async def login_page(request: Request, error: str = "") -> Response:
    token = ws_session.new_login_csrf()
    hall = get_hall(request)
    text = MESSAGES.get(error)
    msg = f'<p class="badc" role="alert" id="error">{e(text)}</p>' if text else ""
    body = f"""<h1>{e(hall.config.hall.name)} · 大厅管理登录</h1>{msg}
      <form method="post" action="/web/login" class="card narrow">
        <input type="hidden" name="csrf" value="{e(token)}">
        <label>用户名 / user<br><input name="username" id="username" autocomplete="username" required></label><br>
        <label>密码 / password<br><input name="password" id="password" type="password"
          autocomplete="current-password" required></label><br><br>
        <button id="login">登录 / Log in</button></form>"""
    resp = HTMLResponse(page("登录", body))
    resp.set_cookie(ws_session.LOGIN_CSRF_COOKIE, token, max_age=3600, **cookie(request))
    return resp


@router.post("/web/login")
async def login(request: Request) -> Response:
    hall = get_hall(request)
    f = await form(request)
    # Login CSRF: the form's token must match the cookie set with the form (double submit).
    want = request.cookies.get(ws_session.LOGIN_CSRF_COOKIE, "")
    if not want or not secrets.compare_digest(want, f.get("csrf", "")):
        return see_other("/web/login?error=expired")
    try:
        token, _stored = await managers.login(
            hall, f.get("username", ""), f.get("password", ""), client_ip(request), audit="web_login"
        )
    except ApiError as exc:
        return see_other("/web/login?error=" + (exc.code if exc.code in MESSAGES else "bad_login"))
    resp = see_other("/web/dashboard")
    resp.set_cookie(ws_session.COOKIE, token, max_age=SESSION_HOURS * 3600, **cookie(request))
    resp.delete_cookie(ws_session.LOGIN_CSRF_COOKIE, path="/")
    return resp


@router.post("/web/logout")
@guard
async def logout(request: Request) -> Response:
    _p, token, _f = await checked_post(request)
    await managers.logout(get_hall(request), hash_token(token))
    resp = see_other("/web/login")
    resp.delete_cookie(ws_session.COOKIE, path="/")
    return resp
