"""The kiosk's window: one page rebuilt from `KioskFlow` on every change, and the bottom bar. Widgets only:
taps become intent signals; the controller decides. Every widget a test touches has an objectName. The
pages are `kiosk.pages_choose` (up to the final tap) and `kiosk.pages_result` (after it, and the kiosk's
own states).

Portrait 1080×1920 is the common 立式取号机; the layout also fits landscape. Matter lists are paged
rather than scrolled (a scrolled-away button is a touch target nobody finds), and pinyin initials are typed
on an on-screen letter pad (a kiosk has no keyboard).
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from hallui.i18n import Catalog
from hallui.widgets import button, label
from kiosk import pages_choose as choose
from kiosk import pages_result as result
from kiosk.flow import KioskFlow, Screen, ViewInfo
from kiosk.intents import KioskIntents
from kiosk.widgets import kiosk_stylesheet

Page = Callable[[KioskIntents, QVBoxLayout, KioskFlow, Catalog, ViewInfo], None]
PAGES: dict[Screen, Page] = {
    Screen.ENROLL: result.enroll,
    Screen.WELCOME: choose.welcome,
    Screen.MATTERS: choose.matters,
    Screen.QUESTION: choose.question,
    Screen.MATERIALS: choose.materials,
    Screen.CONFIRM: choose.confirm,
    Screen.ISSUING: result.issuing,
    Screen.TICKET: result.ticket,
    Screen.NOTICE: result.notice,
    Screen.BOOKING: choose.booking,
    Screen.MESSAGE: result.message,
    Screen.DESK: result.desk,
    Screen.OFFLINE: result.offline,
    Screen.CARD: choose.card,
}


class KioskView(KioskIntents):
    """The kiosk window. `show_flow(flow, catalog, info)` shows the flow's screen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kioskView")
        self._root = QVBoxLayout(self)
        self._root.setContentsMargins(32, 24, 32, 24)
        self._root.setSpacing(16)
        self._page: QWidget | None = None
        self._bar: QWidget | None = None
        self._retired: list[QWidget] = []
        self.countdown: QLabel | None = None
        self._elder: bool | None = None
        self._catalog: Catalog | None = None
        self.current_screen: Screen | None = None
        self._query = ""

    # ---- rendering ----------------------------------------------------------------------------------------

    def show_flow(self, flow: KioskFlow, catalog: Catalog, info: ViewInfo) -> None:
        if self._elder is not flow.elder:
            self._elder = flow.elder
            self.setStyleSheet(kiosk_stylesheet(flow.elder))
        self._catalog = catalog
        # The old page may hold the button whose click got us here, so it is only hidden now (names cleared
        # so nothing finds it) and deleted at the next render, when no handler of it can be running.
        for old in self._retired:
            if shiboken6.isValid(old):
                shiboken6.delete(old)
        self._retired = [w for w in (self._page, self._bar) if w is not None]
        for old in self._retired:
            old.hide()
            self._root.removeWidget(old)
            for w in [old, *old.findChildren(QWidget)]:
                w.setObjectName("")
        page = QWidget(self)
        page.setObjectName(f"page_{flow.screen.value}")
        lay = QVBoxLayout(page)
        lay.setSpacing(20)
        PAGES[flow.screen](self, lay, flow, catalog, info)
        lay.addStretch(1)
        self._root.addWidget(page, 1)
        self._page = page
        self._bar = self._bottom_bar(flow, catalog)
        self._root.addWidget(self._bar)
        self.current_screen = flow.screen
        page.show()
        self._bar.show()
        if flow.screen is Screen.MATTERS and flow.query != self._query:
            # Typing on the letter pad rebuilt the page: keep the search box focused, the cursor at the end.
            box = page.findChild(QLineEdit, "matterSearch")
            if box is not None:
                box.setFocus()
                box.setCursorPosition(len(flow.query))
        self._query = flow.query

    def set_countdown(self, seconds: float | None) -> None:
        if self.countdown is None or self._catalog is None:
            return
        if seconds is None:
            self.countdown.setText("")
        else:
            self.countdown.setText(self._catalog.t("common.timeout", s=int(seconds + 0.999)))

    def _bottom_bar(self, flow: KioskFlow, cat: Catalog) -> QWidget:
        bar = QWidget(self)
        bar.setObjectName("bottomBar")
        lay = QHBoxLayout(bar)
        lay.setContentsMargins(0, 0, 0, 0)
        if flow.screen in (
            Screen.MATTERS,
            Screen.QUESTION,
            Screen.MATERIALS,
            Screen.CONFIRM,
            Screen.BOOKING,
            Screen.MESSAGE,
            Screen.CARD,
        ):
            back = button(cat.t("common.back"), "backButton", "secondary")
            back.clicked.connect(self.back_requested.emit)
            lay.addWidget(back)
        self.countdown = label("", "countdown", "muted")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.countdown, 1)
        if flow.screen not in (Screen.WELCOME, Screen.ISSUING, Screen.ENROLL, Screen.DESK, Screen.OFFLINE):
            key = "common.ok" if flow.screen in (Screen.TICKET, Screen.NOTICE) else "common.home"
            home = button(cat.t(key), "homeButton")
            home.clicked.connect(self.home_requested.emit)
            lay.addWidget(home)
        return bar
