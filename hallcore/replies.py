"""The replies of the hall API (docs/api.md), as typed dataclasses: the server encodes them with
`hallcore.codec`, hallclient decodes them with the same codec, and the OpenAPI schema is generated from them.
One shape per reply, so a station, a test and a generated client all read the same thing.

`hallcore.replybuilders` turns engine state into these replies. Tickets and windows are the events' own
views (`TicketView`, `WindowView`), the estimate is `WaitEstimate` and the pre-check result is
`PrecheckResult`: an app handles one shape whether it learnt of a ticket from a reply or from the event
stream.

HTTP statuses live here too (`refusal_status`, `Role`): what a client may expect is part of the contract.

The reply types are declared by concern in `hallcore.replyschema` (`tickets`, `windows`, `bookings`, `hall`,
`stations`, `followup`) and imported from here by every other module. A reply's OpenAPI component is named
by its class name alone (`hallcore.codec.json_schema`), so where it is declared is not part of the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hallcore.config import StationRole
from hallcore.estimates import WaitEstimate
from hallcore.events import TicketChanged, TicketView, WindowView
from hallcore.outcomes import RefusalCode
from hallcore.precheck import MissingItem, PrecheckResult
from hallcore.replyschema.bookings import (
    BookingCancelled,
    BookingFound,
    BookingImported,
    BookingMade,
    PersonToday,
    Slot,
)
from hallcore.replyschema.followup import (
    NoticeSub,
    NoticeWithdrawn,
    OwedItemView,
    OwedView,
    Supplied,
)
from hallcore.replyschema.hall import (
    DeviceHealthReply,
    DeviceInfo,
    HallSnapshot,
    HallView,
    Health,
    Reloaded,
    Remaining,
)
from hallcore.replyschema.stations import (
    CounterSession,
    Empty,
    Enrollment,
    EnrollPoll,
    EnrollState,
    ManagerAccount,
    ManagerSession,
    Roster,
    StationInfo,
)
from hallcore.replyschema.tickets import (
    CaseView,
    Issued,
    NotIssued,
    Rated,
    RatingView,
    TicketReply,
    TicketStatus,
)
from hallcore.replyschema.windows import (
    Candidate,
    WindowResult,
)

__all__ = [
    "BookingCancelled",
    "BookingFound",
    "BookingImported",
    "BookingMade",
    "Candidate",
    "CaseView",
    "CounterSession",
    "DeviceHealthReply",
    "DeviceInfo",
    "Empty",
    "EnrollPoll",
    "EnrollState",
    "Enrollment",
    "HallSnapshot",
    "HallView",
    "Health",
    "Issued",
    "ManagerAccount",
    "ManagerSession",
    "MissingItem",
    "NotIssued",
    "NoticeSub",
    "NoticeWithdrawn",
    "OwedItemView",
    "OwedView",
    "PersonToday",
    "PrecheckResult",
    "Rated",
    "RatingView",
    "Reloaded",
    "Remaining",
    "Roster",
    "Slot",
    "StationInfo",
    "Supplied",
    "TicketChanged",
    "TicketReply",
    "TicketStatus",
    "TicketView",
    "WaitEstimate",
    "WindowResult",
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
