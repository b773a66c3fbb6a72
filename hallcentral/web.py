"""The centre's pages and their JSON: login, the overview of every hall in the user's subtree (live over a
WebSocket), a hall's live view, and administration (approving halls, audited).

Every hall-bearing answer goes through `hallcentral.overview`, which filters by the user's region path in
SQL; a hall outside the subtree answers 404 like a hall that does not exist.
"""

# ruff: noqa: E501 - HTML markup reads better on one line than split mid-tag

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.websockets import WebSocketDisconnect

from hallcentral import auth, halls, overview
from hallcentral.auth import COOKIE, User
from hallcentral.service import Central, get_central
from hallweb.html import e, hidden_csrf, layout, table

router = APIRouter(include_in_schema=False)

NAV = (
    ("/overview", "全省/全市总览", "Overview"),
    ("/stats", "统计", "Statistics"),
    ("/rankings", "排名", "Rankings"),
    ("/cases", "超期差评", "Overdue 差评"),
    ("/admin", "管理", "Admin"),
)
LOGIN_CSRF = "hallq_central_login"
COALESCE_S = 0.15


class NotFound(Exception):
    """A hall or region the user may not see, or that does not exist (the same answer: 404, `not_found`)."""


def _page(
    title: str, body: str, user: User | None, central: Central, nav: str = "", scripts: tuple[str, ...] = ()
) -> HTMLResponse:
    csrf = auth.csrf_for(central.secret, user.token_hash) if user else ""
    return HTMLResponse(
        layout(
            title,
            body,
            nav_items=NAV,
            nav=nav if user else "",
            brand=central.config.name,
            logout_action="/logout",
            csrf=csrf,
            scripts=scripts,
        )
    )


async def _user(request: Request) -> User | None:
    central = get_central(request)
    return await auth.user_for(central.pool, request.cookies.get(COOKIE, ""), central.now())


class NotSignedIn(Exception):
    """No live session: raised by `signed_in`, answered by `unauthorized` (the app's handler for it)."""


async def signed_in(request: Request) -> User:
    """The signed-in user of a request: the one check every page, export and JSON answer starts with. Without a
    session it raises `NotSignedIn`, which the app answers with `unauthorized`."""
    user = await _user(request)
    if user is None:
        raise NotSignedIn
    return user


def unauthorized(request: Request, _exc: Exception | None = None) -> Response:
    """401 for the JSON API and for a POST; the login page for a page."""
    if request.url.path.startswith("/api/") or request.method != "GET":
        return JSONResponse({"error": "unauthorized", "message": "请先登录", "message_en": "log in"}, 401)
    return RedirectResponse("/login", 303)


def not_found(_request: Request, _exc: Exception) -> Response:
    """The app's answer to `NotFound`."""
    return JSONResponse({"error": "not_found", "message": "没有这个大厅", "message_en": "no such hall"}, 404)


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}


async def _checked_post(request: Request) -> tuple[User, dict[str, str]]:
    """The user of a POST whose CSRF token matches, with the form; `NotSignedIn` (401) when not allowed."""
    user = await signed_in(request)
    fields = await _form(request)
    given = request.headers.get("x-csrf-token", "") or fields.get("csrf", "")
    want = auth.csrf_for(get_central(request).secret, user.token_hash)
    if not given or not hmac.compare_digest(want, given):
        raise NotSignedIn
    return user, fields


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _json_of(path: str, data: Callable[[Central, User], Awaitable[dict[str, Any]]]) -> None:
    """`GET path`: what a page shows, as JSON, for the signed-in user (`data(central, user)`)."""

    async def answer(request: Request) -> Response:
        user = await signed_in(request)
        return JSONResponse(await data(get_central(request), user))

    router.add_api_route(path, answer, methods=["GET"], name=path.strip("/").replace("/", "_"))


# ---- login -----------------------------------------------------------------------------------------------


@router.get("/")
async def root() -> Response:
    return RedirectResponse("/overview", 303)


@router.get("/healthz")
async def healthz(request: Request) -> Response:
    central = get_central(request)
    async with central.pool.connection() as conn:
        await conn.execute("SELECT 1")
    return JSONResponse({"ok": True})


