"""The one QObject of the display: the controller's changes as a Qt signal, a one-second tick, and callbacks
from device threads (the voice player's) run on the UI thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from display.controller import DisplayController


class DisplayBridge(QObject):
    changed = Signal()
    _invoke = Signal(object)

    def __init__(self, tick_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._invoke.connect(self._run)
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)

    def attach(self, controller: DisplayController) -> None:
        controller.on_change = self.changed.emit
        self._timer.timeout.connect(controller.tick)

    def start_ticking(self) -> None:
        self._timer.start()

    def stop_ticking(self) -> None:
        self._timer.stop()

    def post(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the UI thread; safe to call from any thread (a queued signal when off it)."""
        self._invoke.emit(fn)

    def _run(self, fn: Callable[[], None]) -> None:
        fn()
