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

from hallcore.credentials import PIN_MAX, PIN_MIN, pin_problem
from hallserver import api_stations, api_windows, managers
from hallserver.auth import hash_secret
from hallserver.bodies import ApproveIn, RosterIn, WindowIn
from hallserver.deps import get_hall
from hallserver.errors import ApiError
from hallserver.store import Job
from hallserver.web.guard import (
    checked_post,
    error_page,
    form_int,
    form_text,
    guard,
    manager,
    path_int,
    see_other,
)
from hallserver.web.pages import e, hidden_csrf, label, page, table
from hallserver.writectx import Reply, WriteCtx, ok

router = APIRouter(include_in_schema=False)

#: The browser's own check of a PIN field (the server checks again, `hallcore.credentials.pin_problem`).
PIN_PATTERN = f"[0-9]{{{PIN_MIN},{PIN_MAX}}}"


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
                "SELECT id, name, role, state, code, window, staff, created_at, windows FROM stations"
                " ORDER BY created_at"
            ).fetchall(),
        }

    data = await hall.store.read(read)
    accounts = await managers.accounts(hall)
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
                    f'<input type="hidden" name="active" value="{0 if active else 1}"><button aria-label="{toggle} {e(code)}">{toggle}</button></form> '
                    f'<form method="post" action="/web/admin/clerks/{e(code)}/pin" class="inline">{h}'
                    f'<input name="pin" aria-label="{e(code)} 的新 PIN" placeholder="新 PIN" size="8" pattern="{PIN_PATTERN}" required>'
                    f'<button aria-label="重置 PIN（{e(code)}）">重置 PIN</button></form>'
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
                    f'<input name="staff" aria-label="{w.number} 号窗口排班工号" value="{e(" ".join(roster.get(w.number, [])))}" size="18" '
                    f'placeholder="工号，空格分隔（空=任何人）"><button aria-label="保存排班（{w.number} 号窗口）">保存排班</button></form>'
                ),
            )
        )
    st_rows = []
    for sid, name, role, state, code, window, staff, created, windows in data["stations"]:
        act = ""
        if state != "revoked":
            # Pending: approve with its window(s); approved: change them (a counter or desk acts only there).
            act = (
                f'<form method="post" action="/web/admin/stations/{e(sid)}/approve" class="inline">{h}'
                f'<input name="window" aria-label="{e(name)} 的窗口" size="6" placeholder="窗口，如 3 或 3,4" value="{e(windows.replace(",", " "))}">'
                f"<button>{'批准' if state == 'pending' else '改窗口'}</button></form>"
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
                e(windows.replace(",", "、")) + (f"（登录：{e(window)}）" if staff else ""),
                e(staff),
                e(created[:16]),
                act,
            )
        )
    mgr_rows = [
        (
            e(a.username),
            '<span class="okc">在用</span>' if a.active else '<span class="muted">已停用</span>',
            str(a.sessions),
            (
                f'<form method="post" action="/web/admin/managers/{e(a.username)}/active" class="inline">{h}'
                f'<input type="hidden" name="active" value="{0 if a.active else 1}">'
                f"<button>{'停用（立即退出登录）' if a.active else '启用'}</button></form>"
            ),
        )
        for a in accounts
    ]
    body = (
        "<h1>管理</h1><h2>工作人员</h2>"
        + table(("工号", "姓名", "状态", "操作"), staff_rows)
        + f"""<form method="post" action="/web/admin/clerks" class="card">{h}
           添加：{label("clerk-code", "工号")}<input name="code" id="clerk-code" required size="8">
           {label("clerk-name", "姓名")}<input name="name" id="clerk-name" required size="8">
           {label("clerk-pin", f"PIN（{PIN_MIN}–{PIN_MAX} 位数字）")}<input name="pin" id="clerk-pin"
             pattern="{PIN_PATTERN}" required size="8" inputmode="numeric"><button>添加</button></form>"""
        + "<h2>管理员</h2>"
        + table(("用户名", "状态", "在线会话", "操作"), mgr_rows)
        + "<h2>窗口排班与 A/B 岗</h2>"
        + table(("窗口", "名称", "队列", "B 岗", "顶岗", "排班"), win_rows)
        + "<h2>站点</h2>"
        + table(("名称", "角色", "状态", "注册码", "窗口", "登录工号", "申请时间", "操作"), st_rows)
    )
    return HTMLResponse(page("管理", body, nav="/web/admin", csrf=csrf))


