"""The kiosk's window: the header (the hall's name, the date and time), one page rebuilt from `KioskFlow` on
every change, and the bottom bar, whose 返回, 读给我听 and 首页 are always in the same places (a placeholder
keeps the place of one a screen has not). Widgets only: taps become intent signals; the controller decides.
Every widget a test touches has an objectName. The pages are `kiosk.pages_home` (the home screen),
`kiosk.pages_choose` (up to the final tap) and `kiosk.pages_result` (after it, and the kiosk's own states).

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
from kiosk import pages_home as home
from kiosk import pages_notify as notices
from kiosk import pages_result as result
from kiosk.flow import KioskFlow, Screen
from kiosk.info import ViewInfo
from kiosk.intents import KioskIntents
from kiosk.widgets import LARGER_SCRIPTS, kiosk_stylesheet

Page = Callable[[KioskIntents, QVBoxLayout, KioskFlow, Catalog, ViewInfo], None]
PAGES: dict[Screen, Page] = {
    Screen.ENROLL: result.enroll,
    Screen.WELCOME: home.welcome,
    Screen.MATTERS: choose.matters,
    Screen.QUESTION: choose.question,
    Screen.MATERIALS: choose.materials,
    Screen.CONFIRM: choose.confirm,
    Screen.ISSUING: result.issuing,
    Screen.TICKET: notices.ticket,  # the ticket, and the offer of notices below it
    Screen.NOTICE: result.notice,
    Screen.BOOKING: choose.booking,
    Screen.MESSAGE: result.message,
    Screen.DESK: result.desk,
    Screen.OFFLINE: result.offline,
    Screen.CARD: choose.card,
    Screen.NOTIFY: notices.notify,
}


#: Screens with 返回 in the bar.
BACK_SCREENS = frozenset(
    {
        Screen.MATTERS,
        Screen.QUESTION,
        Screen.MATERIALS,
        Screen.CONFIRM,
        Screen.BOOKING,
        Screen.MESSAGE,
        Screen.CARD,
        Screen.NOTIFY,
    }
)


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
        self._header: QWidget | None = None
        self.clock_label: QLabel | None = None
        self.date_label: QLabel | None = None
        self._retired: list[QWidget] = []
        self.countdown: QLabel | None = None
        self._look: tuple[bool, bool] | None = None  # (elder, a script drawn larger) of the style sheet
        self._catalog: Catalog | None = None
        self.current_screen: Screen | None = None
        self._query = ""
        self.speaks = False  # a 读给我听 button in the bar (the station has spoken guidance)

    # ---- rendering ----------------------------------------------------------------------------------------

    def show_flow(self, flow: KioskFlow, catalog: Catalog, info: ViewInfo) -> None:
        look = (flow.elder, flow.language in LARGER_SCRIPTS)
        if self._look != look:
            self._look = look
            self.setStyleSheet(kiosk_stylesheet(*look))
        self._catalog = catalog
        # The old page may hold the button whose click got us here, so it is only hidden now (names cleared
        # so nothing finds it) and deleted at the next render, when no handler of it can be running.
        for old in self._retired:
            if shiboken6.isValid(old):
                shiboken6.delete(old)
        self._retired = [w for w in (self._header, self._page, self._bar) if w is not None]
        for old in self._retired:
            old.hide()
            self._root.removeWidget(old)
            for w in [old, *old.findChildren(QWidget)]:
                w.setObjectName("")
        self._header = self._head(catalog, info)
        self._root.addWidget(self._header)
        page = QWidget(self)
        page.setObjectName(f"page_{flow.screen.value}")
        lay = QVBoxLayout(page)
        lay.setSpacing(20)
        PAGES[flow.screen](self, lay, flow, catalog, info)
        if flow.screen is not Screen.WELCOME:  # the home screen keeps its notice at the foot itself
            lay.addStretch(1)
        self._root.addWidget(page, 1)
        self._page = page
        self._bar = self._bottom_bar(flow, catalog)
        self._root.addWidget(self._bar)
        self.current_screen = flow.screen
        self._header.show()
        page.show()
        self._bar.show()
        if flow.screen is Screen.MATTERS and flow.query != self._query:
            # Typing on the letter pad rebuilt the page: keep the search box focused, the cursor at the end.
            box = page.findChild(QLineEdit, "matterSearch")
            if box is not None:
                box.setFocus()
                box.setCursorPosition(len(flow.query))
        self._query = flow.query

    def _head(self, cat: Catalog, info: ViewInfo) -> QWidget:
        head = QWidget(self)
        head.setObjectName("header")
        head.setProperty("role", "band")
        lay = QHBoxLayout(head)
        lay.setContentsMargins(24, 12, 24, 12)
        hall = cat.pick(info.hall_name, info.hall_name_en, info.hall_names)
        lay.addWidget(label(hall, "headerHall", "title", wrap=True), 3)
        right = QVBoxLayout()
        right.setSpacing(0)
        self.date_label = label("", "headerDate", None, wrap=True)
        self.clock_label = label("", "headerClock", "title")
        for w in (self.date_label, self.clock_label):
            w.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            right.addWidget(w)
        lay.addLayout(right, 2)
        self.set_clock(info)
        return head

    def set_clock(self, info: ViewInfo) -> None:
        """The header's date and time (the app calls it every second)."""
        if self.clock_label is None or self._catalog is None or info.local_now is None:
            return
        cat, now = self._catalog, info.local_now
        day = cat.t(
            "header.date",
            y=now.year,
            m=f"{now.month:02d}",
            d=f"{now.day:02d}",
            w=cat.t(f"weekday.{now.weekday()}"),
        )
        self.clock_label.setText(f"{now:%H:%M}")
        if self.date_label is not None:
            self.date_label.setText(day)

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
        lay.setSpacing(16)
        height = 100 if flow.elder else 84
        back = None
        if flow.screen in BACK_SCREENS:
            back = button(cat.t("common.back"), "backButton", "secondary")
            back.clicked.connect(self.back_requested.emit)
        lay.addWidget(self._place(back, height), 2)
        speak = None
        if self.speaks and flow.screen not in (Screen.ENROLL, Screen.ISSUING):
            speak = button(cat.t("common.speak"), "speakButton", "secondary")
            speak.clicked.connect(self.speak_requested.emit)
        lay.addWidget(self._place(speak, height), 2)
        self.countdown = label("", "countdown", "muted", wrap=True)
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.countdown, 2)
        home = None
        if flow.screen not in (Screen.WELCOME, Screen.ISSUING, Screen.ENROLL, Screen.DESK, Screen.OFFLINE):
            key = "common.ok" if flow.screen in (Screen.TICKET, Screen.NOTICE) else "common.home"
            home = button(cat.t(key), "homeButton")
            home.clicked.connect(self.home_requested.emit)
        lay.addWidget(self._place(home, height), 2)
        return bar

    @staticmethod
    def _place(widget: QWidget | None, height: int) -> QWidget:
        """`widget` at its fixed place in the bar, or an empty stand-in of the same size."""
        w = widget if widget is not None else QWidget()
        w.setFixedHeight(height)
        return w
