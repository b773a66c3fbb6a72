"""Shared tables and a small TOML writer for the example halls' generators.

The example halls are written from compact Python tables so that 150 windows and 60 matters stay consistent
(every reference resolves, every material has a `where`), while the TOML they produce reads like a file a
hall's IT staff would write by hand. Run the generators, never edit their output: `gen_county.py`,
`gen_provincial.py`. The tables they share: `materials_citizens.py`, `materials_enterprises.py` and
`questions.py`.
"""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from materials_citizens import CITIZEN_MATERIALS
from materials_enterprises import ENTERPRISE_MATERIALS
from questions import AGENT_BRANCH, HELP, PLEDGE, PLEDGE_EN, QUESTIONS

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


@dataclass
class Toml:
    """A tiny TOML writer: enough for the example halls, with blank lines and comments where they help."""

    lines: list[str] = field(default_factory=list)

    def comment(self, text: str) -> None:
        self.lines.extend(f"# {line}".rstrip() for line in text.splitlines())

    def blank(self) -> None:
        # A comment belongs to the table under it: no blank line between them.
        if self.lines and self.lines[-1] != "" and not self.lines[-1].startswith("#"):
            self.lines.append("")

    def table(self, name: str, *, array: bool = False) -> None:
        self.blank()
        self.lines.append(f"[[{name}]]" if array else f"[{name}]")

    def kv(self, key: str, value: object, comment: str = "") -> None:
        line = f"{key} = {render(value)}"
        self.lines.append(f"{line}  # {comment}" if comment else line)

    def entry(self, table: str, /, *, array: bool = True, **values: object) -> None:
        """A table (by default one more of an array of tables) with these keys; None values are left out."""
        self.table(table, array=array)
        for key, value in values.items():
            if value is not None:
                self.kv(key, value)

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


