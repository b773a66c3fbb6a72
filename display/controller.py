"""The display's I/O around its pure flow: the hall's event stream in; the board's state, the voice queue and
the hall LED board out. Qt-free asyncio (the counter's shape), so it runs on qasync in the app and on a plain
loop in tests and benchmarks.

Every change ends in `on_change()` (the bridge turns it into a Qt signal, the app redraws the board from
`state`). Calls are read out by `display.voice.VoiceCaller`, whose subtitle callbacks reach the flow on the
UI thread (the bridge's `post`); the hall LED board is kept in sync by `display.hallboard.LedSync`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from display.flow import BoardState, DisplayFlow
from display.hallboard import LedSync, brightness_at, hall_board_areas
from display.voice import VoiceCaller
from hallclient.api import EventFeed, HallApi
from hallclient.enroll import ensure_token, pinned_fingerprint
from hallclient.errors import AuthError, HallClientError, ServerUnavailable
from hallclient.types import ConnectionState, HallSnapshot, StateChange, StreamItem
from hallcore.config import Led

log = logging.getLogger(__name__)

#: Every this many ticks the series tiles turn a page (halls with more series than tiles).
SERIES_PAGE_TICKS = 10


class DisplayController:
    """Runs one hall display. `run(api)` until `aclose()`."""

    def __init__(
        self,
        flow: DisplayFlow,
        *,
        led: Led,
        voice: VoiceCaller | None = None,
        hall_board: LedSync | None = None,
        on_change: Callable[[], None] = lambda: None,
        retry_s: float = 2.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.flow = flow
        self.led = led
        self.voice = voice
        self.hall_board = hall_board
        self.on_change = on_change
        self._retry_s = retry_s
        self._sleep = sleep
        self._feed: EventFeed | None = None
        self._ticks = 0
        self._closing = False
        self.state: BoardState = flow.state()
        if voice is not None:
            voice.listen(self.subtitle_started, self.subtitle_ended)

    # ---- inputs ------------------------------------------------------------------------------------------

    def on_item(self, item: StreamItem) -> None:
        for call in self.flow.apply(item):
            if self.voice is not None:
                self.voice.announce(call.label, call.window)
        self.changed()

    def on_connection(self, state: ConnectionState) -> None:
        self.flow.connection_changed(state)
        self.changed()

    def subtitle_started(self, text: str) -> None:
        self.flow.subtitle_started(text)
        self.changed()

    def subtitle_ended(self, text: str) -> None:
        self.flow.subtitle_ended(text)
        self.changed()

    def show_enrollment(self, code: str, fingerprint: str = "") -> None:
        self.flow.show_enrollment(code, fingerprint)
        self.changed()

    def tick(self) -> None:
        """Once a second: clock, data age, stale check, brightness, series pages."""
        self._ticks += 1
        if self._ticks % SERIES_PAGE_TICKS == 0:
            self.flow.next_series_page()
        if self._feed is not None:
            self.flow.data_age(self._feed.data_age_s())
        self.changed()

    def changed(self) -> None:
        """The board's new state: to the hall LED board, then to whoever draws the screen."""
        state = self.state = self.flow.state()
        if self.hall_board is not None and not self._closing:
            calls = [(c.label, c.window) for c in self.flow.calls()]
            areas = hall_board_areas(self.led, calls, stale=state.stale)
            self.hall_board.want(areas, brightness=brightness_at(self.led.brightness, state.now.time()))
        self.on_change()

    # ---- running -----------------------------------------------------------------------------------------

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
            on_code=lambda code: self.show_enrollment(code, pinned_fingerprint(token_file)),
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
        self.changed()
        feed = api.events(since=snap.seq)
        self._feed = feed
        try:
            await self._follow(feed)
        except AuthError as e:
            log.error("display: the server refused this station's token (%s); enroll it again", e)
            self.flow.enrollment_revoked()
            self.changed()
            raise
        except HallClientError as e:
            log.error("display: event stream failed: %s", e)
            raise

    async def _follow(self, feed: EventFeed) -> None:
        def on_state(change: StateChange) -> None:
            self.on_connection(change.state)

        remove = feed.add_state_listener(on_state)
        self.on_connection(feed.state)
        try:
            async for item in feed:
                self.on_item(item)
        finally:
            remove()

    async def aclose(self) -> None:
        self._closing = True
        feed, self._feed = self._feed, None
        if feed is not None:
            await feed.aclose()
        if self.hall_board is not None:
            with contextlib.suppress(Exception):  # closing: a board that fails now changes nothing
                await self.hall_board.aclose()
