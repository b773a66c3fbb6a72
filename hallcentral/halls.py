"""Halls at the centre, as an operator manages them: approve an enrollment into a region, revoke a hall, let a
hall that lost its key enroll again. Each change is audited in its own transaction."""

from __future__ import annotations

import datetime as dt

from psycopg_pool import AsyncConnectionPool

from hallcentral.auth import audit

#: Operator actions on a hall -> the state they set.
ACTIONS = {"revoke": "revoked", "rekey": "rekey"}


async def approve(pool: AsyncConnectionPool, now: dt.datetime, hall_id: str, region: str, actor: str) -> bool:
    """Approve a pending hall into `region`; False when it is not pending."""
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute(
            "UPDATE halls SET state = 'approved', region_id = %s, approved_at = %s, approved_by = %s"
            " WHERE hall_id = %s AND state = 'pending' RETURNING code",
            (region, now, actor, hall_id),
        )
        row = await cur.fetchone()
        if row is None:
            return False
        await audit(conn, now, actor, "hall_approve", hall_id, {"region": region, "code": row[0]})
    return True


async def set_state(
    pool: AsyncConnectionPool, now: dt.datetime, hall_id: str, action: str, actor: str
) -> bool:
    """Revoke a hall (its batches are refused) or let it enroll with a new key ("rekey"); False if unknown."""
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute(
            "UPDATE halls SET state = %s WHERE hall_id = %s RETURNING hall_id", (ACTIONS[action], hall_id)
        )
        if await cur.fetchone() is None:
            return False
        await audit(conn, now, actor, f"hall_{action}", hall_id, {})
    return True
