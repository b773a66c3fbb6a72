"""What anyone may see without a token (DESIGN.md §9 privacy): the phone page shows one ticket — its own, by
its unguessable token — and the numbers being called, nothing about the people behind them.

Every public payload is cut down here: the status reply's recent calls, the public snapshot, and the events a
phone's stream carries (`hallserver.eventlog` cuts each public event's copy from its encoding: `public_data`).
A ticket keeps its number, matter, state and window; the holder's masked name, the priority class claimed and
why it was called, the pre-check outcome and the items still to bring are dropped. A window keeps its number,
name, state and the number it holds; the clerk's staff code and the pause reason are dropped (staff codes are
what a clerk logs in with). Notes (a transfer's or cancellation's reason) are dropped. The ticket's own
details reach its phone through the status reply, which reads that one ticket.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hallcore.codec import encode
from hallcore.events import Event, TicketChanged, TicketIssued, TicketView, WindowView

#: What a ticket and a window lose in public, field by field (the one list: the dataclass and the encoded
#: forms below are both cut by it).
TICKET_HIDDEN: dict[str, Any] = {
    "priority": "",
    "priority_name": "",
    "holder_masked": "",
    "precheck": "",
    "missing": (),
    "due": None,
    "call_reason": "",
    "call_reason_en": "",
    "claimed": "",
    "class_check": "",
}
WINDOW_HIDDEN: dict[str, Any] = {"staff": "", "pause_reason": ""}
_TICKET_HIDDEN_JSON = encode(TICKET_HIDDEN)
_WINDOW_HIDDEN_JSON = encode(WINDOW_HIDDEN)


def public_ticket(t: TicketView) -> TicketView:
    return dataclasses.replace(t, **TICKET_HIDDEN)


def public_window(w: WindowView) -> WindowView:
    return dataclasses.replace(w, **WINDOW_HIDDEN)


def public_call(event: TicketChanged) -> TicketChanged:
    window = public_window(event.window) if event.window is not None else None
    return dataclasses.replace(event, ticket=public_ticket(event.ticket), window=window, note="")


def public_event(event: Event) -> Event:
    """`event` as a phone may see it (only ticket events are public at all: `hallserver.eventlog`)."""
    if isinstance(event, TicketChanged):
        return public_call(event)
    if isinstance(event, TicketIssued):
        return dataclasses.replace(event, ticket=public_ticket(event.ticket))
    return event


def public_data(data: dict[str, Any]) -> dict[str, Any]:
    """`encode(public_event(event))` from `encode(event)`: the writer encodes each event once and cuts the
    public copy from it (tests/unit/test_public.py holds the two equal)."""
    kind = data.get("kind")
    if kind not in (TicketChanged.kind, TicketIssued.kind):
        return data
    out = {**data, "ticket": {**data["ticket"], **_TICKET_HIDDEN_JSON}}
    if kind == TicketChanged.kind:
        window = data.get("window")
        out["window"] = None if window is None else {**window, **_WINDOW_HIDDEN_JSON}
        out["note"] = ""
    return out
