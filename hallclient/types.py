"""The values hallclient returns: small frozen dataclasses, the same from `HttpHall` and from `FakeHall`.

Tickets and windows use hallcore's wire views (`TicketView`, `WindowView`) under the names `TicketInfo` and
`WindowInfo`: events carry exactly these, so an app handles one shape whether it learnt of a ticket from a
reply or from the event stream. The hall's configuration for screens reuses hallcore's config dataclasses
(`Matter` with its pre-check, `Series`, `Window`, `PriorityClass`) for the same reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hallcore.config import Matter, PriorityClass, Series, Window
from hallcore.events import Event, TicketView, WindowView

TicketInfo = TicketView
WindowInfo = WindowView


@dataclass(frozen=True, slots=True)
class Estimate:
    """A wait range in whole minutes; all None with `no_window_open` (say so, do not guess)."""

    low_min: int | None
    high_min: int | None
    point_min: int | None
    no_window_open: bool = False


@dataclass(frozen=True, slots=True)
class MissingItemInfo:
    """One line of the 一次性告知单: what is missing and where to get it."""

    id: str
    kind: str  # "material" | "question"
    text: str
    text_en: str
    where: str
    where_en: str
    tolerable: bool


@dataclass(frozen=True, slots=True)
class PrecheckInfo:
    """A pre-check result: outcome 通过 / 容缺 / 不通过, every missing item, the 容缺 deadline."""

    outcome: str
    missing: tuple[MissingItemInfo, ...] = ()
    due: dt.date | None = None

    @property
    def issues_ticket(self) -> bool:
        return self.outcome != "不通过"


@dataclass(frozen=True, slots=True)
class PrintInfo:
    """What the kiosk prints: hall name, the QR's address, the 容缺 items; `extra` holds the rest as sent."""

    hall_name: str
    hall_name_en: str = ""
    qr: str = ""
    missing: tuple[str, ...] = ()
    due: dt.date | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Issued:
    """A ticket was issued. `token` is the public status token, `status_url` the phone page's address."""

    ticket: TicketInfo
    token: str
    status_url: str
    ahead: int
    estimate: Estimate
    precheck: PrecheckInfo | None = None
    print: PrintInfo | None = None


@dataclass(frozen=True, slots=True)
class NotIssued:
    """The pre-check failed: no ticket; print the 一次性告知单 from `precheck.missing`."""

    precheck: PrecheckInfo


@dataclass(frozen=True, slots=True)
class CallInfo:
    """One recent call, as boards and the phone page list them."""

    label: str
    window: int | None
    window_name: str = ""
    matter_name: str = ""
    at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """The phone page's view of one ticket (public, by status token)."""

    label: str
    matter_name: str
    state: str
    ahead: int | None
    estimate: Estimate | None
    window: int | None
    window_name: str
    calls: tuple[CallInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class WindowResult:
    """Reply to a window action: the window after it, and the ticket it acted on (None for open/close…)."""

    window: WindowInfo
    ticket: TicketInfo | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A waiting ticket in the order the window would call it, with why it is there."""

    ticket: TicketInfo
    reason: str = ""
    reason_en: str = ""
    waited_min: float | None = None
    over_limit: bool = False  # waited past the anti-starvation limit: goes first


@dataclass(frozen=True, slots=True)
class RatingResult:
    """A recorded rating; `case_id`/`case_due` are set when a 差评 case was opened."""

    ticket: str
    score: int
    score_name: str = ""
    case_id: str | None = None
    case_due: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Slot:
    start: dt.time
    end: dt.time
    remaining: int


@dataclass(frozen=True, slots=True)
class BookingInfo:
    """A booking; `code` is the citizen's secret for check-in and cancelling."""

    code: str
    day: dt.date
    slot: dt.time
    matter: str


@dataclass(frozen=True, slots=True)
class HallInfo:
    """The hall configuration screens need: matters with their pre-check, series, windows, priorities."""

    id: str
    name: str
    name_en: str = ""
    notice: str = ""
    matters: tuple[Matter, ...] = ()
    series: tuple[Series, ...] = ()
    windows: tuple[Window, ...] = ()
    priority_classes: tuple[PriorityClass, ...] = ()
    pause_reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    station: str
    device: str
    health: str  # ok | degraded | unavailable
    reason: str = ""
    at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """The whole live picture at `seq`: what a screen shows after a (re)start or when far behind."""

    seq: int
    at: dt.datetime
    windows: tuple[WindowInfo, ...] = ()
    waiting: dict[str, int] = field(default_factory=dict)
    recent_calls: tuple[CallInfo, ...] = ()
    devices: tuple[DeviceInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class HealthInfo:
    ok: bool
    seq: int
    db: str
    uptime_s: float


class Role(StrEnum):
    KIOSK = "kiosk"
    COUNTER = "counter"
    DESK = "desk"
    DISPLAY = "display"
    AGENT = "agent"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class Enrollment:
    """A pending enrollment: the station shows `code`; only the holder of `poll_secret` gets the token."""

    station_id: str
    code: str
    poll_secret: str


class EnrollState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class EnrollPoll:
    """`token` is given once, on the first poll after approval."""

    state: EnrollState
    token: str | None = None


@dataclass(frozen=True, slots=True)
class StationInfo:
    station_id: str
    name: str
    role: str
    state: str
    code: str = ""
    created_at: dt.datetime | None = None
    window: int | None = None


@dataclass(frozen=True, slots=True)
class CounterSession:
    staff: str
    name: str
    window: int


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
    snapshot: SnapshotInfo


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
