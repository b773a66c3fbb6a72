"""Shared tables and a small TOML writer for the example halls' generators.

The example halls are written from compact Python tables so that 150 windows and 60 matters stay consistent
(every reference resolves, every material has a `where`), while the TOML they produce reads like a file a
hall's IT staff would write by hand. Run the generators, never edit their output: `gen_county.py`,
`gen_provincial.py`. The tables they share: `materials_citizens.py`, `materials_enterprises.py` and
`questions.py`; the writer `tomlwriter.py`; the windows and their staffing plan `staffing.py`; the tables
after the windows `halltables.py`.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from languages import MATERIAL_ICONS, MATERIALS_BO, MATTERS_BO, QUESTIONS_BO, names
from materials_citizens import CITIZEN_MATERIALS
from materials_enterprises import ENTERPRISE_MATERIALS
from questions import AGENT_BRANCH, HELP, PLEDGE, PLEDGE_EN, QUESTIONS
from tomlwriter import Toml

#: Every material a matter may name: id -> (name, name_en, where, where_en).
MATERIALS = {**CITIZEN_MATERIALS, **ENTERPRISE_MATERIALS}


@dataclass(frozen=True)
class MatterRow:
    """One matter in compact form; materials may end in "~" (容缺) or "?" (optional)."""

    code: str
    name: str
    name_en: str
    series: str
    department: str
    pinyin: str
    handle_min: float
    materials: Sequence[str]
    questions: Sequence[str] = ()
    promised: bool = False
    category: str = ""
    daily_cap: int | None = None
    bookable: bool = True
    pledge: bool = True  # a 承诺书 with 容缺 tickets (matters with tolerable materials only)


def dates(first: str, last: str) -> list[dt.date]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# 国务院办公厅关于2026年部分节假日安排的通知: the days off, and the weekend days that are working days.
HOLIDAYS_2026 = [
    ("元旦", dates("2026-01-01", "2026-01-03")),
    ("春节", dates("2026-02-15", "2026-02-23")),
    ("清明节", dates("2026-04-04", "2026-04-06")),
    ("劳动节", dates("2026-05-01", "2026-05-05")),
    ("端午节", dates("2026-06-19", "2026-06-21")),
    ("中秋节", dates("2026-09-25", "2026-09-27")),
    ("国庆节", dates("2026-10-01", "2026-10-07")),
]
EXTRA_WORKDAYS_2026 = [
    dt.date.fromisoformat(d)
    for d in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10")
]


def write_hall(
    t: Toml,
    *,
    hall_id: str,
    name: str,
    name_en: str,
    weekday_hours: tuple[str, str],
    saturday_hours: tuple[str, str],
    public_base_url: str,
    notice: str,
    at_close: str = "expire",
    saturday_walk_ins: tuple[str, ...] = (),
    walk_in_saturdays: tuple[dt.date, ...] = (),
    summer: tuple[str, str, tuple[tuple[str, str], ...]] | None = None,
    further: tuple[dict[str, str], dict[str, str]] | None = None,
) -> None:
    """The [hall] table: hours as sessions. `saturday_walk_ins`: the series a 5+1 Saturday takes walk-ins for,
    every Saturday (after the booked); `walk_in_saturdays`: the Saturdays the hall chose to do so, if not
    every one; `summer`: (start, end, sessions) of the weekdays' summer hours."""
    t.table("hall")
    t.kv("id", hall_id)
    t.kv("name", name)
    t.kv("name_en", name_en)
    t.kv("timezone", "Asia/Shanghai")
    t.kv("cutoff_min", 30, "no walk-in tickets in the last 30 minutes")
    t.comment("延时服务: who waits at closing is served while a window of their series is open; then:")
    t.kv("at_close", at_close, "expire, or carry to the next session the same day")
    t.kv("public_base_url", public_base_url)
    t.kv("notice", notice)
    if further is not None:
        t.comment(
            "The kiosk's further languages; Tibetan (bo) is a machine-drafted layout example, not reviewed."
        )
        t.kv("names", further[0])
        t.kv("notices", further[1])
    for day in ("mon", "tue", "wed", "thu", "fri"):
        t.table(f"hall.hours.{day}")
        t.kv("open", weekday_hours[0])
        t.kv("close", weekday_hours[1])
    t.blank()
    t.comment(
        '"5+1": Saturdays serve bookings first; the desk still helps (its tickets after the booked).'
        + ("\nWalk-ins only for the series on duty and 咨询, after the booked." if saturday_walk_ins else "")
    )
    t.table("hall.hours.sat")
    t.kv("open", saturday_hours[0])
    t.kv("close", saturday_hours[1])
    if saturday_walk_ins:
        t.kv("booked_first", True)
        t.kv("walk_in_series", list(saturday_walk_ins))
    else:
        t.kv("walk_ins", False)
    if walk_in_saturdays:
        t.blank()
        t.comment("Saturdays the hall chose to take walk-ins as well (咨询 and 综合服务), after the booked.")
        t.table("hall.dates", array=True)
        t.kv("dates", list(walk_in_saturdays))
        t.kv("note", "周六现场受理：咨询和综合服务，预约优先")
        t.table("hall.dates.sessions", array=True)
        t.kv("open", saturday_hours[0])
        t.kv("close", saturday_hours[1])
        t.kv("booked_first", True)
        t.kv("walk_in_series", ["G"])
    if summer is not None:
        start, end, sessions = summer
        t.blank()
        t.comment("Summer hours: a longer lunch break, a later close.")
        t.table("hall.seasons", array=True)
        t.kv("name", "夏季作息")
        t.kv("start", start)
        t.kv("end", end)
        for day in ("mon", "tue", "wed", "thu", "fri"):
            for opens, closes in sessions:
                t.table(f"hall.seasons.hours.{day}", array=True)
                t.kv("open", opens)
                t.kv("close", closes)
    write_calendar(t)


