"""Enrollment requests are public, so they are bounded: how many may wait at once, and for how long.

A station asks to join (`POST /api/enroll`) and shows its code until a manager approves it. Every request is a
row a manager has to look at, so at most `PENDING_PER_ADDRESS` requests of one address and `PENDING_TOTAL` in
all wait at once (a hall has ~200 stations, each with its own address), and one that is not approved within
`ENROLL_EXPIRES` expires (the station enrolls again, with a new code: hallclient/enroll.py).
"""

from __future__ import annotations

import datetime as dt

from hallserver.writectx import WriteCtx

#: Pending enrollment requests at once, from one address and in all (a hall has ~200 stations, each with its
#: own address); a request not approved within `ENROLL_EXPIRES` expires (the station enrolls again).
PENDING_PER_ADDRESS = 20
PENDING_TOTAL = 500
ENROLL_EXPIRES = dt.timedelta(hours=24)


def expire_enrollments(ctx: WriteCtx) -> int:
    """Pending requests older than `ENROLL_EXPIRES` become `expired` (run with the hall's tick)."""
    cutoff = (ctx.now - ENROLL_EXPIRES).isoformat()
    return ctx.execute(
        "UPDATE stations SET state = 'expired' WHERE state = 'pending' AND created_at < ?", (cutoff,)
    ).rowcount
