"""The 差评 cases page (`/web/cases`): each case with its working-day deadline clock, overdue rows highlighted,
the rater's phone masked, and the step form (回访 / 整改·解释 / 办结 / 申诉). The rules are hallserver/cases.py."""

# ruff: noqa: E501 - HTML markup reads better on one line than split mid-tag

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hallcore.calendar import HallCalendar, estimated_days_text
from hallserver import cases
from hallserver.deps import get_hall
from hallserver.errors import ApiError
from hallserver.web.guard import checked_post, error_page, form_text, guard, manager, see_other
from hallserver.web.pages import e, hidden_csrf, page, table

router = APIRouter(include_in_schema=False)


@router.get("/web/cases")
@guard
async def cases_page(request: Request) -> Response:
    _p, _t, csrf = await manager(request)
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
                else f"剩 {estimated_days_text(c.days_left)}"
                if c.estimated
                else f"剩 {c.days_left} 个工作日"
            )
        )
        steps = "<br>".join(f"{e(s['at'][:16])} {e(s['action_zh'])}：{e(s['note'])}" for s in c.steps) or "–"
        # Closed cases keep the form: the rater may appeal (申诉) a closed case.
        options = "".join(f'<option value="{a}">{z}</option>' for a, z in cases.ACTIONS_ZH.items())
        form = (
            f'<form method="post" action="/web/cases/{e(c.id)}/step" class="inline step">{h}'
            f'<select name="action" aria-label="{e(c.label)} 处理步骤">{options}</select> '
            f'<input name="note" aria-label="{e(c.label)} 处理记录" placeholder="处理记录" required size="18">'
            f'<button aria-label="记录（{e(c.label)}）">记录</button></form>'
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
                _callback(c),
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


def _callback(c: cases.CaseLine) -> str:
    """Who to call back: a carded ticket's holder offers 实名回访 (with the phone the rater consented to leave
    on the phone page, as for every 差评), else the phone alone or 匿名."""
    if c.holder:
        phone = e(c.phone_masked) if c.phone_masked else "待评价人同意并留电话"
        return f'<span class="real-name">实名回访：{e(c.holder)}</span><br>{phone}'
    return e(c.phone_masked or "匿名")


@router.post("/web/cases/{case_id:path}/step")
@guard
async def case_step(request: Request) -> Response:
    p, _t, f = await checked_post(request)
    hall = get_hall(request)
    note = form_text(f, "note", max_length=500)
    reply = await hall.run(cases.step_job(request.path_params["case_id"], f.get("action", ""), note, p.actor))
    if reply.status >= 400:
        b = json.loads(reply.text)
        return error_page(
            request, ApiError(reply.status, b["error"], b["message"], b["message_en"], b["detail"])
        )
    return see_other("/web/cases")
