"""Wire events: what the engine reports after each accepted command, with everything a screen needs.

Events carry names and numbers (ticket label, matter name, window number and name, counts), never only ids, so
that a board, a phone page or an LED strip can act on one event without asking the server anything. The server
adds the hall-wide `seq` when it commits them. Never put a status token or a full name in an event: events are
broadcast to every subscriber.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from hallcore.codec import CodecError, decode, encode


@dataclass(slots=True)
class TicketView:
    id: str
    label: str
    series: str
    matter: str
    matter_name: str
    matter_name_en: str
    source: str
    priority: str
    priority_name: str
    state: str
    issued_at: dt.datetime
    window: int | None = None
    window_name: str = ""
    holder_masked: str = ""
    recalls: int = 0
    transfers: int = 0
    precheck: str = ""
    missing: tuple[str, ...] = ()
    due: dt.date | None = None
    call_reason: str = ""
    call_reason_en: str = ""
    target_window: int | None = None
    claimed: str = ""  # the class claimed at issue (kept when staff revoke it)
    class_check: str = ""  # "", "confirmed" or "revoked" by staff
    requeues: int = 0
    department: str = ""  # the matter's department id (考核 is by department)
    outcome: str = ""  # how the case ended (hallcore/caseoutcome.py), "" until finished
    outcome_reason: str = ""
    case_no: str = ""  # 办件编号
    identity: str = ""  # "card" (刷身份证), "agent" (代办 with the agent's card) or "": never the person


@dataclass(slots=True)
class WindowView:
    number: int
    name: str
    state: str
    zone: str
    series: tuple[str, ...]
    staff: str = ""
    pause_reason: str = ""
    current: str = ""  # label of the ticket held, "" if none
    current_state: str = ""
    taken_over: tuple[int, ...] = ()


@dataclass(slots=True)
class Event:
    kind: ClassVar[str] = ""
    __wire_kind__: ClassVar[bool] = True  # the codec writes `kind` into the JSON
    at: dt.datetime


@dataclass(slots=True)
class PrecheckRecorded(Event):
    """Every pre-check is counted, failed ones too (they produce a 一次性告知单 and no ticket)."""

    kind: ClassVar[str] = "precheck_recorded"
    matter: str
    matter_name: str
    outcome: str
    missing: tuple[str, ...]
    source: str
    agent: bool = False  # 代办: someone acting for the applicant (an `agent` question was asked)


@dataclass(slots=True)
class TicketIssued(Event):
    kind: ClassVar[str] = "ticket_issued"
    ticket: TicketView
    ahead: int
    estimate_low: int | None
    estimate_high: int | None
    waiting: dict[str, int]  # waiting count per affected series


@dataclass(slots=True)
class TicketChanged(Event):
    """A ticket moved in its lifecycle. `action` names the step; `window` is set where one is involved."""

    kind: ClassVar[str] = "ticket_changed"
    action: str  # printed | voided | called | recalled | serving | finished | no_show | requeued |
    # transferred | cancelled | expired | class_confirmed | class_revoked | outcome_changed
    ticket: TicketView
    window: WindowView | None
    waiting: dict[str, int]
    note: str = ""


@dataclass(slots=True)
class WindowChanged(Event):
    kind: ClassVar[str] = "window_changed"
    action: str  # opened | closed | paused | resumed | takeover | takeover_ended
    window: WindowView


@dataclass(slots=True)
class BookingChanged(Event):
    """A slot's quota moved. Never the booking code: it is the citizen's secret (whoever has it may cancel),
    and events go to every station."""

    kind: ClassVar[str] = "booking_changed"
    action: str  # booked | cancelled | checked_in | missed
    matter: str
    matter_name: str
    day: dt.date
    slot_start: dt.time
    remaining: int  # quota left in that slot
    ticket: str = ""


@dataclass(slots=True)
class RatingRecorded(Event):
    kind: ClassVar[str] = "rating_recorded"
    ticket: str
    label: str
    score: int
    score_name: str
    matter: str
    matter_name: str
    window: int
    staff: str
    # The case rated (the province ties a rating to it): outcome, 办件编号 and the matter's department.
    outcome: str = ""
    case_no: str = ""
    department: str = ""


@dataclass(slots=True)
class CaseChanged(Event):
    kind: ClassVar[str] = "case_changed"
    action: str  # opened | callback | resolve | close | appeal
    case: str
    ticket: str
    label: str
    score: int
    state: str
    due: dt.date
    window: int
    matter_name: str
    note: str = ""


@dataclass(slots=True)
class DeviceHealth(Event):
    """A station reports a device's health (printer paper, LED board online). Emitted by the server."""

    kind: ClassVar[str] = "device_health"
    station: str
    device: str
    health: str
    reason: str = ""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        PrecheckRecorded,
        TicketIssued,
        TicketChanged,
        WindowChanged,
        BookingChanged,
        RatingRecorded,
        CaseChanged,
        DeviceHealth,
    )
}


class EventCodecError(CodecError):
    """A JSON event that is not one of ours."""


def encode_event(event: Event, seq: int | None = None) -> str:
    return event_text(event_data(event, seq))


def event_data(event: Event, seq: int | None = None) -> dict[str, Any]:
    """The event as the JSON object sent (with its `seq` when numbered)."""
    data: dict[str, Any] = encode(event)
    if seq is not None:
        data["seq"] = seq
    return data


def event_text(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode_event(text: str | bytes) -> tuple[Event, int | None]:
    """Parse one event; returns it with its `seq` (None if the server did not number it)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventCodecError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EventCodecError("an event is a JSON object")
    kind = data.get("kind")
    seq = data.get("seq")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EventCodecError(f"unknown event kind {kind!r}")
    try:
        event = decode(cls, data)
    except CodecError as exc:
        raise EventCodecError(str(exc)) from exc
    return event, seq if isinstance(seq, int) and not isinstance(seq, bool) else None
