"""Issuing a ticket over HTTP (`POST /api/tickets`), in one place for the two ways a request reaches it.

The framework route (`api_tickets.issue_ticket`, which the OpenAPI schema describes and which answers every
error) and the hot path (`hotpath.HotPaths`, which answers a well-formed request from a known station before
the framework) both call `issue`: the same roles, the same command built from the same body (`IssueIn`,
hallserver/bodies.py), the same idempotency record and the same reply. A field added to the issue request
goes into `IssueIn` and `issue_command`, and so flows through both paths.
"""

from __future__ import annotations

import base64
import os
import threading

from hallcore import commands as c
from hallcore import replybuilders as build
from hallcore.calendar import HallCalendar
from hallcore.engine import Accepted
from hallcore.model import Source
from hallserver.auth import Principal, Role
from hallserver.bodies import IssueIn
from hallserver.errors import ApiError
from hallserver.persons import card_holder
from hallserver.service import HallServer
from hallserver.writectx import Reply, WriteCtx, ok

PATH = "/api/tickets"
#: Who may take a number for someone: the kiosk, a desk, a counter (the route's guard and the hot path's).
ROLES = frozenset({Role.KIOSK.value, Role.DESK.value, Role.COUNTER.value})


class StatusTokens:
    """The tickets' status-page tokens (`secrets.token_urlsafe(16)`'s form: 16 random bytes, URL-safe base64),
    cut from random bytes drawn 4 KiB at a time.

    One `os.urandom` per ticket was a fifth of the event loop's own time in the issue path's profile: the call
    is cheap, but it lets go of the GIL for its system call and the loop then waits for the writer thread to
    hand the GIL back. Drawn in bulk, the same kernel CSPRNG's bytes are as unguessable; the price is that
    up to 255 future tokens sit in the server's memory, which holds the issued ones anyway."""

    SIZE = 16
    BATCH = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._at = 0

    def new(self) -> str:
        with self._lock:
            if self._at >= len(self._pool):
                self._pool, self._at = os.urandom(self.SIZE * self.BATCH), 0
            raw = self._pool[self._at : self._at + self.SIZE]
            self._at += self.SIZE
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


TOKENS = StatusTokens()


def issue_command(body: IssueIn, p: Principal, hall: HallServer) -> c.IssueTicket:
    """The engine command of an issue request from `p`; an `ApiError` (422) for an ID number that cannot be
    a resident's.

    A card read (刷身份证取号) arrives as the ID number itself, over the station's pinned TLS connection
    (DESIGN.md §9); it becomes a `CardHolder` here (keyed HMAC, last 4, birth date: hallserver/persons.py)
    and goes no further: the number is in no command, event, row or log."""
    # Kiosk tickets wait for the print confirmation; staff-issued ones wait at once.
    source = Source.KIOSK if p.role == Role.KIOSK else Source.PHONE if body.source == "phone" else Source.DESK
    person = principal = None
    if body.id_number or body.principal_id_number:
        if not body.id_number:
            raise ApiError(
                422,
                "invalid_field",
                "代办须先读代办人的身份证（id_number）",
                "field principal_id_number: read the agent's card (id_number) first",
                {
                    "errors": [
                        {"field": "principal_id_number", "problem": "needs id_number", "type": "id_number"}
                    ]
                },
            )
        today = HallCalendar(hall.config.hall).business_day(hall.clock.now())
        person = card_holder(hall.store.secret, "id_number", body.id_number, today)
        if body.principal_id_number:
            principal = card_holder(hall.store.secret, "principal_id_number", body.principal_id_number, today)
    return c.IssueTicket(
        matter=body.matter,
        source=source,
        token=TOKENS.new(),
        priority=body.priority,
        answers=body.answers,
        present=present_items(body.present),
        holder_name=body.holder_name,
        person=person,
        agent=body.agent,
        principal=principal,
    )


def present_items(items: list[str] | None) -> frozenset[str] | None:
    return frozenset(items) if items is not None else None


def issue_reply(ctx: WriteCtx, out: Accepted | Reply) -> Reply:
    """201 `Issued`, 200 `NotIssued` (不通过: no ticket; the kiosk prints the 一次性告知单), or a refusal."""
    if isinstance(out, Reply):
        return out
    if out.ticket is None:
        assert out.precheck is not None
        return ok(build.not_issued(ctx.engine.config, out.precheck, ctx.now))
    assert out.ahead is not None
    assert out.estimate is not None
    base = ctx.store.config.hall.public_base_url
    return ok(build.issued(ctx.engine, out.ticket, out.ahead, out.estimate, out.precheck, base), 201)


async def issue(hall: HallServer, p: Principal, body: IssueIn) -> Reply:
    """Take a number for `p` (a caller in `ROLES`): the writer's reply, replayed for a repeated request id."""
    cmd = issue_command(body, p, hall)
    return await hall.run_request(PATH, p.id, body, lambda ctx: issue_reply(ctx, ctx.accept(cmd)))
