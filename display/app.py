"""The display put together: bridge signals feed the flow; each change is drawn on the board, read out by the
voice queue and written to the hall LED board. Built in `__main__` (or a test) from ready-made parts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from display.bridge import DisplayBridge
from display.flow import DisplayFlow
from display.hallboard import LedSync, brightness_at, hall_board_areas
from display.views import BoardView
from display.voice import VoiceCaller
from hallclient.api import EventFeed, HallApi
from hallclient.enroll import ensure_token
from hallclient.errors import AuthError, HallClientError, ServerUnavailable
from hallclient.types import ConnectionState, HallSnapshot, StreamItem
from hallcore.config import Led

log = logging.getLogger(__name__)

#: Every this many ticks the series tiles turn a page (halls with more series than tiles).
SERIES_PAGE_TICKS = 10


class DisplayApp:
    def __init__(
        self,
        flow: DisplayFlow,
        view: BoardView,
        bridge: DisplayBridge,
        *,
        led: Led,
        voice: VoiceCaller | None = None,
        hall_board: LedSync | None = None,
        retry_s: float = 2.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.flow = flow
        self.view = view
        self.bridge = bridge
        self.led = led
        self.voice = voice
        self.hall_board = hall_board
        self._retry_s = retry_s
        self._sleep = sleep
        self._feed: EventFeed | None = None
        self._ticks = 0
        self._closing = False
        bridge.item.connect(self.on_item)
        bridge.connection.connect(self.on_connection)
        bridge.tick.connect(self.tick)
        if voice is not None:
            voice.listen(self.on_subtitle_start, self.on_subtitle_end)

    # ---- inputs (UI thread) ----------------------------------------------------------------------------

    def on_item(self, item: StreamItem) -> None:
        for call in self.flow.apply(item):
            if self.voice is not None:
                self.voice.announce(call.label, call.window)
        self.refresh()

    def on_connection(self, state: ConnectionState) -> None:
        self.flow.connection_changed(state)
        self.refresh()

    def on_subtitle_start(self, text: str) -> None:
        self.flow.subtitle_started(text)
        self.refresh()

    def on_subtitle_end(self, text: str) -> None:
        self.flow.subtitle_ended(text)
        self.refresh()

    def show_enrollment(self, code: str) -> None:
        self.flow.show_enrollment(code)
        self.refresh()

    def tick(self) -> None:
        """Once a second: clock, data age, stale check, brightness, series pages."""
        self._ticks += 1
        if self._ticks % SERIES_PAGE_TICKS == 0:
            self.view.next_series_page()
        if self._feed is not None:
            self.flow.data_age(self._feed.data_age_s())
        self.refresh()

    def refresh(self) -> None:
        state = self.flow.state()
        self.view.show_state(state)
        if self.hall_board is not None and not self._closing:
            calls = [(c.label, c.window) for c in self.flow.calls()]
            areas = hall_board_areas(self.led, calls, stale=state.stale)
            self.hall_board.want(areas, brightness=brightness_at(self.led.brightness, state.now.time()))

    # ---- running ---------------------------------------------------------------------------------------

    async def enroll(
        self, api: HallApi, token_file: Path, *, name: str, server: str, poll_s: float = 2.0
    ) -> str:
        """The station's token; on first start the board shows the enrollment code until the manager
        approves it (the pending enrollment survives a restart, see `hallclient.enroll`)."""
        return await ensure_token(
            api,
            token_file,
            name=name,
            role="display",
            server=server,
            on_code=self.show_enrollment,
            poll_s=poll_s,
            sleep=self._sleep,
        )

    async def first_snapshot(self, api: HallApi) -> HallSnapshot:
        """The hall's picture to start from; waits out a server that is not up yet."""
        while True:
            try:
                return await api.snapshot()
            except ServerUnavailable as e:
                log.info("display: server not reachable yet (%s); retrying", e)
                self.on_connection(ConnectionState.OFFLINE)
                await self._sleep(self._retry_s)

    async def run(self, api: HallApi) -> None:
        """Show the hall from a snapshot, then follow its events (resumed by the feed after every loss)
        until `aclose()`. An unfiltered feed: a zone display filters calls itself, and it needs every
        series' counts."""
        snap = await self.first_snapshot(api)
        self.flow.load_snapshot(snap)
        self.flow.connection_changed(ConnectionState.LIVE)
        self.refresh()
        feed = api.events(since=snap.seq)
        self._feed = feed
        self.bridge.start_ticking()
        try:
            await self.bridge.follow(feed)
        except AuthError as e:
            log.error("display: the server refused this station's token (%s); enroll it again", e)
            self.flow.enrollment_revoked()
            self.refresh()
            raise
        except HallClientError as e:
            log.error("display: event stream failed: %s", e)
            raise

    async def aclose(self) -> None:
        self._closing = True
        self.bridge.stop_ticking()
        feed, self._feed = self._feed, None
        if feed is not None:
            await feed.aclose()
        if self.hall_board is not None:
            with contextlib.suppress(Exception):
                await self.hall_board.aclose()
