"""The booking import API: a partner's booking system (the province's 一网通办) pushes and cancels bookings,
signed with its key (docs/integrations.md "Bookings from outside", hallserver/bookimport.py). Partners only:
no station or manager token is taken here."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hallcore import bookimport as bi
from hallcore import replies
from hallserver.auth import Principal, Role
from hallserver.bookimport import BookingImports, api_error, cancel_for_partner, import_booking, signed_job
from hallserver.bookpartners import status
from hallserver.deps import get_hall, respond, roles
from hallserver.errors import ApiError
from hallserver.openapi import documented
from hallserver.store import Job
from hallserver.writectx import ok

router = APIRouter()
MANAGERS = roles(Role.MANAGER)

#: Every answer of a signed import request besides its reply: 400 not JSON, 401 signature or key, 404 import
#: off or unknown booking, 409 replayed or a conflict, 413 over 64 KiB, 422 a bad field, 429 over the
#: partner's budget, 507 disk full.
ERRORS = (400, 401, 404, 409, 413, 422, 429, 507)
SIGNED = {
    "description": "HQ1-HMAC-SHA256: X-HQ-AppKey (the key id), X-HQ-Timestamp, X-HQ-Nonce, X-HQ-Signature"
}
_ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["external_id", "matter", "day", "slot", "id_number"],
    "additionalProperties": False,
    "properties": {
        "external_id": {"type": "string", "pattern": bi.EXTERNAL_ID.pattern},
        "matter": {"type": "string", "maxLength": 64},
        "day": {"type": "string", "format": "date"},
        "slot": {"type": "string", "description": "slot start, HH:MM"},
        "id_number": {"type": "string", "description": "18-character resident ID"},
        "name": {"type": "string", "maxLength": 50},
        "phone": {"type": "string"},
    },
}


def imports(request: Request) -> BookingImports:
    found: BookingImports = request.app.state.imports
    return found


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ApiError(400, "malformed_json", "请求体不是合法的 JSON", "the body is not valid JSON") from exc


@router.post(
    "/api/import/bookings",
    status_code=201,
    tags=["import"],
    responses=documented({201: replies.BookingImported, 200: replies.BookingImported}, *ERRORS),
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ENTRY_SCHEMA}}},
        "x-signature": SIGNED,
    },
)
async def push_booking(request: Request) -> Response:
    """A partner's booking (signed): 201 the hall's booking; the same `external_id` with the same content
    again gets the first answer back, with other content 409 `external_id_conflict`; the hall's booking
    rules refuse with their codes (`slot_full` with `detail.free_slots`, `person_limit`, `in_past`, …)."""
    im = imports(request)
    raw = await request.body()
    caller = im.authenticate("POST", request.url.path, request.headers, raw)
    obj = _json(raw)
    entry = bi.parse_entry(obj, im.today())
    if not isinstance(entry, list) and entry.state != "booked":
        entry = [
            bi.FieldProblem(
                "state", "a push books: cancel with POST …/cancel", "推送只用于预约，取消请调用 …/cancel"
            )
        ]
    if isinstance(entry, list):
        raise api_error(bi.invalid(entry))
    person_key, fingerprint = im.person(entry)
    pid = caller.partner.id
    run = signed_job(
        caller,
        im.config.window_s,
        lambda ctx: import_booking(ctx, pid, entry, person_key, fingerprint, "push"),
    )
    return respond(await get_hall(request).run(Job(run)))


@router.post(
    "/api/import/bookings/{external_id}/cancel",
    tags=["import"],
    responses=documented({200: replies.BookingImported}, *ERRORS),
    openapi_extra={"x-signature": SIGNED},
)
async def cancel_booking(external_id: str, request: Request) -> Response:
    """The partner cancelled its booking (signed; any body, `{}` is usual): 200 with the booking, state
    `cancelled` (again for a repeat); 404 `unknown_booking`; 409 `booking_state` once checked in."""
    im = imports(request)
    raw = await request.body()
    caller = im.authenticate("POST", request.url.path, request.headers, raw)
    pid = caller.partner.id
    run = signed_job(caller, im.config.window_s, lambda ctx: cancel_for_partner(ctx, pid, external_id))
    return respond(await get_hall(request).run(Job(run)))


@router.get("/api/import/status", tags=["import"], responses=documented({200: bi.ImportStatus}))
async def import_status(request: Request, _p: Annotated[Principal, Depends(MANAGERS)]) -> Response:
    """The partners, their keys (taken today, readable), the cancellation reports owed to each and the last
    read of each list (managers; no secret and no personal data)."""
    im = imports(request)
    links = getattr(request.app.state, "partner_links", None)
    body = await get_hall(request).store.read(lambda conn: status(im, links, conn))
    return respond(ok(body))
