"""Tickets, the public status page API and bookings (docs/api.md "Tickets", "Bookings")."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hallcore import commands as c
from hallcore import replies, scope
from hallcore import replybuilders as build
from hallcore.calendar import HallCalendar
from hallcore.engine import Accepted, Engine, lookups
from hallcore.model import Ticket
from hallserver import bookings, issuing, persons, rows
from hallserver.auth import Principal, Role
from hallserver.bodies import BookIn, CancelIn, CheckInIn, IssueIn, RatingIn, Req, VoidIn
from hallserver.deps import clerk_window, get_hall, respond, roles, run_job
from hallserver.errors import ApiError, not_found
from hallserver.openapi import documented
from hallserver.service import HallServer
from hallserver.views import call_events
from hallserver.writectx import Reply, WriteCtx, ok

router = APIRouter()

ISSUERS = roles(*issuing.ROLES)
PRINTERS = roles(Role.KIOSK, Role.DESK)
STAFF_DESK = roles(Role.DESK, Role.COUNTER, Role.MANAGER)
CLERKS = roles(Role.DESK, Role.COUNTER)

#: An engine command answers 404 (unknown thing), 409 (state conflict) or 507 (disk full) besides its reply.
COMMAND = (404, 409, 507)
ISSUE_REPLIES = documented({201: replies.Issued, 200: replies.NotIssued}, *COMMAND)
TICKET_REPLIES = documented({200: replies.TicketReply}, *COMMAND)


def _ticket_reply(ctx: WriteCtx, out: Accepted | Reply) -> Reply:
    if isinstance(out, Reply):
        return out
    assert out.ticket is not None
    return ok(replies.TicketReply(ctx.engine.ticket_view(out.ticket)))


async def _on_ticket(request: Request, p: Principal, body: Req, cmd: c.Command) -> Response:
    """Run a command on one ticket; the reply is the ticket's view (or the refusal)."""
    return await run_job(
        get_hall(request), request, p.id, body, lambda ctx: _ticket_reply(ctx, ctx.accept(cmd))
    )


def _in_scope(ctx: WriteCtx, window: int | None, action: str, ticket_id: str) -> None:
    """On the writer, before the command: the clerk's window may act on this ticket (hallcore/scope.py)."""
    if window is None:
        return
    problem = scope.ticket_problem(ctx.engine, window, action, ticket_id, ctx.now)
    if problem is not None:
        raise ApiError(
            403, "not_this_window", problem.zh, problem.en, {"window": window, "ticket": ticket_id}
        )


def _issued_by(ctx: WriteCtx, station: str, ref: str) -> bool:
    """Whether `station` issued the ticket `ref`: its 201 reply is in the idempotency record (kept for days,
    DESIGN.md §6), so no other table has to remember who issued what."""
    t = lookups.find_ticket(ctx.engine, ref, ctx.now)
    if t is None:
        return False
    row = ctx.execute(
        "SELECT 1 FROM idempotency WHERE station = ? AND status = 201"
        " AND json_extract(body, '$.ticket.id') = ? LIMIT 1",
        (station, t.id),
    ).fetchone()
    return row is not None


@router.post("/api/tickets", status_code=201, tags=["tickets"], responses=ISSUE_REPLIES)
async def issue_ticket(
    body: IssueIn, request: Request, p: Annotated[Principal, Depends(ISSUERS)]
) -> Response:
    """Take a number with pre-check answers: 201 `Issued`, or 200 `{ticket: null, precheck}` (不通过).
    With `id_number` (a card read) the ticket is the holder's: per-person limits (`[persons]`) and the age
    class from the birth date (`[identity]`); 代办 counts against the agent's limit (docs/api.md "Identity").
    A well-formed request from a known station is answered by the hot path (hallserver/hotpath.py) with the
    same `issuing.issue`; this route answers the rest, errors included."""
    return respond(await issuing.issue(get_hall(request), p, body))


def _today(hall: HallServer) -> dt.date:
    return HallCalendar(hall.config.hall).business_day(hall.clock.now())


