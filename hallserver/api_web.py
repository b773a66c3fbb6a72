"""Web pages and their JSON: manager login, live dashboard (+ its cookie-authenticated event stream),
administration, 差评 cases, the phone status page and booking (docs/web.md).

Manager pages need the session cookie (HttpOnly, SameSite=Strict); every POST from them needs the session's
CSRF token (form field `csrf` or header `X-CSRF-Token`). The phone and booking pages are public: the status
page is reached only with the ticket's unguessable token, a booking only with its code.
"""

# ruff: noqa: E501 - HTML and SVG markup reads better on one line than split mid-tag

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import secrets
import sqlite3
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.requests import cookie_parser

from hallcore.calendar import HallCalendar
from hallcore.codec import encode
from hallcore.engine import Engine
from hallcore.erlang import windows_needed
from hallcore.model import TicketState, WindowState
from hallcore.privacy import mask_phone
from hallserver import api_stations, api_windows, cases
from hallserver.auth import (
    SESSION_HOURS,
    Principal,
    dummy_hash,
    hash_secret,
    hash_token,
    new_token,
    verify_secret,
)
from hallserver.bodies import ApproveIn, RosterIn, WindowIn
from hallserver.deps import client_ip, get_hall, resolve
from hallserver.errors import ApiError
from hallserver.eventlog import make_filter
from hallserver.service import HallServer
from hallserver.store import Job
from hallserver.stream.access import Grant, Refusal
from hallserver.stream.wire import Request as StreamRequest
from hallserver.views import call_events, ticket_status_json
from hallserver.web import session as ws_session
from hallserver.web.pages import e, hidden_csrf, page, table
from hallserver.writectx import Reply, WriteCtx, ok

router = APIRouter(include_in_schema=False)

#: Arrivals are counted over this many minutes for the Erlang C advice.
RATE_WINDOW_MIN = 60


# ---- session helpers -------------------------------------------------------------------------------------


class _Login(Exception):
    """Not logged in: pages redirect to the login form, JSON answers 401."""


