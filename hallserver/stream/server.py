"""The stream path: WebSocket routes, the Origin check, and admission of new connections in bounded batches.

`StreamServer.protocol` is uvicorn's `ws` protocol class (app.py `uvicorn_config`): every WebSocket upgrade on
the server's port comes here, whatever its path; `/events` is the hall's stream (hallserver/api_events.py),
and the web dashboard registers `/web/events` with its own cookie check (`add_route`). Both are served by the
same connection code and hub. The hall is seen through the `Hall` protocol (hall.py): the stream path sits
below the service (hallserver/service.py) that owns its hub and snapshot cache.

Admission: a reconnect storm (5,000 phones back at once after a Wi-Fi blip or a restart) must not stall the
loop. Each connection's head waits in a queue; `_drain` opens at most `batch` of them or `budget_s` of work
per loop iteration, then yields, so calls, replies and heartbeats keep flowing between batches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

from hallserver.stream.access import Route
from hallserver.stream.connection import Connection
from hallserver.stream.hall import Hall

log = logging.getLogger(__name__)


class StreamServer:
    def __init__(self, hall: Hall, *, batch: int = 64, budget_s: float = 0.004) -> None:
        self.hall = hall
        self.routes: dict[str, Route] = {}
        self.batch = batch
        self.budget_s = budget_s
        self._queue: deque[Connection] = deque()
        self._draining = False
        self.admitted = 0
        self.batches = 0

    def add_route(self, path: str, route: Route) -> None:
        self.routes[path] = route

    # ---- uvicorn's protocol class ---------------------------------------------------------------------

    def protocol(self, server_state: Any = None, **_uvicorn: Any) -> Connection:
        """Called by uvicorn with `config=`, `server_state=`, `app_state=` for each upgrade."""
        return Connection(self, getattr(server_state, "connections", None))

    # ---- admission ------------------------------------------------------------------------------------

    def admit(self, conn: Connection) -> None:
        self._queue.append(conn)
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _drain(self) -> None:
        deadline = time.perf_counter() + self.budget_s
        queue = self._queue
        n = 0
        while queue:
            conn = queue.popleft()
            try:
                conn.open()
            except Exception:
                log.exception("opening a stream connection failed")
                conn.close(1011, "internal error")
            n += 1
            if n >= self.batch or time.perf_counter() > deadline:
                break
        self.admitted += n
        self.batches += 1
        if queue:
            asyncio.get_running_loop().call_soon(self._drain)
        else:
            self._draining = False
