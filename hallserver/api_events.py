"""`GET /events?since=SEQ[&window=N][&series=A][&zone=Z][&token=T]` (WebSocket): who may follow the stream.

Auth by `Authorization: Bearer` (or `?auth=`) for stations and managers; a status-page `token` needs no auth
and sees its own ticket plus every call. Close codes after the 101 (docs/api.md): 4400 bad query, 4401
no/bad token, 4403 a role that may not follow the stream, 4404 unknown status token, 4429 too many new
public streams from one address. A cached token is
answered in the same tick; an unknown one is read from the database first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from hallserver.auth import HALL_READERS, Principal, hash_token
from hallserver.deps import resolve
from hallserver.eventlog import make_filter
from hallserver.limits import STREAM
from hallserver.stream.access import Grant, Refusal
from hallserver.stream.wire import Request

if TYPE_CHECKING:
    from hallserver.service import HallServer


#: A public stream refused for its address's budget (like HTTP 429); the page retries with backoff.
CLOSE_TOO_MANY = 4429


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


def open_events(hall: HallServer, req: Request) -> Grant | Refusal | Awaitable[Grant | Refusal]:
    q = req.query
    try:
        since = _int(q.get("since"), "since")
        window = _int(q.get("window"), "window")
    except _BadQueryError as exc:
        return Refusal(4400, str(exc))
    status_token = q.get("token", "")
    header = req.header("authorization")
    auth = header[7:].strip() if header.lower().startswith("bearer ") else q.get("auth", "")
    ticket = ""
    if status_token:
        ticket = hall.store.tokens.get(status_token, "") if len(status_token) >= 16 else ""
        if not ticket:
            return Refusal(4404, "unknown status token")

    def grant(authenticated: bool, owner: str = "") -> Grant:
        flt = make_filter(
            hall.config,
            window=window,
            series=q.get("series", ""),
            zone=q.get("zone", ""),
            ticket=ticket,
            authenticated=authenticated,
        )
        return Grant(flt, since, owner=owner)

    def check(p: Principal | None) -> Grant | Refusal:
        if p is None:
            return Refusal(4401, "the token is unknown, expired or revoked")
        if p.role not in HALL_READERS:
            return Refusal(4403, f"role {p.role} may not follow the stream")
        return grant(True, p.token_hash if p.kind == "manager" else "")

    if auth:
        cached = hall.principals.get(hash_token(auth))
        if cached is not None:
            return check(cached)
        return _resolved(hall, auth, check)
    if not ticket:
        return Refusal(
            4401, "send Authorization: Bearer <token> (or ?auth=), or follow one ticket with ?token="
        )
    # A phone's stream is public: its address's budget of new streams (hallserver/limits.py).
    client = hall.proxies.client(req.peer, req.header("x-forwarded-for"))
    if hall.buckets.take(STREAM, client) > 0:
        return Refusal(CLOSE_TOO_MANY, "too many new streams from this address: retry later")
    return grant(False)


async def _resolved(
    hall: HallServer, token: str, check: Callable[[Principal | None], Grant | Refusal]
) -> Grant | Refusal:
    return check(await resolve(hall, token))
