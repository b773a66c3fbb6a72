"""Administration (`/web/admin`): clerks (add, disable — which logs them out of every counter —, reset PIN),
window rosters, A/B takeover (顶岗) and its end, stations (approve, revoke). Every change is a form POST that
answers with a redirect back to the page, or an error page that says what was wrong."""

# ruff: noqa: E501 - HTML markup reads better on one line than split mid-tag

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hallserver import api_stations, api_windows
from hallserver.auth import hash_secret
from hallserver.bodies import ApproveIn, RosterIn, WindowIn
from hallserver.deps import get_hall
from hallserver.errors import ApiError
from hallserver.store import Job
from hallserver.web.guard import checked_post, guard, manager, see_other
from hallserver.web.pages import e, hidden_csrf, page, table
from hallserver.writectx import Reply, WriteCtx, ok

router = APIRouter(include_in_schema=False)


@router.get("/web/admin")
@guard
async def admin_page(request: Request) -> Response:
    _p, _t, csrf = await manager(request)
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
@guard
async def add_clerk(request: Request) -> Response:
    p, _t, f = await checked_post(request)
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
    return _back(reply.status, reply.text)


def _back(status: int, body: bytes | str) -> Response:
    """Back to the page after a change, or the error page for the API's error reply."""
    if status >= 400:
        b = json.loads(body)
        return _admin_error(ApiError(status, b["error"], b["message"], b["message_en"]))
    return see_other("/web/admin")


@router.post("/web/admin/clerks/{code}/active")
@guard
async def clerk_active(request: Request) -> Response:
    p, _t, f = await checked_post(request)
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
@guard
async def clerk_pin(request: Request) -> Response:
    p, _t, f = await checked_post(request)
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


async def _via_api(call: Awaitable[Response]) -> Response:
    """Run the JSON API's route for a form: back to the page, or the error page with the API's message."""
    try:
        reply = await call
    except ApiError as exc:
        return _admin_error(exc)
    return _back(reply.status_code, bytes(reply.body))


@router.post("/web/admin/roster/{window}")
@guard
async def roster(request: Request) -> Response:
    p, _t, f = await checked_post(request)
    staff = [s for s in f.get("staff", "").replace(",", " ").replace("，", " ").split() if s]
    window = int(request.path_params["window"])
    return await _via_api(api_stations.set_roster(window, RosterIn(staff=staff), request, p))


@router.post("/web/admin/windows/{window}/{action}")
@guard
async def takeover(request: Request) -> Response:
    p, _t, f = await checked_post(request)
    action = request.path_params["action"]
    if action not in ("takeover", "end-takeover"):
        return _admin_error(ApiError(404, "unknown_action", "没有这个操作", "unknown action"))
    body = WindowIn(request_id=uuid.uuid4().hex, partner=int(f.get("partner", "0") or 0))
    window = int(request.path_params["window"])
    return await _via_api(api_windows.window_action(window, action, body, request, p))


@router.post("/web/admin/stations/{station_id}/{action}")
@guard
async def admin_station(request: Request) -> Response:
    p, _t, f = await checked_post(request)
    sid, action = request.path_params["station_id"], request.path_params["action"]
    if action == "revoke":
        return await _via_api(api_stations.revoke_station(sid, request, p))
    if action != "approve":
        return _admin_error(ApiError(404, "unknown_action", "没有这个操作", "unknown action"))
    w = f.get("window", "").strip()
    try:
        body = ApproveIn(window=int(w) if w else None)
    except ValueError:
        return _admin_error(ApiError(422, "invalid_field", "窗口号有误", "bad window"))
    return await _via_api(api_stations.approve_station(sid, body, request, p))
