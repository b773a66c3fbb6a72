"""The kiosk's I/O around its pure flow: taps in, the hall and the printer out. Qt-free asyncio, so it runs
on qasync in the app and on a plain loop in tests and benchmarks (the counter's shape).

Every change ends in `on_change()` (the bridge turns it into a Qt signal, the app redraws). Background work:
the printer watch (state changes reported to the hall, `hallui.issuing.PrinterWatch`), a health poll of the
server (with the numbers left today every few rounds), and the scanner, whose codes arrive on the driver's
thread and are handed to the loop. Issuing is `hallui.issuing.Issuer`, shared with the service desk.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Literal

from drivers.protocols import CardEvent, CardFailed, CardRead, DeviceState, Health, IdCardReader, Scanner
from hallclient.api import HallApi
from hallclient.enroll import ensure_token, pinned_fingerprint
from hallclient.errors import AuthError, DiskFull, HallClientError, Refusal, ServerUnavailable
from hallcore.calendar import HallCalendar
from hallcore.clock import Clock
from hallcore.config import HallConfig
from hallcore.engine import RefusalCode
from hallui.cardread import CardVisit, sends_to_desk, visit_of
from hallui.issuing import (
    DeviceWatch,
    IssuedOutcome,
    Issuer,
    NoticeOutcome,
    Outcome,
    PrinterDown,
    PrinterWatch,
    Request,
    device_state,
    printable,
)
from hallui.tasks import Tasks
from hallui.waits import TileEstimates
from kiosk.flow import KioskFlow, Screen
from kiosk.info import Message, view_info

log = logging.getLogger(__name__)

#: Ask for the numbers left and the people waiting every this many health rounds.
REMAINING_EVERY = 3
STOP_GRACE_S = 3.0  # at the end, the health loop's time to finish a request in flight, then cancelled

#: Booking refusals and the screen text each one gets.
_BOOKING_KEYS: dict[str, str] = {
    RefusalCode.BOOKING_TOO_EARLY.value: "booking.too_early",
    RefusalCode.BOOKING_WRONG_DAY.value: "booking.wrong_day",
    RefusalCode.UNKNOWN_BOOKING.value: "booking.unknown",
    RefusalCode.BOOKING_STATE.value: "booking.used",
    RefusalCode.PERSON_LIMIT.value: "message.person_limit",
}


class KioskController:
    """Runs one kiosk. `start()` it on the running loop, `aclose()` it at the end."""

    def __init__(
        self,
        config: HallConfig,
        api: HallApi,
        issuer: Issuer,
        flow: KioskFlow,
        clock: Clock,
        *,
        scanner: Scanner | None = None,
        reader: IdCardReader | None = None,
        on_change: Callable[[], None] = lambda: None,
        printer_poll_s: float = 2.0,
        health_poll_s: float = 2.0,
    ) -> None:
        self.config = config
        self.api = api
        self.issuer = issuer
        self.flow = flow
        self.clock = clock
        self.scanner = scanner
        self.reader = reader
        self.on_change = on_change
        self.health_poll_s = health_poll_s
        self.calendar = HallCalendar(config.hall)
        self.info = view_info(config)
        self.watch = PrinterWatch(api, issuer.printer, self.printer_changed, interval_s=printer_poll_s)
        self.printer_state: DeviceState | None = None
        self.reader_watch = (
            DeviceWatch(
                api,
                lambda: device_state(reader),
                self.reader_changed,
                interval_s=printer_poll_s,
                device="id_reader",
            )
            if reader is not None
            else None
        )
        self.reader_state: DeviceState | None = None
        self._tiles = TileEstimates()  # what the home screen's tiles say per series (hallui.waits)
        self._tasks = Tasks("kiosk")
        self._stopping = asyncio.Event()
        self._health: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._unsubscribe_reader: Callable[[], None] | None = None

    # ---- lifecycle ------------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.monotonic()

    def start(self) -> None:
        """Watch the printer and the server, listen to the scanner."""
        loop = asyncio.get_running_loop()
        if self.scanner is not None and self._unsubscribe is None:

            def from_driver(code: str) -> None:  # on the scanner's thread
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self.scanned, code)

            self._unsubscribe = self.scanner.subscribe(from_driver)
        if self.reader is not None and self._unsubscribe_reader is None:

            def card_from_driver(event: CardEvent) -> None:  # on the reader's thread
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self.card_event, event)

            self._unsubscribe_reader = self.reader.subscribe(card_from_driver)
        if self.reader_watch is not None:
            self._tasks.spawn(self.reader_watch.run(), "reader watch")
        self._tasks.spawn(self.watch.run(), "printer watch")
        self._health = self._tasks.spawn(self._health_loop(), "health")

    async def aclose(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._unsubscribe_reader is not None:
            self._unsubscribe_reader()
            self._unsubscribe_reader = None
        # The health loop ends at its next pause: a request cut mid-connection leaves a socket to the GC.
        self._stopping.set()
        if self._health is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._health), STOP_GRACE_S)
        await self._tasks.aclose()

    def changed(self) -> None:
        """The flow changed: refresh what the matter list needs, then tell the app to redraw."""
        self.info.closed = (
            self.closed_matters() if self.flow.screen in (Screen.MATTERS, Screen.WELCOME) else {}
        )
        self.clock_tick()
        self.on_change()

    def clock_tick(self) -> None:
        """The header's date and time: the hall's local time now."""
        self.info.local_now = self.calendar.local(self.clock.now())

    def do(self, step: Callable[..., None], *args: object) -> None:
        """A tap the flow handles alone: `step(*args, now)`, then redraw."""
        step(*args, self.now())
        self.changed()

    def tick(self) -> bool:
        """Apply the flow's timeouts (the app calls this every second); True when the screen changed."""
        self.clock_tick()
        if self.flow.tick(self.now()):
            self.changed()
            return True
        return False

    # ---- taps that reach the hall ---------------------------------------------------------------------

    def set_query(self, text: str) -> None:
        self.do(self.flow.set_query, text)

    def _language(self) -> Literal["zh", "en"]:
        return "en" if self.flow.language == "en" else "zh"

    def submit(self, priority: str) -> None:
        """The final tap on the confirm screen: issue (or print the notice) for the citizen's answers."""
        self._issue_if(self.flow.submit(priority, self.now()))

    def all_present(self) -> None:
        """ "材料都带齐了，取号" on the checklist: every paper ticked and the normal ticket in one tap."""
        self._issue_if(self.flow.all_present(self.now()))

    def _issue_if(self, go: bool) -> None:
        if not go:
            self.changed()
            return
        m = self.flow.matter
        assert m is not None
        card, principal = self.flow.card, self.flow.principal
        request = Request(
            matter=m.code,
            answers=dict(self.flow.answers),
            present=frozenset(self.flow.present),
            priority=self.flow.priority,
            language=self._language(),
            # 刷身份证: the number goes in the request body over the pinned connection; the name only masked.
            holder_name=(principal or card).masked if card is not None else "",
            id_number=card.id_number if card is not None else "",
            principal_id_number=principal.id_number if principal is not None else "",
        )
        self.changed()
        self._tasks.spawn(self._issue(request), "issue")

    def submit_booking(self, text: str) -> None:
        code = booking_code(text)
        if not self.flow.submit_booking(code, self.now()):
            self.changed()
            return
        self.changed()
        self._tasks.spawn(self._issue(Request(booking_code=code, language=self._language())), "check-in")

    # ---- "快到您了" (kiosk/pages_notify.py) ----------------------------------------------------------------

    def notify_key(self, key: str) -> None:
        pad = self.flow.notify
        if pad is None or pad.busy:
            return
        self.flow.touch(self.now())
        if key == "consent":
            pad.toggle_consent()
        else:
            pad.press(key)
        self.changed()

    def submit_notify(self) -> None:
        pad, issued = self.flow.notify, self.flow.issued
        if pad is None or issued is None or not pad.ready:
            return
        pad.busy = True
        self.changed()
        self._tasks.spawn(self._opt_in(issued.ticket.id, pad.digits), "notify opt-in")

    async def _opt_in(self, ticket: str, phone: str) -> None:
        pad = self.flow.notify
        try:
            sub = await self.api.notify_opt_in(ticket, phone, lang=self._language())
        except Refusal as exc:
            if pad is not None:
                pad.busy, pad.error = (
                    False,
                    exc.code if exc.code in ("invalid_field", "number_limit") else "failed",
                )
        except HallClientError as exc:
            log.warning("notify opt-in: %s", exc)
            if pad is not None:
                pad.busy, pad.error = False, "failed"
        else:
            if (
                self.flow.notify is pad
                and self.flow.issued is not None
                and self.flow.issued.ticket.id == ticket
            ):
                self.flow.notified = sub.masked
                self.flow.notify = None
                self.flow.back(self.now())
        self.changed()

    def scanned(self, code: str) -> None:
        """A booking QR from the scanner: check in from welcome or the booking screen."""
        if self.flow.screen is Screen.WELCOME:
            self.flow.start_booking(self.now())
        if self.flow.screen is Screen.BOOKING:
            self.submit_booking(code)

    async def _issue(self, request: Request) -> None:
        try:
            outcome = await self.issuer.run(request)
        except HallClientError as exc:
            if isinstance(exc, ServerUnavailable):
                log.warning("issue: %s", exc)
            self._refused(exc)
        else:
            if self.issuer.last_state is not None:
                self.watch.seen(self.issuer.last_state)
            self._outcome(outcome)

    def _outcome(self, outcome: Outcome) -> None:
        now = self.now()
        if isinstance(outcome, PrinterDown):
            self.printer_changed(outcome.state)
            self.flow.printer_failed(now)
        elif isinstance(outcome, NoticeOutcome):
            self.flow.refused_ticket(outcome.not_issued, outcome.printed, now)
        elif isinstance(outcome, IssuedOutcome):
            self.flow.issued_ticket(outcome.issued, outcome.result, now)
            # From a server without per-series estimates the tiles scale it to the line as it is now.
            self._tiles.told(outcome.issued.ticket.series, outcome.issued.estimate, outcome.issued.ahead)
            self._estimate_tiles()
            if outcome.result.withdrawn:
                log.warning("%s voided after a print failure", outcome.issued.ticket.label)
        self.changed()

    def _refused(self, exc: HallClientError) -> None:
        now = self.now()
        if isinstance(exc, ServerUnavailable):
            self.flow.server_failed(now)
        elif isinstance(exc, Refusal):
            full = exc.code == RefusalCode.CAP_REACHED
            self.flow.refused(self.refusal_message(exc), now, matter_full=full)
        elif isinstance(exc, (DiskFull, AuthError)):
            self.flow.refused(Message("message.error", self._pick(exc.message, exc.message_en)), now)
        else:
            self.flow.refused(Message("message.error"), now)
        self.changed()

    def _pick(self, zh: str, en: str) -> str:
        return (en or zh) if self.flow.language == "en" else zh

    def refusal_message(self, exc: Refusal) -> Message:
        """What the citizen is told about a refusal, with the next chance in the hall's local time."""
        text = self._pick(exc.message, exc.message_en)
        nxt = ""
        raw = exc.detail.get("next_opening")
        if isinstance(raw, str) and raw:
            try:
                nxt = self._local_time(dt.datetime.fromisoformat(raw))
            except ValueError:
                nxt = ""
        if exc.code == RefusalCode.CAP_REACHED:
            # Caps are per business day: the next chance is the next opening after today.
            opens = self.calendar.next_day_opening(self.clock.now())
            return Message("message.full", text, self._local_time(opens) if opens else "")
        if exc.code in (RefusalCode.HALL_CLOSED, RefusalCode.SERIES_CLOSED, RefusalCode.BOOKING_ONLY_DAY):
            return Message("message.closed", text, nxt)
        booking = self.flow.booking_code != ""
        return Message(_BOOKING_KEYS.get(exc.code, "message.error"), text, nxt, offer_walk_in=booking)

    def closed_matters(self) -> dict[str, str]:
        """Matters not taking walk-ins now, with their next opening ("" if unknown)."""
        now = self.clock.now()
        out: dict[str, str] = {}
        for m in self.config.matters:
            series = self.config.series_by_prefix[m.series]
            if not self.calendar.accepting_walk_ins(now, series):
                # Between sessions this is the afternoon's opening; on a 5+1 Saturday the next walk-in day.
                nxt = self.calendar.next_opening(now, walk_ins_only=True, series=series)
                out[m.code] = self._local_time(nxt) if nxt else ""
        return out

    def _local_time(self, when: dt.datetime) -> str:
        return self.calendar.local(when).strftime("%Y-%m-%d %H:%M")

    # ---- printer, server, enrollment ------------------------------------------------------------------

    def printer_changed(self, state: DeviceState) -> None:
        self.printer_state = state
        self.info.printer_reason = state.reason
        before = self.flow.screen
        self.flow.set_printer(printable(state), state.reason, self.now())
        if self.flow.screen is not before or self.flow.screen is Screen.DESK:
            self.changed()

    # ---- 刷身份证 ---------------------------------------------------------------------------------------

    def reader_changed(self, state: DeviceState) -> None:
        """The reader's state: the welcome invites 刷身份证 only while it works (the touch path always
        does)."""
        self.reader_state = state
        ok = state.health is not Health.UNAVAILABLE
        if ok != self.flow.reader_ok:
            self.flow.reader_ok = ok
            if self.flow.screen is Screen.WELCOME:
                self.changed()

    def card_event(self, event: CardEvent) -> None:
        """A card placed on the reader (on the loop): greet, look the person up, or say what went wrong."""
        now = self.now()
        if isinstance(event, CardRead):
            today = self.calendar.business_day(self.clock.now())
            visit = visit_of(event.card, self.config, today)
            if sends_to_desk(self.config, visit):
                if self.flow.screen in (Screen.WELCOME, Screen.CARD, Screen.MATTERS):
                    self.flow.refused(Message("card.to_desk"), now)
                    self.changed()
                return
            if not self.flow.card_read(visit, now):
                return
            self.changed()
            if self.flow.card is visit:  # a new visit (not a principal's card): what the hall knows today
                self._tasks.spawn(self._look_up(visit), "card lookup")
        elif self.flow.screen in (Screen.WELCOME, Screen.CARD):
            key = "card.failed" if isinstance(event, CardFailed) else "card.unsupported"
            self.flow.refused(Message(key), now)
            self.changed()

    async def _look_up(self, visit: CardVisit) -> None:
        try:
            found = await self.api.person_today(visit.id_number)
        except HallClientError as exc:
            log.info("card lookup: %s", type(exc).__name__)  # the issue itself still counts and refuses
            return
        known = replace(visit, bookings=tuple(found.bookings), tickets_left=found.tickets_left)
        now = self.now()
        self.flow.card_known(known)
        if self.flow.card is not known:
            return
        if found.tickets_left == 0 and self.flow.screen is Screen.CARD and not found.bookings:
            nxt = self._local_time(found.next_opening) if found.next_opening else ""
            self.flow.refused(Message("message.person_limit", next_opening=nxt), now)
        self.changed()

    def check_in_booking(self, code: str) -> None:
        """A booking the card found, tapped on the greeting: check it in (the booking screen's path)."""
        if self.flow.screen is Screen.CARD:
            self.flow.start_booking(self.now())
            self.submit_booking(code)

    def server_changed(self, ok: bool) -> None:
        before = self.flow.screen
        self.flow.set_server(ok, self.now())
        self.flow.tick(self.now())
        if self.flow.screen is not before:
            self.changed()

    async def check_server(self) -> bool:
        try:
            await self.api.health()
        except Exception as exc:  # any failure to get an answer is "unreachable" for the citizen
            log.debug("health: %s", exc)
            self.server_changed(False)
            return False
        self.server_changed(True)
        return True

    async def _health_loop(self) -> None:
        rounds = 0
        while not self._stopping.is_set():
            if await self.check_server() and rounds % REMAINING_EVERY == 0:
                await self.refresh_remaining()
                await self.refresh_waiting()
            rounds += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.health_poll_s)

    async def refresh_waiting(self) -> None:
        """People waiting per series and the wait a ticket would be told now, for the home screen's tiles."""
        try:
            snap = await self.api.snapshot()
        except HallClientError as exc:
            log.debug("snapshot: %s", exc)
            return
        if not self._tiles.hall_said(snap.estimates) and snap.waiting == self.info.waiting:
            return
        self.info.waiting = dict(snap.waiting)
        self._estimate_tiles()
        if self.flow.screen is Screen.WELCOME:
            self.changed()

    def _estimate_tiles(self) -> None:
        self.info.estimates = self._tiles.tiles(self.info.waiting)

    async def refresh_remaining(self) -> None:
        """Numbers left today for capped matters, so the matter list says what is left (DESIGN.md §4)."""
        try:
            left = await self.api.remaining()
        except HallClientError as exc:
            log.debug("remaining: %s", exc)
            return
        if not self.config.kiosk.show_remaining or left == self.info.remaining:
            return
        self.info.remaining = dict(left)
        if self.flow.screen is Screen.MATTERS:
            self.changed()

    async def enroll(self, path: Path, name: str, server: str, *, poll_s: float = 2.0) -> str:
        """First start: show the enrollment code until the manager approves; returns the token (kept in
        `path`). Raises `EnrollmentError` when the manager refused it."""

        def on_code(code: str) -> None:
            self.info.enroll_code = code
            self.info.enroll_fingerprint = pinned_fingerprint(path)
            self.flow.set_enrolled(False, self.now())
            self.changed()

        token = await ensure_token(
            self.api, path, name=name, role="kiosk", server=server, on_code=on_code, poll_s=poll_s
        )
        self.do(self.flow.set_enrolled, True)
        return token


def booking_code(text: str) -> str:
    """A booking code typed, or scanned from the booking QR (which may carry a URL ending in the code)."""
    text = text.strip()
    for sep in ("code=", "/"):
        if sep in text:
            text = text.rsplit(sep, 1)[1]
    return text.strip().upper()
