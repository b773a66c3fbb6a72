"""Stations and people (docs/api.md "Stations and people"): enrollment, approval, revocation, logins, clerks,
rosters and config reload. Every privileged change is written to `audit` in the same transaction."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hallcore import replies
from hallcore.codec import encode
from hallserver import clerks, managers
from hallserver.auth import Principal, Role, format_windows, hash_token, new_code, new_token, parse_windows
from hallserver.bodies import ActiveIn, ApproveIn, CounterLoginIn, EnrollIn, ManagerLoginIn, RosterIn
from hallserver.deps import client_ip, get_hall, respond, roles
from hallserver.enrollment import PENDING_PER_ADDRESS, PENDING_TOTAL, expire_enrollments
from hallserver.errors import ApiError, not_found
from hallserver.openapi import documented
from hallserver.store import Job
from hallserver.writectx import Reply, WriteCtx, error_reply, ok

router = APIRouter()

MANAGER = roles(Role.MANAGER)
COUNTERS = roles(Role.COUNTER, Role.DESK)

_STATION_COLS = "id, name, role, state, code, window, staff, created_at, windows"


def _station_json(row: tuple[Any, ...]) -> replies.StationInfo:
    sid, name, role, state, code, window, staff, created_at, windows = row
    when = dt.datetime.fromisoformat(created_at)
    approved = tuple(sorted(parse_windows(windows)))
    return replies.StationInfo(sid, name, role, state, code, window, staff, when, approved)


def _station(ctx: WriteCtx, sid: str) -> tuple[Any, ...]:
    row = ctx.execute(f"SELECT {_STATION_COLS} FROM stations WHERE id = ?", (sid,)).fetchone()  # noqa: S608
    if row is None:
        raise not_found(f"站点 {sid}", f"station {sid!r}")
    return tuple(row)


async def _submit(request: Request, run: Any) -> Reply:
    return await get_hall(request).run(Job(run))


async def _station_change(request: Request, run: Callable[[WriteCtx, list[str]], Reply]) -> Response:
    """Change a station on the writer: the token hashes `run` adds to the list it is given lose their cached
    principal once the change is committed, so the station's next request reads what it may do anew."""
    forget: list[str] = []
    reply = await _submit(request, lambda ctx: run(ctx, forget))
    for th in forget:
        get_hall(request).principals.forget(th)
    return respond(reply)


# ---- enrollment ------------------------------------------------------------------------------------------


def _too_many_pending(pending: int, limit: int, *, per_address: bool) -> ApiError:
    zh, en = ("本地址", "from this address") if per_address else ("全大厅", "in the hall")
    return ApiError(
        429,
        "too_many_pending",
        f"待批准的站点注册申请过多（{zh} {pending} 个，上限 {limit}），请等待管理员处理",
        f"too many enrollment requests wait for approval ({pending} {en}, at most {limit})",
        {"pending": pending, "limit": limit},
    )


@router.post(
    "/api/enroll",
    status_code=201,
    tags=["stations"],
    responses=documented({201: replies.Enrollment}, 429, 507),
)
async def enroll(body: EnrollIn, request: Request) -> Response:
    """A station asks to join; it shows `code` until a manager approves it, and polls with `poll_secret`.
    Public: at most `PENDING_PER_ADDRESS` requests of an address and `PENDING_TOTAL` in all wait at once
    (429 `too_many_pending`); a request expires after a day."""
    ip = client_ip(request)
    sid = secrets.token_hex(6)
    code = new_code()
    poll_secret = secrets.token_urlsafe(16)

    def run(ctx: WriteCtx) -> Reply:
        expire_enrollments(ctx)
        mine, total = ctx.execute(
            "SELECT COUNT(*) FILTER (WHERE ip = ?), COUNT(*) FROM stations WHERE state = 'pending'", (ip,)
        ).fetchone()
        if mine >= PENDING_PER_ADDRESS:
            raise _too_many_pending(mine, PENDING_PER_ADDRESS, per_address=True)
        if total >= PENDING_TOTAL:
            raise _too_many_pending(total, PENDING_TOTAL, per_address=False)
        ctx.execute(
            "INSERT INTO stations (id, name, role, state, code, poll_secret_hash, created_at, ip)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (
                sid,
                body.name,
                body.role.value,
                "pending",
                code,
                hash_token(poll_secret),
                ctx.now.isoformat(),
                ip,
            ),
        )
        return ok(replies.Enrollment(sid, code, poll_secret), 201)

    return respond(await _submit(request, run))


