"""Wire events: what the engine reports after each accepted command, with everything a screen needs.

Events carry names and numbers (ticket label, matter name, window number and name, counts), never only ids, so
that a board, a phone page or an LED strip can act on one event without asking the server anything. The server
adds the hall-wide `seq` when it commits them. Never put a status token or a full name in an event: events are
broadcast to every subscriber.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar


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
    # transferred | cancelled | expired
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
    kind: ClassVar[str] = "booking_changed"
    action: str  # booked | cancelled | checked_in | missed
    code: str
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


class EventCodecError(ValueError):
    """A JSON event that is not one of ours."""


# ---- JSON codec ----------------------------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    """Dataclasses to dicts, datetimes/dates/times to ISO strings, tuples to lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        kind = getattr(type(value), "kind", None)
        if isinstance(value, Event) and kind:
            out["kind"] = kind
        return out
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def encode_event(event: Event, seq: int | None = None) -> str:
    data = to_jsonable(event)
    if seq is not None:
        data["seq"] = seq
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode_event(text: str | bytes) -> tuple[Event, int | None]:
    """Parse one event; returns it with its `seq` (None if the server did not number it)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventCodecError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EventCodecError("an event is a JSON object")
    kind = data.pop("kind", None)
    seq = data.pop("seq", None)
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EventCodecError(f"unknown event kind {kind!r}")
    return typing.cast(Event, from_jsonable(cls, data)), seq if isinstance(seq, int) else None


_HINTS: dict[type, dict[str, Any]] = {}


def from_jsonable(cls: type, data: Any) -> Any:
    """Inverse of `to_jsonable` for our dataclasses, driven by their type hints."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = hints
    if not isinstance(data, dict):
        raise EventCodecError(f"{cls.__name__}: expected an object")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise EventCodecError(f"{cls.__name__}: missing field {f.name!r}")
            continue
        kwargs[f.name] = _convert(hints[f.name], data[f.name])
    return cls(**kwargs)


def _convert(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(args[0], value)
    if origin is tuple:
        return tuple(_convert(typing.get_args(tp)[0], v) for v in value)
    if origin is dict:
        _, vt = typing.get_args(tp)
        return {k: _convert(vt, v) for k, v in value.items()}
    if tp is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if tp is dt.date:
        return dt.date.fromisoformat(value)
    if tp is dt.time:
        return dt.time.fromisoformat(value)
    if dataclasses.is_dataclass(tp):
        return from_jsonable(typing.cast(type, tp), value)
    return value
