"""Making a booking on the writer, for every way one arrives (the hall's booking page, a partner's push or
list: hallserver/api_tickets.py, hallserver/bookimport.py): the engine's `BookSlot` (slots, quotas, the
`[persons]` limits: hallcore/engine/booking.py) and then the personal columns the engine does not hold (the
ID number's last 4 characters, the phone number), in the same transaction."""

from __future__ import annotations

from hallcore import commands as c
from hallcore.model import Booking
from hallserver.auth import new_code
from hallserver.writectx import Reply, WriteCtx

CODE_LENGTH = 8


def new_booking_code() -> str:
    """A booking's code: the citizen's secret for check-in and cancelling."""
    return new_code(CODE_LENGTH)


def book(ctx: WriteCtx, cmd: c.BookSlot, id_last4: str, phone: str) -> Booking | Reply:
    """The booking `cmd` makes, or the engine's refusal as the error reply."""
    if isinstance(out := ctx.accept(cmd), Reply):
        return out
    ctx.execute("UPDATE bookings SET id_last4 = ?, phone = ? WHERE code = ?", (id_last4, phone, cmd.code))
    return ctx.engine.bookings[cmd.code]
