"""Manager login and logout (`/web/login`, `/web/logout`): the session cookie, the login form's
double-submit CSRF cookie, the login rate limit shared with `POST /api/manager/login`."""

# ruff: noqa: E501 - HTML markup reads better on one line than split mid-tag

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import sqlite3
import urllib.parse

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hallserver.auth import SESSION_HOURS, dummy_hash, hash_token, new_token, verify_secret
from hallserver.deps import client_ip, get_hall
from hallserver.errors import ApiError
from hallserver.store import Job
from hallserver.web import session as ws_session
from hallserver.web.guard import checked_post, cookie, form, guard, see_other
from hallserver.web.pages import e, page
from hallserver.writectx import Reply, WriteCtx, ok

router = APIRouter(include_in_schema=False)


@router.get("/web")
async def web_root() -> Response:
    return see_other("/web/dashboard")


@router.get("/web/login")
async def login_page(request: Request, error: str = "") -> Response:
    token = ws_session.new_login_csrf()
    hall = get_hall(request)
    msg = f'<p class="badc">{e(error)}</p>' if error else ""
    body = f"""<h1>{e(hall.config.hall.name)} · 大厅管理登录</h1>{msg}
      <form method="post" action="/web/login" class="card" style="max-width:360px">
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
        return see_other("/web/login?error=" + urllib.parse.quote("页面已过期，请重新登录"))
    username, password = f.get("username", ""), f.get("password", "")
    keys = (f"ip:{client_ip(request)}", f"manager:{username}")
    try:
        hall.limiter.check(*keys)
    except ApiError as exc:
        return see_other("/web/login?error=" + urllib.parse.quote(exc.message))

    def read(conn: sqlite3.Connection) -> str | None:
        row = conn.execute(
            "SELECT password_hash FROM managers WHERE username = ? AND active = 1", (username,)
        ).fetchone()
        return str(row[0]) if row else None

    stored = await hall.store.read(read)
    good = await asyncio.to_thread(verify_secret, stored or dummy_hash(), password)
    if stored is None or not good:
        hall.limiter.failed(*keys)
        return see_other("/web/login?error=" + urllib.parse.quote("用户名或密码错误"))
    hall.limiter.succeeded(*keys)
    token = new_token()

    def run(ctx: WriteCtx) -> Reply:
        expires = ctx.now + dt.timedelta(hours=SESSION_HOURS)
        ctx.execute(
            "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?,?,?,?)",
            (hash_token(token), username, ctx.now.isoformat(), expires.isoformat()),
        )
        ctx.audit(f"manager:{username}", "", "web_login", username)
        return ok({})

    await hall.run(Job(run))
    resp = see_other("/web/dashboard")
    resp.set_cookie(ws_session.COOKIE, token, max_age=SESSION_HOURS * 3600, **cookie(request))
    resp.delete_cookie(ws_session.LOGIN_CSRF_COOKIE, path="/")
    return resp


@router.post("/web/logout")
@guard
async def logout(request: Request) -> Response:
    _p, token, _f = await checked_post(request)
    hall = get_hall(request)
    th = hash_token(token)

    def run(ctx: WriteCtx) -> Reply:
        ctx.execute("UPDATE sessions SET revoked = 1 WHERE token_hash = ?", (th,))
        return ok({})

    await hall.run(Job(run))
    hall.principals.forget(th)
    resp = see_other("/web/login")
    resp.delete_cookie(ws_session.COOKIE, path="/")
    return resp
