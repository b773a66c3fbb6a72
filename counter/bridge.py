"""The one QObject of the counter: the controller's changes as a Qt signal, the views' intents as calls.

The controller calls `on_change` from the loop (qasync runs it on the Qt thread); this turns that into
`changed`, and a one-second timer re-emits it so "waited N minutes" and the data age stay current.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from counter.actions import Action
from counter.controller import CounterController
from counter.desk.controller import DeskController


class Bridge(QObject):
    changed = Signal()
    desk_changed = Signal()

    def __init__(
        self, controller: CounterController, desk: DeskController | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.desk = desk
        controller.on_change = self.changed.emit
        if desk is not None:
            desk.on_change = self.desk_changed.emit
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.changed.emit)
        self._tick.start()

    @Slot(str, dict)
    def request(self, action: str, args: dict[str, Any]) -> None:
        """An intent from the views: a button, a shortcut or an inline form."""
        if action == "discard":
            self.controller.discard_unsent()
            return
        self.controller.request(Action(action), args)

    @Slot(str, dict)
    def desk_request(self, action: str, args: dict[str, Any]) -> None:
        if self.desk is not None:
            self.desk.request(action, args)

    def stop(self) -> None:
        self._tick.stop()
