"""The replies that follow a ticket after it was served: the 容缺 register and the consent to notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


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
