"""Statistics exports: the same figures as the page (one `Report`), as CSV (UTF-8 with BOM, so Excel in a
Chinese locale opens it right) and XLSX (openpyxl, one sheet per table)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from hallcore.model import SCORE_NAMES
from hallserver.stats import Report, Row

ROW_HEADERS = (
    "key",
    "名称",
    "取号数",
    "办结数",
    "过号",
    "转办",
    "过期",
    "取消",
    "叫号数",
    "平均等候(分)",
    "P50等候(分)",
    "P90等候(分)",
    "最长等候(分)",
    "目标内占比",
    "平均办理(分)",
    "评价数",
    *(f"{SCORE_NAMES[s][0]}" for s in sorted(SCORE_NAMES, reverse=True)),
    "参评率",
    "满意率",
    "P50办理(分)",
    "P90办理(分)",
    "最长办理(分)",
)


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


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
        _r(r.wait_mean),
        _r(r.wait_p50),
        _r(r.wait_p90),
        _r(r.wait_max),
        _r(r.within_target, 3),
        _r(r.handle_mean),
        r.rated,
        *(r.by_score.get(s, 0) for s in sorted(SCORE_NAMES, reverse=True)),
        _r(r.participation, 3),
        _r(r.satisfaction, 3),
        _r(r.handle_p50),
        _r(r.handle_p90),
        _r(r.handle_max),
    ]


def sheets(rep: Report) -> list[tuple[str, Sequence[str], list[list[Any]]]]:
    """(sheet name, headers, rows) for every table of the report."""
    out: list[tuple[str, Sequence[str], list[list[Any]]]] = [
        (f"按{rep.by}", ROW_HEADERS, [row_values(rep.total)] + [row_values(r) for r in rep.rows]),
        ("分时段", ("小时", "取号数", "平均等候(分)"), [[h, n, _r(w)] for h, n, w in rep.hourly]),
        (
            "每日",
            ("日期", "取号数", "平均等候(分)", "满意率"),
            [[d, n, _r(w), _r(s, 3)] for d, n, w, s in rep.daily],
        ),
        ("等候分布", ("等候(分)", "人数"), [[a, b] for a, b in rep.wait_bins]),
        ("预审", ("结果", "次数"), [[k, v] for k, v in rep.precheck.items()]),
        ("缺少材料", ("材料", "名称", "次数"), [list(x) for x in rep.missing_top]),
        (
            "目标",
            ("指标", "目标", "实际", "达标"),
            [[t.name, t.target, _r(t.actual, 3), t.met] for t in rep.targets],
        ),
        (
            "预估误差",
            ("样本数", "MAE(分)", "区间覆盖率"),
            [[rep.estimates["n"], _r(rep.estimates["mae"]), _r(rep.estimates["coverage"], 3)]],
        ),
        ("暂停", ("窗口", "原因", "次数", "分钟"), [[w, r, n, _r(m)] for w, r, n, m in rep.pauses]),
        (
            "窗口利用率",
            ("窗口", "开放(分)", "办理(分)", "利用率"),
            [[w, _r(o), _r(s), _r(u, 3)] for w, o, s, u in rep.utilisation],
        ),
        (
            "差评",
            ("指标", "值"),
            [[k, v if not isinstance(v, float) else round(v, 3)] for k, v in rep.cases.items()],
        ),
    ]
    return out


def to_csv(rep: Report) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["统计范围", rep.span.label, "分组", rep.by])
    for name, headers, rows in sheets(rep):
        w.writerow([])
        w.writerow([f"# {name}"])
        w.writerow(headers)
        w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(rep: Report) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    first = True
    for name, headers, rows in sheets(rep):
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = name[:31]
        ws.append([f"{rep.span.label}"])
        ws.append(list(headers))
        for r in rows:
            ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