def render(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.time):
        return f'"{value:%H:%M}"'
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {render(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot render {value!r}")


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


def write_departments(t: Toml, departments: Iterable[tuple[str, str, str]]) -> None:
    for dept_id, name, name_en in departments:
        t.table("departments", array=True)
        t.kv("id", dept_id)
        t.kv("name", name)
        t.kv("name_en", name_en)


def write_series(t: Toml, series: Iterable[tuple[str, str, str, int | None, int]]) -> None:
    for prefix, name, name_en, cap, target in series:
        t.table("series", array=True)
        t.kv("prefix", prefix)
        t.kv("name", name)
        t.kv("name_en", name_en)
        if cap is not None:
            t.kv("daily_cap", cap)
        t.kv("target_wait_min", target)


def write_matters(t: Toml, matters: Iterable[MatterRow], tolerance_days: int = 20) -> None:
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


#: A window: (number, name, department, series in serving order, A/B partner or None, zone).
WindowRow = tuple[int, str, str, list[str], int | None, str]


#: The staffing plan the example halls are generated with: the share of each group of windows with the same
#: series that is rostered on an open day (at least one; every 综合窗口), the lunch rotation (half of each
#: rostered group closes over LUNCH, the other half keeps the series served), and a planned 15-minute break
#: for three clerks in five, staggered over the morning and afternoon slots of BREAK_STARTS.
ROSTER_SHARE = 0.85
LUNCH = (dt.time(12, 0), dt.time(13, 0))
BREAK_MIN = 15
BREAK_STARTS = (
    dt.time(9, 45),
    dt.time(10, 15),
    dt.time(10, 45),
    dt.time(14, 30),
    dt.time(15, 0),
    dt.time(15, 30),
)


def staffing_plan(
    rows: Sequence[WindowRow], *, lunch: tuple[dt.time, dt.time] | None = LUNCH
) -> dict[int, tuple[bool, list[dict[str, object]]]]:
    """Window number → (rostered, planned closures) for the example halls (`lunch` None: the hall closes
    between sessions, so nobody takes a lunch turn)."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for number, _name, _dept, series, _partner, _zone in rows:
        groups.setdefault(tuple(series), []).append(number)
    plan: dict[int, tuple[bool, list[dict[str, object]]]] = {}
    rostered_seen = 0
    for series, unsorted in groups.items():
        numbers = sorted(unsorted)
        k = len(numbers) if len(series) > 1 else max(1, round(len(numbers) * ROSTER_SHARE))
        rostered = numbers[:k]
        lunching = set(rostered[: len(rostered) // 2]) if lunch is not None and len(rostered) >= 2 else set()
        for number in numbers:
            closures: list[dict[str, object]] = []
            if number in lunching and lunch is not None:
                closures.append({"start": lunch[0], "end": lunch[1], "reason": "午休"})
            if number in rostered:
                if rostered_seen % 5 < 3:
                    start = BREAK_STARTS[rostered_seen % len(BREAK_STARTS)]
                    end = (
                        dt.datetime.combine(dt.date(2000, 1, 1), start) + dt.timedelta(minutes=BREAK_MIN)
                    ).time()
                    closures.append({"start": start, "end": end, "reason": "休息"})
                rostered_seen += 1
            plan[number] = (number in rostered, sorted(closures, key=lambda c: str(c["start"])))
    return plan


def write_windows(
    t: Toml,
    rows: Sequence[WindowRow],
    *,
    strict: Sequence[int] = (),
    lunch: tuple[dt.time, dt.time] | None = LUNCH,
) -> None:
    """The windows with their staffing plan (`staffing_plan`); each one's strip is at the bus address of its
    number. `strict`: windows that take their series in the order listed."""
    plan = staffing_plan(rows, lunch=lunch)
    for number, name, dept, series, partner, zone in rows:
        t.entry("windows", number=number, name=name, department=dept, series=series, led_address=number)
        if partner is not None:
            t.kv("partner", partner, "A/B岗")
        t.kv("zone", zone)
        if number in strict:
            t.kv("strict_series_order", True, "its own series first; the others when it has time")
        rostered, closures = plan[number]
        if not rostered:
            t.kv("staffed", False, "not on the roster: opened when the queue asks for it")
        if closures:
            t.kv("closures", closures, "the lunch rotation and planned breaks")


def write_booking(t: Toml, *, default_quota: int, days_ahead: int, bookings_per_week: int) -> None:
    t.entry(
        "booking",
        array=False,
        slot_min=30,
        default_quota=default_quota,
        days_ahead=days_ahead,
        early_min=30,
        late_grace_min=15,
    )
    t.blank()
    t.comment("Per person (by the keyed hash of the ID number), against scalpers and number hoarding.")
    t.entry(
        "persons",
        array=False,
        bookings_per_day=2,
        bookings_per_week=bookings_per_week,
        bookings_open=3,
        tickets_per_day=3,
        tickets_per_matter=1,
        agent_tickets_per_day=20,
    )
    t.blank()
    t.comment("刷身份证取号: the age class a card gives (verified, not claimed); an expired card.")
    t.entry("identity", array=False, elder_age=70, elder_class="elderly", expired="serve")


def write_zones(t: Toml, zones: Iterable[tuple[str, str, int]]) -> None:
    for zone_id, name, floor in zones:
        t.entry("zones", id=zone_id, name=name, floor=floor)


def write_device(t: Toml, slot: str, device_type: str, **values: object) -> None:
    """A station's device table (`stations.printer`, `stations.led`, …)."""
    t.entry(f"stations.{slot}", array=False, type=device_type, **values)


def main(build: Callable[[], str], output: str) -> None:
    """Write `build()` to config/`output` (the generators' entry point)."""
    out = pathlib.Path(__file__).resolve().parent.parent / output
    out.write_text(build(), encoding="utf-8")
    sys.stdout.write(f"wrote {out}\n")


def write_booking_import(t: Toml) -> None:
    t.table("booking_import")
    t.comment(
        "Bookings from the province's 一网通办 (docs/integrations.md): off until the partner has its keys."
    )
    t.kv("enabled", False)
    t.comment("A signed request's timestamp may be this far off the hall's clock; its nonce is kept as long.")
    t.kv("window_s", 300)
    t.kv("retry_first_s", 2.0)
    t.kv("retry_max_s", 600)
    t.table("booking_import.partners", array=True)
    t.kv("id", "ywtb")
    t.kv("name", "一网通办")
    t.kv("rate_per_s", 2.0)
    t.kv("burst", 60)
    t.comment('A cancellation at the hall (the citizen, the desk) is POSTed here, signed ("": not reported).')
    t.kv("report_url", "http://127.0.0.1:8791/hallq/cancelled")
    t.comment('A partner that only publishes a list: its URL, read every poll_s ("": it pushes).')
    t.kv("list_url", "")
    t.kv("poll_s", 300)
    t.kv("timeout_s", 10.0)
    t.comment(
        "A rotation: the old key taken through valid_until, the new one (listed last) signs the hall's."
    )
    t.table("booking_import.partners.keys", array=True)
    t.kv("id", "ywtb-2026a")
    t.kv("secret_file", "/etc/hallq/ywtb-2026a.secret")
    t.kv("valid_until", dt.date(2026, 12, 31))
    t.table("booking_import.partners.keys", array=True)
    t.kv("id", "ywtb-2027a")
    t.kv("secret_file", "/etc/hallq/ywtb-2027a.secret")


def write_common_tail(t: Toml, *, upload_endpoint: str) -> None:
    t.table("led")
    t.kv("welcome", "欢迎光临")
    t.kv("calling", "请{number}号到{window}号窗口")
    t.kv("paused", "暂停服务 {reason}")
    t.kv("closed", "本窗口暂停服务")
    t.kv("hall_rows", 4)
    for at, level in (("08:00", 12), ("12:00", 15), ("17:00", 8)):
        t.table("led.brightness", array=True)
        t.kv("at", at)
        t.kv("level", level)
    t.table("voice")
    t.kv("languages", ["zh", "en"])
    t.kv("repeats", 2)
    t.kv("max_age_s", 120)
    t.kv("max_backlog", 20)
    t.table("kiosk")
    t.kv("print_confirm_timeout_s", 120)
    t.kv("idle_reset_s", 60)
    t.kv("elder_idle_reset_s", 180)
    t.kv("show_remaining", True)
    t.table("privacy")
    t.kv("retention_days", 180)
    t.kv("show_names_on_boards", False)
    t.table("upload")
    t.comment("好差评 upload to the provincial platform; off until the hall has its platform account.")
    t.kv("enabled", False)
    t.kv("endpoint", upload_endpoint)
    t.kv("retry_max_s", 600)
    t.kv("retry_first_s", 2.0)
    t.kv("timeout_s", 10.0)
    t.comment("HQ1-HMAC-SHA256 (docs/integrations.md); the secret lives in a 0600 file, never in this file.")
    t.kv("signer", "hq1-hmac-sha256")
    t.kv("app_key", "")
    t.kv("secret_file", "")
    t.table("upload.field_map")
    t.comment("platform field = hallq data item (docs/integrations.md lists them)")
    for platform, ours in (
        ("evaluateId", "idempotency_key"),
        ("evaluateType", "kind"),
        ("taskCode", "matter_code"),
        ("taskName", "matter_name"),
        ("projectNo", "case_no"),
        ("handleResult", "outcome"),
        ("ticketNo", "ticket_id"),
        ("channel", "channel"),
        ("evaluateLevel", "score"),
        ("evaluateTime", "rated_at"),
        ("deptName", "department"),
        ("windowNo", "window"),
        ("userCode", "clerk"),
        ("raterName", "rater_name"),
        ("raterKey", "rater_key"),
        ("tags", "tags"),
        ("content", "comment"),
        ("visitTime", "callback_at"),
        ("rectification", "rectification"),
        ("raterView", "rater_view"),
        ("closeTime", "closed_at"),
    ):
        t.kv(platform, ours)
    write_booking_import(t)
    t.table("tls")
    t.comment("The server certificate `hallq admin tls init` makes: the server box's names and addresses.")
    t.kv("names", ["hallq-server"])
    t.kv("addresses", ["10.0.0.2"])
    t.comment("Stations refuse plain HTTP (but 127.0.0.1, the demo's) and pin the hall CA at enrollment.")
    t.kv("required", True)
    t.comment("Enrolled before TLS: pin the CA at the first TLS contact (logged); false: enroll again.")
    t.kv("pin_on_first_contact", True)
    t.table("server")
    t.kv("durability", "full")
    t.kv("backlog_events", 10000)
    t.kv("snapshot_threshold", 5000)
    t.kv("pause_reasons", ["休息", "会议", "系统故障", "业务培训", "临时外出"])
