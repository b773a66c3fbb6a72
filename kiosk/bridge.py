"""The one QObject of the kiosk: the view's taps as controller calls, the controller's changes as a Qt
signal, and a one-second timer for the idle countdown and timeouts.

The controller (`kiosk.controller`) runs the coroutines on the qasync loop and calls `on_change` there (the
Qt thread); the scanner's codes reach it through the loop, never through Qt.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.controller import KioskController
from kiosk.views import KioskView


class KioskBridge(QObject):
    changed = Signal()  # redraw the page
    ticked = Signal()  # a second passed and the page stays: only the countdown moves

    def __init__(
        self, controller: KioskController, *, tick_ms: int = 1000, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        controller.on_change = self.changed.emit
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.tick)

    def attach(self, view: KioskView) -> None:
        """Send every tap of `view` to the controller."""
        c, f = self.controller, self.controller.flow
        view.start_requested.connect(lambda: c.do(f.start))
        view.booking_requested.connect(lambda: c.do(f.start_booking))
        view.language_chosen.connect(lambda lang: c.do(f.set_language, lang))
        view.elder_toggled.connect(lambda: c.do(f.toggle_elder))
        view.browse_chosen.connect(lambda by: c.do(f.set_browse, by))
        view.group_chosen.connect(lambda key: c.do(f.set_group, key))
        view.page_moved.connect(lambda step: c.do(f.move_page, step))
        view.query_changed.connect(c.set_query)
        view.matter_chosen.connect(lambda code: c.do(f.choose_matter, code))
        view.answered.connect(lambda yes: c.do(f.answer, yes))
        view.material_toggled.connect(lambda mid: c.do(f.toggle_material, mid))
        view.materials_done.connect(lambda: c.do(f.materials_done))
        view.all_present.connect(c.all_present)
        view.submitted.connect(c.submit)
        view.booking_code_submitted.connect(c.submit_booking)
        view.card_booking_chosen.connect(c.check_in_booking)
        view.walk_in_requested.connect(lambda: c.do(f.walk_in_instead))
        view.back_requested.connect(lambda: c.do(f.back))
        view.home_requested.connect(lambda: c.do(f.home))
        view.notify_requested.connect(lambda: c.do(f.open_notify))
        view.notify_key.connect(c.notify_key)
        view.notify_submitted.connect(c.submit_notify)

    def tick(self) -> None:
        if not self.controller.tick():
            self.ticked.emit()

    def start_ticking(self) -> None:
        self._timer.start()

    def stop_ticking(self) -> None:
        self._timer.stop()
