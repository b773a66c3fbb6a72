"""The hall's web pages: manager dashboard, statistics, 差评 cases, administration, phone status and booking.

One module a page: `login`, `dashboard`, `admin`, `cases`, `stats`, `phone`, `booking`; `guard` is what
every manager page asks of a request (session, CSRF, the login redirect), `session` the cookie and token,
`pages` the hall's navigation in the shared layout (hallweb), `svg` the statistics charts.

Server-rendered HTML with small vendored scripts (no CDN: the hall LAN has no internet); charts are SVG
drawn on the server. `mount(app)` adds the routers and the static files; `start(hall)`/`stop()` run the
好差评 uploader next to the server's own tasks.
"""

from __future__ import annotations

import logging
import pathlib

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hallserver.service import HallServer

log = logging.getLogger(__name__)

STATIC = pathlib.Path(__file__).resolve().parent / "static"


def mount(app: FastAPI) -> None:
    """Routers first, so `/s/{token}` here answers before the server's plain placeholder page."""
    from hallserver.web import admin, audit, booking, cases, dashboard, login, outbox, phone, stats

    for page in (login, dashboard, admin, cases, phone, booking, stats, outbox, audit):
        app.include_router(page.router)
    # The dashboard's live feed is a route of the stream path, not of the ASGI app (hallserver/stream).
    hall = app.state.hall
    app.state.streams.add_route("/web/events", lambda req: dashboard.web_events(hall, req))
    # The hall's own scripts, and the stylesheet shared with the centre's pages (hallweb).
    shared: list[str | tuple[str, str]] = [("hallweb", "static")]
    app.mount("/web/static", StaticFiles(directory=STATIC, packages=shared), name="web-static")


class WebTasks:
    """The web side's background work: the 好差评 uploader (the call-back phone numbers are purged with the
    rest of the personal data: hallserver/purge.py)."""

    def __init__(self, hall: HallServer) -> None:
        from hallserver.upload import Uploader

        self.hall = hall
        self.uploader = Uploader(hall)

    def start(self) -> None:
        self.uploader.start()

    async def stop(self) -> None:
        await self.uploader.stop()


async def start(app: FastAPI) -> None:
    """After the hall started (store open): run the web side's tasks."""
    tasks = WebTasks(app.state.hall)
    app.state.web = tasks
    tasks.start()


async def stop(app: FastAPI) -> None:
    tasks: WebTasks | None = getattr(app.state, "web", None)
    if tasks is not None:
        await tasks.stop()
