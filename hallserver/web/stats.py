"""The statistics page and its exports (`/web/stats`, `/web/stats.csv`, `/web/stats.xlsx`): one `Report`
(hallserver/stats.py) rendered as HTML with server-side SVG charts, or exported with the same figures."""

# ruff: noqa: E501 - HTML and SVG markup reads better on one line than split mid-tag

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hallcore.calendar import HallCalendar
from hallcore.model import SCORE_NAMES
from hallserver import exports, stats, stats_identity
from hallserver.deps import get_hall
from hallserver.errors import ApiError
from hallserver.web import session as ws_session
from hallserver.web import svg
from hallserver.web.guard import audit_export
from hallserver.web.pages import e, label, page, table
from hallweb.exports import XLSX_TYPE

router = APIRouter(include_in_schema=False)

BY_ZH = {
    "matter": "事项",
    "series": "队列",
    "window": "窗口",
    "clerk": "工作人员",
    "hour": "时段",
    "department": "部门",
}
PERIOD_ZH = {"day": "日", "week": "周", "month": "月", "year": "年", "custom": "自定义"}


@dataclass
class StatsQuery:
    """The statistics' query string, shared by the page and its exports (the page links them with it)."""

    period: str = "day"
    date: str = ""
    end: str = ""
    by: str = "matter"
    rank: str = "served"  # the 红旗窗口 order (stats.RANK_BY) when grouped by window, clerk or department


StatsParams = Annotated[StatsQuery, Depends()]


async def _report(request: Request, q: StatsQuery) -> stats.Report:
    period, date, end, by = q.period, q.date, q.end, q.by
    hall = get_hall(request)
    today = HallCalendar(hall.config.hall).business_day(hall.clock.now())
    field = "date"
    try:
        anchor = dt.date.fromisoformat(date) if date else today
        field = "end"
        last = dt.date.fromisoformat(end) if end else None
        field = "period"
        span = stats.span_for(period, anchor, last)
        field = "by"
        if by not in stats.DIMENSIONS:
            raise ValueError(f"one of {', '.join(stats.DIMENSIONS)}")
        field = "rank"
        if q.rank not in stats.RANK_BY:
            raise ValueError(f"one of {', '.join(stats.RANK_BY)}")
    except ValueError as exc:
        raise ApiError(
            422,
            "invalid_field",
            f"统计范围有误：字段 {field}：{exc}",
            f"bad statistics range: field {field}: {exc}",
            {"field": field},
        ) from exc
    return await stats.build_report(
        hall.store.read, hall.config, span, by, today, hall.clock.now(), submit=hall.store.submit
    )


def _query(period: str, date: str, end: str, by: str, rank: str = "served") -> str:
    return f"period={e(period)}&amp;date={e(date)}&amp;end={e(end)}&amp;by={e(by)}&amp;rank={e(rank)}"


