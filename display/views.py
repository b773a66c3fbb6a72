"""The hall display's widgets: a full-screen board in a landscape (1920×1080) or portrait (1080×1920) layout.

`BoardView.show_state(state)` draws one `flow.BoardState`; nothing here decides anything. `changed` is emitted
after a render that changed what people can read (the benchmark and tests wait on it).
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from display.flow import BoardState, CallRow, Screen, SeriesRow
from hallui.connection import ConnectionBanner
from hallui.enrollment import EnrollmentView
from hallui.i18n import Catalog
from hallui.theme import BOARD, FONT_FAMILY, TYPE
from hallui.widgets import label


class Orientation(StrEnum):
    LANDSCAPE = "landscape"
    PORTRAIT = "portrait"


SIZES = {Orientation.LANDSCAPE: (1920, 1080), Orientation.PORTRAIT: (1080, 1920)}

# A dark board: bright text on navy reads from across a hall (the board scheme of hallui/theme.py).
BG, PANEL, TEXT, ACCENT = BOARD.background, BOARD.panel, BOARD.text, BOARD.accent
CALM, MUTED, ALERT_BG = BOARD.calm, BOARD.muted, BOARD.alert
TILE_PT = 22
STALE_BODY_PT = 30


def stylesheet(orientation: Orientation) -> str:
    big = 150 if orientation is Orientation.LANDSCAPE else 160
    return f"""
    QWidget {{ background: {BG}; color: {TEXT}; font-family: "{FONT_FAMILY}"; font-size: {TYPE.board_pt}pt; }}
    QFrame[role="panel"], QFrame[role="panel"] QLabel {{ background: {PANEL}; }}
    QLabel#hallName {{ font-size: 40pt; font-weight: bold; }}
    QLabel#clock {{ font-size: 48pt; font-weight: bold; color: {ACCENT}; }}
    QLabel#date, QLabel#zoneName {{ font-size: 26pt; color: {MUTED}; }}
    QLabel#connectionBanner {{ font-size: 18pt; color: {MUTED}; }}
    QLabel#connectionBanner[role="warning"] {{ color: {ACCENT}; }}
    QLabel#connectionBanner[role="error"] {{ color: {BOARD.error_text}; }}
    QLabel#nowCalling, QLabel#recentTitle, QLabel#waitingTitle {{ font-size: 30pt; color: {MUTED}; }}
    QLabel#latestNumber {{ font-size: {big}pt; font-weight: bold; color: {ACCENT}; }}
    QLabel#latestWindow {{ font-size: 64pt; font-weight: bold; }}
    QLabel#latestWindowName, QLabel#latestMatter {{ font-size: 34pt; color: {CALM}; }}
    QLabel#latestHolder {{ font-size: 34pt; }}
    QLabel[role="recent"] {{ font-size: 38pt; }}
    QLabel[role="tile"] {{ font-size: {TILE_PT}pt; }}
    QLabel#subtitle {{ font-size: 34pt; color: {ACCENT}; }}
    QLabel#voiceProblem {{ font-size: 18pt; color: {MUTED}; }}
    QFrame#stalePanel, QFrame#stalePanel QLabel {{ background: {ALERT_BG}; color: {BOARD.alert_text}; }}
    QLabel#staleTitle {{ font-size: 60pt; font-weight: bold; }}
    QLabel#staleBody {{ font-size: {STALE_BODY_PT}pt; }}
    QLabel#enrollCode {{ font-size: 96pt; font-weight: bold; color: {ACCENT}; }}
    """


class NoticeTicker(QWidget):
    """The scrolling notice line. Scrolls only when the text is wider than the screen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice")
        self._text = ""
        self._offset = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self._step)
        font = QFont(FONT_FAMILY)
        font.setPointSize(28)
        self.setFont(font)
        self.setMinimumHeight(self.fontMetrics().height() + 16)

    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        if text == self._text:
            return
        self._text = text
        self._offset = 0.0
        self._update_timer()
        self.update()

    def _text_width(self) -> int:
        return self.fontMetrics().horizontalAdvance(self._text)

    def _update_timer(self) -> None:
        scrolls = bool(self._text) and self._text_width() > self.width()
        if scrolls and not self._timer.isActive():
            self._timer.start()
        elif not scrolls and self._timer.isActive():
            self._timer.stop()
            self._offset = 0.0

    def resizeEvent(self, _event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        self._update_timer()

    def _step(self) -> None:
        span = self._text_width() + self.width() // 3
        self._offset = (self._offset + 2.0) % max(1, span)
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(PANEL))
        painter.setPen(QColor(TEXT))
        painter.setFont(self.font())
        rect = QRectF(self.rect())
        if not self._timer.isActive():
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), self._text)
            painter.end()
            return
        width = self._text_width()
        gap = self.width() // 3
        x = -self._offset
        while x < self.width():
            painter.drawText(
                QRectF(x, 0, width + 4, rect.height()), int(Qt.AlignmentFlag.AlignVCenter), self._text
            )
            x += width + gap
        painter.end()


