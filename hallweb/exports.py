"""Spreadsheet downloads, one way for the hall's statistics page and the centre's: CSV (UTF-8 with a BOM, so
Excel in a Chinese locale opens it right) and XLSX (openpyxl, one sheet per table), from the same sheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: (sheet name, column headers, rows).
Sheet = tuple[str, Sequence[str], list[list[Any]]]

#: The columns every statistics table starts with, the hall's and the centre's: the line, then its counts,
#: waits and handling in the order of the statistics page.
FIGURE_COLUMNS = (
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
)


def rounded(value: float | None, digits: int = 1) -> float | None:
    """A figure as the pages show it (minutes to 0.1, shares to 0.001); None: no data."""
    return None if value is None else round(value, digits)


def to_csv(title: Sequence[Any], sheets: Sequence[Sheet]) -> bytes:
    """The title row, then each sheet after a blank line and a `# name` line; None is an empty cell."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(title)
    for name, headers, rows in sheets:
        w.writerow([])
        w.writerow([f"# {name}"])
        w.writerow(headers)
        w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(title: Sequence[Any], sheets: Sequence[Sheet]) -> bytes:
    """One worksheet a sheet (names cut to Excel's 31 characters), each with the title row first."""
    from openpyxl import Workbook

    wb = Workbook()
    for i, (name, headers, rows) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = name[:31]
        ws.append([str(v) for v in title])
        ws.append(list(headers))
        for r in rows:
            ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
