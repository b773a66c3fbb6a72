"""The rules of "快到您了" notices (DOMAIN: 短信提醒): which notice is due for a subscribed ticket or booking,
when it may go (quiet hours), whether a cap stops it, what it says, and when the number may be forgotten.

Pure (time injected): hallserver/notify.py gathers the facts on the writer, asks these rules and queues
what is due in the outbox; the sender (hallserver/notify_send.py) delivers it through an adapter.

Kinds, each at most once per ticket (or booking): `ahead` (N people ahead or the estimate under M minutes),
`called` (with the window), `owed` (a 容缺 item due within some working days), `booking` (the day before).
"""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass

from hallcore.calendar import HallCalendar
from hallcore.confignotify import Notify
from hallcore.privacy import mask_phone

KINDS = ("ahead", "called", "owed", "booking")
#: Kinds about a live queue: worthless later, so dropped in quiet hours; the others wait for the morning.
LIVE = frozenset({"ahead", "called"})
#: The placeholders each kind's template may use.
FIELDS: dict[str, frozenset[str]] = {
    "ahead": frozenset({"hall", "number", "ahead", "minutes"}),
    "called": frozenset({"hall", "number", "window"}),
    "owed": frozenset({"hall", "number", "items", "due"}),
    "booking": frozenset({"hall", "matter", "day", "slot"}),
}
#: The built-in texts; `[notify.templates.<lang>]` replaces any of them.
TEMPLATES: dict[str, dict[str, str]] = {
    "zh": {
        "ahead": "【{hall}】您的{number}号快到了：前面还有{ahead}人，预计约{minutes}分钟，请回到大厅等候。",
        "called": "【{hall}】请{number}号到{window}号窗口办理。",
        "owed": "【{hall}】您{number}号容缺受理的材料（{items}）请于{due}前补齐。",
        "booking": "【{hall}】您预约了明天{day} {slot}办理{matter}，请按时到大厅签到。",
    },
    "en": {
        "ahead": "[{hall}] Number {number}: {ahead} ahead of you, about {minutes} min. Please come back.",
        "called": "[{hall}] Number {number}, please go to window {window}.",
        "owed": "[{hall}] Please bring the missing documents for {number} ({items}) by {due}.",
        "booking": "[{hall}] Reminder: your booking for {matter} is tomorrow, {day} {slot}.",
    },
}
LANGS = tuple(TEMPLATES)
CHANNELS = ("sms", "wechat")
SMS_ADAPTERS = ("log", "aliyun", "tencent")
#: A mainland mobile number (the only numbers an SMS gateway takes from a hall).
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
#: A WeChat openid as the OAuth answers it.
OPENID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class NoticeError(ValueError):
    """Bad input to an opt-in (the message says what to enter)."""


def normalise_phone(text: str) -> str:
    """The 11-digit number typed (spaces, dashes and a +86 dropped); NoticeError if it is none."""
    digits = text.strip().replace(" ", "").replace("-", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    if not MOBILE.match(digits):
        raise NoticeError("enter an 11-digit mainland mobile number")
    return digits


def mask_address(channel: str, address: str) -> str:
    """What screens and logs show: 138****5678, or an openid's first 4 characters."""
    if not address:
        return ""
    if channel == "sms":
        return mask_phone(address)
    return address[:4] + "***"


def template(cfg: Notify, lang: str, kind: str) -> str:
    return cfg.templates.get(lang, {}).get(kind) or TEMPLATES.get(lang, TEMPLATES["zh"])[kind]


def render(cfg: Notify, lang: str, kind: str, params: dict[str, str]) -> str:
    """The notice's text: the template with its placeholders filled (an unknown one stays visible)."""
    values = {name: params.get(name, "{" + name + "}") for name in FIELDS[kind]}
    return string.Formatter().vformat(template(cfg, lang, kind), (), values)


# ---- when ------------------------------------------------------------------------------------------------


def in_quiet(cfg: Notify, local: dt.time) -> bool:
    """Whether a local time of day lies in the quiet hours (which may run over midnight)."""
    start, end = cfg.quiet_start, cfg.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def send_after(cfg: Notify, cal: HallCalendar, kind: str, now: dt.datetime) -> dt.datetime | None:
    """When a notice due `now` may go: now; the end of the quiet hours for a reminder; None for a queue
    notice in quiet hours (told late, it would mislead: it is dropped)."""
    local = cal.local(now)
    if not in_quiet(cfg, local.time()):
        return now
    if kind in LIVE:
        return None
    day = local.date() if local.time() < cfg.quiet_end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, cfg.quiet_end, tzinfo=cal.tz)


