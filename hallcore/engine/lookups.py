"""Finding what a command names — a window, the ticket a window holds, a ticket, a booking — or the
refusal that says it is not there."""

from __future__ import annotations

import datetime as dt

from hallcore.config import Window
from hallcore.engine.state import EngineState
from hallcore.model import Booking, BookingState, Ticket, TicketState, WindowRuntime
from hallcore.outcomes import BOOKING_ZH, RefusalCode, Refused, refuse, wrong_state


def find_ticket(s: EngineState, ref: str, now: dt.datetime) -> Ticket | None:
    """By id ("2026-11-23/A012") or by today's label ("A012")."""
    t = s.tickets.get(ref)
    if t is not None:
        return t
    tid = s.by_label.get((s.calendar.business_day(now), ref.upper()))
    return s.tickets.get(tid) if tid else None


def ticket(s: EngineState, ref: str, now: dt.datetime) -> Ticket | Refused:
    t = find_ticket(s, ref, now)
    if t is None:
        return refuse(RefusalCode.UNKNOWN_TICKET, f"没有票号 {ref}", f"no ticket {ref!r}", ticket=ref)
    return t


def ticket_in(s: EngineState, ref: str, now: dt.datetime, *states: TicketState) -> Ticket | Refused:
    """The ticket `ref` names, if it is in one of `states`."""
    t = ticket(s, ref, now)
    if isinstance(t, Refused) or t.state in states:
        return t
    return wrong_state(t, *states)


def window(s: EngineState, number: int) -> tuple[Window, WindowRuntime] | Refused:
    w = s.config.window_by_number.get(number)
    if w is None:
        return refuse(
            RefusalCode.UNKNOWN_WINDOW,
            f"没有 {number} 号窗口",
            f"there is no window {number}",
            window=number,
        )
    return w, s.windows[number]


def window_runtime(s: EngineState, number: int) -> WindowRuntime | Refused:
    found = window(s, number)
    return found if isinstance(found, Refused) else found[1]


def bad_transition(number: int, zh: str, en: str) -> Refused:
    """Window `number` is not in a state the command can start from ("3 号窗口已开启")."""
    return refuse(RefusalCode.BAD_TRANSITION, f"{number} 号窗口{zh}", f"window {number} {en}")


def held(s: EngineState, number: int, *states: TicketState) -> tuple[WindowRuntime, Ticket] | Refused:
    """The ticket window `number` holds, if it is in one of `states`."""
    found = window(s, number)
    if isinstance(found, Refused):
        return found
    _w, rt = found
    if rt.current is None:
        return refuse(
            RefusalCode.NO_CURRENT_TICKET,
            f"{number} 号窗口当前没有号",
            f"window {number} holds no ticket",
            window=number,
        )
    t = s.tickets[rt.current]
    if t.state not in states:
        return wrong_state(t, *states)
    return rt, t


def booked(s: EngineState, code: str) -> Booking | Refused:
    """The booking `code` names, if it is still booked (not checked in, cancelled or missed)."""
    b = s.bookings.get(code)
    if b is None:
        return refuse(RefusalCode.UNKNOWN_BOOKING, f"没有预约 {code}", f"no booking {code!r}")
    if b.state is not BookingState.BOOKED:
        return refuse(
            RefusalCode.BOOKING_STATE, f"该预约已{BOOKING_ZH[b.state]}", f"that booking is {b.state.value}"
        )
    return b
