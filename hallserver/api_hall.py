"""Hall configuration for screens, snapshot, device health and the health check (docs/api.md)."""

from __future__ import annotations

import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hallcore import replies
from hallcore import replybuilders as build
from hallcore.events import DeviceHealth
from hallserver.auth import HALL_READERS, Principal
from hallserver.bodies import DeviceHealthIn
from hallserver.deps import get_hall, respond, roles, run_job
from hallserver.errors import ApiError
from hallserver.openapi import documented
from hallserver.writectx import Reply, WriteCtx, ok

router = APIRouter()

STATIONS = roles(*HALL_READERS)


@router.get(
    "/api/hall",
    tags=["hall"],
    dependencies=[Depends(STATIONS)],
    responses=documented({200: replies.HallView}),
)
async def hall_config(request: Request) -> Response:
    """Matters (with pre-check), series, windows, priority classes, pause reasons: what screens show."""
    hall = get_hall(request)
    return respond(ok(await hall.store.engine_read(lambda engine: build.hall_view(engine.config))))


@router.get(
    "/api/remaining",
    tags=["hall"],
    dependencies=[Depends(STATIONS)],
    responses=documented({200: replies.Remaining}),
)
async def remaining(request: Request) -> Response:
    """`{remaining: {matter: numbers left today}}` for the matters (or series) with a daily cap, so a kiosk
    shows what is left and never sells out silently; matters without a cap are not listed."""
    hall = get_hall(request)
    now = hall.store.now()

    return respond(ok(await hall.store.engine_read(lambda engine: build.remaining(engine, now))))


@router.get(
    "/api/snapshot",
    tags=["hall"],
    dependencies=[Depends(STATIONS)],
    responses=documented({200: replies.HallSnapshot}, 507),
)
async def snapshot(request: Request) -> Response:
    """`{seq, at, windows, waiting, recent_calls, devices}`: the state after event `seq` (built on the writer
    once per seq and served from the cache while nothing changed, `hallserver/stream/snapshots.py`)."""
    hall = get_hall(request)
    snap = await hall.snapshots.get(public=False)
    return Response(content=snap.body, media_type="application/json")


@router.post(
    "/api/devices/health", tags=["hall"], responses=documented({200: replies.DeviceHealthReply}, 507)
)
async def device_health(
    body: DeviceHealthIn, request: Request, p: Annotated[Principal, Depends(STATIONS)]
) -> Response:
    """A station reports one device's health; a change is stored and becomes a `device_health` event."""
    hall = get_hall(request)

    def run(ctx: WriteCtx) -> Reply:
        key = (p.id, body.device)
        now = (body.health, body.reason)
        if ctx.store.device_health.get(key) != now:
            ctx.execute(
                "INSERT INTO device_health (station, device, health, reason, at) VALUES (?,?,?,?,?)"
                " ON CONFLICT (station, device) DO UPDATE SET health = excluded.health,"
                " reason = excluded.reason,"
                " at = excluded.at",
                (p.id, body.device, body.health, body.reason, ctx.now.isoformat()),
            )
            ctx.emit(DeviceHealth(ctx.now, p.id, body.device, body.health, body.reason))
            ctx.store.device_health[key] = now
            return ok(replies.DeviceHealthReply(changed=True))
        return ok(replies.DeviceHealthReply(changed=False))

    return await run_job(hall, request, p.id, body, run)


# A PEM file, not a JSON reply (browsers and curl fetch it as it is): outside the reply contract of
# /openapi.json, listed in docs/api.md.
@router.get("/api/tls/ca", include_in_schema=False)
async def tls_ca(request: Request) -> Response:
    """The hall CA's certificate (PEM; public): a station enrolling over TLS fetches it, shows its
    fingerprint beside the enrollment code and pins it (docs/install.md). 404 `no_tls` on plain HTTP."""
    pem = get_hall(request).settings.tls_ca_pem
    if not pem:
        raise ApiError(404, "no_tls", "本服务器未启用 TLS", "this server does not serve TLS")
    return Response(pem, 200, media_type="application/x-pem-file")


@router.get("/api/health", tags=["hall"], responses=documented({200: replies.Health, 503: replies.Health}))
async def health(request: Request) -> Response:
    """Liveness: `{ok, seq, db, uptime_s}` (public; no personal data)."""
    hall = get_hall(request)

    def check(conn: sqlite3.Connection) -> str:
        conn.execute("SELECT 1").fetchone()
        return "ok"

    try:
        db = await hall.store.read(check)
    except sqlite3.Error as exc:
        db = f"error: {exc}"
    body = replies.Health(
        ok=db == "ok",
        hall=hall.config.hall.id,
        seq=hall.hub.last_seq,
        db=db,
        durability=hall.store.durability.value,
        uptime_s=round(hall.clock.monotonic() - hall.started_mono, 1),
        subscribers=hall.hub.count,
        loop_lag_max_ms=hall.loop_lag_max_ms(),
        loop_busy_max_ms=hall.loop_busy_max_ms(),
    )
    return respond(ok(body, 200 if body.ok else 503))