async def _manager(request: Request) -> tuple[Principal, str, str]:
    found = await ws_session.manager_from_cookie(request)
    if found is None:
        raise _Login
    p, token = found
    return p, token, ws_session.csrf_for(get_hall(request).store.secret, token)


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (no multipart dependency: our forms send only short text fields)."""
    raw = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}


async def _checked_post(request: Request) -> tuple[Principal, str, dict[str, str]]:
    """The manager of a POST whose CSRF token matches (form field or header); the form fields."""
    p, token, _csrf = await _manager(request)
    ctype = request.headers.get("content-type", "")
    fields = await _form(request) if "x-www-form-urlencoded" in ctype else {}
    given = request.headers.get(ws_session.CSRF_HEADER, "") or fields.get(ws_session.CSRF_FIELD, "")
    if not ws_session.csrf_ok(request, token, given):
        raise ApiError(
            403, "csrf", "页面已过期，请刷新后重试", "the page's CSRF token is missing or wrong: reload"
        )
    return p, token, fields


def _guard(
    fn: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except _Login:
            if request.url.path.startswith("/web/api/") or request.method != "GET":
                return JSONResponse(
                    {"error": "unauthorized", "message": "请先登录", "message_en": "log in"}, 401
                )
            return RedirectResponse("/web/login", 303)

    wrapped.__name__ = fn.__name__
    return wrapped


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, 303)


def _reply_json(reply: Reply) -> Response:
    return Response(reply.text, reply.status, media_type="application/json")


# ---- login -----------------------------------------------------------------------------------------------


@router.get("/web")
async def web_root() -> Response:
    return _see_other("/web/dashboard")


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
    resp.set_cookie(ws_session.LOGIN_CSRF_COOKIE, token, max_age=3600, **_cookie(request))
    return resp


def _cookie(request: Request) -> dict[str, Any]:
    return ws_session.cookie_args(request.url.scheme == "https")


@router.post("/web/login")
async def login(request: Request) -> Response:
    hall = get_hall(request)
    f = await _form(request)
    # Login CSRF: the form's token must match the cookie set with the form (double submit).
    want = request.cookies.get(ws_session.LOGIN_CSRF_COOKIE, "")
    if not want or not secrets.compare_digest(want, f.get("csrf", "")):
        return _see_other("/web/login?error=" + urllib.parse.quote("页面已过期，请重新登录"))
    username, password = f.get("username", ""), f.get("password", "")
    keys = (f"ip:{client_ip(request)}", f"manager:{username}")
    try:
        hall.limiter.check(*keys)
    except ApiError as exc:
        return _see_other("/web/login?error=" + urllib.parse.quote(exc.message))

    def read(conn: sqlite3.Connection) -> str | None:
        row = conn.execute(
            "SELECT password_hash FROM managers WHERE username = ? AND active = 1", (username,)
        ).fetchone()
        return str(row[0]) if row else None

    stored = await hall.store.read(read)
    good = await asyncio.to_thread(verify_secret, stored or dummy_hash(), password)
    if stored is None or not good:
        hall.limiter.failed(*keys)
        return _see_other("/web/login?error=" + urllib.parse.quote("用户名或密码错误"))
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
    resp = _see_other("/web/dashboard")
    resp.set_cookie(ws_session.COOKIE, token, max_age=SESSION_HOURS * 3600, **_cookie(request))
    resp.delete_cookie(ws_session.LOGIN_CSRF_COOKIE, path="/")
    return resp


@router.post("/web/logout")
@_guard
async def logout(request: Request) -> Response:
    p, token, _f = await _checked_post(request)
    hall = get_hall(request)
    th = hash_token(token)

    def run(ctx: WriteCtx) -> Reply:
        ctx.execute("UPDATE sessions SET revoked = 1 WHERE token_hash = ?", (th,))
        return ok({})

    await hall.run(Job(run))
    hall.principals.forget(th)
    resp = _see_other("/web/login")
    resp.delete_cookie(ws_session.COOKIE, path="/")
    _ = p
    return resp


# ---- dashboard -------------------------------------------------------------------------------------------


def dashboard_state(engine: Engine, now: dt.datetime) -> dict[str, Any]:
    """Windows, waiting per series with the longest wait and the estimate, alerts with Erlang C advice."""
    cfg = engine.config
    windows = []
    open_for: dict[str, int] = {s.prefix: 0 for s in cfg.series}
    for w in cfg.windows:
        v = engine.window_view(w.number)
        rt = engine.windows[w.number]
        paused_min = (
            (now - rt.paused_at).total_seconds() / 60
            if rt.state is WindowState.PAUSED and rt.paused_at
            else None
        )
        if rt.state is WindowState.OPEN:
            for prefix in {*w.series, *(x for p in rt.taken_over for x in cfg.window_by_number[p].series)}:
                if prefix in open_for:
                    open_for[prefix] += 1
        windows.append({**encode(v), "partner": w.partner, "paused_min": paused_min})
    oldest: dict[str, dt.datetime] = {}
    arrivals: dict[str, int] = {}
    since = now - dt.timedelta(minutes=RATE_WINDOW_MIN)
    for t in engine.tickets.values():
        if t.state is TicketState.WAITING and (t.series not in oldest or t.since < oldest[t.series]):
            oldest[t.series] = t.since
        if t.issued_at >= since and t.state is not TicketState.VOIDED:
            arrivals[t.series] = arrivals.get(t.series, 0) + 1
    series = []
    alerts = []
    for s in cfg.series:
        waiting = engine.waiting_count(s.prefix)
        longest = (now - oldest[s.prefix]).total_seconds() / 60 if s.prefix in oldest else 0.0
        est = engine.estimate_for(s.prefix, waiting)
        handle = engine.handle_times.mean(s.prefix)
        rate = arrivals.get(s.prefix, 0) / RATE_WINDOW_MIN
        advice = windows_needed(rate, handle, s.target_wait_min)
        row = {
            "prefix": s.prefix,
            "name": s.name,
            "waiting": waiting,
            "longest_min": round(longest, 1),
            "estimate": None if est.no_window_open else [est.low_min, est.high_min],
            "target_min": s.target_wait_min,
            "open_windows": open_for[s.prefix],
            "arrivals_per_hour": arrivals.get(s.prefix, 0),
            "handle_min": round(handle, 1),
            "needed_windows": advice.windows,
            "alert": waiting > 0 and longest > s.target_wait_min,
        }
        series.append(row)
        if row["alert"]:
            alerts.append(
                {
                    "prefix": s.prefix,
                    "text": f"{s.name}（{s.prefix}）最长已等 {longest:.0f} 分钟，超过目标 {s.target_wait_min} 分钟；"
                    f"按近 {RATE_WINDOW_MIN} 分钟到达 {arrivals.get(s.prefix, 0)} 人、平均办理 {handle:.1f} 分钟，"
                    f"Erlang C 建议开 {advice.windows} 个窗口（现开 {open_for[s.prefix]} 个）",
                    "needed": advice.windows,
                    "open": open_for[s.prefix],
                }
            )
    return {"at": now.isoformat(), "windows": windows, "series": series, "alerts": alerts}


async def _dashboard_json(request: Request) -> dict[str, Any]:
    hall = get_hall(request)
    now = hall.clock.now()
    state = await hall.store.engine_read(lambda eng: dashboard_state(eng, now))

    def read(conn: sqlite3.Connection) -> dict[str, Any]:
        staff = dict(conn.execute("SELECT code, name FROM staff").fetchall())
        devices = [
            {"station": s, "station_name": n or s, "device": d, "health": h, "reason": r, "at": at}
            for s, d, h, r, at, n in conn.execute(
                "SELECT h.station, h.device, h.health, h.reason, h.at, s.name FROM device_health h"
                " LEFT JOIN stations s ON s.id = h.station ORDER BY h.health = 'ok', h.station, h.device"
            )
        ]
        pending = [
            {"station_id": i, "name": n, "role": r, "code": c, "created_at": at, "ip": ip}
            for i, n, r, c, at, ip in conn.execute(
                "SELECT id, name, role, code, created_at, ip FROM stations WHERE state = 'pending'"
                " ORDER BY created_at"
            )
        ]
        stations = [
            {"station_id": i, "name": n, "role": r, "window": w, "staff": st}
            for i, n, r, w, st in conn.execute(
                "SELECT id, name, role, window, staff FROM stations WHERE state = 'approved' ORDER BY role, name"
            )
        ]
        return {"staff": staff, "devices": devices, "pending": pending, "stations": stations}

    extra = await hall.store.read(read)
    for w in state["windows"]:
        w["staff_name"] = extra["staff"].get(w["staff"], w["staff"])
    web = getattr(request.app.state, "web", None)
    upload = web.uploader.state.as_json() if web is not None else None
    shipper = getattr(request.app.state, "shipper", None)
    return {
        **state,
        **{k: v for k, v in extra.items() if k != "staff"},
        "upload": upload,
        "central": shipper.snapshot() if shipper is not None else None,
        "seq": hall.hub.last_seq,
    }


@router.get("/web/api/dashboard")
@_guard
async def dashboard_api(request: Request) -> Response:
    await _manager(request)
    return JSONResponse(await _dashboard_json(request))


@router.get("/web/dashboard")
@_guard
async def dashboard_page(request: Request) -> Response:
    _p, _t, csrf = await _manager(request)
    hall = get_hall(request)
    body = f"""<h1>{e(hall.config.hall.name)} · 实时看板 <span id="conn">连接中…</span>
      <span class="muted" id="age"></span></h1>
      <div id="alerts"></div>
      <h2>窗口</h2><div class="grid" id="windows"></div>
      <h2>各队列等候</h2><div id="series"></div>
      <div class="cards"><div class="card" style="flex:1"><h2>设备状态</h2><div id="devices"></div></div>
      <div class="card" style="flex:1"><h2>站点注册申请</h2><div id="pending"></div>
      <h2>好差评上传</h2><div id="upload"></div>
      <h2>上报中心</h2><div id="central"></div></div></div>"""
    return HTMLResponse(page("实时看板", body, nav="/web/dashboard", csrf=csrf, scripts=["dashboard.js"]))


def web_events(hall: HallServer, req: StreamRequest) -> Grant | Refusal | Awaitable[Grant | Refusal]:
    """`/web/events`, the dashboard's live feed: every hall event, authenticated by the session cookie (which
    a page script cannot read, so it cannot use `?auth=` on `/events`). Served by the stream path
    (hallserver/stream) like `/events`: a `hello` with the current seq, then live events."""
    token = cookie_parser(req.header("cookie")).get(ws_session.COOKIE, "")

    def check(p: Principal | None) -> Grant | Refusal:
        if p is None or p.role != "manager":
            return Refusal(4401, "log in first")
        return Grant(make_filter(hall.config), hello=True)

    if not token:
        return check(None)
    cached = hall.principals.get(hash_token(token))
    if cached is not None:
        return check(cached)

    async def resolved() -> Grant | Refusal:
        return check(await resolve(hall, token))

    return resolved()


@router.post("/web/api/stations/{station_id}/{action}")
@_guard
async def station_action(request: Request) -> Response:
    p, _t, f = await _checked_post(request)
    sid = request.path_params["station_id"]
    action = request.path_params["action"]
    if action == "approve":
        body = json.loads(await request.body() or b"{}") if not f else {}
        window = body.get("window") if isinstance(body, dict) else None
        return await api_stations.approve_station(sid, ApproveIn(window=window), request, p)
    if action == "revoke":
        return await api_stations.revoke_station(sid, request, p)
    raise ApiError(404, "unknown_action", "没有这个操作", f"unknown station action {action!r}")


# ---- administration ---------------------------------------------------------------------------------------


@router.get("/web/admin")
@_guard
async def admin_page(request: Request) -> Response:
    _p, _t, csrf = await _manager(request)
    hall = get_hall(request)
    cfg = hall.config

    def read(conn: sqlite3.Connection) -> dict[str, Any]:
        return {
            "staff": conn.execute(
                "SELECT code, name, active, created_at FROM staff ORDER BY code"
            ).fetchall(),
            "roster": conn.execute("SELECT window, staff FROM roster ORDER BY window, staff").fetchall(),
            "stations": conn.execute(
                "SELECT id, name, role, state, code, window, staff, created_at FROM stations ORDER BY created_at"
            ).fetchall(),
        }

    data = await hall.store.read(read)
    views = await hall.store.engine_read(lambda eng: {w.number: eng.windows[w.number] for w in cfg.windows})
    h = hidden_csrf(csrf)
    staff_rows = []
    for code, name, active, _created in data["staff"]:
        toggle = "停用" if active else "启用"
        staff_rows.append(
            (
                e(code),
                e(name),
                '<span class="okc">在用</span>' if active else '<span class="muted">已停用</span>',
                (
                    f'<form method="post" action="/web/admin/clerks/{e(code)}/active" class="inline">{h}'
                    f'<input type="hidden" name="active" value="{0 if active else 1}"><button>{toggle}</button></form> '
                    f'<form method="post" action="/web/admin/clerks/{e(code)}/pin" class="inline">{h}'
                    f'<input name="pin" placeholder="新 PIN" size="8" pattern="[0-9]{{4,12}}" required>'
                    "<button>重置 PIN</button></form>"
                ),
            )
        )
    roster: dict[int, list[str]] = {}
    for w, s in data["roster"]:
        roster.setdefault(int(w), []).append(s)
    win_rows = []
    for w in cfg.windows:
        rt = views[w.number]
        partner = f"{w.partner} 号" if w.partner else "–"
        ab = ""
        if w.partner:
            if w.partner in rt.taken_over:
                ab = (
                    f'<form method="post" action="/web/admin/windows/{w.number}/end-takeover" class="inline">{h}'
                    f'<input type="hidden" name="partner" value="{w.partner}"><button>结束顶岗</button></form>'
                )
            else:
                ab = (
                    f'<form method="post" action="/web/admin/windows/{w.number}/takeover" class="inline">{h}'
                    f'<input type="hidden" name="partner" value="{w.partner}"><button>顶 {w.partner} 号岗</button></form>'
                )
        win_rows.append(
            (
                f"{w.number}",
                e(w.name),
                e("、".join(w.series)),
                partner,
                ab,
                (
                    f'<form method="post" action="/web/admin/roster/{w.number}" class="inline">{h}'
                    f'<input name="staff" value="{e(" ".join(roster.get(w.number, [])))}" size="18" '
                    'placeholder="工号，空格分隔（空=任何人）"><button>保存排班</button></form>'
                ),
            )
        )
    st_rows = []
    for sid, name, role, state, code, window, staff, created in data["stations"]:
        act = ""
        if state == "pending":
            act = (
                f'<form method="post" action="/web/admin/stations/{e(sid)}/approve" class="inline">{h}'
                '<input name="window" size="4" placeholder="窗口"><button>批准</button></form>'
            )
        if state != "revoked":
            act += (
                f' <form method="post" action="/web/admin/stations/{e(sid)}/revoke" class="inline">{h}'
                "<button>吊销</button></form>"
            )
        st_rows.append(
            (
                e(name),
                e(role),
                e(state),
                e(code if state == "pending" else ""),
                e(window or ""),
                e(staff),
                e(created[:16]),
                act,
            )
        )
    body = (
        "<h1>管理</h1><h2>工作人员</h2>"
        + table(("工号", "姓名", "状态", "操作"), staff_rows)
        + f"""<form method="post" action="/web/admin/clerks" class="card">{h}
           添加：<input name="code" placeholder="工号" required size="8"> <input name="name" placeholder="姓名" required size="8">
           <input name="pin" placeholder="PIN（4–12 位数字）" pattern="[0-9]{{4,12}}" required size="12"><button>添加</button></form>"""
        + "<h2>窗口排班与 A/B 岗</h2>"
        + table(("窗口", "名称", "队列", "B 岗", "顶岗", "排班"), win_rows)
        + "<h2>站点</h2>"
        + table(("名称", "角色", "状态", "注册码", "窗口", "登录工号", "申请时间", "操作"), st_rows)
    )
    return HTMLResponse(page("管理", body, nav="/web/admin", csrf=csrf))


def _admin_error(exc: ApiError) -> Response:
    return HTMLResponse(
        page("出错", f'<p class="badc">{e(exc.message)}</p><p><a href="/web/admin">返回</a></p>'), exc.status
    )


@router.post("/web/admin/clerks")
@_guard
async def add_clerk(request: Request) -> Response:
    p, _t, f = await _checked_post(request)
    code, name, pin = f.get("code", "").strip(), f.get("name", "").strip(), f.get("pin", "")
    if not code or not name or not (pin.isdigit() and 4 <= len(pin) <= 12):
        return _admin_error(ApiError(422, "invalid_field", "工号、姓名必填，PIN 为 4–12 位数字", "bad clerk"))
    pin_hash = await asyncio.to_thread(hash_secret, pin)

    def run(ctx: WriteCtx) -> Reply:
        if ctx.execute("SELECT 1 FROM staff WHERE code = ?", (code,)).fetchone():
            raise ApiError(409, "exists", f"工号 {code} 已存在", f"staff {code} exists")
        ctx.execute(
            "INSERT INTO staff (code, name, pin_hash, created_at) VALUES (?,?,?,?)",
            (code, name, pin_hash, ctx.now.isoformat()),
        )
        ctx.audit(p.actor, "", "add_clerk", code, name=name)
        return ok({})

    return await _admin_job(request, run)


async def _admin_job(request: Request, run: Callable[[WriteCtx], Reply]) -> Response:
    reply = await get_hall(request).run(Job(run))
    if reply.status >= 400:
        body = json.loads(reply.text)
        return _admin_error(ApiError(reply.status, body["error"], body["message"], body["message_en"]))
    return _see_other("/web/admin")


@router.post("/web/admin/clerks/{code}/active")
@_guard
async def clerk_active(request: Request) -> Response:
    p, _t, f = await _checked_post(request)
    code = request.path_params["code"]
    active = 1 if f.get("active") == "1" else 0
    hall = get_hall(request)
    logged_out: list[str] = []

    def run(ctx: WriteCtx) -> Reply:
        if ctx.execute("UPDATE staff SET active = ? WHERE code = ?", (active, code)).rowcount == 0:
            raise ApiError(404, "unknown_staff", f"没有工作人员 {code}", f"no staff {code}")
        if not active:
            # A disabled clerk is logged out of every counter at once.
            for (th,) in ctx.execute("SELECT token_hash FROM stations WHERE staff = ?", (code,)).fetchall():
                logged_out.append(th)
            ctx.execute("UPDATE stations SET staff = '' WHERE staff = ?", (code,))
        ctx.audit(p.actor, "", "enable_clerk" if active else "disable_clerk", code)
        return ok({})

    resp = await _admin_job(request, run)
    for th in logged_out:
        if th:
            hall.principals.forget(th)
    return resp


@router.post("/web/admin/clerks/{code}/pin")
@_guard
async def clerk_pin(request: Request) -> Response:
    p, _t, f = await _checked_post(request)
    code, pin = request.path_params["code"], f.get("pin", "")
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        return _admin_error(ApiError(422, "invalid_field", "PIN 为 4–12 位数字", "a PIN is 4 to 12 digits"))
    pin_hash = await asyncio.to_thread(hash_secret, pin)

    def run(ctx: WriteCtx) -> Reply:
        if ctx.execute("UPDATE staff SET pin_hash = ? WHERE code = ?", (pin_hash, code)).rowcount == 0:
            raise ApiError(404, "unknown_staff", f"没有工作人员 {code}", f"no staff {code}")
        ctx.audit(p.actor, "", "reset_pin", code)
        return ok({})

    return await _admin_job(request, run)


@router.post("/web/admin/roster/{window}")
@_guard
async def roster(request: Request) -> Response:
    p, _t, f = await _checked_post(request)
    staff = [s for s in f.get("staff", "").replace(",", " ").replace("，", " ").split() if s]
    try:
        reply = await api_stations.set_roster(
            int(request.path_params["window"]), RosterIn(staff=staff), request, p
        )
    except ApiError as exc:
        return _admin_error(exc)
    if reply.status_code >= 400:
        body = json.loads(bytes(reply.body))
        return _admin_error(ApiError(reply.status_code, body["error"], body["message"], body["message_en"]))
    return _see_other("/web/admin")


@router.post("/web/admin/windows/{window}/{action}")
@_guard
async def takeover(request: Request) -> Response:
    p, _t, f = await _checked_post(request)
    action = request.path_params["action"]
    if action not in ("takeover", "end-takeover"):
        return _admin_error(ApiError(404, "unknown_action", "没有这个操作", "unknown action"))
    body = WindowIn(request_id=uuid.uuid4().hex, partner=int(f.get("partner", "0") or 0))
    try:
        reply = await api_windows.window_action(int(request.path_params["window"]), action, body, request, p)
    except ApiError as exc:
        return _admin_error(exc)
    if reply.status_code >= 400:
        b = json.loads(bytes(reply.body))
        return _admin_error(ApiError(reply.status_code, b["error"], b["message"], b["message_en"]))
    return _see_other("/web/admin")


@router.post("/web/admin/stations/{station_id}/{action}")
@_guard
async def admin_station(request: Request) -> Response:
    p, _t, f = await _checked_post(request)
    sid, action = request.path_params["station_id"], request.path_params["action"]
    try:
        if action == "approve":
            w = f.get("window", "").strip()
            reply = await api_stations.approve_station(
                sid, ApproveIn(window=int(w) if w else None), request, p
            )
        elif action == "revoke":
            reply = await api_stations.revoke_station(sid, request, p)
        else:
            raise ApiError(404, "unknown_action", "没有这个操作", "unknown action")
    except (ApiError, ValueError) as exc:
        return _admin_error(
            exc if isinstance(exc, ApiError) else ApiError(422, "invalid_field", "窗口号有误", "bad window")
        )
    if reply.status_code >= 400:
        b = json.loads(bytes(reply.body))
        return _admin_error(ApiError(reply.status_code, b["error"], b["message"], b["message_en"]))
    return _see_other("/web/admin")


# ---- 差评 cases ----------------------------------------------------------------------------------------------


@router.get("/web/cases")
@_guard
async def cases_page(request: Request) -> Response:
    _p, _t, csrf = await _manager(request)
    hall = get_hall(request)
    today = HallCalendar(hall.config.hall).business_day(hall.clock.now())
    lines = await hall.store.read(lambda conn: cases.list_cases(conn, hall.config, today))
    h = hidden_csrf(csrf)
    rows = []
    ids = []
    for c in lines:
        clock = (
            "已办结"
            if c.closed_at
            else (
                f'<span class="badc">超期 {-c.days_left} 个工作日</span>'
                if c.overdue
                else f"剩 {c.days_left} 个工作日"
            )
        )
        steps = "<br>".join(f"{e(s['at'][:16])} {e(s['action_zh'])}：{e(s['note'])}" for s in c.steps) or "–"
        # Closed cases keep the form: the rater may appeal (申诉) a closed case.
        options = "".join(f'<option value="{a}">{z}</option>' for a, z in cases.ACTIONS_ZH.items())
        form = (
            f'<form method="post" action="/web/cases/{e(c.id)}/step" class="inline step">{h}'
            f'<select name="action">{options}</select> <input name="note" placeholder="处理记录" required size="18">'
            "<button>记录</button></form>"
        )
        rows.append(
            (
                e(c.label),
                f"{c.score} {e(c.score_name)}",
                e(c.matter_name),
                f"{c.window} 号",
                e(c.due.isoformat()),
                clock,
                f'<span class="state">{e(c.state)}</span>',
                e(c.phone_masked or "匿名"),
                steps,
                form,
            )
        )
        ids.append(f"case-{c.label}")
    over = sum(1 for c in lines if c.overdue and not c.closed_at)
    body = (
        f"<h1>差评整改 <span class='muted'>共 {len(lines)} 件，超期未办结 {over} 件</span></h1>"
        f"<p class='muted'>期限按 {hall.config.rating.case_deadline_days} 个工作日计（大厅节假日不计）。</p>"
        + table(
            ("票号", "评价", "事项", "窗口", "期限", "剩余", "状态", "回访电话", "处理记录", "处理"),
            rows,
            cls="cases",
            row_ids=ids,
        )
    )
    html = page("差评整改", body, nav="/web/cases", csrf=csrf)
    # Overdue rows are highlighted: mark them by id after building (keeps `table` generic).
    for c in lines:
        if c.overdue and not c.closed_at:
            html = html.replace(
                f'<tr id="case-{e(c.label)}">', f'<tr id="case-{e(c.label)}" class="overdue">'
            )
        elif not c.closed_at and c.days_left <= 1:
            html = html.replace(
                f'<tr id="case-{e(c.label)}">', f'<tr id="case-{e(c.label)}" class="due-soon">'
            )
    return HTMLResponse(html)


@router.post("/web/cases/{case_id:path}/step")
@_guard
async def case_step(request: Request) -> Response:
    p, _t, f = await _checked_post(request)
    hall = get_hall(request)
    try:
        job = cases.step_job(request.path_params["case_id"], f.get("action", ""), f.get("note", ""), p.actor)
    except ApiError as exc:
        return HTMLResponse(
            page("出错", f'<p class="badc">{e(exc.message)}</p><a href="/web/cases">返回</a>'), exc.status
        )
    reply = await hall.run(job)
    if reply.status >= 400:
        b = json.loads(reply.text)
        return HTMLResponse(
            page("出错", f'<p class="badc">{e(b["message"])}</p><a href="/web/cases">返回</a>'), reply.status
        )
    return _see_other("/web/cases")


# ---- phone status page ------------------------------------------------------------------------------------


def _ahead_reasons(engine: Engine, ticket_id: str) -> dict[str, int]:
    """Who is ahead without having been there when this ticket was taken (people ahead can grow):
    priority arrivals, transfers (keeping their original time) and returning no-shows."""
    t = engine.tickets.get(ticket_id)
    if t is None or t.state is not TicketState.WAITING:
        return {}
    out = {"priority": 0, "transfer": 0, "requeue": 0}
    for o in engine.tickets.values():
        if o.id == t.id or o.state is not TicketState.WAITING or o.series != t.series:
            continue
        if o.priority and o.issued_at >= t.issued_at:
            out["priority"] += 1
        elif o.transfers and o.issued_at < t.issued_at:
            out["transfer"] += 1
        elif o.requeues:
            out["requeue"] += 1
    return out


@router.get("/web/api/status/{token}")
async def status_api(token: str, request: Request) -> Response:
    """The phone page's data: the public status plus why people ahead may have grown."""
    hall = get_hall(request)
    if len(token) < 16:
        raise ApiError(404, "not_found", "找不到这张票", "no ticket for this token")
    now = hall.clock.now()
    calls = call_events(hall.calls_now())

    def read(engine: Engine) -> dict[str, Any] | None:
        tid = hall.store.tokens.get(token)
        t = engine.tickets.get(tid) if tid else None
        if t is None:
            return None
        body = ticket_status_json(engine, t, now, calls)
        body["ahead_reasons"] = _ahead_reasons(engine, t.id)
        body["case"] = f"C-{t.id}" in engine.cases
        body["rated"] = t.rated
        return body

    body = await hall.store.engine_read(read)
    if body is None:
        raise ApiError(
            404, "not_found", "找不到这张票（可能已过期）", "no ticket for this token (it may be old)"
        )
    return JSONResponse(body)


