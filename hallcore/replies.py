"""The replies of the hall API (docs/api.md), as typed dataclasses: the server encodes them with
`hallcore.codec`, hallclient decodes them with the same codec, and the OpenAPI schema is generated from them.
One shape per reply, so a station, a test and a generated client all read the same thing.

`hallcore.replybuilders` turns engine state into these replies. Tickets and windows are the events' own
views (`TicketView`, `WindowView`), the estimate is `WaitEstimate` and the pre-check result is
`PrecheckResult`: an app handles one shape whether it learnt of a ticket from a reply or from the event
stream.

HTTP statuses live here too (`refusal_status`, `Role`): what a client may expect is part of the contract.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hallcore.config import (
    Department,
    Hall,
    Kiosk,
    Led,
    Matter,
    PriorityClass,
    RatingPolicy,
    Series,
    StationRole,
    Voice,
    Window,
    Zone,
)
from hallcore.estimates import WaitEstimate
from hallcore.events import TicketChanged, TicketView, WindowView
from hallcore.outcomes import RefusalCode
from hallcore.precheck import MissingItem, PrecheckResult
from hallcore.printout import NoticePrint, TicketPrint

__all__ = [
    "MissingItem",
    "PrecheckResult",
    "TicketChanged",
    "TicketView",
    "WaitEstimate",
    "WindowView",
]

# ---- who may call, and what a refusal answers --------------------------------------------------------------


class Role(StrEnum):
    """A token's role: a station's (`StationRole`, as config and enrollment name it) or a manager's."""

    KIOSK = StationRole.KIOSK.value
    COUNTER = StationRole.COUNTER.value
    DESK = StationRole.DESK.value
    DISPLAY = StationRole.DISPLAY.value
    AGENT = StationRole.AGENT.value
    MANAGER = "manager"


STATION_ROLES = frozenset(Role(r.value) for r in StationRole)

#: Refusals naming a thing that does not exist → 404; a request that is wrong in itself → 422; every other
#: refusal is a conflict with the current state → 409 (docs/api.md, Conventions).
NOT_FOUND_REFUSALS = frozenset(
    {
        RefusalCode.UNKNOWN_MATTER,
        RefusalCode.UNKNOWN_WINDOW,
        RefusalCode.UNKNOWN_TICKET,
        RefusalCode.UNKNOWN_SERIES,
        RefusalCode.UNKNOWN_BOOKING,
        RefusalCode.UNKNOWN_CASE,
        RefusalCode.UNKNOWN_PRIORITY,
    }
)
BAD_INPUT_REFUSALS = frozenset(
    {
        RefusalCode.PRECHECK_INPUT,
        RefusalCode.PRECHECK_REQUIRED,
        RefusalCode.BAD_SCORE,
        RefusalCode.REASON_REQUIRED,
        RefusalCode.UNKNOWN_PAUSE_REASON,
        RefusalCode.BAD_TARGET,
        RefusalCode.NOT_PARTNER,
        RefusalCode.SLOT_UNKNOWN,
        RefusalCode.TOO_FAR_AHEAD,
        RefusalCode.NOT_BOOKABLE,
        RefusalCode.BAD_OUTCOME,
    }
)


def refusal_status(code: RefusalCode) -> int:
    """The HTTP status of an engine refusal."""
    if code in NOT_FOUND_REFUSALS:
        return 404
    if code in BAD_INPUT_REFUSALS:
        return 422
    return 409


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """Every 4xx/5xx reply: a code, the message in Chinese and English, and details for programs."""

    error: str
    message: str
    message_en: str
    detail: dict[str, Any] = field(default_factory=dict)


# ---- tickets -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issued:
    """201: a ticket. `token` opens the phone page at `status_url`; `print` is the ticket as printed, in
    every language the hall prints (`hallcore.printout.PRINT_LANGUAGES`)."""

    ticket: TicketView
    token: str
    status_url: str
    ahead: int
    estimate: WaitEstimate
    precheck: PrecheckResult | None
    print: dict[str, TicketPrint]

    def printout(self, language: str) -> TicketPrint:
        """The ticket in `language`, or in Chinese if the hall does not print that one."""
        return self.print.get(language) or self.print["zh"]


