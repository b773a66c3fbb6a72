"""What the centre's statistics pages share: reading a period, a grouping and a region the user may see from
the query, the period form, number formats, and audited CSV/XLSX downloads."""

from __future__ import annotations

import datetime as dt
import urllib.parse
import zoneinfo
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hallcentral import exports, statistics
from hallcentral.auth import User, audit
from hallcentral.overview import scope_param
from hallcentral.service import Central, get_central
from hallcentral.web import NotFound, signed_in
from hallcore.periods import PERIODS, Span, span_for
from hallweb.exports import XLSX_TYPE
from hallweb.html import e

PERIOD_NAMES = {"day": "日", "week": "周", "month": "月", "year": "年", "custom": "自定义"}


class BadQuery(Exception):
    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en


def bad(_request: Request, exc: Exception) -> Response:
    """The app's answer to `BadQuery`: 400 with what was wrong."""
    message, message_en = (exc.message, exc.message_en) if isinstance(exc, BadQuery) else ("", str(exc))
    return JSONResponse({"error": "bad_query", "message": message, "message_en": message_en}, 400)


def today(central: Central) -> dt.date:
    return central.now().astimezone(zoneinfo.ZoneInfo(central.config.timezone)).date()


def span_of(central: Central, q: Any) -> Span:
    period = q.get("period") or "month"
    try:
        day = dt.date.fromisoformat(q["day"]) if q.get("day") else today(central)
        end = dt.date.fromisoformat(q["end"]) if q.get("end") else None
    except ValueError as exc:
        raise BadQuery("日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD") from exc
    try:
        return span_for(period, day, end)
    except ValueError as exc:
        raise BadQuery(f"统计期间有误：{exc}", str(exc)) from exc


def choice(q: Any, name: str, allowed: Any, default: str) -> str:
    value = q.get(name) or default
    if value not in allowed:
        raise BadQuery(f"{name} 取值有误", f"{name} is one of {', '.join(allowed)}")
    return str(value)


async def region_in_scope(central: Central, user: User, region_id: str) -> tuple[str, str, str] | None:
    """(id, name, path) of a region in the user's subtree, else None."""
    async with central.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT id, name, path FROM regions WHERE id = %s AND path LIKE %s",
            (region_id, scope_param(user.region_path)),
        )
        row = await cur.fetchone()
        await conn.rollback()
    return (str(row[0]), str(row[1]), str(row[2])) if row else None


async def scoped_region(request: Request, region_id: str) -> tuple[User, Central, tuple[str, str, str]]:
    """The signed-in user, the centre and region `region_id` (id, name, path) when it is in the user's
    subtree; else `NotSignedIn` (401 or the login page) or `NotFound` (404)."""
    user = await signed_in(request)
    central = get_central(request)
    region = await region_in_scope(central, user, region_id)
    if region is None:
        raise NotFound
    return user, central, region


def add_home(router: APIRouter, section: str) -> None:
    """`GET /<section>`: to the page of the signed-in user's own region (or to the login page)."""

    async def home(request: Request) -> Response:
        user = await signed_in(request)
        return RedirectResponse(f"/{section}/{urllib.parse.quote(user.region_id, safe='')}", 303)

    router.add_api_route(f"/{section}", home, methods=["GET"], name=f"{section}_home")


async def children(central: Central, path: str) -> list[tuple[str, str]]:
    async with central.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT id, name FROM regions WHERE path LIKE %s AND path <> %s"
            " AND length(path) - length(replace(path, '/', '')) = %s ORDER BY path",
            (scope_param(path), path, path.count("/") + 1),
        )
        out = [(str(i), str(n)) for i, n in await cur.fetchall()]
        await conn.rollback()
    return out


async def table_of(
    central: Central,
    region: tuple[str, str, str],
    span: Span,
    by: str,
    hall_id: str = "",
    hists: bool = True,
) -> statistics.Table:
    async with central.pool.connection() as conn:
        t = await statistics.table(conn, region[0], region[1], region[2], span, by, hall_id, hists)
        await conn.rollback()
    return t


def table_head(t: statistics.Table) -> dict[str, Any]:
    """What every statistics answer starts with: the region and the period it covers."""
    return {
        "region": t.region_id,
        "region_name": t.region,
        "period": t.span.period,
        "start": t.span.start.isoformat(),
        "end": t.span.end.isoformat(),
    }


def table_json(t: statistics.Table) -> dict[str, Any]:
    return {
        **table_head(t),
        "by": t.by,
        "halls": t.halls,
        "total": t.total.figures(),
        "lines": [line.figures() for line in t.lines],
        "missing_top": [
            {"material": m, "name": t.material_names.get(m, m), "n": n} for m, n in t.missing_top
        ],
    }


async def export(
    request: Request,
    user: User,
    central: Central,
    what: str,
    target: str,
    detail: dict[str, Any],
    make: Callable[[str], bytes],
    stem: str,
) -> Response:
    """The export in the format asked for (`?format=csv|xlsx`), audited (DESIGN.md §9: exports)."""
    fmt = choice(request.query_params, "format", exports.FORMATS, "csv")
    async with central.pool.connection() as conn, conn.transaction():
        await audit(
            conn, central.now(), user.actor, "export", target, {"what": what, **detail, "format": fmt}
        )
    media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX_TYPE
    name = urllib.parse.quote(f"{stem}.{fmt}")
    disposition = f"attachment; filename*=UTF-8''{name}"
    return Response(make(fmt), media_type=media, headers={"content-disposition": disposition})


def qs(q: Any, drop: tuple[str, ...] = (), **extra: str) -> str:
    items = {k: v for k, v in q.items() if k not in drop and k != "format"}
    items.update(extra)
    return urllib.parse.urlencode(items)


def form(action: str, q: Any, choices: Any, names: dict[str, str], field: str, current: str) -> str:
    period = q.get("period") or "month"
    popts = "".join(
        f'<option value="{p}"{" selected" if p == period else ""}>{PERIOD_NAMES[p]}</option>' for p in PERIODS
    )
    copts = "".join(
        f'<option value="{c}"{" selected" if c == current else ""}>{e(names[c])}</option>' for c in choices
    )
    return f"""<form method="get" action="{e(action)}" class="card" id="stats-form">
      期间 <select name="period" id="period">{popts}</select>
      日期 <input type="date" name="day" id="day" value="{e(q.get("day", ""))}">
      至 <input type="date" name="end" id="end" value="{e(q.get("end", ""))}">
      分组 <select name="{e(field)}" id="{e(field)}">{copts}</select>
      <button id="show">查询</button></form>"""


def pct(x: float | None) -> str:
    return "无数据" if x is None else f"{x:.1%}"


def minutes(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"
