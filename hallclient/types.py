"""The values hallclient returns: the hall API's reply types from `hallcore.replies` (the same dataclasses the
server encodes, decoded with the same codec), plus what only a client has: stream items and connection states.

Tickets and windows are hallcore's wire views (`TicketView`, `WindowView`, also named `TicketInfo` and
`WindowInfo` here): events carry exactly these, so an app handles one shape whether it learnt of a ticket
from a reply or from the event stream.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from hallcore.estimates import WaitEstimate
from hallcore.events import Event, TicketChanged, TicketView, WindowView
from hallcore.precheck import MissingItem, PrecheckResult
from hallcore.replies import (
    BookingCancelled,
    BookingFound,
    BookingMade,
    Candidate,
    CaseView,
    CounterSession,
    DeviceInfo,
    Enrollment,
    EnrollPoll,
    EnrollState,
    HallSnapshot,
    HallView,
    Health,
    Issued,
    NotIssued,
    OwedItemView,
    OwedView,
    PersonToday,
    Rated,
    RatingView,
    Role,
    Slot,
    StationInfo,
    Supplied,
    TicketStatus,
    WindowResult,
)

__all__ = [
    "BookingCancelled",
    "BookingFound",
    "BookingMade",
    "Candidate",
    "CaseView",
    "ConnectionState",
    "CounterSession",
    "DeviceInfo",
    "EnrollPoll",
    "EnrollState",
    "Enrollment",
    "EventItem",
    "HallSnapshot",
    "HallView",
    "Health",
    "Heartbeat",
    "Issued",
    "MissingItem",
    "NotIssued",
    "OwedItemView",
    "OwedView",
    "PersonToday",
    "PrecheckResult",
    "Rated",
    "RatingView",
    "Role",
    "Slot",
    "Snapshot",
    "StateChange",
    "StationInfo",
    "StreamItem",
    "Supplied",
    "TicketChanged",
    "TicketInfo",
    "TicketStatus",
    "WaitEstimate",
    "WindowInfo",
    "WindowResult",
]

TicketInfo = TicketView
WindowInfo = WindowView


# ---- event stream items --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventItem:
    """One hall event with its hall-wide sequence number."""

    seq: int
    event: Event


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Sent instead of events when the client was too far behind: replace the whole picture with it."""

    seq: int
    snapshot: HallSnapshot


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The latest seq, sent every few seconds so a filtered client can tell "nothing for me" from a loss."""

    seq: int
    at: dt.datetime | None = None


StreamItem = EventItem | Snapshot | Heartbeat


class ConnectionState(StrEnum):
    CONNECTING = "connecting"  # first connection attempt
    LIVE = "live"
    RECONNECTING = "reconnecting"  # lost; retrying, data may be stale
    OFFLINE = "offline"  # lost for longer than the app's patience: show "server unreachable"
    CLOSED = "closed"  # aclose() was called


@dataclass(frozen=True, slots=True)
class StateChange:
    """A connection state and since when it holds (the clock's monotonic seconds)."""

    state: ConnectionState
    since: float
    reason: str = ""
