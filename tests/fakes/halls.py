"""A small hall built in code, for rule tests that want to see every setting in one place."""

from __future__ import annotations

import datetime as dt

from hallcore.config import (
    DayHours,
    Department,
    Hall,
    HallConfig,
    Material,
    Matter,
    NoShowPolicy,
    Precheck,
    PriorityClass,
    PriorityPolicy,
    Question,
    Series,
    Window,
)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
#: Monday 2026-11-23, 09:00 in the hall.
MONDAY_9 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)

WEEKDAY = DayHours(dt.time(8, 30), dt.time(17, 30))


def small_hall(
    *,
    aging_limit_min: int | None = 30,
    max_priority_in_row: int | None = None,
    max_recalls: int = 2,
    requeue_behind: int = 3,
    matter_cap: int | None = None,
) -> HallConfig:
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
            | {"sat": DayHours(dt.time(9), dt.time(12), booking_only=True)},
            holidays=(dt.date(2026, 10, 1),),
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
            Window(3, "综合窗口", "gov", ("C", "A", "B"), led_address=3),
        ),
        priority_classes=(
            PriorityClass("appointment", "预约", "booking", rank=0, kiosk_selectable=False),
            PriorityClass("elderly", "老年人", "elderly 70+", rank=1),
            PriorityClass("military", "军人", "military", rank=1),
        ),
        priority=PriorityPolicy(aging_limit_min=aging_limit_min, max_priority_in_row=max_priority_in_row),
        no_show=NoShowPolicy(max_recalls=max_recalls, requeue_behind=requeue_behind),
    )
