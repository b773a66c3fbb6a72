"""The dashboard's dead letters (docs/integrations.md): the outbox rows the provincial platform refused for
good, with retry (back in the queue) and discard (never sent), both audited as the manager who did it. The
same as `hallq admin outbox`, through the writer (hallserver/upload.py `action_job`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from hallserver import outbox
from hallserver.deps import get_hall
from hallserver.errors import ApiError
from hallserver.upload import action_job, read_rows
from hallserver.web.guard import checked_post, guard, manager, reply_json

router = APIRouter(include_in_schema=False)


@router.get("/web/api/outbox")
@guard
async def outbox_rows(request: Request) -> Response:
    # Read from the request, as every @guard route does: `guard` hands FastAPI a function of the request
    # alone, so parameters declared here were never filled (`?state=sent` answered the dead letters).
    await manager(request)
    state = request.query_params.get("state", "dead")
    kind = request.query_params.get("kind", "")
    if state not in outbox.STATES or kind not in ("", *outbox.LISTED):
        states = ", ".join(outbox.STATES)
        raise ApiError(422, "invalid_field", "没有这个状态或类型", f"state is one of {states}")
    rows = await get_hall(request).store.read(read_rows(state, kind))
    return JSONResponse({"state": state, "rows": rows})


@router.post("/web/api/outbox/{row_id}/{action}")
@guard
async def outbox_action(request: Request) -> Response:
    p, _t, _f = await checked_post(request)
    action = request.path_params["action"]
    if action not in ("retry", "discard"):
        raise ApiError(404, "unknown_action", "没有这个操作", f"unknown outbox action {action!r}")
    try:
        row_id = int(request.path_params["row_id"])
    except ValueError as exc:
        raise ApiError(404, "not_found", "没有这一条", "no such outbox row") from exc
    reply = await get_hall(request).run(action_job(action, [row_id], p.actor))
    web = getattr(request.app.state, "web", None)
    if reply.status == 200 and action == "retry" and web is not None:
        web.uploader.poke()
    return reply_json(reply)
