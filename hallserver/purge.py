"""Personal data purge (PIPL, DESIGN.md §6): after `privacy.retention_days`, names, phone numbers and person
keys are blanked; the rows stay, so statistics keep their counts. Old idempotency replies go too."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hallserver.writectx import WriteCtx

#: A retried request older than this is a new request: clients retry within seconds, not days.
IDEMPOTENCY_KEEP = dt.timedelta(days=2)


def purge(ctx: WriteCtx, retention_days: int) -> dict[str, Any]:
    cutoff = ctx.now - dt.timedelta(days=retention_days)
    cutoff_day = cutoff.date().isoformat()
    ex = ctx.execute
    tickets = ex(
        "UPDATE tickets SET holder_masked = '' WHERE issued_at < ? AND holder_masked != ''",
        (cutoff.isoformat(),),
    ).rowcount
    bookings = ex(
        "UPDATE bookings SET person_key = '', holder_masked = '', phone = '', id_last4 = ''"
        " WHERE day < ? AND (person_key != '' OR holder_masked != '' OR phone != '' OR id_last4 != '')",
        (cutoff_day,),
    ).rowcount
    replies = ex("DELETE FROM idempotency WHERE at < ?", ((ctx.now - IDEMPOTENCY_KEEP).isoformat(),)).rowcount
    # The engine holds only recent rows (loader.py); blank any it still has so memory matches the disk.
    for t in ctx.engine.tickets.values():
        if t.holder_masked and t.issued_at < cutoff:
            t.holder_masked = ""
    for b in ctx.engine.bookings.values():
        if b.day.isoformat() < cutoff_day:
            b.person_key = ""
            b.holder_masked = ""
    return {"tickets": tickets, "bookings": bookings, "idempotency": replies, "cutoff": cutoff.isoformat()}
