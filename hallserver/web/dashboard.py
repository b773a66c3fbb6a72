"""The live dashboard (`/web/dashboard`, its JSON `/web/api/dashboard` and its cookie-authenticated event
stream `/web/events`), and the station approve/revoke its enrollment card posts."""

# ruff: noqa: E501 - HTML markup reads better on one line than split mid-tag

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.requests import cookie_parser

from hallcore import alerts as alerting
from hallcore.alerts import Alert
from hallcore.calendar import HallCalendar
from hallcore.codec import encode
from hallcore.engine import Engine
from hallcore.erlang import windows_needed
from hallcore.fingerprint import ca_fingerprint, short_fingerprint
from hallcore.model import TicketState, WindowState
from hallcore.owed import OwedState
from hallserver import api_stations, owed
from hallserver.auth import Principal, hash_token
from hallserver.bodies import ApproveIn
from hallserver.deps import get_hall, resolve
from hallserver.errors import ApiError
from hallserver.eventlog import make_filter
from hallserver.notify_send import figures_today as notice_figures
from hallserver.service import HallServer
from hallserver.stream.access import Grant, Refusal
from hallserver.stream.wire import Request as StreamRequest
from hallserver.web import session as ws_session
from hallserver.web.guard import checked_post, guard, manager
from hallserver.web.pages import e, page

router = APIRouter(include_in_schema=False)

#: Arrivals are counted over this many minutes for the Erlang C advice.
RATE_WINDOW_MIN = 60