@dataclass(frozen=True, slots=True)
class NotIssued:
    """200: the pre-check failed (不通过); no ticket. `print` is the 一次性告知单 in every language."""

    precheck: PrecheckResult
    print: dict[str, NoticePrint]
    ticket: None = None

    def printout(self, language: str) -> NoticePrint:
        return self.print.get(language) or self.print["zh"]


@dataclass(frozen=True, slots=True)
class TicketReply:
    """The ticket after printed / void / cancel / requeue."""

    ticket: TicketView


@dataclass(frozen=True, slots=True)
class RatingView:
    ticket: str
    label: str
    score: int
    score_name: str
    window: int


@dataclass(frozen=True, slots=True)
class CaseView:
    """A 差评 case opened by the rating, with its follow-up deadline."""

    id: str
    due: dt.date
    state: str


@dataclass(frozen=True, slots=True)
class Rated:
    rating: RatingView
    case: CaseView | None


@dataclass(frozen=True, slots=True)
class TicketStatus:
    """The phone page's view of one ticket; `ahead`/`estimate` only while it waits (None for an old one);
    `calls` are the hall's recent call events, oldest first."""

    label: str
    matter: str
    matter_name: str
    matter_name_en: str
    state: str
    issued_at: dt.datetime
    ahead: int | None
    estimate: WaitEstimate | None
    window: int | None
    window_name: str
    precheck: str
    missing: tuple[str, ...]
    due: dt.date | None
    calls: tuple[TicketChanged, ...]
    requeues: int = 0  # times it came back after a 过号
    requeues_left: int | None = None  # for a no-show: how often it may still come back (0: take a new ticket)
    # How the case ended at the window (hallcore/caseoutcome.py): a 补正 lists what to supply (the
    # 一次性告知), a 不予受理 its reason; the 办件编号 to follow a 承诺件 with.
    outcome: str = ""
    outcome_reason: str = ""
    case_no: str = ""


# ---- windows -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindowResult:
    """Reply to a window action: the window after it, and the ticket it acted on (None for open/close…)."""

    window: WindowView
    ticket: TicketView | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A waiting ticket in the order the window would call it, with why it is there."""

    ticket: TicketView
    reason: str
    reason_en: str
    waited_min: float  # since its effective time (issue, re-queue or check-in)
    head_start_min: int  # the head start its place counts now (0: none, or a booking before its slot)


# ---- bookings ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    start: dt.time
    end: dt.time
    remaining: int


@dataclass(frozen=True, slots=True)
class BookingMade:
    """201: a booking; `code` is the citizen's secret for check-in and cancelling."""

    code: str
    day: dt.date
    slot: dt.time
    slot_end: dt.time
    matter: str
    matter_name: str
    holder_masked: str


@dataclass(frozen=True, slots=True)
class BookingImported:
    """A partner's booking as the hall holds it (the import API's answer, docs/integrations.md): `code` is the
    hall's booking code the citizen checks in with; `state` booked, cancelled, checked_in or missed."""

    external_id: str
    code: str
    state: str
    day: dt.date
    slot: dt.time
    slot_end: dt.time
    matter: str
    matter_name: str
    holder_masked: str


@dataclass(frozen=True, slots=True)
class BookingFound:
    """A booking of today found by the card read (check-in by ID): what the kiosk offers to check in."""

    code: str
    matter: str
    matter_name: str
    matter_name_en: str
    slot: dt.time
    slot_end: dt.time


@dataclass(frozen=True, slots=True)
class PersonToday:
    """`POST /api/identity`: a card read at a kiosk or desk, as the hall sees that person today — their
    bookings to check in, the carded numbers they may still take, and when they may again when none are
    left. Never who they are: the station has the card; the server keeps only the keyed fingerprint."""

    bookings: list[BookingFound]
    tickets_left: int
    next_opening: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class BookingCancelled:
    code: str
    state: str


# ---- hall, devices, health ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HallView:
    """The hall configuration screens need (`GET /api/hall`)."""

    hall: Hall
    departments: tuple[Department, ...]
    series: tuple[Series, ...]
    matters: tuple[Matter, ...]
    windows: tuple[Window, ...]
    zones: tuple[Zone, ...]
    priority_classes: tuple[PriorityClass, ...]
    pause_reasons: tuple[str, ...]
    led: Led
    voice: Voice
    kiosk: Kiosk
    rating: RatingPolicy


@dataclass(frozen=True, slots=True)
class Remaining:
    """Numbers left today per matter, for the matters whose own or series' daily cap applies."""

    remaining: dict[str, int]


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    station: str
    device: str
    health: str  # ok | degraded | unavailable
    reason: str = ""


