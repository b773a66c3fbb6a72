"""The 容缺 register for the desk and the counters (docs/api.md "容缺 register"): the entries still owing, and
marking owed items supplied. The rules are hallcore/owed.py; the rows hallserver/owed.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hallcore import replies
from hallcore.calendar import HallCalendar
from hallserver import owed
from hallserver.auth import Principal, Role
from hallserver.bodies import SupplyIn
from hallserver.deps import get_hall, respond, roles, run_job
from hallserver.openapi import documented
from hallserver.writectx import ok

router = APIRouter()

#: Staff who take in the owed papers: the service desk, a counter, the manager.
RECEIVERS = roles(Role.DESK, Role.COUNTER, Role.MANAGER)


@router.get("/api/owed", tags=["tickets"], responses=documented({200: list[replies.OwedView]}))
async def owed_entries(
    request: Request,
    _p: Annotated[Principal, Depends(RECEIVERS)],
    ticket: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The 容缺 entries that still owe something, oldest due first (overdue ones included); with `ticket`,
    that ticket's entry however it stands (an empty list: it owes nothing)."""
    hall = get_hall(request)
    today = HallCalendar(hall.config.hall).business_day(hall.clock.now())
    tickets = [ticket] if ticket is not None else None
    lines = await hall.store.read(
        lambda conn: owed.list_entries(conn, hall.config, today, tickets=tickets, owing=ticket is None)
    )
    return respond(ok(lines))


@router.post(
    "/api/tickets/{ticket_id:path}/supplied",
    tags=["tickets"],
    responses=documented({200: replies.Supplied}, 404),
)
async def supply_items(
    ticket_id: str, body: SupplyIn, request: Request, p: Annotated[Principal, Depends(RECEIVERS)]
) -> Response:
    """Mark owed items supplied: `items` (ids), or every item still owed when `items` is null (audited)."""
    return await run_job(
        get_hall(request), request, p.id, body, owed.supply(ticket_id, body.items, p.actor, p.id)
    )