def write_calendar(t: Toml) -> None:
    """The yearly calendar: 2026 only, the one State Council notice these halls were written with. A later
    year comes as a file beside the config (hallq admin calendar import), and until it does hallq warns."""
    t.blank()
    t.comment(
        "Holidays and 调休 working days, a year per State Council notice. Later years: calendar/<year>.csv\n"
        "beside this file (hallq admin calendar import FILE); check-config warns 60 days before they run out."
    )
    t.table("hall.calendar")
    t.kv("dir", "calendar")
    t.kv("warn_days", 60)
    t.table("hall.calendar.years", array=True)
    t.kv("year", 2026)
    t.kv("source", "国务院办公厅关于2026年部分节假日安排的通知")
    t.lines.append("holidays = [")
    for festival, days in HOLIDAYS_2026:
        t.lines.append(f"    {', '.join(d.isoformat() for d in days)},  # {festival}")
    t.lines.append("]")
    t.kv("workdays", EXTRA_WORKDAYS_2026)


def write_departments(
    t: Toml, departments: Iterable[tuple[str, str, str]], bo: dict[str, str] | None = None
) -> None:
    for dept_id, name, name_en in departments:
        t.table("departments", array=True)
        t.kv("id", dept_id)
        t.kv("name", name)
        t.kv("name_en", name_en)
        if (more := names(bo or {}, dept_id)) is not None:
            t.kv("names", more)


def write_series(t: Toml, series: Iterable[tuple[str, str, str, int | None, int]]) -> None:
    for prefix, name, name_en, cap, target in series:
        t.table("series", array=True)
        t.kv("prefix", prefix)
        t.kv("name", name)
        t.kv("name_en", name_en)
        if cap is not None:
            t.kv("daily_cap", cap)
        t.kv("target_wait_min", target)


def write_matters(
    t: Toml, matters: Iterable[MatterRow], tolerance_days: int = 20, *, tibetan: bool = False
) -> None:
    """The matters; with `tibetan`, their Tibetan texts where languages.py has them."""
    tables = (MATTERS_BO, QUESTIONS_BO, MATERIALS_BO) if tibetan else ({}, {}, {})
    for m in matters:
        t.table("matters", array=True)
        t.kv("code", m.code)
        t.kv("name", m.name)
        t.kv("name_en", m.name_en)
        t.kv("series", m.series)
        t.kv("department", m.department)
        t.kv("kind", "承诺件" if m.promised else "即办件")
        if m.category:
            t.kv("category", m.category)
        t.kv("pinyin", m.pinyin)
        t.kv("prior_handle_min", m.handle_min)
        if m.daily_cap is not None:
            t.kv("daily_cap", m.daily_cap)
        if not m.bookable:
            t.kv("bookable", False)
        if (bo := names(tables[0], m.code)) is not None:
            t.kv("names", bo, "further kiosk languages (machine-drafted Tibetan: config/tools/languages.py)")
        questions = list(m.questions)
        materials = list(m.materials)
        first, follow_up, papers = AGENT_BRANCH
        if first in questions:
            questions.insert(questions.index(first) + 1, follow_up)
            materials += list(papers)
        if any(x.endswith("~") for x in materials):
            t.table("matters.precheck")
            t.kv(
                "tolerance_days", tolerance_days, "容缺 items must be supplied within this many working days"
            )
            if m.pledge:
                t.kv("pledge", PLEDGE, "承诺书, printed with a 容缺 ticket for the citizen to sign")
                t.kv("pledge_en", PLEDGE_EN)
        for qid in questions:
            text, text_en, expected, reason, reason_en, where, where_en = QUESTIONS[qid]
            t.table("matters.precheck.questions", array=True)
            t.kv("id", qid)
            t.kv("text", text)
            t.kv("text_en", text_en)
            if (bo := names(tables[1], qid)) is not None:
                t.kv("texts", bo)
            if qid in HELP:
                t.kv("help", HELP[qid][0])
                t.kv("help_en", HELP[qid][1])
            if not expected:
                t.kv("expected", False)
            for key, value in (
                ("fail_reason", reason),
                ("fail_reason_en", reason_en),
                ("where", where),
                ("where_en", where_en),
            ):
                if value:
                    t.kv(key, value)
            if qid == follow_up:
                t.kv(
                    "when", {"question": first, "answer": False}, "asked only when the applicant is not here"
                )
                t.kv("asks_for", list(papers), "yes: on the checklist; no: on the 一次性告知单")
                t.kv("agent", True, "代办")
        for spec in materials:
            mid = spec.rstrip("~?")
            name, name_en, where, where_en = MATERIALS[mid]
            t.table("matters.precheck.materials", array=True)
            t.kv("id", mid)
            t.kv("name", name)
            t.kv("name_en", name_en)
            t.kv("where", where)
            t.kv("where_en", where_en)
            if spec.endswith("~"):
                t.kv("tolerable", True, "容缺受理")
            if spec.endswith("?"):
                t.kv("required", False)
            if (bo := names(tables[2], mid)) is not None:
                t.kv("names", bo)
            if mid in MATERIAL_ICONS:
                t.kv("icon", MATERIAL_ICONS[mid])


