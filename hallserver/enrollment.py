"""Enrollment requests are public, so they are bounded: how many may wait at once, and for how long.

A station asks to join (`POST /api/enroll`) and shows its code until a manager approves it. Every request is a
row a manager has to look at, so at most `PENDING_PER_ADDRESS` requests of one address and `PENDING_TOTAL` in
all wait at once (a hall has ~200 stations, each with its own address), and one that is not approved within
`ENROLL_EXPIRES` expires (the station enrolls again, with a new code: hallclient/enroll.py).

An approved station's token is made when the station collects it (its next poll, with its poll secret) and
only its hash is stored; an approval not collected within `PICKUP_EXPIRES` expires too. No token ever sits in
the database in clear waiting for its station (docs/security.md).
"""

from __future__ import annotations

import datetime as dt

from hallserver.writectx import WriteCtx

#: Pending enrollment requests at once, from one address and in all (a hall has ~200 stations, each with its
#: own address); a request not approved within `ENROLL_EXPIRES` expires (the station enrolls again).
PENDING_PER_ADDRESS = 20
PENDING_TOTAL = 500
ENROLL_EXPIRES = dt.timedelta(hours=24)
#: An approval the station has not collected by then expires (stations poll every few seconds).
PICKUP_EXPIRES = dt.timedelta(minutes=10)


def expire_enrollments(ctx: WriteCtx) -> int:
    """Pending requests older than `ENROLL_EXPIRES`, and approvals not collected within `PICKUP_EXPIRES`,
    become `expired` (run with the hall's tick)."""
    cutoff = (ctx.now - ENROLL_EXPIRES).isoformat()
    n = ctx.execute(
        "UPDATE stations SET state = 'expired' WHERE state = 'pending' AND created_at < ?", (cutoff,)
    ).rowcount
    pickup = (ctx.now - PICKUP_EXPIRES).isoformat()
    return (
        n
        + ctx.execute(
            "UPDATE stations SET state = 'expired'"
            " WHERE state = 'approved' AND token_hash IS NULL AND approved_at < ?",
            (pickup,),
        ).rowcount
    )
