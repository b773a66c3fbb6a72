"""The event stream, `GET /events?since=SEQ[&window=N][&series=A][&zone=Z][&token=T]` (WebSocket).

Order of operations makes resume gap-free: the subscriber is registered first (live events start queueing
for it), then the catch-up is computed in the same loop tick (memory backlog) or up to the seq known at
registration (database) or as a snapshot built on the writer; queued live events at or below what the
catch-up covered are skipped. Close codes: 4400 bad query, 4401 no/bad token, 4403 wrong role, 4404 unknown
status token, 4008 too slow (resume with `since`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from hallserver.api_hall import snapshot_job
from hallserver.auth import ANY_STATION, Role
from hallserver.deps import resolve
from hallserver.eventlog import StreamFilter, make_filter, record_from_text
from hallserver.hub import HEARTBEAT, Subscriber
from hallserver.service import HallServer

router = APIRouter()

CLOSE_TOO_SLOW = 4008
_ALLOWED = frozenset({*ANY_STATION, Role.MANAGER.value})
_SEND_ERRORS = (WebSocketDisconnect, RuntimeError, OSError, ConnectionError)


class _BadQueryError(ValueError):
    pass


def _int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        n = int(value)
    except ValueError as exc:
        raise _BadQueryError(f"{name} must be an integer, got {value!r}") from exc
    if n < 0:
        raise _BadQueryError(f"{name} must be >= 0")
    return n


@router.websocket("/events")
async def events(ws: WebSocket) -> None:
    hall: HallServer = ws.app.state.hall
    q = ws.query_params
    # Admission: a storm of reconnects (5,000 phones after a Wi-Fi blip) is taken 64 at a time, so the loop
    # keeps serving calls and heartbeats between them instead of stalling for the whole storm at once.
    async with hall.ws_admission:
        await ws.accept()
    try:
        since = _int(q.get("since"), "since")
        window = _int(q.get("window"), "window")
    except _BadQueryError as exc:
        await ws.close(4400, str(exc))
        return
    status_token = q.get("token", "")
    header = ws.headers.get("authorization", "")
    auth = header[7:].strip() if header.lower().startswith("bearer ") else q.get("auth", "")
    ticket = ""
    if status_token:
        ticket = hall.store.tokens.get(status_token, "") if len(status_token) >= 16 else ""
        if not ticket:
            await ws.close(4404, "unknown status token")
            return
    authenticated = False
    if auth:
        p = await resolve(hall, auth)
        if p is None:
            await ws.close(4401, "the token is unknown, expired or revoked")
            return
        if p.role not in _ALLOWED:
            await ws.close(4403, f"role {p.role} may not follow the stream")
            return
        authenticated = True
    elif not ticket:
        await ws.close(
            4401, "send Authorization: Bearer <token> (or ?auth=), or follow one ticket with ?token="
        )
        return
    flt = make_filter(
        hall.config,
        window=window,
        series=q.get("series", ""),
        zone=q.get("zone", ""),
        ticket=ticket,
        authenticated=authenticated,
    )
    sub = hall.hub.subscribe(flt)
    reader = asyncio.create_task(_read_until_closed(ws, sub))
    # Catch-up and live sending run in one task that a drop can cancel even mid-send.
    sender = asyncio.create_task(_send(hall, ws, sub, flt, since))
    sub.sender = sender
    try:
        await sender
    except _SEND_ERRORS:
        pass  # the client went away; nothing to clean up beyond the subscription
    except asyncio.CancelledError:
        if not sub.dropped:
            raise  # the server is stopping
    finally:
        hall.hub.unsubscribe(sub)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, *_SEND_ERRORS):
            await reader
    if sub.dropped:
        # Too slow: close so the client resumes with `since`; a client that reads nothing at all cannot
        # take the close frame either, so do not wait for it long.
        with contextlib.suppress(asyncio.TimeoutError, *_SEND_ERRORS):
            await asyncio.wait_for(ws.close(CLOSE_TOO_SLOW, "too slow: reconnect with since"), 2.0)


async def _send(
    hall: HallServer, ws: WebSocket, sub: Subscriber, flt: StreamFilter, since: int | None
) -> None:
    floor = await _catch_up(hall, ws, flt, since)
    await _pump(ws, sub, floor)


async def _read_until_closed(ws: WebSocket, sub: Subscriber) -> None:
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
    finally:
        sub.close()


async def _catch_up(hall: HallServer, ws: WebSocket, flt: StreamFilter, since: int | None) -> int:
    """Send what the client missed; returns the seq it now has (live events at or below it are skipped)."""
    hub = hall.hub
    last = hub.last_seq  # read in the same tick as the subscription: nothing can slip between
    threshold = hall.config.server.snapshot_threshold
    if since is None or since > last or last - since > threshold:
        reply = await hall.run(snapshot_job(hall, public=not flt.authenticated))
        snap = json.loads(reply.text)
        seq = int(snap["seq"])
        await ws.send_text(json.dumps({"kind": "snapshot", "seq": seq, "snapshot": snap}, ensure_ascii=False))
        return seq
    if hub.covers(since):
        for rec in hub.after(since):
            if flt.matches(rec):
                await ws.send_text(rec.text)
        return last

    def read(conn: sqlite3.Connection) -> list[str]:
        cur = conn.execute("SELECT body FROM events WHERE seq > ? AND seq <= ? ORDER BY seq", (since, last))
        return [r[0] for r in cur]

    config = hall.config
    for text in await hall.store.read(read):
        if (flt.unfiltered and flt.authenticated) or flt.matches(record_from_text(text, config)):
            await ws.send_text(text)
    return last


async def _pump(ws: WebSocket, sub: Subscriber, floor: int) -> None:
    pending = sub.pending
    while True:
        if sub.closed or sub.dropped:
            return
        if not pending:
            sub.wake.clear()
            await sub.wake.wait()
            continue
        seq, text = pending.popleft()
        if seq != HEARTBEAT and seq <= floor:
            continue
        await ws.send_text(text)
