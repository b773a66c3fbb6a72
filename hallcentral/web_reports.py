"""The centre's reports across halls: rankings of halls, departments, windows and clerks for a period
(served, 满意率, 现场办结率, handle time, 差评), and the 差评 past their deadline — each as a page, as JSON
and as CSV/XLSX (audited). Scoped like every page: a region outside the user's subtree answers 404.
"""

# ruff: noqa: E501 - HTML markup reads better on one line than split mid-tag

from __future__ import annotations

import urllib.parse
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from hallcentral import cases, exports, rankings, statistics
from hallcentral.auth import User
from hallcentral.service import Central
from hallcentral.web import _page
from hallcentral.web_query import (
    add_home,
    choice,
    export,
    form,
    minutes,
    pct,
    qs,
    scoped_region,
    span_of,
    table_head,
    table_of,
)
from hallweb.html import e, table

router = APIRouter(include_in_schema=False)
add_home(router, "rankings")
add_home(router, "cases")

#: A 差评 case's state as the hall's 差评 page names it.
CASE_STATES = {
    "open": "待回访",
    "called_back": "已回访",
    "resolved": "已整改",
    "closed": "已办结",
    "appealed": "申诉中",
}

# ---- rankings --------------------------------------------------------------------------------------------


async def _rankings(request: Request, region_id: str) -> tuple[User, Central, statistics.Table, str]:
    user, central, region = await scoped_region(request, region_id)
    span = span_of(central, request.query_params)
    of = choice(request.query_params, "of", rankings.SUBJECTS, "hall")
    metric = choice(request.query_params, "metric", rankings.METRICS, "satisfaction")
    return user, central, await table_of(central, region, span, of, hists=False), metric


def _rankings_json(t: statistics.Table, metric: str) -> dict[str, Any]:
    return {
        **table_head(t),
        "of": t.by,
        "metric": metric,
        "rows": rankings.ranked(t, metric),
    }


@router.get("/api/rankings/{region_id}")
async def rankings_api(request: Request, region_id: str) -> Response:
    _user, _central, t, metric = await _rankings(request, region_id)
    return JSONResponse(_rankings_json(t, metric))


@router.get("/rankings/{region_id}/export")
async def rankingsexport(request: Request, region_id: str) -> Response:
    user, central, t, metric = await _rankings(request, region_id)
    rows = rankings.ranked(t, metric)
    detail = {"span": t.span.label, "of": t.by, "metric": metric}
    stem = f"排名-{t.region}-{t.span.label}-{t.by}-{metric}"

    def make(fmt: str) -> bytes:
        return exports.ranking(t, metric, rows, fmt)

    return await export(request, user, central, "rankings", region_id, detail, make, stem)


@router.get("/rankings/{region_id}")
async def rankings_page(request: Request, region_id: str) -> Response:
    user, central, t, metric = await _rankings(request, region_id)
    q = request.query_params
    m = rankings.METRICS[metric]
    quoted = e(urllib.parse.quote(region_id, safe=""))
    mopts = "".join(
        f'<option value="{k}"{" selected" if k == metric else ""}>{e(v.name)}</option>'
        for k, v in rankings.METRICS.items()
    )
    the_form = form(f"/rankings/{region_id}", q, rankings.SUBJECTS, rankings.SUBJECTS, "of", t.by).replace(
        '<button id="show">', f'指标 <select name="metric" id="metric">{mopts}</select> <button id="show">'
    )
    rows = []
    ids = []
    for r in rankings.ranked(t, metric):
        value = r["value"]
        shown = (
            "无数据"
            if value is None
            else (f"{value:.1%}" if m.share else (f"{value:.1f}" if isinstance(value, float) else str(value)))
        )
        rows.append(
            [
                f'<span class="rank">{"–" if r["rank"] is None else r["rank"]}</span>',
                e(r["name"]),
                f'<span class="value">{e(shown)}</span>',
                str(r["served"]),
                pct(r["satisfaction"]),
                pct(r["onsite_rate"]),
                minutes(r["handle_mean"]),
                str(r["bad"]),
            ]
        )
        ids.append(f"rank-{r['key']}")
    body = f"""<h1>{e(t.region)} · {e(rankings.SUBJECTS[t.by])}排名 · {e(m.name)} <span class="muted">{e(t.span.label)}</span></h1>
      {the_form}
      <p><a href="/stats/{quoted}?{e(qs(q, drop=("of", "metric")))}">← 统计</a> · 导出
      <a id="export-csv" href="/rankings/{quoted}/export?{e(qs(q, format="csv"))}">CSV</a>
      <a id="export-xlsx" href="/rankings/{quoted}/export?{e(qs(q, format="xlsx"))}">XLSX</a></p>
      {table(["名次", rankings.SUBJECTS[t.by], m.name, "办结", "满意率", "现场办结率", "平均办理(分)", "差评"], rows, row_ids=ids)}"""
    return _page(f"{t.region} 排名", body, user, central, nav="/rankings")


