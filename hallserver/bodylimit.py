"""The request body limit (docs/api.md: bodies over 64 KiB are refused with 413 `body_too_large`).

`BodyLimit` wraps the app; the hot path (hallserver/hotpath.py) reads only bodies within `MAX_BODY` itself
and hands any other to the app, so one limit and one refusal hold for every route.
"""

from __future__ import annotations

from hallserver.asgi import ASGIApp, Message, Receive, Scope, Send, send_json
from hallserver.errors import ApiError
from hallserver.writectx import dumps

MAX_BODY = 64 * 1024


class _TooLargeError(Exception):
    pass


_TOO_LARGE = ApiError(
    413,
    "body_too_large",
    "请求体超过 64 KiB",
    "the request body is over 64 KiB",
    {"limit_bytes": MAX_BODY},
)


class BodyLimit:
    """Refuse bodies over the limit with 413 before they are read whole (by Content-Length or as read)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reply(send)
                    return
        seen = 0
        started = False
        exceeded = False

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise _TooLargeError
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if exceeded:
                # The framework turned our exception into its own 400: answer 413 instead, once.
                if msg["type"] == "http.response.start" and not started:
                    started = True
                    await self._reply(send)
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLargeError:
            if not started:
                await self._reply(send)

    @staticmethod
    async def _reply(send: Send) -> None:
        await send_json(send, 413, dumps(_TOO_LARGE.body()).encode())
