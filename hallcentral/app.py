"""The centre's FastAPI app: the ingest API for halls and the overview pages for people.

`create_app(config)` builds everything but starts nothing; the lifespan migrates the schema, opens the pool,
syncs the region tree from the config and runs housekeeping (retention of event partitions).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIWebSocketRoute
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount, WebSocketRoute

from hallcentral import api, web, web_query, web_reports, web_stats
from hallcentral.config import CentralConfig
from hallcentral.service import Central
from hallcore.clock import Clock, SystemClock
from hallweb.html import STATIC_PREFIX

log = logging.getLogger(__name__)


async def _on_crash(_request: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc)
    return JSONResponse({"error": "internal", "message": "中心内部错误", "message_en": "internal error"}, 500)


def create_app(config: CentralConfig, clock: Clock | None = None) -> FastAPI:
    central = Central(config, clock or SystemClock())

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await central.start()
        try:
            yield
        finally:
            await central.stop()

    app = FastAPI(
        title="hallq central",
        version="1",
        description="Halls ship their events here; a live overview of every hall (docs/central.md).",
        lifespan=lifespan,
    )
    app.state.central = central
    app.add_exception_handler(Exception, _on_crash)
    # The centre's pages and their JSON refuse by raising: no session, a hall or region out of scope, a bad
    # query parameter; one answer each, here.
    app.add_exception_handler(web.NotSignedIn, web.unauthorized)
    app.add_exception_handler(web.NotFound, web.not_found)
    app.add_exception_handler(web_query.BadQuery, web_query.bad)
    app.include_router(api.router)
    app.include_router(web.router)
    app.include_router(web_stats.router)
    app.include_router(web_reports.router)
    app.mount(
        STATIC_PREFIX, StaticFiles(packages=[("hallweb", "static"), ("hallcentral", "static")]), name="static"
    )
    return app


def routes_summary(app: FastAPI) -> list[dict[str, Any]]:
    """Every route (path, methods; "WS" for a WebSocket), included routers and mounts too: the scope test
    walks them all."""
    out: list[dict[str, Any]] = []

    def walk(routes: list[Any]) -> None:
        for r in routes:
            inner = getattr(r, "original_router", None)  # FastAPI's included router
            if inner is not None:
                walk(list(inner.routes))
            elif isinstance(r, Mount):
                out.append({"path": r.path + "/{path:path}", "methods": ["GET"]})
            elif isinstance(r, WebSocketRoute | APIWebSocketRoute):
                out.append({"path": r.path, "methods": ["WS"]})
            else:
                methods = sorted(getattr(r, "methods", None) or [])
                out.append({"path": getattr(r, "path", ""), "methods": methods})

    walk(list(app.routes))
    return out
