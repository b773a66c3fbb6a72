"""The dashboard's audit view (`/web/audit`, docs/security.md 安全审计): the audit log filtered by action,
actor and time, newest first, with the chain's verdict, and its CSV export (`/web/audit.csv`, itself
audited)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hallcore.calendar import HallCalendar
from hallserver import audit
from hallserver.deps import get_hall
from hallserver.errors import ApiError
from hallserver.web.guard import audit_export, guard, manager
from hallserver.web.pages import e, label, page, table

router = APIRouter(include_in_schema=False)

#: Rows on a page; the CSV export carries up to `EXPORT_MAX`.
PAGE_ROWS = 200
EXPORT_MAX = 100_000
COLUMNS = ("id", "at", "actor", "station", "action", "target", "detail")


@dataclass(frozen=True, slots=True)
class AuditQuery:
    action: str = ""
    actor: str = ""
    start: dt.date | None = None
    end: dt.date | None = None  # inclusive


def query_of(request: Request) -> AuditQuery:
    """The filters from the page's query string (from/to are the hall's days, inclusive)."""
    qp = request.query_params
    action, actor = qp.get("action", "").strip()[:64], qp.get("actor", "").strip()[:128]
    try:
        first = dt.date.fromisoformat(qp["from"]) if qp.get("from") else None
        last = dt.date.fromisoformat(qp["to"]) if qp.get("to") else None
    except ValueError as exc:
        raise ApiError(422, "invalid_field", "日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD") from exc
    return AuditQuery(action, actor, first, last)


def read_rows(
    q: AuditQuery, tz: dt.tzinfo, limit: int
) -> Callable[[sqlite3.Connection], list[tuple[str, ...]]]:
    """Rows matching `q`, newest first; days are the hall's (an `at` is stored with its offset)."""
    where, args = [], []
    if q.action:
        where.append("action = ?")
        args.append(q.action)
    if q.actor:
        where.append("actor LIKE ? ESCAPE '\\'")
        args.append("%" + q.actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if q.start is not None:
        where.append("at >= ?")
        args.append(dt.datetime.combine(q.start, dt.time(0), tz).isoformat())
    if q.end is not None:
        where.append("at < ?")
        args.append(dt.datetime.combine(q.end + dt.timedelta(days=1), dt.time(0), tz).isoformat())
    sql = "SELECT id, at, actor, station, action, target, detail FROM audit"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ?"

    def read(conn: sqlite3.Connection) -> list[tuple[str, ...]]:
        return [tuple(str(x) for x in r) for r in conn.execute(sql, (*args, limit))]

    return read


def _actions(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT action FROM audit ORDER BY action")]


@router.get("/web/audit")
@guard
async def audit_page(request: Request) -> Response:
    _p, _t, csrf = await manager(request)
    q = query_of(request)
    hall = get_hall(request)
    tz = HallCalendar(hall.config.hall).tz
    found = await hall.store.read(read_rows(q, tz, PAGE_ROWS))
    actions = await hall.store.read(_actions)
    key = hall.store.audit_key
    verdict = await hall.store.read(lambda conn: audit.verify(conn, key))
    chain = (
        f'<p id="chain" class="ok">审计链完整：{verdict.rows} 条（{verdict.scrubbed} 条已清除个人信息）</p>'
        if verdict.ok
        else f'<p id="chain" class="badc">审计链断开：第 {verdict.broken_at} 条 — {e(verdict.reason)}</p>'
    )
    options = "".join(
        f'<option value="{e(a)}"{" selected" if a == q.action else ""}>{e(a)}</option>'
        for a in ["", *actions]
    )
    start = q.start.isoformat() if q.start else ""
    end = q.end.isoformat() if q.end else ""
    form = (
        '<form method="get" action="/web/audit" id="audit-filter" class="inline">'
        + label("audit-action", "操作")
        + f'<select name="action" id="audit-action">{options}</select> '
        + label("audit-actor", "操作人")
        + f'<input name="actor" id="audit-actor" value="{e(q.actor)}" size="14"> '
        + label("audit-from", "从")
        + f'<input name="from" id="audit-from" type="date" value="{start}"> '
        + label("audit-to", "至")
        + f'<input name="to" id="audit-to" type="date" value="{end}"> '
        + "<button>筛选</button></form>"
    )
    query = request.url.query
    export = f'<p><a id="audit-csv" href="/web/audit.csv{"?" + e(query) if query else ""}">导出 CSV</a></p>'
    shown = [(e(r[0]), e(r[1][:19]), e(r[2]), e(r[3]), e(r[4]), e(r[5]), e(r[6])) for r in found]
    body = (
        f"<h1>审计日志 <span class='muted'>显示 {len(found)} 条（最多 {PAGE_ROWS} 条）</span></h1>"
        + chain
        + form
        + export
        + table(("序号", "时间", "操作人", "站点", "操作", "对象", "详情"), shown, cls="audit")
    )
    return HTMLResponse(page("审计日志", body, nav="/web/audit", csrf=csrf))


@router.get("/web/audit.csv")
@guard
async def audit_csv(request: Request) -> Response:
    await manager(request)
    q = query_of(request)
    hall = get_hall(request)
    found = await hall.store.read(read_rows(q, HallCalendar(hall.config.hall).tz, EXPORT_MAX))
    detail = {"of_action": q.action, "of_actor": q.actor, "from": str(q.start or ""), "to": str(q.end or "")}
    await audit_export(request, "audit", "csv", rows=len(found), **{k: v for k, v in detail.items() if v})
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(COLUMNS)
    w.writerows(found)
    # A BOM so that Excel opens the UTF-8 file with its Chinese intact.
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="hallq-audit.csv"'},
    )