@router.get(
    "/api/enroll/{station_id}", tags=["stations"], responses=documented({200: replies.EnrollPoll}, 404, 507)
)
async def poll_enrollment(
    station_id: str, request: Request, poll_secret: Annotated[str, Query()]
) -> Response:
    """`{state}`; on approval the token is made and handed over once (the server keeps only its hash); a
    request not approved within a day, or an approval not collected within ten minutes, answers `expired`
    (enroll again)."""

    def run(ctx: WriteCtx) -> Reply:
        expire_enrollments(ctx)
        row = ctx.execute(
            "SELECT state, poll_secret_hash, token_hash FROM stations WHERE id = ?", (station_id,)
        ).fetchone()
        if row is None or not secrets.compare_digest(row[1], hash_token(poll_secret)):
            raise not_found(f"站点 {station_id}", f"station {station_id!r} (or wrong poll_secret)")
        state, _h, token_hash = row
        if state == "approved" and token_hash is None:
            # Made now, stored only hashed: an approved token never waits in the database in clear.
            token = new_token()
            ctx.execute("UPDATE stations SET token_hash = ? WHERE id = ?", (hash_token(token), station_id))
            return ok(replies.EnrollPoll(replies.EnrollState(state), token))
        return ok(replies.EnrollPoll(replies.EnrollState(state)))

    return respond(await _submit(request, run))


@router.get(
    "/api/stations",
    tags=["stations"],
    dependencies=[Depends(MANAGER)],
    responses=documented({200: list[replies.StationInfo]}),
)
async def list_stations(request: Request) -> Response:
    def read(conn: sqlite3.Connection) -> list[replies.StationInfo]:
        q = f"SELECT {_STATION_COLS} FROM stations ORDER BY created_at"  # noqa: S608
        return [_station_json(tuple(r)) for r in conn.execute(q)]

    return respond(ok(await get_hall(request).store.read(read)))


@router.post(
    "/api/stations/{station_id}/approve",
    tags=["stations"],
    responses=documented({200: replies.StationInfo}, 404, 409, 507),
)
async def approve_station(
    station_id: str, body: ApproveIn, request: Request, p: Annotated[Principal, Depends(MANAGER)]
) -> Response:
    """Approve a pending station with the window(s) it serves (`window`, or `windows` for several): a counter
    or desk logs a clerk in and acts only there (one approved without a window issues tickets, nothing more).
    For an approved station, the same call changes its windows (a clerk logged in at a window it loses is
    logged out)."""
    hall = get_hall(request)
    windows = sorted(set(body.windows if body.windows is not None else [body.window] if body.window else []))
    for w in windows:
        if w not in hall.config.window_by_number:
            raise clerks.unknown_window(w)

    def run(ctx: WriteCtx, forget: list[str]) -> Reply:
        expire_enrollments(ctx)  # a request older than a day is no longer there to approve
        row = _station(ctx, station_id)
        role, state = row[2], row[3]
        if state not in ("pending", "approved"):
            raise ApiError(
                409, "wrong_state", f"站点状态为 {state}，不能批准", f"the station is {state}, not pending"
            )
        listed = format_windows(windows)
        first = windows[0] if windows else None
        if state == "pending":
            ctx.execute(
                # The token is made when the station collects it (poll_enrollment): nothing in clear here.
                "UPDATE stations SET state = 'approved', token_hash = NULL, pending_token = NULL, window = ?,"
                " windows = ?, approved_at = ? WHERE id = ?",
                (first, listed, ctx.now.isoformat(), station_id),
            )
            ctx.audit(p.actor, "", "approve_station", station_id, role=role, name=row[1], windows=windows)
        else:
            th, at = ctx.execute(
                "SELECT token_hash, window FROM stations WHERE id = ?", (station_id,)
            ).fetchone()
            if at not in windows:  # its clerk's window is no longer its own: logged out
                ctx.execute("UPDATE stations SET staff = '', window = ? WHERE id = ?", (first, station_id))
            ctx.execute("UPDATE stations SET windows = ? WHERE id = ?", (listed, station_id))
            ctx.audit(p.actor, "", "set_station_windows", station_id, windows=windows)
            if th:
                forget.append(th)
        return ok(_station_json(_station(ctx, station_id)))

    return await _station_change(request, run)


@router.post(
    "/api/stations/{station_id}/revoke",
    tags=["stations"],
    responses=documented({200: replies.StationInfo}, 404, 507),
)
async def revoke_station(
    station_id: str, request: Request, p: Annotated[Principal, Depends(MANAGER)]
) -> Response:

    def run(ctx: WriteCtx, forget: list[str]) -> Reply:
        _station(ctx, station_id)
        th = ctx.execute("SELECT token_hash FROM stations WHERE id = ?", (station_id,)).fetchone()[0]
        ctx.execute(
            "UPDATE stations SET state = 'revoked', pending_token = NULL, staff = '', revoked_at = ?"
            " WHERE id = ?",
            (ctx.now.isoformat(), station_id),
        )
        ctx.audit(p.actor, "", "revoke_station", station_id)
        if th:
            forget.append(th)
        return ok(_station_json(_station(ctx, station_id)))

    return await _station_change(request, run)


# ---- people ------------------------------------------------------------------------------------------------


