"""The one QObject between the kiosk's asyncio side (hall client, printer threads, scanner thread) and Qt.

Coroutines run as tasks on the qasync loop; their results come back as signals. The scanner calls its
listener on the driver's thread: the signal is queued to the Qt thread by Qt itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from drivers.protocols import DeviceState, Scanner, TicketPrinter
from hallclient.api import HallApi
from hallclient.enroll import ensure_token
from hallclient.errors import EnrollmentError, HallClientError, ServerUnavailable
from hallui.issuing import Issuer, PrinterWatch, Request

log = logging.getLogger(__name__)


#: Ask for the numbers left every this many health rounds (a cap changes only as tickets are issued).
REMAINING_EVERY = 3


class KioskBridge(QObject):
    printer_changed = Signal(object)  # DeviceState
    server_changed = Signal(bool)
    issue_done = Signal(object)  # hallui.issuing.Outcome
    issue_failed = Signal(object)  # HallClientError
    scanned = Signal(str)
    enroll_code = Signal(str)
    enrolled = Signal(str)  # the token
    enroll_failed = Signal(str)
    remaining_changed = Signal(object)  # dict[str, int]: numbers left today per capped matter

    def __init__(
        self,
        api: HallApi,
        printer: TicketPrinter | None,
        issuer: Issuer,
        *,
        scanner: Scanner | None = None,
        printer_poll_s: float = 2.0,
        health_poll_s: float = 2.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.api = api
        self.printer = printer
        self.issuer = issuer
        self.watch = PrinterWatch(api, printer, self.printer_changed.emit, interval_s=printer_poll_s)
        self.health_poll_s = health_poll_s
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        if scanner is not None:
            self._unsubscribe = scanner.subscribe(self.scanned.emit)
        self.busy = False

    def _spawn(self, coro: Coroutine[object, object, None], name: str) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- background watches ---------------------------------------------------------------------------

    def start_watching(self) -> None:
        self._spawn(self.watch.run(), "kiosk-printer-watch")
        self._spawn(self._health_loop(), "kiosk-health")

    async def check_server(self) -> bool:
        try:
            await self.api.health()
        except Exception as exc:  # any failure to get an answer is "unreachable" for the citizen
            log.debug("health: %s", exc)
            self.server_changed.emit(False)
            return False
        self.server_changed.emit(True)
        return True

    async def _health_loop(self) -> None:
        rounds = 0
        while True:
            if await self.check_server() and rounds % REMAINING_EVERY == 0:
                await self.refresh_remaining()
            rounds += 1
            await asyncio.sleep(self.health_poll_s)

    async def refresh_remaining(self) -> None:
        """Numbers left today for capped matters, so the matter list says what is left (DESIGN.md §4)."""
        try:
            left = await self.api.remaining()
        except HallClientError as exc:
            log.debug("remaining: %s", exc)
            return
        self.remaining_changed.emit(left)

    async def poll_printer(self) -> DeviceState:
        return await self.watch.poll_once()

    # ---- enrollment ---------------------------------------------------------------------------------------

    def enroll(self, path: Path, name: str, server: str) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                token = await ensure_token(
                    self.api,
                    path,
                    name=name,
                    role="kiosk",
                    server=server,
                    on_code=self.enroll_code.emit,
                )
            except EnrollmentError as exc:
                self.enroll_failed.emit(str(exc))
                return
            self.enrolled.emit(token)

        return self._spawn(run(), "kiosk-enroll")

    # ---- issuing ----------------------------------------------------------------------------------

    def issue(self, request: Request) -> asyncio.Task[None]:
        """Run the printer-safe sequence; `issue_done` or `issue_failed` follows."""

        async def run() -> None:
            self.busy = True
            try:
                outcome = await self.issuer.run(request)
            except HallClientError as exc:
                if isinstance(exc, ServerUnavailable):
                    log.warning("issue: %s", exc)
                self.issue_failed.emit(exc)
            else:
                if self.issuer.last_state is not None and self.issuer.last_state != self.watch.state:
                    self.watch.state = self.issuer.last_state
                    self.printer_changed.emit(self.issuer.last_state)
                self.issue_done.emit(outcome)
            finally:
                self.busy = False

        return self._spawn(run(), "kiosk-issue")

    async def aclose(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await t