@router.post("/api/tickets/{ticket_id:path}/printed", tags=["tickets"], responses=TICKET_REPLIES)
async def confirm_print(
    ticket_id: str, body: Req, request: Request, p: Annotated[Principal, Depends(PRINTERS)]
) -> Response:
    """The ticket came out of the printer: pending_print → waiting."""
    cmd = c.ConfirmPrint(ticket_id)
    return await _on_ticket(request, p, body, cmd)


@router.post("/api/tickets/{ticket_id:path}/void", tags=["tickets"], responses=TICKET_REPLIES)
async def void_ticket(
    ticket_id: str, body: VoidIn, request: Request, p: Annotated[Principal, Depends(PRINTERS)]
) -> Response:
    """Printing failed: the number is voided, nobody holds it."""
    cmd = c.VoidTicket(ticket_id, body.reason)
    return await _on_ticket(request, p, body, cmd)


@router.post("/api/tickets/{ticket_id:path}/cancel", tags=["tickets"], responses=TICKET_REPLIES)
async def cancel_ticket(
    ticket_id: str, body: CancelIn, request: Request, p: Annotated[Principal, Depends(STAFF_DESK)]
) -> Response:
    """Cancel a waiting ticket (audited): a station's clerk only one its window could call, and a station
    (with or without a clerk) a ticket it issued itself — a desk's walk-in its printer could not print."""
    cmd = c.CancelTicket(ticket_id, body.reason)

    def run(ctx: WriteCtx) -> Reply:
        if p.kind == "station" and not _issued_by(ctx, p.id, ticket_id):
            _in_scope(ctx, clerk_window(p), scope.CANCEL, ticket_id)
        out = ctx.accept(cmd)
        if isinstance(out, Accepted) and out.ticket is not None:
            ctx.audit(p.actor, p.id, "cancel_ticket", out.ticket.id, reason=body.reason)
        return _ticket_reply(ctx, out)

    return await run_job(get_hall(request), request, p.id, body, run)


@router.post("/api/tickets/{ticket_id:path}/requeue", tags=["tickets"], responses=TICKET_REPLIES)
async def requeue_ticket(
    ticket_id: str, body: Req, request: Request, p: Annotated[Principal, Depends(CLERKS)]
) -> Response:
    """A no-show came back: re-queue behind the next k tickets (only at the window that called it)."""
    cmd = c.RequeueNoShow(ticket_id)
    window = clerk_window(p)

    def run(ctx: WriteCtx) -> Reply:
        _in_scope(ctx, window, scope.REQUEUE, ticket_id)
        return _ticket_reply(ctx, ctx.accept(cmd))

    return await run_job(get_hall(request), request, p.id, body, run)


@router.post(
    "/api/tickets/{ticket_id:path}/rating",
    tags=["tickets"],
    responses=documented({200: replies.Rated}, *COMMAND),
)
async def rate_ticket(
    ticket_id: str, body: RatingIn, request: Request, p: Annotated[Principal, Depends(CLERKS)]
) -> Response:
    """One 好差评 rating per served ticket, from the window that served it; 不满意/非常不满意 opens a 差评
    case. Audited: a rating entered at a counter is the clerk's word for the citizen's."""
    cmd = c.Rate(ticket_id, body.score, body.source)
    window = clerk_window(p)

    def run(ctx: WriteCtx) -> Reply:
        _in_scope(ctx, window, scope.RATE, ticket_id)
        out = ctx.accept(cmd)
        if isinstance(out, Reply):
            return out
        assert out.ticket is not None
        ctx.audit(p.actor, p.id, "rating", ticket_id, score=body.score, source=body.source)
        return ok(build.rated(ctx.engine, out.ticket))

    return await run_job(get_hall(request), request, p.id, body, run)


# ---- public status page ------------------------------------------------------------------------------------