@router.post("/web/admin/clerks")
@guard
async def add_clerk(request: Request) -> Response:
    p, _t, f = await checked_post(request)
    code = form_text(f, "code", max_length=64)
    name = form_text(f, "name", max_length=50)
    pin = f.get("pin", "")
    _check_pin(pin)
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


def _check_pin(pin: str) -> None:
    problem = pin_problem(pin)
    if problem is not None:
        raise ApiError(422, "invalid_field", f"pin：{problem.zh}", f"pin: {problem.en}", {"field": "pin"})


async def _admin_job(request: Request, run: Callable[[WriteCtx], Reply]) -> Response:
    reply = await get_hall(request).run(Job(run))
    return _back(request, reply.status, reply.text)


def _back(request: Request, status: int, body: bytes | str) -> Response:
    """Back to the page after a change, or the error page for the API's error reply."""
    if status >= 400:
        b = json.loads(body)
        return error_page(request, ApiError(status, b["error"], b["message"], b["message_en"], b["detail"]))
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
    _check_pin(pin)
    pin_hash = await asyncio.to_thread(hash_secret, pin)

    def run(ctx: WriteCtx) -> Reply:
        if ctx.execute("UPDATE staff SET pin_hash = ? WHERE code = ?", (pin_hash, code)).rowcount == 0:
            raise ApiError(404, "unknown_staff", f"没有工作人员 {code}", f"no staff {code}")
        ctx.audit(p.actor, "", "reset_pin", code)
        return ok({})

    return await _admin_job(request, run)


@router.post("/web/admin/managers/{username}/active")
@guard
async def manager_active(request: Request) -> Response:
    """Deactivate (ending their sessions at once) or reactivate a manager."""
    p, _t, f = await checked_post(request)
    active = f.get("active") == "1"
    reply = await managers.set_active(get_hall(request), p.actor, request.path_params["username"], active)
    return _back(request, reply.status, reply.text)


async def _via_api(request: Request, call: Awaitable[Response]) -> Response:
    """Run the JSON API's route for a form: back to the page, or the error page with the API's message."""
    reply = await call
    return _back(request, reply.status_code, bytes(reply.body))


@router.post("/web/admin/roster/{window}")
@guard
async def roster(request: Request) -> Response:
    p, _t, f = await checked_post(request)
    window = path_int(request, "window")
    text = form_text(f, "staff", max_length=2000, required=False)
    staff = [s for s in text.replace(",", " ").replace("，", " ").split() if s]
    return await _via_api(request, api_stations.set_roster(window, RosterIn(staff=staff), request, p))


@router.post("/web/admin/windows/{window}/{action}")
@guard
async def takeover(request: Request) -> Response:
    p, _t, f = await checked_post(request)
    action = request.path_params["action"]
    if action not in ("takeover", "end-takeover"):
        raise ApiError(404, "unknown_action", "没有这个操作", "unknown action")
    window = path_int(request, "window")
    body = WindowIn(request_id=uuid.uuid4().hex, partner=form_int(f, "partner"))
    return await _via_api(request, api_windows.window_action(window, action, body, request, p))


@router.post("/web/admin/stations/{station_id}/{action}")
@guard
async def admin_station(request: Request) -> Response:
    p, _t, f = await checked_post(request)
    sid, action = request.path_params["station_id"], request.path_params["action"]
    if action == "revoke":
        return await _via_api(request, api_stations.revoke_station(sid, request, p))
    if action != "approve":
        raise ApiError(404, "unknown_action", "没有这个操作", "unknown action")
    # "3", or "3,4" / "3 4" for a station that serves several windows.
    words = f.get("window", "").replace(",", " ").replace("，", " ").split()
    body = ApproveIn(windows=[form_int({"window": w}, "window") or 0 for w in words])
    return await _via_api(request, api_stations.approve_station(sid, body, request, p))
