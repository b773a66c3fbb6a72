"""What goes on paper: the ticket and the 一次性告知单 as the printer layout takes them, in every language the
hall prints, computed once from the engine's result. The server sends these in the reply's `print` block, so
the kiosk and the service desk print exactly what the hall decided, with nothing left to translate or pick.

`drivers.printing` lays these out as ESC/POS bytes; it re-exports the types.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from hallcore.calendar import Deadline
from hallcore.config import HallConfig, Matter
from hallcore.estimates import WaitEstimate
from hallcore.precheck import PrecheckOutcome, PrecheckResult

Language = Literal["zh", "en"]
#: The languages the ticket layout has labels for: every reply carries its print block in each of them.
PRINT_LANGUAGES: tuple[Language, ...] = get_args(Language)


@dataclass(frozen=True, slots=True)
class TicketPrint:
    """Everything printed on a queue ticket, already in the citizen's language."""

    hall: str
    number: str  # "A012"
    matter: str
    people_ahead: int
    # A range meant to hold the real wait about 80 % of the time; None when no window serves it now (the
    # ticket says so instead of promising "soon").
    estimate_min: tuple[int, int] | None
    issued: str  # "2024-05-06 09:12", in the hall's time zone
    status_url: str  # the phone page, encoded in the QR code
    tolerance_items: tuple[str, ...] = ()  # 容缺: materials still to bring
    tolerance_due: str = ""  # 容缺: the date they are due
    priority: str = ""  # "老年人"; empty for a normal ticket
    language: Language = "zh"
    agent_items: tuple[
        str, ...
    ] = ()  # 代办: the papers an answer added to the checklist, to show at the window
    pledge: str = ""  # 容缺: the 承诺书 (the matter's text, filled in), printed below the ticket to sign
    # The range is wider than the hall's estimates.wide_band_min: printed as "人多，预计较长", not as a range.
    estimate_wide: bool = False


@dataclass(frozen=True, slots=True)
class NoticeItem:
    """One line of the 一次性告知单: what is missing and where to get it."""

    what: str
    where: str = ""


@dataclass(frozen=True, slots=True)
class NoticePrint:
    """The 一次性告知单 printed when the pre-check fails: every missing item at once."""

    hall: str
    matter: str
    date: str
    items: tuple[NoticeItem, ...]
    language: Language = "zh"


def _pick(zh: str, en: str, language: Language) -> str:
    return (en or zh) if language == "en" else zh


def ticket_printout(
    config: HallConfig,
    *,
    label: str,
    matter: str,
    priority: str,
    issued_at: dt.datetime,
    ahead: int,
    estimate: WaitEstimate,
    precheck: PrecheckResult | None,
    status_url: str,
) -> dict[str, TicketPrint]:
    """The ticket in every language the hall prints."""
    hall = config.hall
    m = config.matter_by_code[matter]
    pc = config.class_by_id.get(priority) if priority else None
    issued = issued_at.astimezone(ZoneInfo(hall.timezone)).strftime("%Y-%m-%d %H:%M")
    span: tuple[int, int] | None = None
    if not estimate.no_window_open and estimate.low_min is not None:
        low = estimate.low_min
        span = (low, estimate.high_min if estimate.high_min is not None else low)
    tolerated = precheck is not None and precheck.outcome is PrecheckOutcome.TOLERATED
    out: dict[str, TicketPrint] = {}
    for lang in PRINT_LANGUAGES:
        items: tuple[str, ...] = ()
        due = ""
        pledge = ""
        if tolerated and precheck is not None:
            items = tuple(_pick(i.text, i.text_en, lang) for i in precheck.missing if i.tolerable)
            if precheck.due is not None:
                # Past the loaded calendar the day is a guess: the ticket says so instead of printing it.
                due = Deadline(precheck.due, m.precheck.tolerance_days, precheck.due_estimated).text(lang)
            pledge = pledge_text(m, items, due, lang)
        agent = precheck is not None and precheck.agent
        out[lang] = TicketPrint(
            hall=_pick(hall.name, hall.name_en, lang),
            number=label,
            matter=_pick(m.name, m.name_en, lang),
            people_ahead=ahead,
            estimate_min=span,
            estimate_wide=estimate.wide,
            issued=issued,
            status_url=status_url,
            tolerance_items=items,
            tolerance_due=due,
            priority=_pick(pc.name, pc.name_en, lang) if pc else "",
            language=lang,
            agent_items=tuple(_pick(a.text, a.text_en, lang) for a in precheck.added)
            if agent and precheck is not None
            else (),
            pledge=pledge,
        )
    return out


def pledge_text(m: Matter, items: tuple[str, ...], due: str, language: Language) -> str:
    """The matter's 承诺书 with its placeholders filled in, or "" when the matter asks for none (config checks
    the placeholders: `hallcore.configprecheck.PLEDGE_FIELDS`)."""
    template = _pick(m.precheck.pledge, m.precheck.pledge_en, language)
    if not template:
        return ""
    sep = "、" if language == "zh" else ", "
    return template.format(matter=_pick(m.name, m.name_en, language), items=sep.join(items), due=due)


def notice_printout(config: HallConfig, precheck: PrecheckResult, now: dt.datetime) -> dict[str, NoticePrint]:
    """The 一次性告知单 in every language the hall prints: every missing item and where to get it."""
    hall = config.hall
    m = config.matter_by_code[precheck.matter_code]
    day = now.astimezone(ZoneInfo(hall.timezone)).date().isoformat()
    return {
        lang: NoticePrint(
            hall=_pick(hall.name, hall.name_en, lang),
            matter=_pick(m.name, m.name_en, lang),
            date=day,
            items=tuple(
                NoticeItem(_pick(i.text, i.text_en, lang), _pick(i.where, i.where_en, lang))
                for i in precheck.missing
            ),
            language=lang,
        )
        for lang in PRINT_LANGUAGES
    }
