"""The hottest read without the framework: `GET /api/snapshot` answered from the snapshot cache.

Every board, counter and dashboard asks for the snapshot when it (re)connects, and a gateway may poll it. A
cached snapshot costs almost nothing; what it cost was the framework around it (routing over every route,
seven middleware layers, dependency solving: ~70% of the request in the profile, bench/results/server.json).
`HotPaths` sits in front of the app (uvicorn gets it, app.py `uvicorn_config`) and answers the request itself
when the caller's token is already in memory (waiting, with the app's other requests for the same seq, when
the snapshot must be built first). In every other case — an unknown, expired or wrong token, a failed build,
any other request — the app answers, so errors, auth and the OpenAPI description stay in one place
(`api_hall.snapshot`).
"""

from __future__ import annotations

from hallserver.asgi import ASGIApp, Receive, Scope, Send
from hallserver.auth import HALL_READERS, hash_token
from hallserver.service import HallServer


class HotPaths:
    def __init__(self, app: ASGIApp, hall: HallServer) -> None:
        self.app = app
        self.hall = hall
        self.served = 0

    async def __call__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        if scope["type"] == "http" and scope["path"] == "/api/snapshot" and scope["method"] == "GET":
            body = await self._snapshot(scope)
            if body is not None:
                self.served += 1
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-length", str(len(body)).encode()),
                            (b"content-type", b"application/json"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    async def _snapshot(self, scope: Scope) -> bytes | None:
        token = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, rest = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    token = rest.strip()
                break
        if not token:
            return None
        p = self.hall.principals.get(hash_token(token))
        if p is None or p.role not in HALL_READERS:
            return None
        snaps = self.hall.snapshots
        snap = snaps.cached(public=False)
        if snap is None:
            try:
                snap = await snaps.get(public=False)
            except Exception:
                return None  # the app answers (and reports the error its own way)
        return snap.body
