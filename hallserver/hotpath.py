"""The hottest requests answered before the framework: `GET /api/snapshot` and `POST /api/tickets`.

Every board, counter and dashboard asks for the snapshot when it (re)connects, and a gateway may poll it; at
9:30 on a Monday the kiosks and desks issue hundreds of tickets a minute. A cached snapshot costs almost
nothing and a ticket's own work is the writer's; what they cost on the event loop was the framework around
them (routing over every route, seven middleware layers, dependency solving): ~70% of a snapshot request,
and ~40% of the event loop's samples in the issue path's profile (bench/results/server.json).

`HotPaths` sits in front of the app (uvicorn gets it, app.py `uvicorn_config`) and answers a request itself
only when it is one the app would accept: the caller's token already in memory with a role the route allows
and, for an issue, a JSON body within the body limit that `IssueIn` validates. It then calls what the route
calls (`SnapshotCache.get`, `issuing.issue`), so the reply is the route's, byte for byte. In every other case
— no, an unknown, expired or wrong token, a wrong role, another content type, a body too large, malformed
or invalid, a failed build, any other request — the app answers (with the body it was sent, read here), so
errors, auth and the OpenAPI description stay in one place (`api_hall.snapshot`, `api_tickets.issue_ticket`).
Neither route is public, so no public budget (hallserver/limits.py) applies to either.
"""

from __future__ import annotations

import json
import logging

from pydantic import ValidationError

from hallserver import issuing
from hallserver.asgi import ASGIApp, HttpMiddleware, Message, Receive, Scope, Send, send_json
from hallserver.auth import HALL_READERS, Principal, bearer_token, hash_token
from hallserver.bodies import IssueIn
from hallserver.bodylimit import MAX_BODY
from hallserver.errors import ApiError, internal
from hallserver.service import HallServer
from hallserver.writectx import dumps

log = logging.getLogger(__name__)


class HotPaths(HttpMiddleware):
    def __init__(self, app: ASGIApp, hall: HallServer) -> None:
        super().__init__(app)
        self.hall = hall
        self.served = 0  # snapshots answered here
        self.issued = 0  # issue requests answered here

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/api/snapshot" and method == "GET":
            body = await self._snapshot(scope)
            if body is not None:
                self.served += 1
                await send_json(send, 200, body)
                return
        elif path == issuing.PATH and method == "POST":
            await self._issue(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _caller(self, scope: Scope, roles: frozenset[str]) -> Principal | None:
        """The caller when its token is cached (an approved station) and its role is in `roles`."""
        token = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                token = bearer_token(value.decode("latin-1"))
                break
        if token is None:
            return None
        p = self.hall.principals.get(hash_token(token))
        return p if p is not None and p.role in roles else None

    async def _snapshot(self, scope: Scope) -> bytes | None:
        if self._caller(scope, HALL_READERS) is None:
            return None
        snaps = self.hall.snapshots
        snap = snaps.cached(public=False)
        if snap is None:
            try:
                snap = await snaps.get(public=False)
            except Exception:
                return None  # the app answers (and reports the error its own way)
        return snap.body

    async def _issue(self, scope: Scope, receive: Receive, send: Send) -> None:
        p = self._caller(scope, issuing.ROLES)
        if p is None or not _small_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                return  # the client went away: nothing to answer
            chunk = msg.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY or not msg.get("more_body", False):
                break
        raw = b"".join(chunks)
        body: IssueIn | None = None
        if size <= MAX_BODY:
            try:
                body = IssueIn.model_validate(json.loads(raw))
            except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                body = None
        if body is None:
            # The framework reads the same bytes and answers as it does (400 malformed_json, 422, 413).
            await self.app(scope, _replay(raw, receive), send)
            return
        try:
            reply = await issuing.issue(self.hall, p, body)
        except ApiError as err:
            await send_json(send, err.status, dumps(err.body()).encode(), err.headers)
            return
        except Exception:
            log.exception("unhandled error")  # as the app's own handler (app.py `_on_crash`) answers it
            await send_json(send, 500, dumps(internal().body()).encode())
            return
        self.issued += 1
        await send_json(send, reply.status, reply.text.encode())


def _small_json(scope: Scope) -> bool:
    """A JSON body of a declared length within the limit: what the hot path reads itself (FastAPI parses a
    body without a content type as JSON too; such a request, like a chunked one, goes to the app)."""
    length = -1
    json_type = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return False
        elif name == b"content-type":
            json_type = value.split(b";", 1)[0].strip().lower() == b"application/json"
    return json_type and 0 < length <= MAX_BODY


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the app after the hot path read the body: the body once, then the connection's own."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
