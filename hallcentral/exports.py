"""CSV (UTF-8 with BOM, so Excel in a Chinese locale opens it right) and XLSX (openpyxl) of the centre's
statistics tables, rankings and overdue 差评: the same lines and figures as the pages and the JSON."""

from __future__ import annotations

from typing import Any

from hallcentral.rankings import METRICS, SUBJECTS
from hallcentral.statistics import GROUPING_NAMES, Table
from hallweb import exports
from hallweb.exports import FIGURE_COLUMNS, Sheet, rounded

FORMATS = ("csv", "xlsx")

STATS_HEADERS = (
    *FIGURE_COLUMNS,
    "P50办理(分)",
    "P90办理(分)",
    "最长办理(分)",
    "评价数",
    "非常满意",
    "满意",
    "基本满意",
    "不满意",
    "非常不满意",
    "参评率",
    "满意率",
    "现场办结率",
    "即办件占比",
    "差评",
    "差评工单",
    "已办结工单",
    "按期办结率",
    "超期差评",
)


def stats_row(f: dict[str, Any]) -> list[Any]:
    """One line's figures, rounded as on the page (minutes to 0.1, shares to 0.001); None: no data."""
    s = f["by_score"]
    return [
        f["key"],
        f["name"],
        f["tickets"],
        f["served"],
        f["no_shows"],
        f["transfers"],
        f["expired"],
        f["cancelled"],
        f["called"],
        rounded(f["wait_mean"]),
        rounded(f["wait_p50"]),
        rounded(f["wait_p90"]),
        rounded(f["wait_max"]),
        rounded(f["within_target"], 3),
        rounded(f["handle_mean"]),
        rounded(f["handle_p50"]),
        rounded(f["handle_p90"]),
        rounded(f["handle_max"]),
        f["rated"],
        s[5],
        s[4],
        s[3],
        s[2],
        s[1],
        rounded(f["participation"], 3),
        rounded(f["satisfaction"], 3),
        rounded(f["onsite_rate"], 3),
        rounded(f["immediate_share"], 3),
        f["bad"],
        f["cases_opened"],
        f["cases_closed"],
        rounded(f["cases_on_time_rate"], 3),
        f["cases_overdue"],
    ]


def _stats_sheets(t: Table) -> list[Sheet]:
    lines = [stats_row(t.total.figures())] + [stats_row(line.figures()) for line in t.lines]
    return [
        (f"按{GROUPING_NAMES[t.by]}", STATS_HEADERS, lines),
        (
            "缺少材料",
            ("材料", "名称", "次数"),
            [[m, t.material_names.get(m, m), n] for m, n in t.missing_top],
        ),
    ]


def _write(title: list[Any], sheets: list[Sheet], fmt: str) -> bytes:
    return exports.to_csv(title, sheets) if fmt == "csv" else exports.to_xlsx(title, sheets)


def stats(t: Table, fmt: str) -> bytes:
    title = ["统计范围", t.region, t.span.label, "分组", GROUPING_NAMES[t.by], "大厅数", t.halls]
    return _write(title, _stats_sheets(t), fmt)


def ranking_rows(metric: str, rows: list[dict[str, Any]]) -> list[list[Any]]:
    digits = 3 if METRICS[metric].share else 1
    out = []
    for r in rows:
        value = r["value"]
        out.append(
            [
                r["rank"],
                r["key"],
                r["name"],
                rounded(value, digits) if isinstance(value, float) else value,
                r["served"],
                rounded(r["satisfaction"], 3),
                rounded(r["onsite_rate"], 3),
                rounded(r["handle_mean"]),
                r["bad"],
            ]
        )
    return out


def ranking(t: Table, metric: str, rows: list[dict[str, Any]], fmt: str) -> bytes:
    subject, name = SUBJECTS[t.by], METRICS[metric].name
    headers = ("名次", "key", subject, name, "办结", "满意率", "现场办结率", "平均办理(分)", "差评")
    title = ["排名", t.region, t.span.label, subject, name]
    return _write(title, [(f"{subject}排名", headers, ranking_rows(metric, rows))], fmt)


OVERDUE_HEADERS = ("大厅", "地区", "工单", "号码", "日期", "评价", "窗口", "事项", "状态", "期限", "超期(天)")


def overdue(region: str, data: dict[str, Any], fmt: str) -> bytes:
    rows = [
        [
            c["hall"],
            c["region"],
            c["case"],
            c["label"],
            c["day"],
            c["score"],
            c["window"],
            c["matter_name"],
            c["state"],
            c["due"],
            c["days_overdue"],
        ]
        for c in data["cases"]
    ]
    per_hall = [[h["name"], h["region"], h["overdue"], h["oldest_due"]] for h in data["halls"]]
    sheets: list[Sheet] = [
        ("超期差评", OVERDUE_HEADERS, rows),
        ("各大厅", ("大厅", "地区", "超期差评", "最早期限"), per_hall),
    ]
    return _write(["超期未办结差评", region, "合计", data["total"]], sheets, fmt)
