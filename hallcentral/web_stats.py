"""The centre's statistics pages: figures across the halls of a region, or of one hall, for a period, by
hall, child region, day, department, matter, series, window, clerk or hour — as a page, as JSON and as
CSV/XLSX (audited).

Every route takes a region (or a hall) in its path and answers 404 unless it is in the user's subtree,
exactly like a hall outside it (hallcentral/web.py); the queries then read that subtree only.
"""

# ruff: noqa: E501 - HTML markup reads better on one line than split mid-tag

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from hallcentral import exports, statistics
from hallcentral.auth import User
from hallcentral.overview import visible
from hallcentral.service import Central, get_central
from hallcentral.web import NotFound, _page, signed_in
from hallcentral.web_query import (
    add_home,
    children,
    choice,
    export,
    form,
    minutes,
    pct,
    qs,
    region_in_scope,
    span_of,
    table_json,
    table_of,
)
from hallweb.html import e, table

router = APIRouter(include_in_schema=False)
add_home(router, "stats")

# ---- statistics ------------------------------------------------------------------------------------------


def _statstable_of(t: statistics.Table) -> str:
    rows = []
    ids = []
    for line in [*t.lines, t.total]:
        f = line.figures()
        name = e(f["name"])
        if t.by == "hall" and f["hall_id"]:
            name = f'<a href="/halls/{e(urllib.parse.quote(f["hall_id"], safe=""))}/stats">{name}</a>'
        rows.append(
            [
                name,
                f'<span class="num tickets">{f["tickets"]}</span>',
                f'<span class="num served">{f["served"]}</span>',
                str(f["no_shows"]),
                minutes(f["wait_mean"]),
                minutes(f["wait_p90"]),
                pct(f["within_target"]),
                minutes(f["handle_mean"]),
                str(f["rated"]),
                f'<span class="sat">{pct(f["satisfaction"])}</span>',
                f'<span class="onsite">{pct(f["onsite_rate"])}</span>',
                pct(f["immediate_share"]),
                f'<span class="bad">{f["bad"]}</span>',
                f'<span class="overdue">{f["cases_overdue"]}</span>',
            ]
        )
        ids.append("line-total" if line is t.total else f"line-{line.key}")
    return table(
        [
            statistics.GROUPING_NAMES[t.by],
            "取号",
            "办结",
            "过号",
            "平均等候(分)",
            "P90等候(分)",
            "目标内",
            "平均办理(分)",
            "评价",
            "满意率",
            "现场办结率",
            "即办件占比",
            "差评",
            "超期差评",
        ],
        rows,
        cls="stats",
        row_ids=ids,
    )


def _missing(t: statistics.Table) -> str:
    if not t.missing_top:
        return ""
    return "<h2>最常缺少的材料</h2>" + table(
        ["材料", "次数"], [[e(t.material_names.get(m, m)), str(n)] for m, n in t.missing_top]
    )


@dataclass(frozen=True, slots=True)
class _StatsView:
    """A statistics table as asked for, of a region or of one hall the user may see."""

    user: User
    central: Central
    table: statistics.Table
    base: str  # the page's path (exports hang below it)
    target: str  # region or hall id
    title: str


async def _stats(request: Request, region_id: str = "", hall_id: str = "") -> _StatsView:
    user = await signed_in(request)
    central = get_central(request)
    if hall_id:
        if not await visible(central.pool, user.region_path, hall_id):
            raise NotFound
        region = (user.region_id, "", user.region_path)
        base, default_by = f"/halls/{urllib.parse.quote(hall_id, safe='')}/stats", "matter"
    else:
        found = await region_in_scope(central, user, region_id)
        if found is None:
            raise NotFound
        region = found
        base, default_by = f"/stats/{urllib.parse.quote(region_id, safe='')}", "hall"
    span = span_of(central, request.query_params)
    by = choice(request.query_params, "by", statistics.GROUPINGS, default_by)
    t = await table_of(central, region, span, by, hall_id)
    return _StatsView(
        user, central, t, base, hall_id or region_id, await _hall_name(central, hall_id) or t.region
    )


async def _hall_name(central: Central, hall_id: str) -> str:
    if not hall_id:
        return ""
    async with central.pool.connection() as conn:
        cur = await conn.execute("SELECT name FROM halls WHERE hall_id = %s", (hall_id,))
        row = await cur.fetchone()
        await conn.rollback()
    return str(row[0]) if row else hall_id


async def _statsexport(request: Request, v: _StatsView) -> Response:
    t = v.table
    what = "hall_stats" if v.base.startswith("/halls/") else "stats"
    stem = f"统计-{v.title}-{t.span.label}-{t.by}"
    return await export(
        request,
        v.user,
        v.central,
        what,
        v.target,
        {"span": t.span.label, "by": t.by},
        lambda f: exports.stats(t, f),
        stem,
    )


async def _stats_page(request: Request, v: _StatsView) -> Response:
    t, q = v.table, request.query_params
    links = ""
    if not v.base.startswith("/halls/"):
        subregions = await children(
            v.central, (await region_in_scope(v.central, v.user, v.target) or ("", "", ""))[2]
        )
        sub = " ".join(
            f'<a href="/stats/{urllib.parse.quote(i, safe="")}?{e(qs(q))}">{e(n)}</a>' for i, n in subregions
        )
        quoted = e(urllib.parse.quote(v.target, safe=""))
        links = (f"下级地区：{sub} · " if sub else "") + (
            f'<a href="/rankings/{quoted}?{e(qs(q, drop=("by",)))}">排名</a> · <a href="/cases/{quoted}">超期差评</a> · '
        )
    else:
        links = f'<a href="/halls/{e(urllib.parse.quote(v.target, safe=""))}">← 实时</a> · '
    base = e(v.base)
    body = f"""<h1>{e(v.title)} · 统计 <span class="muted">{e(t.span.label)}</span></h1>
      {form(v.base, q, statistics.GROUPINGS, statistics.GROUPING_NAMES, "by", t.by)}
      <p>{links}导出 <a id="export-csv" href="{base}/export?{e(qs(q, format="csv"))}">CSV</a>
      <a id="export-xlsx" href="{base}/export?{e(qs(q, format="xlsx"))}">XLSX</a></p>
      <p class="muted">{t.halls} 个大厅</p>
      {_statstable_of(t)}{_missing(t)}"""
    return _page(f"{v.title} 统计", body, v.user, v.central, nav="/stats")


def _add_stats_routes(page: str, api: str, key: str) -> None:
    """A region's or a hall's statistics (`key`: the path parameter naming it), three ways: the page, its
    export and the JSON."""

    async def view(request: Request) -> _StatsView:
        return await _stats(request, **{key: request.path_params[key]})

    async def as_json(request: Request) -> Response:
        return JSONResponse(table_json((await view(request)).table))

    async def as_export(request: Request) -> Response:
        return await _statsexport(request, await view(request))

    async def as_page(request: Request) -> Response:
        return await _stats_page(request, await view(request))

    router.add_api_route(api, as_json, methods=["GET"], name=f"{key}_stats_api")
    router.add_api_route(f"{page}/export", as_export, methods=["GET"], name=f"{key}_stats_export")
    router.add_api_route(page, as_page, methods=["GET"], name=f"{key}_stats_page")


_add_stats_routes("/stats/{region_id}", "/api/stats/{region_id}", "region_id")
_add_stats_routes("/halls/{hall_id}/stats", "/api/halls/{hall_id}/stats", "hall_id")
