"""The halls' side of the centre: enrollment and event batches (docs/central.md, "The shipping protocol")."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from hallcentral import ingest
from hallcentral.service import get_central
from hallcore.shipping import ACCEPTED_FORMATS, HALL_HEADER, MAX_BATCH_EVENTS, SIGNATURE_HEADER

router = APIRouter()

#: A batch of MAX_BATCH_EVENTS events stays well under this; anything larger is refused unread.
MAX_BODY = 16 * 1024 * 1024


async def _body(request: Request) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise ingest.Refusal(413, "body_too_large", "请求体过大", f"the body is over {MAX_BODY} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ingest.Refusal(413, "body_too_large", "请求体过大", f"the body is over {MAX_BODY} bytes")
    return body


def _refused(r: ingest.Refusal) -> Response:
    return JSONResponse(r.body(), status_code=r.status)


@router.post("/api/v1/enroll")
async def enroll(request: Request) -> Response:
    central = get_central(request)
    try:
        body = await _body(request)
        out = await ingest.enroll(
            central.pool, body, request.headers.get(SIGNATURE_HEADER, ""), central.now()
        )
    except ingest.Refusal as r:
        return _refused(r)
    return JSONResponse(out, status_code=200 if out["state"] == "approved" else 202)


@router.post("/api/v1/batches")
async def batches(request: Request) -> Response:
    central = get_central(request)
    try:
        body = await _body(request)
        async with central.ingest_slots:
            got = await ingest.receive(
                central.pool,
                central.partitions,
                body,
                request.headers.get(HALL_HEADER, ""),
                request.headers.get(SIGNATURE_HEADER, ""),
                central.now(),
            )
    except ingest.Refusal as r:
        return _refused(r)
    central.hub.changed(got.hall)
    return JSONResponse({"acked_seq": got.acked_seq, "applied": got.applied, "profile": got.profile})


@router.get("/api/v1/formats")
async def formats() -> Response:
    """What this centre reads (a hall can ask before shipping)."""
    return JSONResponse({"accepted_formats": list(ACCEPTED_FORMATS), "max_batch_events": MAX_BATCH_EVENTS})
