"""The one QObject between hallclient and the display's widgets: stream items, connection states, a
one-second tick, and callbacks from device threads (the voice player's) arrive as Qt signals on the UI
thread."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from hallclient.api import EventFeed
from hallclient.types import StateChange

log = logging.getLogger(__name__)


class DisplayBridge(QObject):
    item = Signal(object)  # hallclient.types.StreamItem
    connection = Signal(object)  # hallclient.types.ConnectionState
    tick = Signal()
    _invoke = Signal(object)

    def __init__(self, tick_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._invoke.connect(self._run)
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.tick.emit)

    def start_ticking(self) -> None:
        self._timer.start()

    def stop_ticking(self) -> None:
        self._timer.stop()

    def post(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the UI thread; safe to call from any thread (a queued signal when off it)."""
        self._invoke.emit(fn)

    def _run(self, fn: Callable[[], None]) -> None:
        fn()

    def _on_state(self, change: StateChange) -> None:
        self.connection.emit(change.state)

    async def follow(self, feed: EventFeed) -> None:
        """Emit every item of `feed` until it ends (after `aclose()`); connection states as they change."""
        remove = feed.add_state_listener(self._on_state)
        self.connection.emit(feed.state)
        try:
            async for item in feed:
                self.item.emit(item)
        finally:
            remove()