@router.post("/web/api/status/{token}/contact")
async def status_contact(token: str, request: Request) -> Response:
    """A 差评 rater leaves a phone number for the call-back, with consent (public: the token is the key)."""
    hall = get_hall(request)
    tid = hall.store.tokens.get(token) if len(token) >= 16 else None
    if not tid:
        raise ApiError(404, "not_found", "找不到这张票", "no ticket for this token")
    try:
        data = json.loads(await request.body())
    except json.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", "请求体不是 JSON", "the body is not JSON") from exc
    if not isinstance(data, dict) or data.get("consent") is not True:
        raise ApiError(422, "consent_required", "请勾选同意回访", "tick the consent box to be called back")
    reply = await hall.run(cases.contact_job(tid, str(data.get("phone", "")), "phone"))
    return _reply_json(reply)


@router.get("/s/{token}")
async def phone_page(
    token: str,  # noqa: ARG001 - the page's script reads the token from the URL
    request: Request,
    lang: Annotated[str, Query()] = "zh",
) -> Response:
    """The page behind the ticket's QR code (360 px wide and up; zh/en)."""
    hall = get_hall(request)
    en = lang == "en"
    name = hall.config.hall.name_en if en and hall.config.hall.name_en else hall.config.hall.name
    other = "中文" if en else "English"
    body = f"""<a class="lang" href="?lang={"zh" if en else "en"}">{other}</a>
      <div class="muted">{e(name)}</div>
      <div id="turn" class="turn" hidden></div>
      <div class="big" id="label">…</div><div id="matter"></div>
      <div class="row"><span data-t="ahead"></span><b id="ahead">–</b></div>
      <div class="row"><span data-t="estimate"></span><b id="estimate">–</b></div>
      <div class="row"><span data-t="state"></span><b id="state">–</b></div>
      <div id="why" class="note" hidden></div>
      <div id="missing" class="note" hidden></div>
      <h2 data-t="calls"></h2><div id="calls"></div>
      <div id="contact" hidden><h2 data-t="contact_h"></h2><p data-t="contact_p"></p>
        <input id="phone" inputmode="tel" maxlength="11" placeholder="13800000000">
        <label><input type="checkbox" id="consent" style="width:auto;min-height:0"> <span data-t="consent"></span></label>
        <button id="send" data-t="send"></button><p id="sent"></p></div>
      <p class="muted"><span id="conn"></span> <span id="age"></span></p>"""
    return HTMLResponse(
        page(
            "排队进度" if not en else "Queue status",
            body,
            scripts=["phone.js"],
            lang=lang,
            body_class="phone",
        ),
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


# ---- booking ----------------------------------------------------------------------------------------------


@router.get("/book")
async def booking_page(request: Request, lang: Annotated[str, Query()] = "zh") -> Response:
    hall = get_hall(request)
    cfg = hall.config
    cal = HallCalendar(cfg.hall)
    today = cal.business_day(hall.clock.now())
    en = lang == "en"
    days = []
    for i in range(cfg.booking.days_ahead + 1):
        d = today + dt.timedelta(days=i)
        hours = cal.hours_on(d)
        if hours is None:
            continue
        wd = "一二三四五六日"[d.weekday()]
        tag = ("（周六预约日 5+1）" if not en else " (Saturday, booking only)") if hours.booking_only else ""
        label = f"{d.month}月{d.day}日 周{wd}{tag}" if not en else f"{d:%a %d %b}{tag}"
        days.append(f'<option value="{d.isoformat()}">{e(label)}</option>')
    matters = "".join(
        f'<option value="{e(m.code)}">{e(m.name_en if en and m.name_en else m.name)}</option>'
        for m in cfg.matters
        if m.bookable
    )
    t = _BOOK_EN if en else _BOOK_ZH
    body = f"""<a class="lang" href="?lang={"zh" if en else "en"}">{"中文" if en else "English"}</a>
      <h1>{e(t["title"])}</h1><div class="muted">{e(cfg.hall.name_en if en and cfg.hall.name_en else cfg.hall.name)}</div>
      <form id="bookform" onsubmit="return false">
      <label for="matter">{e(t["matter"])}</label><select id="matter">{matters}</select>
      <label for="day">{e(t["day"])}</label><select id="day">{"".join(days)}</select>
      <label>{e(t["slot"])}</label><div class="slots" id="slots"></div>
      <label for="idno">{e(t["id"])}</label><input id="idno" maxlength="18" autocomplete="off" inputmode="text">
      <label for="name">{e(t["name"])}</label><input id="name" maxlength="20">
      <label for="bphone">{e(t["phone"])}</label><input id="bphone" maxlength="11" inputmode="tel">
      <button id="book">{e(t["book"])}</button></form>
      <p id="msg" class="badc"></p>"""
    return HTMLResponse(page(t["title"], body, scripts=["booking.js"], lang=lang, body_class="phone"))


_BOOK_ZH = {
    "title": "预约取号",
    "matter": "办理事项",
    "day": "日期",
    "slot": "时段（剩余名额）",
    "id": "身份证号",
    "name": "姓名（选填）",
    "phone": "手机号（选填）",
    "book": "预约",
}
_BOOK_EN = {
    "title": "Book a visit",
    "matter": "Matter",
    "day": "Day",
    "slot": "Time slot (places left)",
    "id": "ID card number",
    "name": "Name (optional)",
    "phone": "Mobile (optional)",
    "book": "Book",
}


@router.get("/book/{code}")
async def booking_done(code: str, request: Request, lang: Annotated[str, Query()] = "zh") -> Response:
    """The booking (reached by its code, which is the secret): code, QR for the kiosk, cancel."""
    hall = get_hall(request)

    def read(conn: sqlite3.Connection) -> tuple[Any, ...] | None:
        row = conn.execute(
            "SELECT code, matter, day, slot_start, slot_end, state, holder_masked, phone FROM bookings WHERE code = ?",
            (code.upper(),),
        ).fetchone()
        return tuple(row) if row else None

    row = await hall.store.read(read)
    if row is None:
        return HTMLResponse(page("预约", "<p>没有这个预约 / no such booking</p>", body_class="phone"), 404)
    bcode, matter, day, s0, s1, state, holder, phone = row
    m = hall.config.matter_by_code.get(matter)
    en = lang == "en"
    url = f"{hall.config.hall.public_base_url.rstrip('/')}/book/{bcode}"
    states = {
        "booked": ("已预约", "booked"),
        "cancelled": ("已取消", "cancelled"),
        "checked_in": ("已签到", "checked in"),
        "missed": ("已失约", "missed"),
    }
    st = states.get(state, (state, state))[1 if en else 0]
    cancel = (
        f'<button id="cancel" data-code="{e(bcode)}">{"Cancel booking" if en else "取消预约"}</button>'
        if state == "booked"
        else ""
    )
    body = f"""<h1>{"Your booking" if en else "预约成功"}</h1>
      <div class="muted">{e(hall.config.hall.name)}</div>
      <div class="big" id="code">{e(bcode)}</div>
      <div class="row"><span>{"Matter" if en else "事项"}</span><b>{e(m.name if m else matter)}</b></div>
      <div class="row"><span>{"Time" if en else "时间"}</span><b id="when">{e(day)} {e(s0[:5])}–{e(s1[:5])}</b></div>
      <div class="row"><span>{"Name" if en else "姓名"}</span><b>{e(holder or "–")}</b></div>
      <div class="row"><span>{"Mobile" if en else "手机"}</span><b>{e(mask_phone(phone) if phone else "–")}</b></div>
      <div class="row"><span>{"State" if en else "状态"}</span><b id="bstate">{e(st)}</b></div>
      <p>{"Show this code at the kiosk to check in:" if en else "到大厅后在取号机扫描下方二维码或输入预约码签到："}</p>
      <div class="qr">{qr_svg(url)}</div>{cancel}<p id="msg"></p>"""
    return HTMLResponse(
        page("预约", body, scripts=["booking.js"], lang=lang, body_class="phone"),
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def qr_svg(text: str) -> str:
    """A QR code as inline SVG (qrcode's path factory; no image library, nothing fetched)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    svg = buf.getvalue().decode()
    return svg[svg.index("<svg") :]