def dashboard_state(engine: Engine, now: dt.datetime) -> dict[str, Any]:
    """Windows, waiting per series with the longest wait and the estimate; the alerts the engine's state
    tells (waits past the target with the Erlang C advice, long pauses, 差评 cases past their deadline)."""
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
    alerts: list[Alert] = []
    for s in cfg.series:
        waiting = engine.waiting_count(s.prefix)
        longest = max(0.0, (now - oldest[s.prefix]).total_seconds() / 60) if s.prefix in oldest else 0.0
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
                alerting.wait_alert(
                    s.prefix,
                    s.name,
                    longest,
                    s.target_wait_min,
                    arrivals.get(s.prefix, 0),
                    RATE_WINDOW_MIN,
                    handle,
                    advice.windows,
                    open_for[s.prefix],
                )
            )
    paused = [
        (w["number"], w["name"], w["pause_reason"], w["paused_min"])
        for w in windows
        if w["paused_min"] is not None
    ]
    alerts += alerting.paused_alerts(paused, cfg.alerts.pause_min)
    today = HallCalendar(cfg.hall).business_day(now)
    late = alerting.overdue_cases(engine.cases.values(), today)
    alerts += alerting.case_alert(
        [(engine.tickets[c.ticket].label if c.ticket in engine.tickets else c.ticket, c.due) for c in late]
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
        # 容缺 entries past their due day: masked name and matter only (privacy: boards never show more).
        owing = owed.list_entries(conn, hall.config, today, owing=True)
        overdue = [
            {k: v for k, v in encode(x).items() if k not in ("ticket", "opened_at")}
            for x in owing
            if x.state == OwedState.OVERDUE
        ]
        return {
            "staff": staff,
            "devices": devices,
            "pending": pending,
            "stations": stations,
            "overdue_owed": overdue,
            "estimated_owed": sum(1 for x in owing if x.estimated),
        }

    cal = HallCalendar(hall.config.hall)
    today = cal.business_day(now)
    extra = await hall.store.read(read)
    gap = cal.coverage_gap(today)
    estimated_owed = extra.pop("estimated_owed")
    for w in state["windows"]:
        w["staff_name"] = extra["staff"].get(w["staff"], w["staff"])
    alerts: list[Alert] = state.pop("alerts")
    down = [
        (d["station"], d["station_name"], d["device"], f"{d['health']} {d['reason']}".strip())
        for d in extra["devices"]
        if d["health"] != "ok"
    ]
    alerts += alerting.device_alerts(down)
    alerts += alerting.owed_alert([str(o["label"]) for o in extra["overdue_owed"]])
    web = getattr(request.app.state, "web", None)
    upload = web.uploader.state.as_json() if web is not None else None
    shipper = getattr(request.app.state, "shipper", None)
    notifier = getattr(request.app.state, "notifier", None)
    notices = None
    if notifier is not None:
        start = dt.datetime.combine(today, dt.time(0), cal.tz).astimezone(now.tzinfo).isoformat()
        notices = {**notifier.state.as_json(), **await hall.store.read(lambda c: notice_figures(c, start))}
    return {
        **state,
        **{k: v for k, v in extra.items() if k != "staff"},
        "calendar": {
            "warning": gap.zh() if gap else None,
            "known_until": gap.known_until.isoformat() if gap and gap.known_until else None,
            "estimated_owed": estimated_owed,
        },
        "alerts": [dataclasses.asdict(a) for a in alerts],
        "upload": upload,
        "central": shipper.snapshot() if shipper is not None else None,
        "notices": notices,
        "seq": hall.hub.last_seq,
    }


@router.get("/web/api/dashboard")
@guard
async def dashboard_api(request: Request) -> Response:
    await manager(request)
    return JSONResponse(await _dashboard_json(request))


@router.get("/web/dashboard")
@guard
async def dashboard_page(request: Request) -> Response:
    _p, _t, csrf = await manager(request)
    hall = get_hall(request)
    body = f"""<h1>{e(hall.config.hall.name)} · 实时看板 <span id="conn">连接中…</span>
      <span class="muted" id="age"></span></h1>
      <div id="calendar"></div>
      <div id="alerts"></div>
      <h2>窗口</h2><div class="grid" id="windows"></div>
      <h2>各队列等候</h2><div id="series"></div>
      <h2>容缺逾期未补齐</h2><div id="owed"></div>
      <div class="cards"><div class="card grow"><h2>设备状态</h2><div id="devices"></div></div>
      <div class="card grow"><h2>站点注册申请</h2>{_fingerprint_line(hall.settings.tls_ca_pem)}<div id="pending"></div>
      <h2>好差评上传</h2><div id="upload"></div><div id="outbox"></div>
      <h2>上报中心</h2><div id="central"></div>
      <h2>短信/微信提醒（今日）</h2><div id="notices"></div></div></div>"""
    return HTMLResponse(page("实时看板", body, nav="/web/dashboard", csrf=csrf, scripts=["dashboard.js"]))


def _fingerprint_line(ca_pem: str) -> str:
    """The hall CA's short fingerprint, which a station enrolling over TLS shows beside its code: equal means
    the station reached this server and no other (DESIGN.md §9)."""
    if not ca_pem:
        return '<p class="muted" id="tlsFingerprint">本服务器未启用 TLS（明文 HTTP）</p>'
    fp = short_fingerprint(ca_fingerprint(ca_pem))
    return (
        f'<p id="tlsFingerprint">本厅证书指纹 <b id="tlsFingerprintShort">{e(fp)}</b>'
        "：批准前请核对站点屏幕上登记码旁显示的指纹与此相同，不同则勿批准</p>"
    )


def web_events(hall: HallServer, req: StreamRequest) -> Grant | Refusal | Awaitable[Grant | Refusal]:
    """`/web/events`, the dashboard's live feed: every hall event, authenticated by the session cookie (which
    a page script cannot read, so it cannot use `?auth=` on `/events`). Served by the stream path
    (hallserver/stream) like `/events`: a `hello` with the current seq, then live events."""
    token = cookie_parser(req.header("cookie")).get(ws_session.COOKIE, "")

    def check(p: Principal | None) -> Grant | Refusal:
        if p is None or p.role != "manager":
            return Refusal(4401, "log in first")
        return Grant(make_filter(hall.config), hello=True, owner=p.token_hash)

    if not token:
        return check(None)
    cached = hall.principals.get(hash_token(token))
    if cached is not None:
        return check(cached)

    async def resolved() -> Grant | Refusal:
        return check(await resolve(hall, token))

    return resolved()


@router.post("/web/api/stations/{station_id}/{action}")
@guard
async def station_action(request: Request) -> Response:
    p, _t, f = await checked_post(request)
    sid = request.path_params["station_id"]
    action = request.path_params["action"]
    if action == "approve":
        try:
            body = json.loads(await request.body() or b"{}") if not f else {}
        except json.JSONDecodeError as exc:
            raise ApiError(400, "malformed_json", "请求体不是 JSON", "the body is not JSON") from exc
        window = body.get("window") if isinstance(body, dict) else None
        return await api_stations.approve_station(sid, ApproveIn(window=window), request, p)
    if action == "revoke":
        return await api_stations.revoke_station(sid, request, p)
    raise ApiError(404, "unknown_action", "没有这个操作", f"unknown station action {action!r}")
