"""A small hall built in code, for rule tests that want to see every setting in one place."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from hallcore.config import (
    Calendar,
    CalendarYear,
    ClosedWindowTransfer,
    Department,
    Hall,
    HallConfig,
    Material,
    Matter,
    MatterKind,
    NoShowPolicy,
    Precheck,
    PriorityClass,
    PriorityPolicy,
    Question,
    Series,
    Session,
    Sessions,
    TransferPolicy,
    Window,
)
from hallcore.events import TicketView

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
#: Monday 2026-11-23, 09:00 in the hall.
MONDAY_9 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)

WEEKDAY: Sessions = (Session(dt.time(8, 30), dt.time(17, 30)),)


#: Head starts of the small hall's classes in minutes (DOMAIN.md's examples).
HEAD_STARTS = {"appointment": 60, "elderly": 20, "military": 30}


def small_hall(
    *,
    head_starts: dict[str, int] | None = None,
    absolute: tuple[str, ...] = (),
    absolute_in_row: int = 3,
    strict_series_order: bool = False,
    max_recalls: int = 2,
    min_recall_gap_s: int = 30,
    max_requeues: int = 2,
    to_closed_window: ClosedWindowTransfer = ClosedWindowTransfer.REFUSE,
    matter_cap: int | None = None,
) -> HallConfig:
    """Three series, three windows (1 and 2 an A/B pair, 3 a 综合窗口 for C, A, B), three classes."""
    hs = HEAD_STARTS | (head_starts or {})
    hukou_check = Precheck(
        questions=(
            Question(
                "resident",
                "您是本县户籍吗？",
                "Are you registered here?",
                fail_reason="须本县户籍",
                where="户籍地派出所",
            ),
        ),
        materials=(
            Material("idcard", "身份证", "ID card", where="派出所"),
            Material("photo", "照片", "photo", where="照相馆", tolerable=True),
            Material("form", "申请表", "form", where="窗口领取", required=False),
        ),
        tolerance_days=20,
    )
    return HallConfig(
        hall=Hall(
            id="small",
            name="小厅",
            hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), WEEKDAY)
            | {"sat": (Session(dt.time(9), dt.time(12), walk_ins=False),)},
            # Years either side of 2026 as plain weeks, so a test on the wall clock still finds a calendar.
            calendar=Calendar(
                years=tuple(
                    CalendarYear(y, holidays=(dt.date(2026, 10, 1),) if y == 2026 else ())
                    for y in range(2024, 2036)
                )
            ),
        ),
        departments=(Department("gov", "政务"),),
        series=(
            Series("A", "户籍", "residence"),
            Series("B", "社保", "social security"),
            Series("C", "综合", "general"),
        ),
        matters=(
            Matter("hj01", "户口迁移", "A", "gov", "hukou move", precheck=hukou_check, daily_cap=matter_cap),
            Matter("sb01", "社保卡补办", "B", "gov", "social card", prior_handle_min=6),
            Matter("zh01", "综合咨询", "C", "gov", "enquiry", prior_handle_min=4),
        ),
        windows=(
            Window(1, "户籍窗口", "gov", ("A",), led_address=1, partner=2),
            Window(2, "社保窗口", "gov", ("B",), led_address=2, partner=1),
            Window(
                3, "综合窗口", "gov", ("C", "A", "B"), led_address=3, strict_series_order=strict_series_order
            ),
        ),
        priority_classes=tuple(
            PriorityClass(
                cid,
                name,
                name_en,
                head_start_min=hs[cid],
                absolute=cid in absolute,
                kiosk_selectable=cid != "appointment",
            )
            for cid, name, name_en in (
                ("appointment", "预约", "booking"),
                ("elderly", "老年人", "elderly 70+"),
                ("military", "军人", "military"),
            )
        ),
        priority=PriorityPolicy(absolute_in_row=absolute_in_row),
        no_show=NoShowPolicy(
            max_recalls=max_recalls, min_recall_gap_s=min_recall_gap_s, max_requeues=max_requeues
        ),
        transfer=TransferPolicy(to_closed_window=to_closed_window),
    )


def two_departments(**cfg: Any) -> HallConfig:
    """The small hall with its 社保 matter (sb01, series B, window 2) in a department of its own (人社), and
    its 综合 matter (zh01) a 承诺件."""
    base = small_hall(**cfg)
    matters = tuple(
        dataclasses.replace(m, department="hrss")
        if m.code == "sb01"
        else dataclasses.replace(m, kind=MatterKind.PROMISED)
        if m.code == "zh01"
        else m
        for m in base.matters
    )
    windows = tuple(dataclasses.replace(w, department="hrss") if w.number == 2 else w for w in base.windows)
    return dataclasses.replace(
        base,
        departments=(*base.departments, Department("hrss", "人社", "HR and social security")),
        matters=matters,
        windows=windows,
    )


def ticket_view(label: str = "A012", state: str = "called", **changes: Any) -> TicketView:
    """A ticket for the small hall's hj01 (户口迁移) as the server shows it, issued on `MONDAY_9`; `changes`
    set any other field."""
    fields: dict[str, Any] = {
        "id": f"2026-11-23/{label}",
        "label": label,
        "series": label[0],
        "matter": "hj01",
        "matter_name": "户口迁移",
        "matter_name_en": "hukou move",
        "source": "kiosk",
        "priority": "",
        "priority_name": "",
        "state": state,
        "issued_at": MONDAY_9,
    }
    return TicketView(**(fields | changes))