def _panel(name: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName(name)
    frame.setProperty("role", "panel")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(24, 16, 24, 16)
    return frame, layout


class BoardView(QWidget):
    """The whole screen. Tests find every part by objectName."""

    changed = Signal()

    def __init__(
        self,
        catalog: Catalog,
        orientation: Orientation = Orientation.LANDSCAPE,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("boardView")
        self.catalog = catalog
        self.orientation = orientation
        landscape = orientation is Orientation.LANDSCAPE
        self.recent_rows = 6 if landscape else 8
        self.tile_columns = 4 if landscape else 2
        self.tile_count = 8
        self._last_texts: tuple[str, ...] = ()
        self.setStyleSheet(stylesheet(orientation))
        self.resize(*SIZES[orientation])

        # header
        self.hall_name = label("", "hallName")
        self.zone_name = label("", "zoneName")
        self.date = label("", "date")
        self.clock = label("", "clock")
        self.banner = ConnectionBanner(catalog)
        header = QHBoxLayout()
        header.addWidget(self.hall_name)
        header.addWidget(self.zone_name)
        header.addStretch(1)
        header.addWidget(self.date)
        header.addSpacing(24)
        header.addWidget(self.clock)

        # the call being made, big
        call_panel, call_box = _panel("callPanel")
        self.now_calling = label(catalog.t("board.now_calling"), "nowCalling")
        self.latest_number = label("", "latestNumber")
        self.latest_window = label("", "latestWindow")
        self.latest_window_name = label("", "latestWindowName")
        self.latest_matter = label("", "latestMatter")
        self.latest_holder = label("", "latestHolder")
        for w in (
            self.now_calling,
            self.latest_number,
            self.latest_window,
            self.latest_window_name,
            self.latest_matter,
            self.latest_holder,
        ):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            call_box.addWidget(w)
        call_box.addStretch(1)
        self.latest_holder.hide()

        # recent calls
        recent_panel, recent_box = _panel("recentPanel")
        recent_box.addWidget(label(catalog.t("board.recent"), "recentTitle"))
        self.recent: list[QLabel] = []
        for i in range(self.recent_rows):
            row = label("", f"recentRow{i}", "recent")
            self.recent.append(row)
            recent_box.addWidget(row)
        recent_box.addStretch(1)

        # the server is gone: say so instead of the calls
        stale_panel, stale_box = _panel("stalePanel")
        stale_panel.setObjectName("stalePanel")
        self.stale_title = label(catalog.t("board.stale_title"), "staleTitle")
        self.stale_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stale_body = label("", "staleBody", wrap=True)
        body_font = QFont(FONT_FAMILY)
        body_font.setPointSize(STALE_BODY_PT)
        # A stacked page gets no height-for-width from its label: reserve the lines the text wraps to.
        self.stale_body.setMinimumHeight(QFontMetrics(body_font).lineSpacing() * 4)
        self.stale_body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        stale_box.addStretch(1)
        stale_box.addWidget(self.stale_title)
        stale_box.addWidget(self.stale_body)
        stale_box.addStretch(1)

        calls_page = QWidget()
        calls_page.setObjectName("callsPage")
        calls_layout: QHBoxLayout | QVBoxLayout = QHBoxLayout() if landscape else QVBoxLayout()
        calls_layout.setContentsMargins(0, 0, 0, 0)
        calls_layout.addWidget(call_panel, 3)
        calls_layout.addWidget(recent_panel, 2)
        calls_page.setLayout(calls_layout)
        self.middle = QStackedWidget()
        self.middle.setObjectName("middle")
        self.middle.addWidget(calls_page)
        self.middle.addWidget(stale_panel)
        self.calls_page = calls_page
        self.stale_panel = stale_panel

        # waiting per series
        waiting_panel, waiting_box = _panel("waitingPanel")
        self.waiting_panel = waiting_panel
        waiting_box.addWidget(label(catalog.t("board.waiting"), "waitingTitle"))
        grid = QGridLayout()
        self.tiles: list[QLabel] = []
        tile_font = QFont(FONT_FAMILY)
        tile_font.setPointSize(TILE_PT)
        tile_height = QFontMetrics(tile_font).lineSpacing() * 2 + 8  # two lines: count, then estimate
        for i in range(self.tile_count):
            tile = label("", f"waitingTile{i}", "tile", wrap=True)
            tile.setMinimumHeight(tile_height)
            self.tiles.append(tile)
            grid.addWidget(tile, i // self.tile_columns, i % self.tile_columns)
        waiting_box.addLayout(grid)

        self.subtitle = label("", "subtitle", wrap=True)
        self.subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.voice_problem = label("", "voiceProblem", wrap=True)
        self.voice_problem.hide()
        self.notice = NoticeTicker()

        board = QWidget()
        board.setObjectName("boardPage")
        board_box = QVBoxLayout(board)
        board_box.setContentsMargins(32, 16, 32, 16)
        board_box.addLayout(header)
        board_box.addWidget(self.banner)
        board_box.addWidget(self.middle, 5 if landscape else 8)
        board_box.addWidget(waiting_panel, 2 if landscape else 3)
        board_box.addWidget(self.subtitle)
        board_box.addWidget(self.voice_problem)
        board_box.addWidget(self.notice)
        self.board_page = board

        self.enrollment = EnrollmentView(catalog)
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.pages.addWidget(board)
        self.pages.addWidget(self.enrollment)
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.addWidget(self.pages)

    # ---- drawing ---------------------------------------------------------------------------------------

    def show_state(self, state: BoardState) -> None:
        t = self.catalog.t
        if state.screen is Screen.ENROLLING:
            self.pages.setCurrentWidget(self.enrollment)
            if state.enroll_revoked:
                self.enrollment.show_revoked()
            else:
                self.enrollment.show_code(
                    state.enroll_code, state.hall_name, "display", state.enroll_fingerprint
                )
            self._emit_if_changed()
            return
        self.pages.setCurrentWidget(self.board_page)
        self.hall_name.setText(state.hall_name)
        self.zone_name.setText(t("board.zone", zone=state.zone_name) if state.zone_name else "")
        weekday = t(f"weekday.{state.now.weekday()}")
        self.date.setText(t("board.date", month=state.now.month, day=state.now.day, weekday=weekday))
        self.clock.setText(state.now.strftime("%H:%M"))
        self.banner.show_state(state.connection.value, state.data_age_s)
        self.notice.set_text(state.notice)
        self.subtitle.setText(state.subtitle)
        self.voice_problem.setText(
            t("voice.unavailable", reason=state.voice_problem) if state.voice_problem else ""
        )

        # Waiting counts are as old as the calls: hidden with them.
        self.waiting_panel.setVisible(not state.stale)
        if state.stale:
            self.middle.setCurrentWidget(self.stale_panel)
            at = state.last_update.strftime("%H:%M:%S") if state.last_update else "—"
            secs = int(state.stale_for_s)
            duration = t("duration.s", n=secs) if secs < 120 else t("duration.min", n=secs // 60)
            self.stale_body.setText(t("board.stale_body", duration=duration, at=at))
        else:
            self.middle.setCurrentWidget(self.calls_page)
        self._render_latest(state.latest)
        for i, row in enumerate(self.recent):
            if i < len(state.recent):
                call = state.recent[i]
                row.setText(t("board.recent_row", number=call.label, window=call.window))
            else:
                row.setText("")
        self._render_series(state.series, state.series_page)
        self._emit_if_changed()

    def _render_latest(self, call: CallRow | None) -> None:
        t = self.catalog.t
        if call is None:
            self.now_calling.setText(t("board.now_calling"))
            self.latest_number.setText("")
            self.latest_window.setText(t("board.no_call"))
            for w in (self.latest_window_name, self.latest_matter, self.latest_holder):
                w.setText("")
            return
        self.now_calling.setText(t("board.recall" if call.recall else "board.now_calling"))
        self.latest_number.setText(call.label)
        self.latest_window.setText(t("board.to_window", window=call.window))
        self.latest_window_name.setText(call.window_name)
        self.latest_matter.setText(call.matter_name)
        self.latest_holder.setText(call.holder)
        self.latest_holder.setVisible(bool(call.holder))  # names only where the hall shows them

    def _render_series(self, series: tuple[SeriesRow, ...], turn: int) -> None:
        t = self.catalog.t
        pages = max(1, -(-len(series) // self.tile_count))
        page = turn % pages
        shown = series[page * self.tile_count : (page + 1) * self.tile_count]
        for i, tile in enumerate(self.tiles):
            if i >= len(shown):
                tile.setText("")
                continue
            s = shown[i]
            name = self.catalog.pick(s.name, s.name_en)
            line = t("board.series_row", prefix=s.prefix, name=name, waiting=s.waiting)
            if s.waiting == 0:
                est = t("board.estimate_none")
            elif s.low_min is None or s.high_min is None:
                est = t("board.estimate_unknown")
            else:
                est = t("board.estimate", low=s.low_min, high=s.high_min)
            tile.setText(f"{line}\n{est}")

    def visible_texts(self) -> tuple[str, ...]:
        """What a person can read now (for `changed` and for tests)."""
        if self.pages.currentWidget() is self.enrollment:
            return (self.enrollment.code.text(), self.enrollment.hint.text())
        texts = [self.clock.text(), self.banner.text(), self.subtitle.text(), self.notice.text()]
        if self.middle.currentWidget() is self.stale_panel:
            texts += [self.stale_title.text(), self.stale_body.text()]
        else:
            texts += [self.now_calling.text(), self.latest_number.text(), self.latest_window.text()]
            texts += [self.latest_window_name.text()]
            texts += [r.text() for r in self.recent]
        if self.waiting_panel.isVisibleTo(self):
            texts += [tile.text() for tile in self.tiles]
        return tuple(texts)

    def _emit_if_changed(self) -> None:
        texts = self.visible_texts()
        if texts != self._last_texts:
            self._last_texts = texts
            self.changed.emit()
