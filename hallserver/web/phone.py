"""The citizen's phone page behind the ticket's QR code (`/s/{token}`, 360 px wide and up, zh/en), its data
(`/web/api/status/{token}`: the public status and why people ahead may have grown), 扫码评价 (the five levels,
once, for a while after an unrated finish) and the call-back number a 差评 rater may leave. Public: the
ticket's unguessable token is the key."""

# ruff: noqa: E501 - HTML markup reads better on one line than split mid-tag

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hallcore import commands as c
from hallcore.calendar import estimated_days_text
from hallcore.engine import Engine
from hallcore.model import Ticket, TicketState
from hallserver import cases
from hallserver.deps import get_hall
from hallserver.errors import ApiError
from hallserver.store import Job
from hallserver.views import call_events, ticket_status_json
from hallserver.web.guard import reply_json
from hallserver.web.pages import e, page
from hallserver.writectx import Reply, WriteCtx, ok

router = APIRouter(include_in_schema=False)


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
        body["rate_until"] = _rate_until(engine, t, now)
        if t.due is not None and not engine.calendar.covers_span(t.day + dt.timedelta(days=1), t.due):
            # Past the loaded calendar the 容缺 due day is a guess: say the count, never the date.
            m = engine.config.matter_by_code.get(t.matter)
            days = m.precheck.tolerance_days if m else engine.calendar.working_days_between(t.day, t.due)
            body["due_text"] = estimated_days_text(days)
            body["due_text_en"] = estimated_days_text(days, "en")
        return body

    body = await hall.store.engine_read(read)
    if body is None:
        raise ApiError(
            404, "not_found", "找不到这张票（可能已过期）", "no ticket for this token (it may be old)"
        )
    return JSONResponse(body)


def _rate_until(engine: Engine, t: Ticket, now: dt.datetime) -> str | None:
    """When 扫码评价 closes for this ticket, while it is open: finished at a window, not rated (by the pad,
    the clerk or the phone: one rating per case), within `rating.phone_window_min` of the finish."""
    window_min = engine.config.rating.phone_window_min
    if (
        t.state is not TicketState.DONE
        or t.rated
        or t.window is None
        or t.ended_at is None
        or window_min <= 0
    ):
        return None
    until = t.ended_at + dt.timedelta(minutes=window_min)
    return until.isoformat() if now <= until else None


async def _ticket_and_body(token: str, request: Request) -> tuple[str, dict[str, Any]]:
    """A public POST of the phone page: the ticket its token names and the JSON object sent."""
    tid = get_hall(request).store.tokens.get(token) if len(token) >= 16 else None
    if not tid:
        raise ApiError(404, "not_found", "找不到这张票", "no ticket for this token")
    try:
        data = json.loads(await request.body())
    except json.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", "请求体不是 JSON", "the body is not JSON") from exc
    return tid, data if isinstance(data, dict) else {}


@router.post("/web/api/status/{token}/rating")
async def status_rating(token: str, request: Request) -> Response:
    """扫码评价: the citizen rates a finished ticket from its phone page, once (public: the token is the key).
    The engine binds it to the ticket's window and clerk, refuses a second rating and a late one, and opens
    the same 差评 case as a pad rating."""
    hall = get_hall(request)
    tid, data = await _ticket_and_body(token, request)
    score = data.get("score")
    if not isinstance(score, int) or isinstance(score, bool):
        raise ApiError(422, "invalid_field", "请选择 1–5 级评价", "score is a whole number from 1 to 5")
    cmd = c.Rate(tid, score, "phone")

    def run(ctx: WriteCtx) -> Reply:
        out = ctx.accept(cmd)
        if isinstance(out, Reply):
            return out
        return ok({"rated": True, "score": score, "case": f"C-{tid}" in ctx.engine.cases})

    return reply_json(await hall.run(Job(run)))


@router.post("/web/api/status/{token}/contact")
async def status_contact(token: str, request: Request) -> Response:
    """A 差评 rater leaves a phone number for the call-back, with consent (public: the token is the key)."""
    hall = get_hall(request)
    tid, data = await _ticket_and_body(token, request)
    if data.get("consent") is not True:
        raise ApiError(422, "consent_required", "请勾选同意回访", "tick the consent box to be called back")
    reply = await hall.run(cases.contact_job(tid, str(data.get("phone", "")), "phone"))
    return reply_json(reply)


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
      <div id="turn" class="turn" role="alert" hidden></div>
      <div class="big" id="label">…</div><div id="matter"></div>
      <div class="row"><span data-t="ahead"></span><b id="ahead">–</b></div>
      <div class="row"><span data-t="estimate"></span><b id="estimate">–</b></div>
      <div class="row"><span data-t="state"></span><b id="state">–</b></div>
      <div id="why" class="note" hidden></div>
      <div id="missing" class="note" hidden></div>
      <div id="outcome" class="note" hidden></div>
      <div id="noshow" class="note" hidden></div>
      <div id="expired" class="note" hidden></div>
      <div id="rate" role="group" aria-labelledby="rate-h" hidden><h2 id="rate-h" data-t="rate_h"></h2><p data-t="rate_p"></p>
        <div class="levels">{"".join(f'<button data-score="{n}" id="score-{n}"></button>' for n in (5, 4, 3, 2, 1))}</div></div>
      <p id="rated" role="status" hidden></p>
      <h2 data-t="calls"></h2><div id="calls"></div>
      <div id="contact" hidden><h2 data-t="contact_h"></h2><p data-t="contact_p"></p>
        <label for="phone" data-t="phone_l"></label><input id="phone" inputmode="tel" autocomplete="tel" maxlength="11" placeholder="13800000000">
        <label><input type="checkbox" id="consent" class="check"> <span data-t="consent"></span></label>
        <button id="send" data-t="send"></button><p id="sent" role="status"></p></div>
      <div id="notify" hidden><h2 id="notify-h"></h2><p id="notify-state" role="status"></p>
        <div id="notify-form"><label for="notify-phone" id="notify-phone-l"></label><input id="notify-phone" inputmode="tel" autocomplete="tel" maxlength="11" placeholder="13800000000">
        <label><input type="checkbox" id="notify-consent" class="check"> <span id="notify-consent-l"></span></label>
        <button id="notify-send"></button> <a id="notify-wechat" hidden></a></div>
        <button id="notify-withdraw" hidden></button></div>
      <p class="muted"><span id="conn"></span> <span id="age"></span></p>"""
    return HTMLResponse(
        page(
            "排队进度" if not en else "Queue status",
            body,
            scripts=["phone.js", "notify.js"],
            lang="en" if en else "zh",
            body_class="phone",
        ),
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
