"""What the engine announces: ticket and window views, and the events a rule appends to its collector."""

from __future__ import annotations

import datetime as dt

from hallcore.engine import waits
from hallcore.engine.state import EngineState
from hallcore.events import BookingChanged, CaseChanged, TicketChanged, TicketView, WindowChanged, WindowView
from hallcore.model import Booking, Case, Ticket
from hallcore.outcomes import Accepted, Collector


def ticket_view(s: EngineState, t: Ticket) -> TicketView:
    m = s.config.matter_by_code[t.matter]
    w = s.config.window_by_number.get(t.window) if t.window is not None else None
    pc = s.config.class_by_id.get(t.priority) if t.priority else None
    r = t.call_reason
    return TicketView(
        id=t.id,
        label=t.label,
        series=t.series,
        matter=t.matter,
        matter_name=m.name,
        matter_name_en=m.name_en,
        source=t.source,  # a StrEnum is a str: .value would cost a descriptor call per event
        priority=t.priority,
        priority_name=pc.name if pc else "",
        state=t.state,
        issued_at=t.issued_at,
        window=t.window,
        window_name=w.name if w else "",
        holder_masked=t.holder_masked,
        recalls=t.recalls,
        transfers=t.transfers,
        precheck=t.precheck,
        missing=t.missing,
        due=t.due,
        call_reason=r.text if r else "",
        call_reason_en=r.text_en if r else "",
        target_window=t.target_window,
        claimed=t.claimed,
        class_check=t.class_check,
        requeues=t.requeues,
        department=m.department,
        outcome=t.outcome,
        outcome_reason=t.outcome_reason,
        case_no=t.case_no,
        identity=t.identity,
    )


def window_view(s: EngineState, number: int) -> WindowView:
    w = s.config.window_by_number[number]
    rt = s.windows[number]
    cur = s.tickets.get(rt.current) if rt.current else None
    return WindowView(
        number=number,
        name=w.name,
        state=rt.state.value,
        zone=w.zone,
        series=s.series_of_window(number),
        staff=rt.staff,
        pause_reason=rt.pause_reason,
        current=cur.label if cur else "",
        current_state=cur.state.value if cur else "",
        taken_over=rt.taken_over,
    )


def ticket_event(
    s: EngineState,
    action: str,
    t: Ticket,
    now: dt.datetime,
    col: Collector,
    window: int | None = None,
    note: str = "",
) -> None:
    """A ticket changed (and the window that holds it, if any)."""
    col.tickets[t.id] = None
    wv = None
    if window is not None:
        col.windows[window] = None
        wv = window_view(s, window)
    col.events.append(TicketChanged(now, action, ticket_view(s, t), wv, s.waiting_of(t.series), note))


def window_event(s: EngineState, action: str, number: int, now: dt.datetime, col: Collector) -> Accepted:
    """A window changed state: the command is done. Capacity for every series may have moved."""
    waits.capacity_changed(s, windows=True)
    col.windows[number] = None
    col.events.append(WindowChanged(now, action, window_view(s, number)))
    return col.accept()


def booking_event(s: EngineState, action: str, b: Booking, now: dt.datetime) -> BookingChanged:
    m = s.config.matter_by_code[b.matter]
    left = s.slot_quota(b.matter) - s.slot_taken.get((b.matter, b.day, b.slot_start), 0)
    return BookingChanged(now, action, b.matter, m.name, b.day, b.slot_start, left, b.ticket)


def case_event(s: EngineState, action: str, case: Case, now: dt.datetime, note: str) -> CaseChanged:
    t = s.tickets[case.ticket]
    m = s.config.matter_by_code[case.matter]
    return CaseChanged(
        now,
        action,
        case.id,
        case.ticket,
        t.label,
        case.score,
        case.state.value,
        case.due,
        case.window,
        m.name,
        note,
    )
