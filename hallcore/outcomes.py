"""What a command comes back with: `Accepted` (events and the rows touched) or a typed `Refused`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hallcore.estimates import WaitEstimate
from hallcore.events import Event
from hallcore.model import BookingState, Ticket, TicketState
from hallcore.precheck import PrecheckResult


class RefusalCode(StrEnum):
    UNKNOWN_MATTER = "unknown_matter"
    UNKNOWN_WINDOW = "unknown_window"
    UNKNOWN_TICKET = "unknown_ticket"
    UNKNOWN_SERIES = "unknown_series"
    UNKNOWN_PRIORITY = "unknown_priority"
    UNKNOWN_BOOKING = "unknown_booking"
    UNKNOWN_CASE = "unknown_case"
    WINDOW_CLOSED = "window_closed"
    WINDOW_PAUSED = "window_paused"
    WINDOW_BUSY = "window_busy"
    WINDOW_NOT_IDLE = "window_not_idle"
    NO_CURRENT_TICKET = "no_current_ticket"
    WRONG_STATE = "wrong_state"
    NOTHING_WAITING = "nothing_waiting"
    HALL_CLOSED = "hall_closed"
    SERIES_CLOSED = "series_closed"
    BOOKING_ONLY_DAY = "booking_only_day"
    CAP_REACHED = "cap_reached"
    PRECHECK_REQUIRED = "precheck_required"
    PRECHECK_INPUT = "precheck_input"
    RECALLS_NOT_EXHAUSTED = "recalls_not_exhausted"
    NOT_SERVED = "not_served"
    ALREADY_RATED = "already_rated"
    RATING_CLOSED = "rating_closed"  # 扫码评价 is offered only for a while after the finish
    BAD_SCORE = "bad_score"
    REASON_REQUIRED = "reason_required"
    UNKNOWN_PAUSE_REASON = "unknown_pause_reason"
    NOT_PARTNER = "not_partner"
    BAD_TARGET = "bad_target"
    SLOT_UNKNOWN = "slot_unknown"
    SLOT_FULL = "slot_full"
    PERSON_LIMIT = "person_limit"
    IN_PAST = "in_past"
    TOO_FAR_AHEAD = "too_far_ahead"
    NOT_BOOKABLE = "not_bookable"
    DUPLICATE_CODE = "duplicate_code"
    BOOKING_TOO_EARLY = "booking_too_early"
    BOOKING_WRONG_DAY = "booking_wrong_day"
    BOOKING_STATE = "booking_state"
    BAD_TRANSITION = "bad_transition"
    NOT_SAME_DAY = "not_same_day"
    RECALL_TOO_SOON = "recall_too_soon"
    REQUEUE_LIMIT = "requeue_limit"
    NO_CLASS = "no_class"
    NOT_AT_WINDOW = "not_at_window"
    BAD_OUTCOME = "bad_outcome"  # an outcome, reason or 办件编号 that is not valid
    OUTCOME_CLOSED = "outcome_closed"  # the outcome may be changed only for a while after the finish


@dataclass(slots=True)
class Refused:
    """A typed refusal: nothing changed. `message` is for people (zh), `message_en` its English."""

    code: RefusalCode
    message: str
    message_en: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return False


@dataclass(slots=True)
class Changes:
    """Which rows the command touched, so the store writes exactly those in the command's transaction."""

    tickets: tuple[str, ...] = ()
    windows: tuple[int, ...] = ()
    bookings: tuple[str, ...] = ()
    ratings: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()


@dataclass(slots=True)
class Accepted:
    events: tuple[Event, ...]
    changes: Changes
    ticket: Ticket | None = None  # the ticket issued, called or acted on, if any
    precheck: PrecheckResult | None = None
    estimate: WaitEstimate | None = None
    ahead: int | None = None

    @property
    def accepted(self) -> bool:
        return True


Outcome = Accepted | Refused


def refuse(code: RefusalCode, zh: str, en: str, **detail: Any) -> Refused:
    return Refused(code, zh, en, detail)


class Collector:
    """Collects events and touched rows while one command is applied."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.tickets: dict[str, None] = {}
        self.windows: dict[int, None] = {}
        self.bookings: dict[str, None] = {}
        self.ratings: dict[str, None] = {}
        self.cases: dict[str, None] = {}

    def changes(self) -> Changes:
        return Changes(
            tuple(self.tickets),
            tuple(self.windows),
            tuple(self.bookings),
            tuple(self.ratings),
            tuple(self.cases),
        )

    def accept(
        self,
        ticket: Ticket | None = None,
        *,
        precheck: PrecheckResult | None = None,
        estimate: WaitEstimate | None = None,
        ahead: int | None = None,
    ) -> Accepted:
        """The command is done: what it announced and which rows it touched."""
        return Accepted(tuple(self.events), self.changes(), ticket, precheck, estimate, ahead)


BOOKING_ZH = {
    BookingState.BOOKED: "预约",
    BookingState.CHECKED_IN: "签到",
    BookingState.CANCELLED: "取消",
    BookingState.MISSED: "过期",
}

STATE_ZH = {
    TicketState.PENDING_PRINT: "待打印",
    TicketState.WAITING: "等候中",
    TicketState.CALLED: "已叫号",
    TicketState.SERVING: "办理中",
    TicketState.DONE: "已办结",
    TicketState.NO_SHOW: "已过号",
    TicketState.CANCELLED: "已取消",
    TicketState.VOIDED: "已作废",
    TicketState.EXPIRED: "已过期",
}


def wrong_state(t: Ticket, *expected: TicketState) -> Refused:
    want = "、".join(STATE_ZH[s] for s in expected)
    return refuse(
        RefusalCode.WRONG_STATE,
        f"{t.label} {STATE_ZH[t.state]}，此操作需要它处于：{want}",
        f"{t.label} is {t.state.value}; this needs it to be {' or '.join(s.value for s in expected)}",
        ticket=t.label,
        state=t.state.value,
    )


def idle_first(number: int, t: Ticket) -> Refused:
    return refuse(
        RefusalCode.WINDOW_NOT_IDLE,
        f"{number} 号窗口还在处理 {t.label}，请先办结、过号或转办",
        f"window {number} still holds {t.label}: finish, mark no-show or transfer it first",
        ticket=t.label,
    )


def iso_or_none(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


def fmt_local(when: dt.datetime) -> str:
    return when.strftime("%m-%d %H:%M")