@router.post(
    "/api/manager/login", tags=["people"], responses=documented({200: replies.ManagerSession}, 401, 429, 507)
)
async def manager_login(body: ManagerLoginIn, request: Request) -> Response:
    _token, reply = await managers.login(
        get_hall(request), body.username, body.password, client_ip(request), audit="manager_login"
    )
    return respond(reply)


@router.post("/api/manager/logout", tags=["people"], responses=documented({200: replies.Empty}, 507))
async def manager_logout(request: Request, p: Annotated[Principal, Depends(MANAGER)]) -> Response:
    """End this manager session: its token stops working at once."""
    return respond(await managers.logout(get_hall(request), p.token_hash))


@router.get(
    "/api/managers",
    tags=["people"],
    dependencies=[Depends(MANAGER)],
    responses=documented({200: list[replies.ManagerAccount]}),
)
async def list_managers(request: Request) -> Response:
    return respond(ok(await managers.accounts(get_hall(request))))


@router.post(
    "/api/managers/{username}/active",
    tags=["people"],
    responses=documented({200: replies.ManagerAccount}, 404, 409, 507),
)
async def set_manager_active(
    username: str, body: ActiveIn, request: Request, p: Annotated[Principal, Depends(MANAGER)]
) -> Response:
    """Deactivate (`{active: false}`) or reactivate a manager; deactivating ends all their sessions and
    closes their streams at once (audited; 409 `last_manager` for the last active one)."""
    return respond(await managers.set_active(get_hall(request), p.actor, username, body.active))


@router.post(
    "/api/counter/login",
    tags=["people"],
    responses=documented({200: replies.CounterSession}, 401, 404, 429, 507),
)
async def counter_login(
    body: CounterLoginIn, request: Request, p: Annotated[Principal, Depends(COUNTERS)]
) -> Response:
    """A clerk logs in at this counter station for one window (staff code + PIN; throttled). A PIN that no
    longer meets the rules answers 403 `pin_change_required` unless `new_pin` replaces it in the same call."""
    return respond(await clerks.login(get_hall(request), p, body, client_ip(request)))


@router.post("/api/counter/logout", tags=["people"], responses=documented({200: replies.Empty}, 507))
async def counter_logout(request: Request, p: Annotated[Principal, Depends(COUNTERS)]) -> Response:
    hall = get_hall(request)

    def run(ctx: WriteCtx) -> Reply:
        ctx.execute("UPDATE stations SET staff = '' WHERE id = ?", (p.id,))
        ctx.audit(p.actor, p.id, "clerk_logout", str(p.window))
        return ok(replies.Empty())

    reply = await _submit(request, run)
    hall.principals.update_staff(p.token_hash, "", p.window)
    return respond(reply)


@router.put("/api/roster/{window}", tags=["people"], responses=documented({200: replies.Roster}, 404, 507))
async def set_roster(
    window: int, body: RosterIn, request: Request, p: Annotated[Principal, Depends(MANAGER)]
) -> Response:
    """Who may log in at a window (an empty list: any active clerk)."""
    hall = get_hall(request)
    if window not in hall.config.window_by_number:
        raise ApiError(404, "unknown_window", f"没有 {window} 号窗口", f"there is no window {window}")

    def run(ctx: WriteCtx) -> Reply:
        known = {r[0] for r in ctx.execute("SELECT code FROM staff")}
        unknown = [s for s in body.staff if s not in known]
        if unknown:
            return error_reply(
                ApiError(
                    404, "unknown_staff", f"没有工作人员 {'、'.join(unknown)}", f"unknown staff {unknown}"
                )
            )
        ctx.execute("DELETE FROM roster WHERE window = ?", (window,))
        for s in dict.fromkeys(body.staff):
            ctx.execute("INSERT INTO roster (window, staff) VALUES (?, ?)", (window, s))
        ctx.audit(p.actor, "", "set_roster", str(window), staff=body.staff)
        return ok(replies.Roster(window, tuple(dict.fromkeys(body.staff))))

    return respond(await _submit(request, run))


@router.post(
    "/api/admin/reload", tags=["admin"], responses=documented({200: replies.Reloaded}, 409, 422, 507)
)
async def reload_config(request: Request, p: Annotated[Principal, Depends(MANAGER)]) -> Response:
    """Reload the hall's config file; a file with errors is refused (422) and the running config stays."""
    hall = get_hall(request)
    try:
        result = await hall.reload()
    except ApiError as exc:
        detail = exc.detail
        await _submit(request, lambda ctx: _audit_reply(ctx, p, "reload_config_failed", detail))
        raise
    await _submit(request, lambda ctx: _audit_reply(ctx, p, "reload_config", encode(result)))
    return respond(ok(result))


def _audit_reply(ctx: WriteCtx, p: Principal, action: str, detail: dict[str, Any]) -> Reply:
    ctx.audit(p.actor, "", action, "config", **detail)
    return ok({})
