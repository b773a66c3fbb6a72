"""Who may open a stream and what they get: a route's answer (`Grant` or `Refusal`) and the Origin check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from hallserver.eventlog import StreamFilter
from hallserver.stream.wire import Request


@dataclass(frozen=True, slots=True)
class Grant:
    """A stream the route allows: its filter, and where it starts (`since`; None: with a snapshot).
    `hello`: no catch-up, a `{"kind": "hello", "seq": N}` first, then live events (the web dashboard).
    `owner`: the manager session (its token's hash) the stream lives on: closed (4401) when it ends."""

    filter: StreamFilter
    since: int | None = None
    hello: bool = False
    owner: str = ""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Closed right after the 101 with this code (docs/api.md): a browser cannot read a refused handshake."""

    code: int
    reason: str


#: A WebSocket path's authorisation: answers at once when it can (the common case: cached tokens), or
#: returns an awaitable when it must read the database.
Route = Callable[[Request], "Grant | Refusal | Awaitable[Grant | Refusal]"]


def origin_allowed(req: Request) -> bool:
    """A browser names the page's origin; only the hall's own pages may open a stream (a page of another
    site must not ride on a manager's cookie or a phone's token). Native clients send no Origin."""
    origin = req.header("origin")
    if not origin:
        return True
    host = req.header("host").lower()
    return bool(host) and urlsplit(origin).netloc.lower() == host
