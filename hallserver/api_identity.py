"""Identity (刷身份证取号, docs/api.md "Identity"): what the hall knows today of the person whose card a kiosk
or desk just read. A POST, so the number travels in the body over the pinned TLS connection and never in a
URL (URLs are logged); the server turns it into the keyed fingerprint at once (hallserver/persons.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hallcore import replies
from hallcore.engine import Engine
from hallcore.engine.persons import next_chance, tickets_left
from hallcore.model import BookingState
from hallserver.auth import Principal, Role
from hallserver.bodies import IdentityIn
from hallserver.deps import get_hall, respond, roles
from hallserver.openapi import documented
from hallserver.persons import card_holder
from hallserver.writectx import ok

router = APIRouter()

CARD_READERS = roles(Role.KIOSK, Role.DESK)


@router.post("/api/identity", tags=["identity"], responses=documented({200: replies.PersonToday}, 422))
async def person_today(
    body: IdentityIn, request: Request, _p: Annotated[Principal, Depends(CARD_READERS)]
) -> Response:
    """Today's bookings of the card's holder (check-in by ID) and the carded numbers left to them."""
    hall = get_hall(request)
    now = hall.clock.now()

    def read(engine: Engine) -> replies.PersonToday:
        s = engine
        holder = card_holder(hall.store.secret, "id_number", body.id_number, s.calendar.business_day(now))
        today = s.calendar.business_day(now)
        found = []
        for b in s.bookings.values():
            if b.person_key == holder.key and b.day == today and b.state is BookingState.BOOKED:
                m = s.config.matter_by_code[b.matter]
                found.append(
                    replies.BookingFound(b.code, b.matter, m.name, m.name_en, b.slot_start, b.slot_end)
                )
        found.sort(key=lambda f: f.slot)
        left = tickets_left(s, holder, now)
        return replies.PersonToday(found, left, next_chance(s, now) if left == 0 else None)

    return respond(ok(await hall.store.engine_read(read)))
