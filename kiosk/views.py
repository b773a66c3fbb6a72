"""The kiosk's widgets: one window whose page is rebuilt from `KioskFlow` on every change. Widgets only:
taps become intent signals; the app decides. Every widget a test touches has an objectName.

Portrait 1080×1920 is the common 立式取号机; the layout also fits landscape. Matter lists are paged
rather than scrolled (a scrolled-away button is a touch target nobody finds), and pinyin initials are typed
on an on-screen letter pad (a kiosk has no keyboard).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import qrcode
import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallcore.config import Department, Matter
from hallui.enrollment import EnrollmentView
from hallui.i18n import Catalog
from hallui.matters import group, search
from hallui.theme import PALETTE, stylesheet
from hallui.widgets import button, label
from kiosk.flow import KioskFlow, Local, Screen

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: Booking codes use digits 2–9 and letters without I, L, O (hallserver's code alphabet).
CODE_KEYS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUPS_PER_PAGE = 8
MATTERS_PER_PAGE = 6


def kiosk_stylesheet(elder: bool) -> str:
    """The shared theme plus the kiosk's own roles: tiles with wrapped text, chosen materials."""
    p = PALETTE
    return (
        stylesheet(elder)
        + f"""
    QPushButton[role="tile"] {{ text-align: left; }}
    QPushButton[role="tile"] QLabel {{ background: transparent; color: {p.primary_text}; }}
    QPushButton[role="tile"] QLabel[role="tilesub"] {{ color: {p.primary_text}; }}
    QPushButton[role="tile"]:disabled QLabel {{ color: #ffffff; }}
    QPushButton[role="material"] {{ background: {p.panel}; color: {p.text}; border: 2px solid {p.muted};
                                     text-align: left; }}
    QPushButton[role="material"]:checked {{ background: {p.ok}; color: #ffffff; border: 2px solid {p.ok}; }}
    QPushButton[role="key"] {{ padding: 4px; }}
    QLabel[role="ok"] {{ color: {p.ok}; }}
    """
    )


@dataclass(slots=True)
class ViewInfo:
    """What the page needs besides the flow: names from the config and live figures."""

    hall_name: str = ""
    hall_name_en: str = ""
    departments: tuple[Department, ...] = ()
    remaining: dict[str, int | None] = field(default_factory=dict)  # matter code → numbers left today
    closed: dict[str, str] = field(default_factory=dict)  # matter code → next opening ("" if unknown)
    enroll_code: str = ""
    station_name: str = ""
    printer_reason: str = ""


def qr_pixmap(text: str, box_px: int = 8) -> QPixmap:
    """The QR code for `text`, drawn black on white with a quiet zone (qrcode computes the modules)."""
    qr = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    size = len(matrix) * box_px
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#000000"))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                painter.drawRect(x * box_px, y * box_px, box_px, box_px)
    painter.end()
    return QPixmap.fromImage(image)


def tile(title: str, sub: str, name: str) -> QPushButton:
    """A big button with wrapped text (QPushButton itself never wraps)."""
    b = button("", name, "tile")
    lay = QVBoxLayout(b)
    lay.setContentsMargins(16, 8, 16, 8)
    main = label(title, f"{name}_title", wrap=True)
    main.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    lay.addWidget(main)
    if sub:
        s = label(sub, f"{name}_sub", "tilesub", wrap=True)
        s.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        lay.addWidget(s)
    return b


