"""The replies about one ticket: issued (or the 一次性告知单 instead), acted on, rated, and its phone page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hallcore.estimates import WaitEstimate
from hallcore.events import TicketChanged, TicketView
from hallcore.precheck import PrecheckResult
from hallcore.printout import NoticePrint, TicketPrint


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