def write_priority(t: Toml, *, absolute: tuple[str, ...] = (), absolute_in_row: int = 3) -> None:
    t.blank()
    t.comment(
        "绿色通道. The line is ordered by effective time − head start: a class goes ahead of the tickets"
    )
    t.comment(
        "that came up to its head start before it, and no further (docs/config.md, 'Choosing head starts')."
    )
    # Chosen with `hallq sim --seeds 1-5 --json` (and --no-priority) on the provincial day, where about 15 %
    # of tickets have a class: each class waits 8-12 minutes less than the normal tickets issued around it,
    # and the normal P90 wait is 8 % above a day with no priority at all (60/30-minute head starts cost 15 %).
    classes = [
        ("appointment", "预约", "Appointment", 20, False),
        ("key_project", "重点项目", "Key project", 10, False),
        ("elderly", "老年人（70周岁以上）", "Elderly (70+)", 15, True),
        ("disabled", "残疾人", "Person with a disability", 15, True),
        ("military", "军人", "Military", 15, True),
    ]
    for cid, name, name_en, head_start, selectable in classes:
        t.table("priority_classes", array=True)
        t.kv("id", cid)
        t.kv("name", name)
        t.kv("name_en", name_en)
        t.kv("head_start_min", head_start)
        if cid in absolute:
            t.kv("absolute", True, "called next, at most priority.absolute_in_row in a row")
        if not selectable:
            t.kv("kiosk_selectable", False, "checked in by booking code or issued at the desk")
    if absolute:
        t.table("priority")
        t.kv("absolute_in_row", absolute_in_row)
    t.table("no_show")
    t.kv("max_recalls", 2)
    t.kv("min_recall_gap_s", 30, "people walk slowly")
    t.kv("max_requeues", 2, "then the citizen takes a new ticket")
    t.table("transfer")
    t.kv("to_closed_window", "refuse", "or 'series': go to the closed window's series instead")
    t.table("rating")
    t.kv("timeout_s", 30)
    t.kv("four_key_map", [5, 4, 2, 1], "非常满意, 满意, 不满意, 非常不满意")
    t.kv("case_deadline_days", 5)
    t.kv("phone_window_min", 30)
    t.table("outcomes")
    t.comment("How a case ends at the window (办结/受理/补正/不予受理/咨询); 行政许可法 Art. 32's reasons.")
    t.kv(
        "refusal_reasons",
        [
            "申请事项依法不需要取得行政许可",
            "申请事项不属于本机关职权范围",
            "申请材料不齐全且不能当场补正",
            "申请人不具备申请资格",
        ],
        "a keypad's 4 then n picks the n-th",
    )
    t.kv("change_window_s", 60, "a keypad's 办结 may be changed on screen this long")
    t.table("alerts")
    t.kv("pause_min", 30, "the dashboard flags a window paused longer than this")
    t.table("targets")
    t.comment("吉林市政发(2010)4号: 现场办结率 ≥ 90 %, 即办件 ≥ 70 %, 满意率 ≥ 95 %.")
    t.kv("onsite_rate", 0.90)
    t.kv("immediate_share", 0.70)
    t.kv("satisfaction", 0.95)


def write_header(t: Toml, title: str, script: str) -> None:
    t.comment(title)
    t.comment(f"Generated by config/tools/{script}; edit the script, not this file.")
    t.comment("Layout: docs/config.md.")


def main(build: Callable[[], str], output: str) -> None:
    """Write `build()` to config/`output` (the generators' entry point)."""
    out = pathlib.Path(__file__).resolve().parent.parent / output
    out.write_text(build(), encoding="utf-8")
    sys.stdout.write(f"wrote {out}\n")
