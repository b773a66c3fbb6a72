"""Window actions (docs/api.md "Windows"): a counter or desk station acts only on a window it is approved for
and only with its clerk logged in there (hallserver/deps.py `clerk_at`); a manager may act on any window.
Calling a specific ticket, confirming or revoking a claimed priority class and changing a finished case's
outcome are audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hallcore import commands as c
from hallcore import replies
from hallcore import replybuilders as build
from hallcore.engine import Engine
from hallserver.auth import ANY_STATION, Principal, Role
from hallserver.bodies import WindowIn
from hallserver.deps import approved_for, clerk_at, get_hall, require_fields, respond, roles, run_job
from hallserver.errors import ApiError
from hallserver.openapi import documented
from hallserver.writectx import Reply, WriteCtx, ok

router = APIRouter()

WINDOW_ACTORS = roles(Role.COUNTER, Role.DESK, Role.MANAGER)
ANYONE = roles(*ANY_STATION, Role.MANAGER)
COMMAND = (404, 409, 507)  # unknown window or ticket, state conflict, disk full

#: action -> the body fields it needs
ACTIONS: dict[str, tuple[str, ...]] = {
    "open": (),
    "close": (),
    "pause": ("reason",),
    "resume": (),
    "call-next": (),
    "call": ("ticket", "reason"),
    "recall": (),
    "start": (),
    "finish": (),
    "outcome": ("ticket", "outcome"),
    "no-show": (),
    "transfer": (),
    "takeover": ("partner",),
    "end-takeover": ("partner",),
    "confirm-class": ("ticket",),
    "revoke-class": ("ticket", "reason"),
}
#: action -> the audit action it writes, with the body's reason
AUDITED = {
    "call": "call_specific",
    "confirm-class": "confirm_class",
    "revoke-class": "revoke_class",
    "outcome": "outcome_changed",
}


def build_command(action: str, n: int, b: WindowIn, staff: str) -> c.Command:
    match action:
        case "open":
            return c.OpenWindow(n, staff)
        case "close":
            return c.CloseWindow(n)
        case "pause":
            return c.PauseWindow(n, b.reason or "")
        case "resume":
            return c.ResumeWindow(n)
        case "call-next":
            return c.CallNext(n, staff)
        case "call":
            return c.CallSpecific(n, b.ticket or "", b.reason or "", staff)
        case "recall":
            return c.Recall(n)
        case "start":
            return c.StartServing(n)
        case "finish":
            return c.Finish(n, b.outcome or "办结", b.reason or "", b.case_no or "")
        case "outcome":
            return c.SetOutcome(n, b.ticket or "", b.outcome or "", b.reason or "", b.case_no or "")
        case "no-show":
            return c.MarkNoShow(n)
        case "transfer":
            return c.Transfer(n, b.to_series or "", b.to_window, b.reason or "")
        case "takeover":
            return c.TakeOver(n, b.partner or 0)
        case "end-takeover":
            return c.EndTakeOver(n, b.partner or 0)
        case "confirm-class" | "revoke-class":
            return c.ReviewClass(n, b.ticket or "", action == "confirm-class", b.reason or "", staff)
    raise ValueError(action)


@router.post(
    "/api/windows/{number}/{action}",
    tags=["windows"],
    responses=documented({200: replies.WindowResult}, *COMMAND),
)
async def window_action(
    number: int,
    action: str,
    body: WindowIn,
    request: Request,
    p: Annotated[Principal, Depends(WINDOW_ACTORS)],
) -> Response:
    """One window action; reply `{window, ticket}` after the commit."""
    needs = ACTIONS.get(action)
    if needs is None:
        raise ApiError(
            404,
            "unknown_action",
            f"没有窗口操作 {action}",
            f"unknown window action {action!r}; one of {', '.join(ACTIONS)}",
            {"actions": list(ACTIONS)},
        )
    require_fields(body, needs, action)
    if action == "transfer" and (body.to_series is None) == (body.to_window is None):
        raise ApiError(
            422,
            "missing_field",
            "转办需要 to_series 或 to_window 之一",
            "transfer needs exactly one of to_series or to_window",
            {"fields": ["to_series", "to_window"]},
        )
    staff = clerk_at(p, number)
    cmd = build_command(action, number, body, staff)

    def run(ctx: WriteCtx) -> Reply:
        out = ctx.accept(cmd)
        if isinstance(out, Reply):
            return out
        audited = AUDITED.get(action)
        if audited is not None and out.ticket is not None:
            detail = {"window": number, "reason": body.reason}
            if action == "outcome":
                t = out.ticket
                detail |= {"outcome": t.outcome, "case_no": t.case_no}
            elif action != "call":
                detail["class"] = out.ticket.claimed
            ctx.audit(p.actor, p.id, audited, out.ticket.id, **detail)
        return ok(build.window_result(ctx.engine, number, out.ticket))

    return await run_job(get_hall(request), request, p.id, body, run)


@router.get(
    "/api/windows",
    tags=["windows"],
    dependencies=[Depends(ANYONE)],
    responses=documented({200: list[replies.WindowView]}),
)
async def list_windows(request: Request) -> Response:
    hall = get_hall(request)

    def read(engine: Engine) -> list[replies.WindowView]:
        return [engine.window_view(w.number) for w in engine.config.windows]

    return respond(ok(await hall.store.engine_read(read)))


@router.get(
    "/api/windows/{number}/candidates",
    tags=["windows"],
    responses=documented({200: list[replies.Candidate]}, 404),
)
async def candidates(
    number: int, request: Request, p: Annotated[Principal, Depends(WINDOW_ACTORS)]
) -> Response:
    """Who waits for this window, in call order, with why each is where it is (a station: only for a window
    it is approved for)."""
    approved_for(p, number)
    hall = get_hall(request)
    now = hall.clock.now()

    def read(engine: Engine) -> list[replies.Candidate] | None:
        if number not in engine.config.window_by_number:
            return None
        return build.candidates(engine, number, now)

    found = await hall.store.engine_read(read)
    if found is None:
        raise ApiError(404, "unknown_window", f"没有 {number} 号窗口", f"there is no window {number}")
    return respond(ok(found))
