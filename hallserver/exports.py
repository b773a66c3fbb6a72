"""Statistics exports: the same figures as the page (one `Report`), as CSV and XLSX (hallweb/exports.py)."""

from __future__ import annotations

from typing import Any

from hallcore.caseoutcome import CaseOutcome
from hallcore.model import SCORE_NAMES
from hallserver.stats import NO_DATA, RANK_BY, RANKED, Report, Row, Target, ranking
from hallweb import exports
from hallweb.exports import FIGURE_COLUMNS, Sheet, rounded

ROW_HEADERS = (
    *FIGURE_COLUMNS,
    "评价数",
    *(f"{SCORE_NAMES[s][0]}" for s in sorted(SCORE_NAMES, reverse=True)),
    "参评率",
    "满意率",
    "P50办理(分)",
    "P90办理(分)",
    "最长办理(分)",
    "差评",
    "即办件办结",
    "即办件占比",
    *(str(o.value) for o in CaseOutcome),
    "现场办结率",
)


def share_or_no_data(value: float | None) -> float | str:
    """A share as the page rounds it; 无数据 (not 0, not blank) when there was nothing to count."""
    return NO_DATA if value is None else round(value, 3)


def row_values(r: Row) -> list[Any]:
    """One table line, rounded as on the page (minutes to 0.1, shares to 0.001)."""
    return [
        r.key,
        r.name,
        r.tickets,
        r.served,
        r.no_shows,
        r.transfers,
        r.expired,
        r.cancelled,
        r.called,
        rounded(r.wait_mean),
        rounded(r.wait_p50),
        rounded(r.wait_p90),
        rounded(r.wait_max),
        rounded(r.within_target, 3),
        rounded(r.handle_mean),
        r.rated,
        *(r.by_score.get(s, 0) for s in sorted(SCORE_NAMES, reverse=True)),
        rounded(r.participation, 3),
        rounded(r.satisfaction, 3),
        rounded(r.handle_p50),
        rounded(r.handle_p90),
        rounded(r.handle_max),
        r.bad_ratings,
        r.served_immediate,
        rounded(r.immediate_share, 3),
        *(r.outcomes.get(o.value, (0, 0))[0] for o in CaseOutcome),
        share_or_no_data(r.onsite_rate),
    ]


def target_values(t: Target) -> list[Any]:
    return [t.name, t.target, share_or_no_data(t.actual), t.met]


RANK_HEADERS = ("名次", "key", "名称", "办结数", "满意率", "现场办结率", "平均办理(分)", "差评")


def ranking_rows(rep: Report, key: str) -> list[list[Any]]:
    """The 红旗窗口 table: the report's rows ranked by `key` (stats.RANK_BY), best first."""
    return [
        [
            rank or "–",
            r.key,
            r.name,
            r.served,
            share_or_no_data(r.satisfaction),
            share_or_no_data(r.onsite_rate),
            rounded(r.handle_mean),
            r.bad_ratings,
        ]
        for rank, r in ranking(rep.rows, key)
    ]


def sheets(rep: Report) -> list[Sheet]:
    """(sheet name, headers, rows) for every table of the report."""
    out: list[Sheet] = [
        (f"按{rep.by}", ROW_HEADERS, [row_values(rep.total)] + [row_values(r) for r in rep.rows]),
        ("分时段", ("小时", "取号数", "平均等候(分)"), [[h, n, rounded(w)] for h, n, w in rep.hourly]),
        (
            "每日",
            ("日期", "取号数", "平均等候(分)", "满意率"),
            [[d, n, rounded(w), rounded(s, 3)] for d, n, w, s in rep.daily],
        ),
        ("等候分布", ("等候(分)", "人数"), [[a, b] for a, b in rep.wait_bins]),
        ("预审", ("结果", "次数"), [[k, v] for k, v in rep.precheck.items()]),
        ("代办", ("结果", "代办次数"), [[k, v] for k, v in rep.agent.items()]),
        ("缺少材料", ("材料", "名称", "次数"), [list(x) for x in rep.missing_top]),
        (
            "各事项缺少材料",
            ("事项", "事项名称", "材料/条件", "次数"),
            [list(x) for x in rep.missing_by_matter],
        ),
        ("容缺补齐", ("指标", "件数"), [[k, v] for k, v in rep.register.items()]),
        (
            "目标",
            ("指标", "目标", "实际", "达标"),
            [target_values(t) for t in rep.targets]
            + [
                [
                    "即办件占比（事项目录）",
                    rep.targets[1].target,
                    share_or_no_data(rep.catalogue_immediate),
                    None,
                ]
            ],
        ),
        (
            "部门目标",
            ("部门", "名称", "指标", "目标", "实际", "达标"),
            [
                [d.key, d.name, *target_values(t)]
                for d in rep.departments
                for t in (d.onsite, d.immediate, d.satisfaction)
            ]
            + [
                [
                    d.key,
                    d.name,
                    "即办件占比（事项目录）",
                    d.immediate.target,
                    share_or_no_data(d.catalogue),
                    None,
                ]
                for d in rep.departments
            ],
        ),
        (
            "预估误差",
            ("样本数", "MAE(分)", "区间覆盖率"),
            [[rep.estimates["n"], rounded(rep.estimates["mae"]), rounded(rep.estimates["coverage"], 3)]],
        ),
        ("暂停", ("窗口", "原因", "次数", "分钟"), [[w, r, n, rounded(m)] for w, r, n, m in rep.pauses]),
        (
            "窗口利用率",
            ("窗口", "开放(分)", "办理(分)", "利用率"),
            [[w, rounded(o), rounded(s), rounded(u, 3)] for w, o, s, u in rep.utilisation],
        ),
        (
            "差评",
            ("指标", "值"),
            [[k, v if not isinstance(v, float) else round(v, 3)] for k, v in rep.cases.items()],
        ),
    ]
    if rep.by in RANKED:
        for key, (label, _attr, _high) in RANK_BY.items():
            out.append((f"排名-{label}", RANK_HEADERS, ranking_rows(rep, key)))
    return out


def to_csv(rep: Report) -> bytes:
    return exports.to_csv(["统计范围", rep.span.label, "分组", rep.by], sheets(rep))


def to_xlsx(rep: Report) -> bytes:
    return exports.to_xlsx([rep.span.label], sheets(rep))