# ---- which -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the rules need to know of a subscribed ticket now (gathered by the server)."""

    label: str
    state: str  # TicketState value
    ahead: int | None  # people ahead while waiting
    minutes: int | None  # the estimate's point, minutes
    window: int | None
    owed_items: tuple[str, ...] = ()  # names of 容缺 items still owed
    owed_due: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Due:
    kind: str
    params: dict[str, str]


def ticket_due(
    cfg: Notify, cal: HallCalendar, f: TicketFacts, fired: frozenset[str], now: dt.datetime
) -> list[Due]:
    """The notices due for a subscribed ticket that have not fired yet."""
    r = cfg.rules
    out: list[Due] = []
    if "ahead" not in fired and f.state == "waiting" and f.ahead is not None:
        near = (r.ahead > 0 and f.ahead <= r.ahead) or (
            r.within_min > 0 and f.minutes is not None and f.minutes <= r.within_min
        )
        # Nobody ahead at opt-in time is told nothing: they are about to be called anyway.
        if near and f.ahead > 0:
            minutes = str(f.minutes) if f.minutes is not None else "?"
            out.append(Due("ahead", {"number": f.label, "ahead": str(f.ahead), "minutes": minutes}))
    if "called" not in fired and r.called and f.state in ("called", "serving") and f.window is not None:
        out.append(Due("called", {"number": f.label, "window": str(f.window)}))
    if "owed" not in fired and r.owed_days > 0 and f.owed_items and f.owed_due is not None:
        today = cal.business_day(now)
        if today <= f.owed_due and cal.working_days_between(today, f.owed_due) <= r.owed_days:
            out.append(
                Due(
                    "owed",
                    {"number": f.label, "items": "、".join(f.owed_items), "due": f.owed_due.isoformat()},
                )
            )
    return out


def booking_due(
    cfg: Notify, cal: HallCalendar, day: dt.date, booked: bool, fired: frozenset[str], now: dt.datetime
) -> bool:
    """Whether the day-before reminder of a booking on `day` is due (still booked, tomorrow in hall time)."""
    return (
        cfg.rules.booking_eve
        and booked
        and "booking" not in fired
        and cal.business_day(now) + dt.timedelta(days=1) == day
    )


def ticket_needs_address(cfg: Notify, f: TicketFacts | None, fired: frozenset[str]) -> bool:
    """Whether a ticket's subscription may still send: the number is kept until this says no (then purged).
    `f` None: the ticket is gone from the live queue and owes nothing."""
    r = cfg.rules
    live = f is not None and f.state in ("pending_print", "waiting", "called", "serving", "no_show")
    if live and f is not None:
        if r.called and "called" not in fired:
            return True
        if (
            (r.ahead > 0 or r.within_min > 0)
            and "ahead" not in fired
            and f.state in ("pending_print", "waiting")
        ):
            return True
    owes = f is not None and bool(f.owed_items) and f.owed_due is not None
    return owes and r.owed_days > 0 and "owed" not in fired


# ---- how many ---------------------------------------------------------------------------------------------


def cap_refusal(cfg: Notify, for_ticket: int, for_number_today: int) -> str:
    """Why a cap stops the next notice ("" when none does): counts of notices already queued."""
    if for_ticket >= cfg.per_ticket:
        return f"cap: {cfg.per_ticket} notices for this ticket"
    if for_number_today >= cfg.per_number_day:
        return f"cap: {cfg.per_number_day} notices to this number today"
    return ""


def notice_key(hall: str, ref: str, kind: str) -> str:
    """The idempotency key of a notice: one per ticket (or booking) and kind, the same on every resend."""
    return f"{hall}:{ref}:{kind}"