@router.get("/api/status/{token}", tags=["public"], responses=documented({200: replies.TicketStatus}, 404))
async def ticket_status(token: str, request: Request) -> Response:
    """The phone page's data: read-only, reached only with the ticket's unguessable token."""
    hall = get_hall(request)
    if len(token) < 16:  # never a real token: do not even look (an empty one would match staff-made rows)
        raise not_found("这张票", "ticket for this token")
    now = hall.clock.now()
    calls = call_events(hall.calls_now())

    def from_engine(engine: Engine) -> replies.TicketStatus | None:
        tid = hall.store.tokens.get(token)
        t = engine.tickets.get(tid) if tid else None
        return build.ticket_status(engine, t, now, calls) if t is not None else None

    body = await hall.store.engine_read(from_engine)
    if body is None:
        # An older ticket, no longer in memory: its stored row (no queue position, no calls).
        def from_db(conn: sqlite3.Connection) -> Ticket | None:
            row = conn.execute(f"{rows.TICKETS.select} WHERE token = ?", (token,)).fetchone()
            return None if row is None else rows.TICKETS.entity(row)

        found = await hall.store.read(from_db)
        if found is None:
            raise not_found("这张票", "ticket for this token")
        body = await hall.store.engine_read(
            lambda engine: build.ticket_status(engine, found, now, (), live=False)
        )
    return respond(ok(body))


# ---- bookings ----------------------------------------------------------------------------------------------


@router.get("/api/booking/slots", tags=["bookings"], responses=documented({200: list[replies.Slot]}, 404))
async def booking_slots(
    request: Request, matter: Annotated[str, Query()], day: Annotated[dt.date, Query()]
) -> Response:
    """Slots of a day with the quota left in each; a slot already over at the hall's clock is left out (it
    could not be booked)."""
    hall = get_hall(request)
    now = hall.clock.now()

    def read(engine: Engine) -> list[replies.Slot] | None:
        if matter not in engine.config.matter_by_code:
            return None
        return [replies.Slot(a, b, n) for a, b, n in engine.slots(matter, day, now)]

    slots = await hall.store.engine_read(read)
    if slots is None:
        raise ApiError(404, "unknown_matter", f"没有事项 {matter}", f"unknown matter {matter!r}")
    return respond(ok(slots))


@router.post(
    "/api/bookings",
    status_code=201,
    tags=["bookings"],
    responses=documented({201: replies.BookingMade}, *COMMAND),
)
async def book(body: BookIn, request: Request) -> Response:
    """Book a slot (public; the ID number must be a real one by GB 11643, per-person limits `[persons]` count
    its HMAC)."""
    hall = get_hall(request)
    number = persons.checked("id_number", body.id_number, _today(hall))
    key = persons.person_key(hall.store.secret, number)
    cmd = c.BookSlot(body.matter, body.day, body.slot, key, bookings.new_booking_code(), body.name)

    def run(ctx: WriteCtx) -> Reply:
        if isinstance(b := bookings.book(ctx, cmd, number[-4:], body.phone), Reply):
            return b
        m = ctx.engine.config.matter_by_code[b.matter]
        made = replies.BookingMade(b.code, b.day, b.slot_start, b.slot_end, b.matter, m.name, b.holder_masked)
        return ok(made, 201)

    return await run_job(hall, request, "public", body, run)


@router.post(
    "/api/bookings/{code}/cancel",
    tags=["bookings"],
    responses=documented({200: replies.BookingCancelled}, *COMMAND),
)
async def cancel_booking(code: str, body: Req, request: Request) -> Response:
    """Cancel a booking (public: the code is the secret)."""
    cmd = c.CancelBooking(code)

    def run(ctx: WriteCtx) -> Reply:
        if isinstance(out := ctx.accept(cmd), Reply):
            return out
        b = ctx.engine.bookings[code]
        return ok(replies.BookingCancelled(b.code, b.state.value))

    return await run_job(get_hall(request), request, "public", body, run)


@router.post("/api/bookings/{code}/checkin", status_code=201, tags=["bookings"], responses=ISSUE_REPLIES)
async def check_in(
    code: str, body: CheckInIn, request: Request, p: Annotated[Principal, Depends(PRINTERS)]
) -> Response:
    """Check a booking in at the kiosk: it becomes a ticket (like `POST /api/tickets`)."""
    cmd = c.CheckIn(code, issuing.TOKENS.new(), body.answers, issuing.present_items(body.present))
    return await run_job(
        get_hall(request), request, p.id, body, lambda ctx: issuing.issue_reply(ctx, ctx.accept(cmd))
    )
