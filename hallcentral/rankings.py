"""Rankings of halls, departments, windows and clerks for a period (红旗窗口 and the like): the statistics
table of the region, grouped by what is ranked, ordered by one figure.

Higher is better for served, 满意率 and 现场办结率; lower is better for the mean handle time and for 差评.
Equal figures share a rank (1, 2, 2, 4); a line with nothing to show for the figure ("无数据": no ratings,
no outcomes yet) comes last, unranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hallcentral.statistics import Table

#: What can be ranked -> the statistics grouping.
SUBJECTS = {"hall": "大厅", "department": "部门", "window": "窗口", "clerk": "工作人员"}


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    higher_is_better: bool
    share: bool  # shown as a percentage


METRICS: dict[str, Metric] = {
    "served": Metric("办结量", True, False),
    "satisfaction": Metric("满意率", True, True),
    "onsite_rate": Metric("现场办结率", True, True),
    "handle_mean": Metric("平均办理时长(分)", False, False),
    "bad": Metric("差评数", False, False),
}


def ranked(table: Table, metric: str) -> list[dict[str, Any]]:
    """The table's lines as ranking rows: rank (None when unranked), the figure, and the figures beside it."""
    m = METRICS[metric]
    rows = [line.figures() for line in table.lines]
    have = [r for r in rows if r[metric] is not None]
    none = [r for r in rows if r[metric] is None]
    have.sort(key=lambda r: ((-r[metric] if m.higher_is_better else r[metric]), r["name"], r["key"]))
    out: list[dict[str, Any]] = []
    prev: Any = object()
    rank = 0
    for i, r in enumerate(have, start=1):
        if r[metric] != prev:
            rank, prev = i, r[metric]
        out.append({"rank": rank, "value": r[metric], **r})
    out += [{"rank": None, "value": None, **r} for r in sorted(none, key=lambda r: (r["name"], r["key"]))]
    return out
