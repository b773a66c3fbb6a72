"""The ASGI types of the server's own middlewares (one home: `hotpath`, `limits`, `proxies`, `headers`).

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
