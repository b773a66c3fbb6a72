"""Numbered events as they leave the writer: the JSON text (encoded once) plus what the stream filters need.

The filter keys are derived once, in the writer thread, so fanning an event out to thousands of subscribers
costs a few set lookups each, never a re-parse.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from hallcore.config import HallConfig
from hallcore.events import (
    BookingChanged,
    CaseChanged,
    Event,
    RatingRecorded,
    TicketChanged,
    TicketIssued,
    WindowChanged,
    decode_event,
    event_data,
    event_text,
)
from hallcore.public import public_data

#: Ticket actions every status-page subscriber sees (the board's "now calling" list), not only its own.
CALL_ACTIONS = frozenset({"called", "recalled"})


@dataclass(frozen=True, slots=True)
class EventRecord:
    seq: int
    kind: str
    text: str  # the JSON sent on the wire, with "seq"
    windows: frozenset[int] = frozenset()
    series: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()
    ticket: str = ""  # ticket id the event is about, "" if none
    is_call: bool = False
    public: bool = False  # may be shown to an unauthenticated status-page subscriber
    # What an unauthenticated subscriber gets instead of `text` (hallcore/public.py), for a public event.
    public_text: str = ""


def describe(event: Event, seq: int, config: HallConfig) -> EventRecord:
    """Number `event` and work out its filter keys."""
    windows: set[int] = set()
    series: set[str] = set()
    ticket = ""
    is_call = False
    public = False
    if isinstance(event, TicketIssued):
        series.add(event.ticket.series)
        ticket = event.ticket.id
        public = True
    elif isinstance(event, TicketChanged):
        series.add(event.ticket.series)
        series.update(event.waiting)
        ticket = event.ticket.id
        if event.window is not None:
            windows.add(event.window.number)
        is_call = event.action in CALL_ACTIONS
        public = True
    elif isinstance(event, WindowChanged):
        windows.add(event.window.number)
        series.update(event.window.series)
    elif isinstance(event, (RatingRecorded, CaseChanged)):
        windows.add(event.window)
        ticket = event.ticket
    elif isinstance(event, BookingChanged):
        ticket = event.ticket
    # DeviceHealth and PrecheckRecorded: no filter keys (unfiltered, authenticated subscribers only).
    zones = {config.window_by_number[w].zone for w in windows if w in config.window_by_number}
    data = event_data(event, seq)  # encoded once; a phone's copy is cut from it
    return EventRecord(
        seq=seq,
        kind=event.kind,
        text=event_text(data),
        public_text=event_text(public_data(data)) if public else "",
        windows=frozenset(windows),
        series=frozenset(series),
        zones=frozenset(zones),
        ticket=ticket,
        is_call=is_call,
        public=public,
    )


def record_from_text(text: str, config: HallConfig) -> EventRecord:
    """Rebuild a record from the stored JSON (catch-up from the database)."""
    event, seq = decode_event(text)
    if seq is None:
        raise ValueError("a stored event without seq")
    rec = describe(event, seq, config)
    # Keep the stored text byte for byte: it is what live subscribers got.
    return dataclasses.replace(rec, text=text)


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """What one subscriber wants. Empty fields match everything; set fields must all match (AND)."""

    window: int | None = None
    window_series: frozenset[str] = frozenset()  # the series window `window` serves (its waiting counts)
    series: str = ""
    series_windows: frozenset[int] = frozenset()
    zone: str = ""
    zone_series: frozenset[str] = frozenset()
    ticket: str = ""  # status-page token filter: this ticket's events plus every call
    authenticated: bool = True

    @property
    def unfiltered(self) -> bool:
        return self.window is None and not self.series and not self.zone and not self.ticket

    def matches(self, rec: EventRecord) -> bool:
        if not self.authenticated and not rec.public:
            return False
        if self.ticket and not (rec.ticket == self.ticket or rec.is_call):
            return False
        if self.window is not None and not (
            self.window in rec.windows or (not rec.windows and rec.series & self.window_series)
        ):
            return False
        if self.series and not (self.series in rec.series or rec.windows & self.series_windows):
            return False
        return not self.zone or (
            self.zone in rec.zones or (not rec.windows and bool(rec.series & self.zone_series))
        )


def make_filter(
    config: HallConfig,
    *,
    window: int | None = None,
    series: str = "",
    zone: str = "",
    ticket: str = "",
    authenticated: bool = True,
) -> StreamFilter:
    if window is None and not series and not zone:
        # A phone or an unfiltered board: nothing to look up (thousands of these open at once in a storm).
        return StreamFilter(ticket=ticket, authenticated=authenticated)
    w = config.window_by_number.get(window) if window is not None else None
    return StreamFilter(
        window=window,
        window_series=frozenset(w.series) if w else frozenset(),
        series=series,
        series_windows=frozenset(x.number for x in config.windows if series and series in x.series),
        zone=zone,
        zone_series=frozenset(s for x in config.windows if zone and x.zone == zone for s in x.series),
        ticket=ticket,
        authenticated=authenticated,
    )


def heartbeat_text(seq: int, at: str) -> str:
    return json.dumps({"kind": "heartbeat", "seq": seq, "at": at}, separators=(",", ":"))
