"""The ASGI types of the server's own middlewares (one home: `hotpath`, `limits`, `proxies`, `headers`,
`bodylimit`), the pass-through of what is not HTTP (`HttpMiddleware`), and their one way of answering with
JSON.

They wrap the app as plain ASGI callables rather than Starlette middleware: no task or request object per
request on the hot paths, and they also see what answers before the framework (the snapshot cache)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class HttpMiddleware:
    """An ASGI wrapper of `app` that acts on HTTP requests only (`http`, which subclasses give their work)
    and passes every other scope (a WebSocket upgrade's, the lifespan's) to `app` untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def send_json(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """A JSON answer with the headers the framework's `Response` gives it (hallserver/deps.py `respond`), and
    an error's own (`Retry-After`, `WWW-Authenticate`)."""
    out = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    out += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})