@router.get("/web/stats")
async def stats_page(request: Request, query: StatsParams) -> Response:
    period, date, end, by = query.period, query.date, query.end, query.by
    found = await ws_session.manager_from_cookie(request)
    if found is None:
        return RedirectResponse("/web/login", 303)
    csrf = ws_session.csrf_for(get_hall(request).store.secret, found[1])
    rep = await _report(request, query)
    hall = get_hall(request)
    t = rep.total
    q = _query(period, date or rep.span.start.isoformat(), end, by, query.rank)
    periods = "".join(
        f'<option value="{k}"{" selected" if k == period else ""}>{v}</option>' for k, v in PERIOD_ZH.items()
    )
    bys = "".join(
        f'<option value="{k}"{" selected" if k == by else ""}>{v}</option>' for k, v in BY_ZH.items()
    )
    # Every control has a visible label (WCAG 1.3.1/3.3.2; the audit in tests/web checks it).
    form = f"""<form method="get" action="/web/stats" class="card">
      {label("stats-period", "范围")}<select name="period" id="stats-period">{periods}</select>
      {label("stats-date", "日期")}<input type="date" name="date" id="stats-date" value="{e(date or rep.span.start.isoformat())}">
      {label("stats-end", "至")}<input type="date" name="end" id="stats-end" value="{e(end)}">
      {label("stats-by", "分组")}<select name="by" id="stats-by">{bys}</select> <button id="stats-go">查看</button>
      <a id="csv" href="/web/stats.csv?{q}">导出 CSV</a> · <a id="xlsx" href="/web/stats.xlsx?{q}">导出 XLSX</a></form>"""

    def fig(id_: str, label: str, value: str) -> str:
        return f'<div class="card"><div class="muted">{e(label)}</div><b id="{id_}" class="figure">{e(value)}</b></div>'

    cards = "".join(
        [
            fig("total-tickets", "取号", str(t.tickets)),
            fig("total-served", "办结", str(t.served)),
            fig("total-wait-mean", "平均等候(分)", stats.fmt_min(t.wait_mean)),
            fig("total-wait-p50", "P50 等候(分)", stats.fmt_min(t.wait_p50)),
            fig("total-wait-p90", "P90 等候(分)", stats.fmt_min(t.wait_p90)),
            fig("total-wait-max", "最长等候(分)", stats.fmt_min(t.wait_max)),
            fig("total-within", "目标内叫号", stats.fmt_pct(t.within_target)),
            fig("total-handle", "平均办理(分)", stats.fmt_min(t.handle_mean)),
            fig("total-no-shows", "过号", str(t.no_shows)),
            fig("total-transfers", "转办", str(t.transfers)),
            fig("total-rated", "评价数", str(t.rated)),
            fig("total-participation", "参评率", stats.fmt_pct(t.participation)),
            fig("total-satisfaction", "满意率", stats.fmt_pct(t.satisfaction)),
            fig("total-onsite", "现场办结率", stats.fmt_share(t.onsite_rate)),
            fig("total-bad", "差评", str(t.bad_ratings)),
        ]
    )
    targets = table(
        ("指标", "目标", "实际", ""),
        [
            (
                e(x.name),
                stats.fmt_pct(x.target),
                f'<span id="target-{i}">{stats.fmt_share(x.actual)}</span>',
                "–"
                if x.met is None
                else ('<span class="okc">达标</span>' if x.met else '<span class="badc">未达标</span>'),
            )
            for i, x in enumerate(rep.targets)
        ]
        + [
            (
                "即办件占比（事项目录）",
                "",
                f'<span id="target-catalogue">{stats.fmt_share(rep.catalogue_immediate)}</span>',
                "",
            )
        ],
    )
    rows = [
        (
            e(r.key),
            e(r.name),
            r.tickets,
            r.served,
            r.no_shows,
            r.transfers,
            stats.fmt_min(r.wait_mean),
            stats.fmt_min(r.wait_p50),
            stats.fmt_min(r.wait_p90),
            stats.fmt_min(r.wait_max),
            stats.fmt_pct(r.within_target),
            stats.fmt_min(r.handle_mean),
            r.rated,
            stats.fmt_pct(r.satisfaction),
            r.bad_ratings,
            stats.fmt_share(r.immediate_share),
            stats.fmt_share(r.onsite_rate),
        )
        for r in rep.rows
    ]
    group_table = table(
        (
            BY_ZH[by],
            "名称",
            "取号",
            "办结",
            "过号",
            "转办",
            "平均等候",
            "P50",
            "P90",
            "最长",
            "目标内",
            "平均办理",
            "评价",
            "满意率",
            "差评",
            "即办件占比",
            "现场办结率",
        ),
        rows,
        cls="groups",
    )
    pre = rep.precheck
    precheck = (
        f'<p>通过 <b id="precheck-pass">{pre["通过"]}</b> · 容缺 <b id="precheck-tolerated">{pre["容缺"]}</b> · '
        f'不通过 <b id="precheck-fail">{pre["不通过"]}</b></p>'
        f'<p>代办 <b id="precheck-agent">{sum(rep.agent.values())}</b> 人次，占 '
        f'<b id="precheck-agent-share">{stats.fmt_pct(rep.agent_share)}</b>（通过 {rep.agent["通过"]} · '
        f"容缺 {rep.agent['容缺']} · 不通过 {rep.agent['不通过']}）</p>"
        + table(("材料/条件", "缺少次数"), [(e(name), n) for _id, name, n in rep.missing_top], cls="missing")
        + "<h3>各事项最常缺少</h3>"
        + table(
            ("事项", "材料/条件", "缺少次数"),
            [(e(mname), e(item), n) for _c, mname, item, n in rep.missing_by_matter],
            cls="missing-by-matter",
        )
        + _register_html(rep.register)
        + _identity_html(rep.identity)
    )
    scores = sorted(SCORE_NAMES, reverse=True)
    charts = "".join(
        f"<div><h2>{title}</h2>{chart}</div>"
        for title, chart in (
            (
                "分时段取号",
                svg.bars("分时段取号", [f"{h}" for h, _n, _w in rep.hourly], [n for _h, n, _w in rep.hourly]),
            ),
            (
                "等候时间分布（分钟）",
                svg.bars(
                    "等候时间分布", [a for a, _b in rep.wait_bins], [b for _a, b in rep.wait_bins], css="bar2"
                ),
            ),
            (
                "每日取号",
                svg.line("每日取号", [d[5:] for d, *_x in rep.daily], [float(n) for _d, n, *_x in rep.daily]),
            ),
            (
                "每日平均等候（分钟）",
                svg.line("每日平均等候", [d[5:] for d, *_x in rep.daily], [w for _d, _n, w, _s in rep.daily]),
            ),
            (
                "评价分布",
                svg.bars(
                    "评价分布", [SCORE_NAMES[s][0] for s in scores], [t.by_score.get(s, 0) for s in scores]
                ),
            ),
            ("预审结果", svg.bars("预审结果", list(pre), list(pre.values()), css="bar2")),
        )
    )
    est = rep.estimates
    c = rep.cases
    cfg = hall.config
    body = (
        f"<h1>统计 · {e(rep.span.label)} <span class='muted'>按{BY_ZH[by]}</span></h1>{form}"
        f'<div class="cards">{cards}</div><h2>目标对照（种子目标）</h2>{targets}'
        f"<h2>各部门目标对照</h2>{_department_html(rep)}"
        f"<h2>按{BY_ZH[by]}</h2>{group_table}"
        + _ranking_html(rep, period, date or rep.span.start.isoformat(), end, query.rank)
        + f"<div class='charts'>{charts}</div>"
        f"<h2>预审</h2>{precheck}"
        + _estimate_html(est)
        + "<h2>暂停（按原因）</h2>"
        + table(
            ("窗口", "原因", "次数", "分钟"), [(w, e(r), n, stats.fmt_min(m)) for w, r, n, m in rep.pauses]
        )
        + "<h2>窗口利用率</h2>"
        + table(
            ("窗口", "开放(分)", "办理(分)", "利用率"),
            [(w, stats.fmt_min(o), stats.fmt_min(s), stats.fmt_pct(u)) for w, o, s, u in rep.utilisation],
        )
        + _case_html(c, cfg.rating.case_deadline_days)
    )
    return HTMLResponse(page("统计", body, nav="/web/stats", csrf=csrf))


