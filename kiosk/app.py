"""The kiosk put together: view intents → flow → bridge (hall, printer) → flow → view.

Built by `kiosk.__main__` (or a test) from objects made there; holds no I/O of its own. `tick()` applies
the flow's timeouts and is driven by a one-second QTimer; tests call it after moving their fake clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Literal

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLineEdit

from drivers.protocols import DeviceState
from hallclient.errors import AuthError, DiskFull, HallClientError, Refusal, ServerUnavailable
from hallcore.calendar import HallCalendar
from hallcore.clock import Clock
from hallcore.config import HallConfig
from hallcore.engine import RefusalCode
from hallui.i18n import Catalog
from hallui.issuing import IssuedOutcome, NoticeOutcome, Outcome, PrinterDown, Request, printable
from kiosk.bridge import KioskBridge
from kiosk.flow import FlowSettings, KioskFlow, Message, Screen
from kiosk.views import KioskView, ViewInfo

log = logging.getLogger(__name__)


def printer_reason(state: DeviceState, catalog: Catalog) -> str:
    """The printer's reason in the citizen's language (drivers give "缺纸 paper out")."""
    reason = state.reason
    if " " in reason and any("\u4e00" <= ch <= "\u9fff" for ch in reason):
        zh, _, en = reason.partition(" ")
        return en if catalog.language == "en" else zh
    return reason


class KioskApp:
    def __init__(
        self,
        config: HallConfig,
        view: KioskView,
        bridge: KioskBridge,
        catalog: Catalog,
        clock: Clock,
        *,
        settings: FlowSettings | None = None,
        tick_ms: int = 1000,
    ) -> None:
        self.config = config
        self.view = view
        self.bridge = bridge
        self.catalog = catalog
        self.clock = clock
        self.calendar = HallCalendar(config.hall)
        k = config.kiosk
        self.flow = KioskFlow(
            settings=settings or FlowSettings(float(k.idle_reset_s), float(k.elder_idle_reset_s)),
            matters=config.matters,
            priority_classes=config.priority_classes,
        )
        self.info = ViewInfo(
            hall_name=config.hall.name,
            hall_name_en=config.hall.name_en,
            departments=config.departments,
        )
        self.printer_state: DeviceState | None = None
        self._connect()
        self.timer = QTimer()
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)

    def _connect(self) -> None:
        v, b = self.view, self.bridge
        v.start_requested.connect(lambda: self._do(self.flow.start))
        v.booking_requested.connect(lambda: self._do(self.flow.start_booking))
        v.language_toggled.connect(lambda: self._do(self.flow.toggle_language))
        v.elder_toggled.connect(lambda: self._do(self.flow.toggle_elder))
        v.browse_chosen.connect(lambda by: self._do(lambda now: self.flow.set_browse(by, now)))
        v.group_chosen.connect(lambda key: self._do(lambda now: self.flow.set_group(key, now)))
        v.page_moved.connect(lambda step: self._do(lambda now: self.flow.move_page(step, now)))
        v.query_changed.connect(self._query)
        v.matter_chosen.connect(lambda code: self._do(lambda now: self.flow.choose_matter(code, now)))
        v.answered.connect(lambda yes: self._do(lambda now: self.flow.answer(yes, now)))
        v.material_toggled.connect(lambda mid: self._do(lambda now: self.flow.toggle_material(mid, now)))
        v.materials_done.connect(lambda: self._do(self.flow.materials_done))
        v.submitted.connect(self._submit)
        v.booking_code_submitted.connect(self._submit_booking)
        v.walk_in_requested.connect(lambda: self._do(self.flow.walk_in_instead))
        v.back_requested.connect(lambda: self._do(self.flow.back))
        v.home_requested.connect(lambda: self._do(self.flow.home))
        b.printer_changed.connect(self._printer_changed)
        b.server_changed.connect(self._server_changed)
        b.issue_done.connect(self._issue_done)
        b.issue_failed.connect(self._issue_failed)
        b.scanned.connect(self._scanned)
        b.enroll_code.connect(self._enroll_code)
        b.enrolled.connect(lambda _token: self._do(lambda now: self.flow.set_enrolled(True, now)))
        b.remaining_changed.connect(self._remaining)

    # ---- plumbing ------------------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.monotonic()

    def _do(self, step: object) -> None:
        assert callable(step)
        step(self.now())
        self.render()

    def render(self) -> None:
        self.catalog.language = self.flow.language
        self.info.closed = self._closed_matters() if self.flow.screen is Screen.MATTERS else {}
        self.info.printer_reason = (
            printer_reason(self.printer_state, self.catalog) if self.printer_state else ""
        )
        self.view.show_flow(self.flow, self.catalog, self.info)
        self.view.set_countdown(self.flow.seconds_left(self.now()))

    def tick(self) -> None:
        if self.flow.tick(self.now()):
            self.render()
        else:
            self.view.set_countdown(self.flow.seconds_left(self.now()))

    def start(self) -> None:
        self.flow.touch(self.now())
        self.render()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _remaining(self, left: object) -> None:
        if not isinstance(left, dict) or not self.config.kiosk.show_remaining:
            return
        if left != self.info.remaining:
            self.info.remaining = dict(left)
            if self.flow.screen is Screen.MATTERS:
                self.render()

    def _closed_matters(self) -> dict[str, str]:
        now = self.clock.now()
        out: dict[str, str] = {}
        for m in self.config.matters:
            series = self.config.series_by_prefix[m.series]
            if not self.calendar.accepting_walk_ins(now, series):
                nxt = self.calendar.next_opening(now, walk_ins_only=True)
                out[m.code] = self._local_time(nxt) if nxt else ""
        return out

    def _local_time(self, when: dt.datetime) -> str:
        return self.calendar.local(when).strftime("%Y-%m-%d %H:%M")

    # ---- intents -------------------------------------------------------------------------------------------

    def _query(self, text: str) -> None:
        self.flow.set_query(text, self.now())
        self.render()
        box = self.view.findChild(QLineEdit, "matterSearch")
        if box is not None:
            box.setFocus()
            box.setCursorPosition(len(text))

    def _language(self) -> Literal["zh", "en"]:
        return "en" if self.flow.language == "en" else "zh"

    def _submit(self, priority: str) -> None:
        if not self.flow.submit(priority, self.now()):
            self.render()
            return
        m = self.flow.matter
        assert m is not None
        request = Request(
            matter=m.code,
            answers=dict(self.flow.answers),
            present=frozenset(self.flow.present),
            priority=priority,
            language=self._language(),
        )
        self.render()
        self.bridge.issue(request)

    def _submit_booking(self, code: str) -> None:
        code = _booking_code(code)
        if not self.flow.submit_booking(code, self.now()):
            self.render()
            return
        self.render()
        self.bridge.issue(Request(booking_code=code, language=self._language()))

    def _scanned(self, code: str) -> None:
        """A booking QR from the scanner: check in from welcome or the booking screen."""
        if self.flow.screen is Screen.WELCOME:
            self.flow.start_booking(self.now())
        if self.flow.screen is Screen.BOOKING:
            self._submit_booking(code)

    # ---- results -------------------------------------------------------------------------------------------

    def _issue_done(self, outcome: Outcome) -> None:
        now = self.now()
        if isinstance(outcome, PrinterDown):
            self._printer_changed(outcome.state)
            self.flow.printer_failed(now)
        elif isinstance(outcome, NoticeOutcome):
            self.flow.refused_ticket(outcome.not_issued, outcome.printed, now)
        elif isinstance(outcome, IssuedOutcome):
            self.flow.issued_ticket(outcome.issued, outcome.result, now)
            if outcome.result.withdrawn:
                log.warning("%s voided after a print failure", outcome.issued.ticket.label)
        self.render()

    def _issue_failed(self, exc: HallClientError) -> None:
        now = self.now()
        if isinstance(exc, ServerUnavailable):
            self.flow.server_failed(now)
        elif isinstance(exc, Refusal):
            self.flow.refused(
                self._refusal_message(exc), now, matter_full=exc.code == RefusalCode.CAP_REACHED
            )
        elif isinstance(exc, (DiskFull, AuthError)):
            self.flow.refused(Message("message.error", self._pick(exc.message, exc.message_en)), now)
        else:
            self.flow.refused(Message("message.error"), now)
        self.render()

    def _pick(self, zh: str, en: str) -> str:
        return self.catalog.pick(zh, en) if self.flow.language == "en" else zh

    def _refusal_message(self, exc: Refusal) -> Message:
        text = self._pick(exc.message, exc.message_en)
        code = exc.code
        nxt = ""
        raw = exc.detail.get("next_opening")
        if isinstance(raw, str) and raw:
            try:
                nxt = self._local_time(dt.datetime.fromisoformat(raw))
            except ValueError:
                nxt = ""
        if code == RefusalCode.CAP_REACHED:
            # Caps are per business day: the next chance is the next opening after today.
            tomorrow = self.calendar.business_day(self.clock.now()) + dt.timedelta(days=1)
            opens = None
            for i in range(60):
                opens = self.calendar.opens_at(tomorrow + dt.timedelta(days=i))
                if opens is not None and not self.calendar.is_booking_only(tomorrow + dt.timedelta(days=i)):
                    break
            return Message("message.full", text, self._local_time(opens) if opens else "")
        if code in (RefusalCode.HALL_CLOSED, RefusalCode.SERIES_CLOSED, RefusalCode.BOOKING_ONLY_DAY):
            return Message("message.closed", text, nxt)
        booking = self.flow.booking_code != ""
        keys: dict[str, str] = {
            RefusalCode.BOOKING_TOO_EARLY.value: "booking.too_early",
            RefusalCode.BOOKING_WRONG_DAY.value: "booking.wrong_day",
            RefusalCode.UNKNOWN_BOOKING.value: "booking.unknown",
            RefusalCode.BOOKING_STATE.value: "booking.used",
        }
        return Message(keys.get(code, "message.error"), text, nxt, offer_walk_in=booking)

    # ---- devices, server, enrollment ---------------------------------------------------------------------

    def _printer_changed(self, state: DeviceState) -> None:
        self.printer_state = state
        before = self.flow.screen
        self.flow.set_printer(printable(state), state.reason, self.now())
        if self.flow.screen is not before or self.flow.screen is Screen.DESK:
            self.render()

    def _server_changed(self, ok: bool) -> None:
        before = self.flow.screen
        self.flow.set_server(ok, self.now())
        self.flow.tick(self.now())
        if self.flow.screen is not before:
            self.render()

    def _enroll_code(self, code: str) -> None:
        self.info.enroll_code = code
        self.flow.set_enrolled(False, self.now())
        self.render()


def _booking_code(text: str) -> str:
    """A booking code typed, or scanned from the booking QR (which may carry a URL ending in the code)."""
    text = text.strip()
    for sep in ("code=", "/"):
        if sep in text:
            text = text.rsplit(sep, 1)[1]
    return text.strip().upper()