class KioskView(QWidget):
    """The kiosk window. `show_flow(flow, catalog, info)` shows the flow's screen."""

    start_requested = Signal()
    booking_requested = Signal()
    language_toggled = Signal()
    elder_toggled = Signal()
    browse_chosen = Signal(str)
    group_chosen = Signal(str)
    page_moved = Signal(int)
    query_changed = Signal(str)
    matter_chosen = Signal(str)
    answered = Signal(bool)
    material_toggled = Signal(str)
    materials_done = Signal()
    submitted = Signal(str)  # priority class id, "" for a normal ticket
    booking_code_submitted = Signal(str)
    walk_in_requested = Signal()
    back_requested = Signal()
    home_requested = Signal()

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
        builders: dict[Screen, Callable[[QVBoxLayout, KioskFlow, Catalog, ViewInfo], None]] = {
            Screen.ENROLL: self._enroll,
            Screen.WELCOME: self._welcome,
            Screen.MATTERS: self._matters,
            Screen.QUESTION: self._question,
            Screen.MATERIALS: self._materials,
            Screen.CONFIRM: self._confirm,
            Screen.ISSUING: self._issuing,
            Screen.TICKET: self._ticket,
            Screen.NOTICE: self._notice,
            Screen.BOOKING: self._booking,
            Screen.MESSAGE: self._message,
            Screen.DESK: self._desk,
            Screen.OFFLINE: self._offline,
        }
        builders[flow.screen](lay, flow, catalog, info)
        lay.addStretch(1)
        self._root.addWidget(page, 1)
        self._page = page
        self._bar = self._bottom_bar(flow, catalog)
        self._root.addWidget(self._bar)
        self.current_screen = flow.screen
        page.show()
        self._bar.show()

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

    # ---- screens ------------------------------------------------------------------------------------------

    def _enroll(self, lay: QVBoxLayout, _flow: KioskFlow, cat: Catalog, info: ViewInfo) -> None:
        view = EnrollmentView(cat)
        view.show_code(info.enroll_code, info.station_name, "kiosk")
        lay.addWidget(view)

    def _welcome(self, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, info: ViewInfo) -> None:
        hall = cat.pick(info.hall_name, info.hall_name_en)
        title = label(cat.t("welcome.title", hall=hall), "welcomeTitle", "title", wrap=True)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(title)
        hint = label(cat.t("welcome.hint"), "welcomeHint", wrap=True)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(hint)
        lay.addSpacing(40)
        start = button(cat.t("welcome.start"), "welcomeStart")
        start.setMinimumHeight(160 if flow.elder else 120)
        start.clicked.connect(self.start_requested.emit)
        lay.addWidget(start)
        booking = button(cat.t("welcome.booking"), "welcomeBooking")
        booking.setMinimumHeight(120 if flow.elder else 90)
        booking.clicked.connect(self.booking_requested.emit)
        lay.addWidget(booking)
        row = QHBoxLayout()
        lang = button(cat.t("welcome.lang"), "welcomeLanguage", "secondary")
        lang.clicked.connect(self.language_toggled.emit)
        elder = button(
            cat.t("welcome.elder_off" if flow.elder else "welcome.elder_on"), "welcomeElder", "secondary"
        )
        elder.clicked.connect(self.elder_toggled.emit)
        row.addWidget(lang)
        row.addWidget(elder)
        lay.addLayout(row)

    def _matters(self, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, info: ViewInfo) -> None:
        lay.addWidget(label(cat.t("matters.title"), "mattersTitle", "title", wrap=True))
        search_box = QLineEdit(flow.query)
        search_box.setObjectName("matterSearch")
        search_box.setPlaceholderText(cat.t("matters.search"))
        search_box.textEdited.connect(self.query_changed.emit)
        lay.addWidget(search_box)
        row = QHBoxLayout()
        for by, key in (("department", "matters.by_department"), ("category", "matters.by_category")):
            b = button(cat.t(key), f"browse_{by}", None if flow.browse == by else "secondary")
            b.clicked.connect(lambda _=False, by=by: self.browse_chosen.emit(by))
            row.addWidget(b)
        lay.addLayout(row)
        grid = QGridLayout()
        grid.setSpacing(12)
        if flow.query.strip() or flow.group:
            found = (
                search(flow.matters, flow.query)
                if flow.query.strip()
                else group(flow.matters, flow.browse).get(flow.group, [])
            )
            if not found:
                lay.addWidget(label(cat.t("matters.none"), "mattersNone", "warning", wrap=True))
            page = _page_of(found, flow.page, MATTERS_PER_PAGE)
            for i, m in enumerate(page):
                grid.addWidget(self._matter_tile(m, flow, cat, info), i // 2, i % 2)
            lay.addLayout(grid)
            self._pager(lay, flow.page, len(found), MATTERS_PER_PAGE, cat)
        else:
            groups = group(flow.matters, flow.browse)
            names = {d.id: cat.pick(d.name, d.name_en) for d in info.departments}
            keys = list(groups)
            page_keys = _page_of(keys, flow.page, GROUPS_PER_PAGE)
            for i, key in enumerate(page_keys):
                title = names.get(key, key) if flow.browse == "department" else key
                sub = " · ".join(cat.pick(m.name, m.name_en) for m in groups[key][:2])
                b = tile(title or "—", sub, f"group_{i}")
                b.setMinimumHeight(130 if flow.elder else 110)
                b.clicked.connect(lambda _=False, k=key: self.group_chosen.emit(k))
                grid.addWidget(b, i // 2, i % 2)
            lay.addLayout(grid)
            self._pager(lay, flow.page, len(keys), GROUPS_PER_PAGE, cat)
        query = flow.query
        self._keypad(
            lay,
            LETTERS,
            "key",
            lambda ch: self.query_changed.emit(query + ch.lower()),
            lambda: self.query_changed.emit(query[:-1]),
        )

    def _matter_tile(self, m: Matter, flow: KioskFlow, cat: Catalog, info: ViewInfo) -> QPushButton:
        sub = ""
        if m.code in flow.full:
            sub = cat.t("matters.full")
        elif m.code in info.closed:
            sub = cat.t("matters.closed")
            if info.closed[m.code]:
                sub += " · " + cat.t("message.next", t=info.closed[m.code])
        elif info.remaining.get(m.code) is not None:
            sub = cat.t("matters.remaining", n=info.remaining[m.code])
        b = tile(cat.pick(m.name, m.name_en), sub, f"matter_{m.code}")
        b.setMinimumHeight(140 if flow.elder else 110)
        b.clicked.connect(lambda _=False, code=m.code: self.matter_chosen.emit(code))
        return b

    def _pager(self, lay: QVBoxLayout, page: int, total: int, per: int, cat: Catalog) -> None:
        if total <= per:
            return
        row = QHBoxLayout()
        prev = button(cat.t("common.back"), "pagePrev", "secondary")
        prev.setEnabled(page > 0)
        prev.clicked.connect(lambda: self.page_moved.emit(-1))
        nxt = button(cat.t("matters.more"), "pageNext", "secondary")
        nxt.setEnabled((page + 1) * per < total)
        nxt.clicked.connect(lambda: self.page_moved.emit(1))
        row.addWidget(prev)
        row.addStretch(1)
        row.addWidget(label(f"{page + 1} / {(total + per - 1) // per}", "pageNumber"))
        row.addStretch(1)
        row.addWidget(nxt)
        lay.addLayout(row)

    def _keypad(
        self,
        lay: QVBoxLayout,
        keys: str,
        prefix: str,
        on_key: Callable[[str], None],
        on_delete: Callable[[], None],
    ) -> None:
        grid = QGridLayout()
        grid.setSpacing(6)
        per_row = 9
        for i, ch in enumerate(keys):
            b = button(ch, f"{prefix}_{ch}", "key")
            b.clicked.connect(lambda _=False, ch=ch: on_key(ch))
            grid.addWidget(b, i // per_row, i % per_row)
        n = len(keys)
        delete = button("⌫", f"{prefix}Delete", "key")
        delete.clicked.connect(lambda _=False: on_delete())
        grid.addWidget(delete, n // per_row, n % per_row)
        lay.addLayout(grid)

    def _question(self, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
        assert flow.matter is not None
        questions = flow.matter.precheck.questions
        q = questions[flow.question]
        lay.addWidget(
            label(cat.pick(flow.matter.name, flow.matter.name_en), "questionMatter", "muted", wrap=True)
        )
        lay.addWidget(
            label(cat.t("question.title", i=flow.question + 1, n=len(questions)), "questionProgress", "muted")
        )
        lay.addWidget(label(cat.pick(q.text, q.text_en), "questionText", "title", wrap=True))
        help_text = cat.pick(q.help, q.help_en) or cat.pick(q.fail_reason, q.fail_reason_en)
        if help_text:
            lay.addWidget(label(help_text, "questionHelp", "muted", wrap=True))
        lay.addSpacing(30)
        row = QHBoxLayout()
        for yes, name, key in ((True, "questionYes", "question.yes"), (False, "questionNo", "question.no")):
            b = button(cat.t(key), name)
            b.setMinimumHeight(140 if flow.elder else 110)
            b.clicked.connect(lambda _=False, yes=yes: self.answered.emit(yes))
            row.addWidget(b)
        lay.addLayout(row)

    def _materials(self, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
        assert flow.matter is not None
        lay.addWidget(
            label(cat.pick(flow.matter.name, flow.matter.name_en), "materialsMatter", "muted", wrap=True)
        )
        lay.addWidget(label(cat.t("materials.title"), "materialsTitle", "title", wrap=True))
        for m in flow.matter.precheck.materials:
            chosen = m.id in flow.present
            text = ("√ " if chosen else "") + cat.pick(m.name, m.name_en)
            if not m.required:
                text += " " + cat.t("materials.optional")
            b = button(text, f"material_{m.id}", "material")
            b.setCheckable(True)
            b.setChecked(chosen)
            b.setMinimumHeight(90 if flow.elder else 70)
            b.clicked.connect(lambda _=False, mid=m.id: self.material_toggled.emit(mid))
            lay.addWidget(b)
        done = button(cat.t("materials.done"), "materialsDone")
        done.setMinimumHeight(110 if flow.elder else 90)
        done.clicked.connect(self.materials_done.emit)
        lay.addWidget(done)

    def _confirm(self, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
        assert flow.matter is not None
        lay.addWidget(label(cat.t("priority.title"), "confirmTitle", "title", wrap=True))
        lay.addWidget(label(cat.pick(flow.matter.name, flow.matter.name_en), "confirmMatter", wrap=True))
        local = flow.local
        if local is Local.FAIL:
            lay.addWidget(label(cat.t("confirm.fail"), "confirmFail", "warning", wrap=True))
            b = button(cat.t("confirm.notice"), "confirmNormal")
            b.setMinimumHeight(130 if flow.elder else 110)
            b.clicked.connect(lambda: self.submitted.emit(""))
            lay.addWidget(b)
            return
        if local is Local.TOLERATED:
            lay.addWidget(label(cat.t("priority.tolerated"), "confirmTolerated", "warning", wrap=True))
        normal = button(cat.t("priority.normal"), "confirmNormal")
        normal.setMinimumHeight(150 if flow.elder else 120)
        normal.clicked.connect(lambda: self.submitted.emit(""))
        lay.addWidget(normal)
        classes = flow.selectable_classes
        if classes:
            lay.addSpacing(20)
            lay.addWidget(label(cat.t("priority.notice"), "priorityNotice", "muted", wrap=True))
            grid = QGridLayout()
            for i, p in enumerate(classes):
                b = button(cat.pick(p.name, p.name_en), f"priority_{p.id}", "secondary")
                b.clicked.connect(lambda _=False, pid=p.id: self.submitted.emit(pid))
                grid.addWidget(b, i // 2, i % 2)
            lay.addLayout(grid)

    def _issuing(self, lay: QVBoxLayout, _flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
        t = label(cat.t("issuing.title"), "issuingTitle", "title", wrap=True)
        t.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addSpacing(200)
        lay.addWidget(t)

    def _ticket(self, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
        issued, result = flow.issued, flow.print_result
        assert issued is not None
        assert result is not None
        t = issued.ticket
        if result.withdrawn:
            lay.addWidget(label(cat.t("ticket.voided", n=t.label), "ticketVoided", "error", wrap=True))
            return
        # The screen says what the paper says: the reply's print block in the citizen's language.
        p = issued.printout(flow.language)
        lay.addWidget(label(cat.t("ticket.title"), "ticketTitle", "title"))
        if p.tolerance_items:
            lay.addWidget(label(cat.t("ticket.tolerated"), "ticketTolerated", "warning"))
        if flow.booking_code and t.priority != "appointment":
            lay.addWidget(label(cat.t("booking.late"), "ticketLate", "warning", wrap=True))
        number = label(p.number, "ticketNumber", "big")
        number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(number)
        lay.addWidget(label(cat.t("ticket.matter", m=p.matter), "ticketMatter", wrap=True))
        ahead = cat.t("ticket.ahead", n=p.people_ahead) if p.people_ahead else cat.t("ticket.ahead_none")
        lay.addWidget(label(ahead, "ticketAhead", wrap=True))
        if p.estimate_min is None:
            est_text = cat.t("ticket.estimate_none")
        elif p.estimate_min[1] > 0:
            est_text = cat.t("ticket.estimate", lo=p.estimate_min[0], hi=p.estimate_min[1])
        else:
            est_text = cat.t("ticket.estimate_now")
        lay.addWidget(label(est_text, "ticketEstimate", wrap=True))
        if p.priority:
            lay.addWidget(label(cat.t("ticket.priority", p=p.priority), "ticketPriority", "muted", wrap=True))
        if p.tolerance_items:
            lay.addWidget(
                label(cat.t("ticket.bring", d=p.tolerance_due), "ticketBring", "warning", wrap=True)
            )
            for i, item in enumerate(p.tolerance_items):
                lay.addWidget(label(f"{i + 1}. {item}", f"ticketBringItem_{i}", wrap=True))
        row = QHBoxLayout()
        qr = QLabel()
        qr.setObjectName("ticketQr")
        qr.setPixmap(qr_pixmap(issued.status_url, 6))
        row.addWidget(qr)
        row.addWidget(label(cat.t("ticket.scan"), "ticketScan", wrap=True), 1)
        lay.addLayout(row)
        if result.printed:
            lay.addWidget(label(cat.t("ticket.take"), "ticketTake", "ok", wrap=True))
        else:
            lay.addWidget(label(cat.t("ticket.not_printed"), "ticketNotPrinted", "error", wrap=True))

    def _notice(self, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
        ni = flow.not_issued
        assert ni is not None
        lay.addWidget(label(cat.t("notice.title"), "noticeTitle", "title", wrap=True))
        if flow.matter is not None:
            lay.addWidget(label(cat.pick(flow.matter.name, flow.matter.name_en), "noticeMatter", wrap=True))
        lay.addWidget(label(cat.t("notice.intro"), "noticeIntro", wrap=True))
        for i, m in enumerate(ni.precheck.missing):
            lay.addWidget(label(f"{i + 1}. {cat.pick(m.text, m.text_en)}", f"noticeItem_{i}", wrap=True))
            where = cat.pick(m.where, m.where_en)
            if where:
                lay.addWidget(label(cat.t("notice.where", w=where), f"noticeWhere_{i}", "muted", wrap=True))
        printed = flow.print_result is not None and flow.print_result.printed
        key, name, role = (
            ("notice.printed", "noticePrinted", "ok")
            if printed
            else ("notice.not_printed", "noticeNotPrinted", "error")
        )
        lay.addWidget(label(cat.t(key), name, role, wrap=True))

    def _booking(self, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
        lay.addWidget(label(cat.t("booking.title"), "bookingTitle", "title"))
        lay.addWidget(label(cat.t("booking.hint"), "bookingHint", wrap=True))
        code = QLineEdit(flow.booking_code)
        code.setObjectName("bookingCode")
        code.setPlaceholderText(cat.t("booking.code"))
        code.textEdited.connect(lambda text: code.setText(text.upper()) if text != text.upper() else None)
        code.returnPressed.connect(lambda: self.booking_code_submitted.emit(code.text()))
        lay.addWidget(code)
        self._keypad(
            lay,
            CODE_KEYS,
            "codeKey",
            lambda ch: code.setText(code.text() + ch),
            lambda: code.setText(code.text()[:-1]),
        )
        submit = button(cat.t("booking.submit"), "bookingSubmit")
        submit.setMinimumHeight(110 if flow.elder else 90)
        submit.clicked.connect(lambda: self.booking_code_submitted.emit(code.text()))
        lay.addWidget(submit)

    def _message(self, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
        msg = flow.message
        assert msg is not None
        lay.addWidget(label(cat.t(msg.key), "messageTitle", "title", wrap=True))
        if msg.text:
            lay.addWidget(label(msg.text, "messageText", wrap=True))
        if msg.next_opening:
            lay.addWidget(label(cat.t("message.next", t=msg.next_opening), "messageNext", wrap=True))
        if msg.offer_walk_in:
            lay.addWidget(label(cat.t("booking.fallback"), "messageFallback", "muted", wrap=True))
            b = button(cat.t("booking.walk_in"), "messageWalkIn")
            b.clicked.connect(self.walk_in_requested.emit)
            lay.addWidget(b)
        else:
            lay.addWidget(label(cat.t("message.desk"), "messageDesk", "muted", wrap=True))

    def _desk(self, lay: QVBoxLayout, _flow: KioskFlow, cat: Catalog, info: ViewInfo) -> None:
        lay.addSpacing(150)
        t = label(cat.t("desk.title"), "deskTitle", "title", wrap=True)
        t.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(t)
        if info.printer_reason:
            r = label(cat.t("desk.reason", r=info.printer_reason), "deskReason", "muted", wrap=True)
            r.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lay.addWidget(r)

    def _offline(self, lay: QVBoxLayout, _flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
        lay.addSpacing(150)
        t = label(cat.t("offline.title"), "offlineTitle", "title", wrap=True)
        t.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(t)
        h = label(cat.t("offline.hint"), "offlineHint", wrap=True)
        h.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(h)


T = TypeVar("T")


def _page_of(items: Sequence[T], page: int, per: int) -> list[T]:
    start = max(0, page) * per
    return list(items[start : start + per])