def _met(t: stats.Target) -> str:
    if t.met is None:
        return "–"
    return '<span class="okc">达标</span>' if t.met else '<span class="badc">未达标</span>'


def _department_html(rep: stats.Report) -> str:
    """Each department against the hall's targets (考核 is by department); 无数据 where nothing was counted."""
    rows = [
        (
            e(d.name),
            *(
                f'<span id="dept-{e(d.key)}-{k}">{stats.fmt_share(x.actual)}</span> {_met(x)}'
                for k, x in (
                    ("onsite", d.onsite),
                    ("immediate", d.immediate),
                    ("satisfaction", d.satisfaction),
                )
            ),
            stats.fmt_share(d.catalogue),
        )
        for d in rep.departments
    ]
    t = rep.targets
    head = (
        "部门",
        f"现场办结率（目标 {stats.fmt_pct(t[0].target)}）",
        f"即办件占比（目标 {stats.fmt_pct(t[1].target)}）",
        f"满意率（目标 {stats.fmt_pct(t[2].target)}）",
        "即办件占比（事项目录）",
    )
    return table(head, rows, cls="departments", row_ids=[f"dept-{d.key}" for d in rep.departments])


def _ranking_html(rep: stats.Report, period: str, date: str, end: str, rank: str) -> str:
    """The 红旗窗口 view: windows, clerks or departments ranked by one figure; a header link re-ranks."""
    if rep.by not in stats.RANKED:
        return "<p class='muted'>按窗口、工作人员或部门分组可查看红旗窗口排名。</p>"
    label = stats.RANK_BY[rank][0]
    heads = "".join(
        f'<th><a id="rank-{k}" href="/web/stats?{_query(period, date, end, rep.by, k)}">{e(v[0])}</a></th>'
        for k, v in stats.RANK_BY.items()
    )
    body = "".join(
        f'<tr id="rank-row-{e(r.key)}"><td class="num">{n or "–"}</td><td>{e(r.name)}</td>'
        f"<td>{r.served}</td><td>{stats.fmt_pct(r.satisfaction)}</td><td>{stats.fmt_share(r.onsite_rate)}</td>"
        f"<td>{stats.fmt_min(r.handle_mean)}</td><td>{r.bad_ratings}</td></tr>"
        for n, r in stats.ranking(rep.rows, rank)
    )
    return (
        f'<h2 id="rankings-title">红旗窗口排名 · 按{e(label)}</h2>'
        f'<table class="rankings"><thead><tr><th>名次</th><th>{BY_ZH[rep.by]}</th>{heads}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _estimate_html(est: dict[str, Any]) -> str:
    return (
        f"<h2>等候时间预估误差</h2><p>样本 {est['n']} · MAE "
        f'<b id="est-mae">{stats.fmt_min(est["mae"])}</b> 分钟 · 实际落在显示区间内 '
        f'<b id="est-coverage">{stats.fmt_pct(est["coverage"])}</b></p>'
    )


def _register_html(r: dict[str, int]) -> str:
    """The 容缺 register of the tickets in the range, as it stands today (hallcore/owed.py)."""
    cells = (
        ("容缺件", "opened"),
        ("按期补齐", "on_time"),
        ("逾期补齐", "late"),
        ("逾期未补齐", "never"),
        ("未到期待补", "open"),
    )
    return (
        "<h3>容缺补齐</h3><p>" + " · ".join(f'{z} <b id="register-{k}">{r[k]}</b>' for z, k in cells) + "</p>"
    )


def _identity_html(ident: dict[str, Any]) -> str:
    """刷身份证取号: carded against anonymous tickets, and the card holders' ages by decade (no identities)."""
    if not ident:
        return ""
    decades = table(
        ("年龄段", "刷证人次"),
        [(stats_identity.decade_name(band), n) for band, n in ident["decades"]],
        cls="age-decades",
    )
    return (
        f'<h3>刷身份证取号</h3><p>本人刷证 <b id="identity-carded">{ident["carded"]}</b> · 代办刷证 '
        f'<b id="identity-agent">{ident["agent"]}</b> · 未刷证 <b id="identity-anonymous">'
        f'{ident["anonymous"]}</b> · 刷证占比 <b id="identity-share">{stats.fmt_pct(ident["carded_share"])}'
        f"</b></p>" + decades
    )


def _case_html(c: dict[str, Any], days: int) -> str:
    return (
        f"<h2>差评整改（期限 {days} 个工作日）</h2>"
        f"<p>新增 {c['opened']} · 已办结 {c['closed']}（按期 {c['closed_on_time']}，按期率 "
        f'<b id="case-on-time">{stats.fmt_pct(c["on_time_rate"])}</b>）· 超期未办结 {c["overdue"]} · '
        f"实名差评 {c['named']}，已回访 {c['named_called_back']}，实名差评回访率 "
        f'<b id="case-callback">{stats.fmt_pct(c["callback_rate"])}</b></p>'
    )


async def _export(request: Request, query: StatsQuery, kind: str) -> Response:
    if await ws_session.manager_from_cookie(request) is None:
        return RedirectResponse("/web/login", 303)
    rep = await _report(request, query)
    await audit_export(request, "stats", kind, start=rep.span.start, end=rep.span.end, by=query.by)
    name = f"hallq-stats-{rep.span.start.isoformat()}_{rep.span.end.isoformat()}-{query.by}.{kind}"
    if kind == "csv":
        return Response(
            exports.to_csv(rep),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(
        exports.to_xlsx(rep),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/web/stats.csv")
async def stats_csv(request: Request, query: StatsParams) -> Response:
    return await _export(request, query, "csv")


@router.get("/web/stats.xlsx")
async def stats_xlsx(request: Request, query: StatsParams) -> Response:
    return await _export(request, query, "xlsx")