@router.get("/login")
async def login_page(request: Request, error: str = "") -> Response:
    central = get_central(request)
    token = secrets.token_urlsafe(16)
    msg = f'<p class="badc">{e(error)}</p>' if error else ""
    body = f"""<h1>{e(central.config.name)} · 登录</h1>{msg}
      <form method="post" action="/login" class="card" style="max-width:360px">
        <input type="hidden" name="csrf" value="{e(token)}">
        <label>用户名 / user<br><input name="username" id="username" autocomplete="username" required></label><br>
        <label>密码 / password<br><input name="password" id="password" type="password" autocomplete="current-password" required></label><br><br>
        <button id="login">登录 / Log in</button></form>"""
    resp = _page("登录", body, None, central)
    resp.set_cookie(
        LOGIN_CSRF,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return resp


@router.post("/login")
async def login(request: Request) -> Response:
    central = get_central(request)
    f = await _form(request)
    want = request.cookies.get(LOGIN_CSRF, "")
    if not want or not secrets.compare_digest(want, f.get("csrf", "")):
        return RedirectResponse("/login?error=" + urllib.parse.quote("页面已过期，请重新登录"), 303)
    username, password = f.get("username", ""), f.get("password", "")
    keys = (f"ip:{_client(request)}", f"user:{username}")
    mono = central.clock.monotonic()
    if central.limiter.blocked(mono, *keys):
        return RedirectResponse("/login?error=" + urllib.parse.quote("失败次数过多，请稍后再试"), 303)
    token = await auth.login(central.pool, username, password, central.now())
    if token is None:
        central.limiter.failed(mono, *keys)
        return RedirectResponse("/login?error=" + urllib.parse.quote("用户名或密码错误"), 303)
    central.limiter.succeeded(*keys)
    resp = RedirectResponse("/overview", 303)
    resp.set_cookie(
        COOKIE,
        token,
        max_age=auth.SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    resp.delete_cookie(LOGIN_CSRF, path="/")
    return resp


@router.post("/logout")
async def logout(request: Request) -> Response:
    user, _f = await _checked_post(request)
    central = get_central(request)
    await auth.logout(central.pool, user, central.now())
    resp = RedirectResponse("/login", 303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


# ---- overview --------------------------------------------------------------------------------------------


async def _overview_json(central: Central, user: User) -> dict[str, Any]:
    halls = await overview.overview(
        central.pool, user.region_path, central.now(), central.config.live.offline_after_s
    )
    return {"at": central.now().isoformat(), "user": user.username, "region": user.region_id, "halls": halls}


_json_of("/api/overview", _overview_json)


@router.get("/overview")
async def overview_page(request: Request) -> Response:
    user = await signed_in(request)
    central = get_central(request)
    data = await _overview_json(central, user)
    body = f"""<h1>{e(central.config.name)} · 各大厅实时总览 <span id="conn">连接中…</span>
      <span class="muted" id="age"></span></h1>
      <div id="halls">{_halls_table(data["halls"])}</div>"""
    return _page("各大厅实时总览", body, user, central, nav="/overview", scripts=("central.js",))


def _halls_table(halls: list[dict[str, Any]]) -> str:
    """Server-side first paint; central.js redraws the same table from the WebSocket."""
    rows = []
    for h in halls:
        sat = h["satisfaction_today"]
        rows.append(
            [
                f'<a href="/halls/{urllib.parse.quote(h["hall_id"], safe="")}">{e(h["name"])}</a>',
                e(h["region"]),
                f'<span class="state {"badc" if h["offline"] else "okc"}">{"离线" if h["offline"] else "在线"}</span>',
                f'<span class="num">{h["waiting"]}</span>',
                e("–" if h["longest_wait_min"] is None else f"{h['longest_wait_min']:.0f} 分钟"),
                str(h["open_windows"]),
                e("–" if sat is None else f"{sat:.1%}"),
                str(h["backlog"]),
            ]
        )
    return table(
        ["大厅", "地区", "状态", "等候", "最长等候", "开放窗口", "今日满意率", "待上报"],
        rows,
        row_ids=[f"hall-{h['hall_id']}" for h in halls],
    )


# ---- one hall --------------------------------------------------------------------------------------------


async def _hall_json(central: Central, user: User, hall_id: str) -> dict[str, Any]:
    if not await overview.visible(central.pool, user.region_path, hall_id):
        raise NotFound
    return await overview.hall_live(central.pool, hall_id, central.now(), central.config.live.offline_after_s)


@router.get("/api/halls/{hall_id}")
async def hall_api(request: Request, hall_id: str) -> Response:
    user = await signed_in(request)
    return JSONResponse(await _hall_json(get_central(request), user, hall_id))


@router.get("/api/halls/{hall_id}/days/{day}")
async def hall_day_api(request: Request, hall_id: str, day: str) -> Response:
    import datetime as dt

    user = await signed_in(request)
    central = get_central(request)
    if not await overview.visible(central.pool, user.region_path, hall_id):
        raise NotFound
    try:
        when = dt.date.fromisoformat(day)
    except ValueError:
        return JSONResponse(
            {"error": "bad_day", "message": "日期格式应为 YYYY-MM-DD", "message_en": "day is YYYY-MM-DD"}, 400
        )
    return JSONResponse(await overview.day_counts(central.pool, hall_id, when))


@router.get("/halls/{hall_id}")
async def hall_page(request: Request, hall_id: str) -> Response:
    user = await signed_in(request)
    central = get_central(request)
    data = await _hall_json(central, user, hall_id)
    body = f"""<h1 data-hall="{e(hall_id)}">{e(data["name"])} <span class="muted">{e(data["region"])}</span>
      <span id="conn">连接中…</span> <span class="muted" id="age"></span></h1>
      <p><a href="/overview">← 总览</a></p>
      <div id="hall-state"></div>
      <h2>窗口</h2><div class="grid" id="windows"></div>
      <h2>各队列等候</h2><div id="series"></div>
      <h2>最近叫号</h2><div id="calls"></div>
      <h2>今日</h2><div id="today"></div>"""
    return _page(data["name"], body, user, central, nav="/overview", scripts=("central.js",))


# ---- live ------------------------------------------------------------------------------------------------


async def _ws_user(ws: WebSocket) -> User | None:
    central: Central = ws.app.state.central
    origin = ws.headers.get("origin", "")
    host = ws.headers.get("host", "")
    if origin and urllib.parse.urlsplit(origin).netloc != host:
        return None  # a page of another site cannot open a socket with our cookie
    return await auth.user_for(central.pool, ws.cookies.get(COOKIE, ""), central.now())


async def _live(ws: WebSocket, make: Callable[[], Awaitable[dict[str, Any]]]) -> None:
    """Send `make()` now, then after every change (coalesced) and at least every push_every_s; the session
    is checked before every push, so a revoked or expired session ends the socket (4401) at once."""
    central: Central = ws.app.state.central
    await ws.accept()
    code = 1000
    try:
        while True:
            if await auth.user_for(central.pool, ws.cookies.get(COOKIE, ""), central.now()) is None:
                code = 4401
                break
            await ws.send_text(json.dumps(await make(), ensure_ascii=False))
            await central.hub.wait(central.config.live.push_every_s)
            await asyncio.sleep(COALESCE_S)  # a burst of batches: one read
    except (WebSocketDisconnect, RuntimeError):
        return
    except NotFound:
        code = 4404  # the hall left the user's scope (or was revoked)
    with contextlib.suppress(RuntimeError):
        await ws.close(code=code)


@router.websocket("/ws/overview")
async def overview_ws(ws: WebSocket) -> None:
    user = await _ws_user(ws)
    if user is None:
        await ws.close(code=4401)
        return
    central: Central = ws.app.state.central

    async def make() -> dict[str, Any]:
        return {"kind": "overview", **await _overview_json(central, user)}

    await _live(ws, make)


@router.websocket("/ws/halls/{hall_id}")
async def hall_ws(ws: WebSocket, hall_id: str) -> None:
    user = await _ws_user(ws)
    central: Central = ws.app.state.central
    if user is None or not await overview.visible(central.pool, user.region_path, hall_id):
        await ws.close(code=4404)
        return

    async def make() -> dict[str, Any]:
        return {"kind": "hall", "at": central.now().isoformat(), **await _hall_json(central, user, hall_id)}

    await _live(ws, make)


# ---- administration --------------------------------------------------------------------------------------


async def _admin_data(central: Central, user: User) -> dict[str, Any]:
    scope = overview.scope_param(user.region_path)
    async with central.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT id, name, level, path FROM regions WHERE path LIKE %s ORDER BY path", (scope,)
        )
        regions = [{"id": i, "name": n, "level": lv, "path": p} for i, n, lv, p in await cur.fetchall()]
        # A hall waiting for approval has no region yet: only an administrator of a whole tree (a region
        # with no parent) sees it, so a city's user never learns of another city's hall.
        cur = await conn.execute(
            "SELECT hall_id, name, code, enrolled_at FROM halls WHERE state = 'pending'"
            " AND EXISTS (SELECT 1 FROM regions r WHERE r.id = %s AND r.parent IS NULL) ORDER BY enrolled_at",
            (user.region_id,),
        )
        pending = (
            [
                {"hall_id": h, "name": n, "code": c, "enrolled_at": a.isoformat()}
                for h, n, c, a in await cur.fetchall()
            ]
            if user.admin
            else []
        )
        cur = await conn.execute(
            "SELECT h.hall_id, h.name, r.name, h.state FROM halls h JOIN regions r ON r.id = h.region_id"
            " WHERE r.path LIKE %s ORDER BY r.path, h.name",
            (scope,),
        )
        halls = [{"hall_id": h, "name": n, "region": rn, "state": s} for h, n, rn, s in await cur.fetchall()]
        cur = await conn.execute(
            "SELECT u.username, r.name, u.admin FROM users u JOIN regions r ON r.id = u.region_id"
            " WHERE r.path LIKE %s ORDER BY u.username",
            (scope,),
        )
        users = [{"username": u, "region": rn, "admin": bool(a)} for u, rn, a in await cur.fetchall()]
        await conn.rollback()
    return {"regions": regions, "pending": pending, "halls": halls, "users": users}


_json_of("/api/admin", _admin_data)


@router.get("/admin")
async def admin_page(request: Request) -> Response:
    user = await signed_in(request)
    central = get_central(request)
    d = await _admin_data(central, user)
    csrf = auth.csrf_for(central.secret, user.token_hash)
    options = "".join(f'<option value="{e(r["id"])}">{e(r["name"])}</option>' for r in d["regions"])
    pending = (
        "".join(
            f'<form method="post" action="/admin/halls/{urllib.parse.quote(p["hall_id"], safe="")}/approve" class="card" id="pending-{e(p["hall_id"])}">'
            f"{hidden_csrf(csrf)}<b>{e(p['name'])}</b> ({e(p['hall_id'])}) 登记码 <b>{e(p['code'])}</b> "
            f'<select name="region">{options}</select> <button>核对登记码后批准</button></form>'
            for p in d["pending"]
        )
        or '<p class="muted">没有待批准的大厅</p>'
    )
    halls = table(
        ["大厅", "编号", "地区", "状态"],
        [[e(h["name"]), e(h["hall_id"]), e(h["region"]), e(h["state"])] for h in d["halls"]],
    )
    users = table(
        ["用户", "地区", "管理员"],
        [[e(u["username"]), e(u["region"]), "是" if u["admin"] else ""] for u in d["users"]],
    )
    body = f"<h1>管理</h1><h2>大厅登记申请</h2>{pending}<h2>大厅</h2>{halls}<h2>用户</h2>{users}"
    return _page("管理", body, user, central, nav="/admin")


@router.post("/admin/halls/{hall_id}/approve")
async def approve(request: Request, hall_id: str) -> Response:
    user, f = await _checked_post(request)
    central = get_central(request)
    if not user.admin:
        return JSONResponse(
            {"error": "forbidden", "message": "需要管理员", "message_en": "administrators only"}, 403
        )
    d = await _admin_data(central, user)
    region = f.get("region", "")
    if hall_id not in {p["hall_id"] for p in d["pending"]}:
        raise NotFound
    if region not in {r["id"] for r in d["regions"]}:
        return JSONResponse(
            {
                "error": "bad_region",
                "message": "地区不在您的管辖范围",
                "message_en": "region outside your tree",
            },
            400,
        )
    await approve_hall(central, hall_id, region, user.actor)
    return RedirectResponse("/admin", 303)


async def set_hall_state(central: Central, hall_id: str, action: str, actor: str) -> bool:
    """`halls.set_state`, and the live pages told."""
    if not await halls.set_state(central.pool, central.now(), hall_id, action, actor):
        return False
    central.hub.changed(hall_id)
    return True


async def approve_hall(central: Central, hall_id: str, region: str, actor: str) -> bool:
    """`halls.approve`, and the live pages told."""
    if not await halls.approve(central.pool, central.now(), hall_id, region, actor):
        return False
    central.hub.changed(hall_id)
    return True
