"""Engine commands: one frozen dataclass per state change. Shells build them from requests and keypresses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from hallcore.model import CaseAction, Source


@dataclass(frozen=True, slots=True)
class CardHolder:
    """A person known by a 居民身份证 read at the kiosk or desk (hallcore/engine/persons.py): the keyed HMAC
    of the number (made by the server, which never keeps the number), its last 4 characters (what receipts
    print) and the birth date the number encodes (for the age class and the statistics' decade)."""

    key: str
    last4: str
    born: dt.date | None = None


@dataclass(frozen=True, slots=True)
class IssueTicket:
    """Take a number. With `answers`/`present`, the pre-check runs first; a failed one issues no ticket."""

    matter: str
    source: Source
    token: str  # public status-page token (random, made by the shell)
    priority: str = ""  # a priority class id the citizen chose; staff check it at the window
    answers: Mapping[str, bool] | None = None
    present: frozenset[str] | None = None  # material ids the citizen has
    holder_name: str = ""  # masked before it is stored
    person: CardHolder | None = None  # the card read (the agent's, for 代办)
    agent: bool = False  # 代办 declared at the desk (the kiosk's pre-check answers say it themselves)
    principal: CardHolder | None = None  # 代办: the card of the person acted for, when the agent has it


@dataclass(frozen=True, slots=True)
class VoidTicket:
    ticket: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallNext:
    window: int
    staff: str = ""


@dataclass(frozen=True, slots=True)
class CallSpecific:
    window: int
    ticket: str  # id or label ("A012", today's)
    reason: str  # required: recorded in the audit trail
    staff: str = ""


@dataclass(frozen=True, slots=True)
class WindowCommand:
    """A command that names only the window it acts at (and so the ticket that window holds)."""

    window: int


@dataclass(frozen=True, slots=True)
class TicketCommand:
    """A command that names only a ticket: its id ("2026-11-23/A012") or today's label ("A012")."""

    ticket: str


class ConfirmPrint(TicketCommand):
    """The kiosk printed the ticket: it joins its line (until then it is `pending_print`)."""


class Recall(WindowCommand):
    """Call the held ticket again (a no-show needs `no_show.max_recalls` recalls first)."""


class StartServing(WindowCommand):
    """The citizen reached the window: serving starts (handle time counts from here)."""


@dataclass(frozen=True, slots=True)
class Finish:
    """The case at the window is done, with its outcome (办结 when none is named: a keypad without outcome
    keys), the outcome's reason and the 办件编号 (hallcore/caseoutcome.py)."""

    window: int
    outcome: str = "办结"
    reason: str = ""
    case_no: str = ""


@dataclass(frozen=True, slots=True)
class SetOutcome:
    """Change the outcome (or the 办件编号) of the case this window finished last, within
    `outcomes.change_window_s` of the finish."""

    window: int
    ticket: str  # id or today's label
    outcome: str
    reason: str = ""
    case_no: str = ""


class MarkNoShow(WindowCommand):
    """过号: nobody came after the recalls; the window is free again."""


class RequeueNoShow(TicketCommand):
    """A no-show came back the same day: behind the next few in its line, as a normal ticket."""


@dataclass(frozen=True, slots=True)
class Transfer:
    """转办: back to waiting in another series (or for one named window), keeping number and issue time."""

    window: int
    to_series: str = ""
    to_window: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ReviewClass:
    """Staff at `window` confirm or revoke the priority class a ticket claimed (audited): the ticket the
    window holds, or one waiting for it. Revoking needs a reason and gives the ticket its normal key."""

    window: int
    ticket: str  # id or today's label
    confirm: bool
    reason: str = ""
    staff: str = ""


@dataclass(frozen=True, slots=True)
class CancelTicket:
    ticket: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Tick:
    """Housekeeping at `now`: void unconfirmed prints past the timeout, expire what is left after closing."""


@dataclass(frozen=True, slots=True)
class OpenWindow:
    window: int
    staff: str = ""


class CloseWindow(WindowCommand):
    """Close the window; it must hold no ticket."""


@dataclass(frozen=True, slots=True)
class PauseWindow:
    window: int
    reason: str


class ResumeWindow(WindowCommand):
    """Back from a pause."""


@dataclass(frozen=True, slots=True)
class PartnerCommand:
    """A/B岗: a window and its partner window."""

    window: int
    partner: int


class TakeOver(PartnerCommand):
    """`window` also serves `partner`'s series while the partner is away."""


class EndTakeOver(PartnerCommand):
    """The partner is back: `window` serves its own series again."""


@dataclass(frozen=True, slots=True)
class BookSlot:
    matter: str
    day: dt.date
    slot_start: dt.time
    person_key: str  # HMAC of the ID number (made by the shell with the hall's secret)
    code: str  # booking code (random, made by the shell)
    holder_name: str = ""


@dataclass(frozen=True, slots=True)
class CancelBooking:
    code: str


@dataclass(frozen=True, slots=True)
class CheckIn:
    code: str
    token: str  # status token for the ticket it becomes
    answers: Mapping[str, bool] | None = None
    present: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Rate:
    ticket: str
    score: int  # 1..5
    source: str = "pad"


@dataclass(frozen=True, slots=True)
class CaseStepCommand:
    case: str
    action: CaseAction
    note: str
    staff: str = ""


Command = (
    IssueTicket
    | ConfirmPrint
    | VoidTicket
    | CallNext
    | CallSpecific
    | Recall
    | StartServing
    | Finish
    | SetOutcome
    | MarkNoShow
    | RequeueNoShow
    | Transfer
    | ReviewClass
    | CancelTicket
    | Tick
    | OpenWindow
    | CloseWindow
    | PauseWindow
    | ResumeWindow
    | TakeOver
    | EndTakeOver
    | BookSlot
    | CancelBooking
    | CheckIn
    | Rate
    | CaseStepCommand
)
