"""Rebuilding the engine's state from stored rows when the server starts."""

from __future__ import annotations

from collections.abc import Iterable

from hallcore.engine import waits
from hallcore.engine.state import DONE, PENDING, VOIDED, WAITING, EngineState
from hallcore.model import AT_WINDOW, Booking, BookingState, Case, Rating, Ticket, WindowRuntime


def restore(
    s: EngineState,
    tickets: Iterable[Ticket],
    windows: Iterable[WindowRuntime] = (),
    bookings: Iterable[Booking] = (),
    ratings: Iterable[Rating] = (),
    cases: Iterable[Case] = (),
) -> None:
    """Load stored rows into a fresh state: lines, counters and the wait model as the commands left them.
    Tickets must come in issue order."""
    for t in tickets:
        s.tickets[t.id] = t
        s.seq = max(s.seq, t.key[1])
        s.requeue_seq = max(s.requeue_seq, t.key[2])
        k = (t.day, t.series)
        s.last_number[k] = max(s.last_number.get(k, 0), t.number)
        s.by_label[(t.day, t.label)] = t.id
        if t.state is not VOIDED:
            s.count_issue(t, +1)
            waits.note_arrival(s, t)
        if t.state is PENDING:
            s.pending[t.id] = None
        if t.state in (PENDING, WAITING, *AT_WINDOW):
            s.live[t.id] = None
        if t.state is WAITING:
            s.enqueue(t)
        if t.state is DONE and t.ended_at:
            waits.observe_case(s, t, t.ended_at)
    for w in windows:
        if w.number in s.windows:
            s.windows[w.number] = w
    waits.capacity_changed(s, windows=True)
    for b in bookings:
        s.bookings[b.code] = b
        if b.state is not BookingState.CANCELLED:
            s.count_booking(b, +1)
        if b.state is BookingState.BOOKED:
            s.count_open(b, +1)
    for r in ratings:
        s.ratings[r.ticket] = r
    for cs in cases:
        s.cases[cs.id] = cs