@dataclass(frozen=True, slots=True)
class HallSnapshot:
    """The whole live picture after event `seq`: what a screen shows after a (re)start or when far behind.
    `recent_calls` are call events, oldest first; `devices` is empty for public (status-page) subscribers."""

    seq: int
    at: dt.datetime
    windows: tuple[WindowView, ...]
    waiting: dict[str, int]
    recent_calls: tuple[TicketChanged, ...]
    devices: tuple[DeviceInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class DeviceHealthReply:
    changed: bool  # only a change is stored and becomes a `device_health` event


@dataclass(frozen=True, slots=True)
class Health:
    """Liveness (public, no personal data); 503 with `ok` false when the database cannot be read."""

    ok: bool
    hall: str
    seq: int
    db: str
    durability: str
    uptime_s: float
    subscribers: int
    loop_lag_max_ms: float  # the event loop's worst lag in the last 10 s
    loop_busy_max_ms: float | None = None  # its longest loop turn in CPU time (None: not measured)


# ---- stations and people -----------------------------------------------------------------------------------


class EnrollState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REVOKED = "revoked"
    EXPIRED = "expired"  # pending too long (a day) without approval: enroll again


@dataclass(frozen=True, slots=True)
class Enrollment:
    """201: a pending enrollment: the station shows `code`; only `poll_secret`'s holder gets the token."""

    station_id: str
    code: str
    poll_secret: str


@dataclass(frozen=True, slots=True)
class EnrollPoll:
    """`token` is given once, on the first poll after approval."""

    state: EnrollState
    token: str | None = None


@dataclass(frozen=True, slots=True)
class StationInfo:
    """An enrolled station: `windows` are those it is approved for (a counter's or desk's clerk logs in and
    acts only there), `window` the one its clerk is logged in at (or, before that, the first approved)."""

    station_id: str
    name: str
    role: str
    state: str
    code: str
    window: int | None
    staff: str
    created_at: dt.datetime
    windows: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ManagerSession:
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ManagerAccount:
    """A manager login (`GET /api/managers`): `sessions` counts the live ones."""

    username: str
    active: bool
    created_at: dt.datetime
    sessions: int


@dataclass(frozen=True, slots=True)
class CounterSession:
    staff: str
    name: str
    window: int


@dataclass(frozen=True, slots=True)
class Roster:
    window: int
    staff: tuple[str, ...]  # empty: any active clerk may log in there


@dataclass(frozen=True, slots=True)
class Reloaded:
    reloaded: bool
    hall: str
    windows: int
    matters: int


@dataclass(frozen=True, slots=True)
class Empty:
    """`{}`: done, nothing to say (logouts)."""


@dataclass(frozen=True, slots=True)
class OwedItemView:
    """One item a 容缺 ticket owes; `supplied_at` (hall time) and who marked it, or null while owed."""

    id: str
    name: str
    supplied_at: str | None
    supplied_by: str


@dataclass(frozen=True, slots=True)
class OwedView:
    """One entry of the 容缺 register (hallcore/owed.py): what the ticket owes, by when, and where it stands —
    `state` open, overdue, on_time or late; `days_left` working days to the due day (negative: overdue);
    `holder` is the masked name; `pledge` says a 承诺书 was printed to sign."""

    ticket: str
    label: str
    matter: str
    matter_name: str
    holder: str
    opened_at: str
    due: dt.date
    pledge: bool
    state: str
    state_name: str
    days_left: int
    items: tuple[OwedItemView, ...]
    # The due day counted days of a year without a calendar: `due_text` says "约 N 个工作日（日历待更新）".
    estimated: bool = False
    due_text: str = ""


@dataclass(frozen=True, slots=True)
class Supplied:
    """The entry after items were marked supplied, and the ones this request marked (none on a repeat)."""

    entry: OwedView
    supplied: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NoticeSub:
    """A ticket's (or booking's) consent to notices: the channel and the number or openid, masked."""

    ref: str
    channel: str  # sms | wechat
    masked: str  # 138****5678; never the number
    consent_at: dt.datetime


@dataclass(frozen=True, slots=True)
class NoticeWithdrawn:
    """Consent withdrawn: nothing more is sent, and the number is forgotten at once."""

    ref: str
    withdrawn: bool