# ---- overdue 差评 ----------------------------------------------------------------------------------------


async def _cases(
    request: Request, region_id: str
) -> tuple[User, Central, tuple[str, str, str], dict[str, Any]]:
    user, central, region = await scoped_region(request, region_id)
    async with central.pool.connection() as conn:
        data = await cases.overdue(conn, region[2])
        await conn.rollback()
    return user, central, region, data


@router.get("/api/cases/{region_id}")
async def cases_api(request: Request, region_id: str) -> Response:
    _user, _central, region, data = await _cases(request, region_id)
    return JSONResponse({"region": region_id, "region_name": region[1], **data})


@router.get("/cases/{region_id}/export")
async def casesexport(request: Request, region_id: str) -> Response:
    user, central, region, data = await _cases(request, region_id)
    detail = {"n": len(data["cases"])}
    return await export(
        request,
        user,
        central,
        "overdue_cases",
        region_id,
        detail,
        lambda f: exports.overdue(region[1], data, f),
        f"超期差评-{region[1]}",
    )


@router.get("/cases/{region_id}")
async def cases_page(request: Request, region_id: str) -> Response:
    user, central, region, data = await _cases(request, region_id)
    quoted = e(urllib.parse.quote(region_id, safe=""))
    per_hall = table(
        ["大厅", "地区", "超期差评", "最早期限"],
        [
            [e(h["name"]), e(h["region"]), f'<span class="num">{h["overdue"]}</span>', e(h["oldest_due"])]
            for h in data["halls"]
        ],
        row_ids=[f"overdue-{h['hall_id']}" for h in data["halls"]],
    )
    rows = table(
        ["大厅", "号码", "日期", "评价", "窗口", "事项", "状态", "期限", "超期(天)"],
        [
            [
                e(c["hall"]),
                e(c["label"]),
                e(c["day"]),
                str(c["score"]),
                str(c["window"]),
                e(c["matter_name"]),
                e(CASE_STATES.get(c["state"], c["state"])),
                e(c["due"]),
                str(c["days_overdue"]),
            ]
            for c in data["cases"]
        ],
        row_ids=[f"case-{c['hall_id']}-{c['case']}" for c in data["cases"]],
    )
    body = f"""<h1>{e(region[1])} · 超期未办结差评 <span id="overdue-total">{data["total"]}</span> 件</h1>
      <p><a href="/stats/{quoted}">← 统计</a> · 导出 <a id="export-csv" href="/cases/{quoted}/export?format=csv">CSV</a>
      <a id="export-xlsx" href="/cases/{quoted}/export?format=xlsx">XLSX</a></p>
      <h2>各大厅</h2>{per_hall}<h2>工单（最早期限在前，最多 {cases.LIMIT} 件）</h2>{rows}"""
    return _page(f"{region[1]} 超期差评", body, user, central, nav="/cases")
