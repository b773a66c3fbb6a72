"""Printer-safe issuing (DESIGN.md §4): no ticket is handed out that was not printed, no phantom numbers.

The sequence for a walk-in: ask the printer (off the event loop) → issue (the hall makes it `pending_print`)
→ print in a thread → confirm the print (→ `waiting`). A print that fails before anything was sent voids the
ticket; one that fails half-way is reprinted once if the printer is ready again, else voided. A kiosk that
dies between issue and confirm leaves a `pending_print` ticket that the server voids by itself after
`kiosk.print_confirm_timeout_s`. A booking check-in is `waiting` at once (the citizen booked it): if its
print fails the number stays valid and the screen tells them to show it at the service desk.

`PrinterWatch` polls the printer's state and reports every change to the hall (`report_device_health`), so
the dashboard shows a kiosk out of paper.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from drivers.protocols import (
    DeviceState,
    DeviceUnavailable,
    DriverError,
    Health,
    PrinterNotReady,
    TicketPrinter,
)
from hallclient.api import HallApi
from hallclient.errors import ServerUnavailable
from hallclient.types import Issued, NotIssued
from kiosk.flow import PrintResult

log = logging.getLogger(__name__)


#: A printer that is not configured at all: the kiosk sends everyone to the desk.
NO_PRINTER = DeviceState(Health.UNAVAILABLE, "未配置打印机 no printer configured")


async def printer_state(printer: TicketPrinter | None) -> DeviceState:
    """The printer's state, asked off the event loop; never raises."""
    if printer is None:
        return NO_PRINTER
    try:
        return await asyncio.to_thread(printer.state)
    except DriverError as exc:  # state() should not raise; a driver bug must not stop the kiosk
        return DeviceState(Health.UNAVAILABLE, str(exc))


def printable(state: DeviceState) -> bool:
    """OK or merely degraded (paper near end) prints; unavailable does not."""
    return state.health is not Health.UNAVAILABLE


@dataclass(frozen=True, slots=True)
class Request:
    """One citizen's request: a walk-in (matter + answers) or a booking check-in (code)."""

    matter: str = ""
    answers: Mapping[str, bool] | None = None
    present: frozenset[str] | None = None
    priority: str = ""
    booking_code: str = ""
    language: Literal["zh", "en"] = "zh"
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class IssuedOutcome:
    issued: Issued
    result: PrintResult


@dataclass(frozen=True, slots=True)
class NoticeOutcome:
    not_issued: NotIssued
    printed: bool


@dataclass(frozen=True, slots=True)
class PrinterDown:
    """Nothing was issued: the printer was not ready (or stopped before anything valid was printed)."""

    state: DeviceState


Outcome = IssuedOutcome | NoticeOutcome | PrinterDown


class Issuer:
    """Runs the printer-safe sequence for one kiosk. `to_thread` runs blocking printer calls off the loop."""

    def __init__(
        self,
        api: HallApi,
        printer: TicketPrinter | None,
        *,
        reprint_once: bool = True,
        confirm_tries: int = 3,
    ) -> None:
        self.api = api
        self.printer = printer
        self.reprint_once = reprint_once
        self.confirm_tries = confirm_tries
        self.last_state: DeviceState | None = None

    async def run(self, request: Request) -> Outcome:
        """Issue and print. Raises `Refusal` (nothing issued), `ServerUnavailable` (nothing issued that will
        not void itself), `AuthError`, `DiskFull` for the app to show."""
        printer = self.printer
        state = await printer_state(printer)
        self.last_state = state
        if printer is None or not printable(state):
            return PrinterDown(state)
        rid = request.request_id or uuid.uuid4().hex
        reply: Issued | NotIssued
        if request.booking_code:
            reply = await self.api.check_in(request.booking_code, request_id=rid)
        else:
            reply = await self.api.issue_ticket(
                request.matter,
                priority=request.priority,
                answers=request.answers,
                present=request.present,
                request_id=rid,
            )
        if isinstance(reply, NotIssued):
            return NoticeOutcome(reply, await self._print_notice(printer, reply, request))
        return await self._print_ticket(printer, reply, request)

    async def _print_notice(self, printer: TicketPrinter, reply: NotIssued, request: Request) -> bool:
        try:
            await asyncio.to_thread(printer.print_notice, reply.printout(request.language))
        except DriverError as exc:
            log.warning("一次性告知单 not printed: %s", exc)
            return False
        return True

    async def _print_ticket(self, printer: TicketPrinter, issued: Issued, request: Request) -> Outcome:
        ticket = issued.ticket
        job = issued.printout(request.language)  # the hall's own print block, in the citizen's language
        pending = ticket.state == "pending_print"
        tries = 2 if self.reprint_once else 1
        error: DriverError | None = None
        for attempt in range(tries):
            try:
                await asyncio.to_thread(printer.print_ticket, job)
            except PrinterNotReady as exc:
                error = exc
                # Not ready before the job was sent: nothing on paper. Mid-job: maybe half a ticket.
                if attempt + 1 < tries and printable(await printer_state(printer)):
                    continue
                break
            except DeviceUnavailable as exc:
                error = exc
                if attempt + 1 < tries and printable(await printer_state(printer)):
                    log.info("%s: print not confirmed (%s), printing it once more", ticket.label, exc)
                    continue
                break
            except DriverError as exc:
                error = exc
                break
            else:
                if pending:
                    await self._confirm(ticket.id)
                return IssuedOutcome(issued, PrintResult(printed=True))
        log.warning("%s not printed: %s", ticket.label, error)
        self.last_state = await printer_state(printer)
        if not pending:
            # A booking ticket is already waiting: keep it, the citizen shows the number at the desk.
            return IssuedOutcome(issued, PrintResult(printed=False))
        await self._void(ticket.id, f"print failed: {error}")
        if isinstance(error, PrinterNotReady) and not error.sent:
            return PrinterDown(self.last_state)
        return IssuedOutcome(issued, PrintResult(printed=False, voided=True))

    async def _confirm(self, ticket_id: str) -> None:
        rid = uuid.uuid4().hex
        for attempt in range(self.confirm_tries):
            try:
                await self.api.confirm_print(ticket_id, request_id=rid)
                return
            except ServerUnavailable:
                # The same request id makes the retry safe; without a confirmation the server voids the
                # ticket after print_confirm_timeout_s, and the paper in the citizen's hand is worthless.
                if attempt + 1 == self.confirm_tries:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))

    async def _void(self, ticket_id: str, reason: str) -> None:
        # If voiding fails too, the server voids the pending ticket by itself after its timeout.
        with contextlib.suppress(ServerUnavailable):
            await self.api.void_ticket(ticket_id, reason[:200], request_id=uuid.uuid4().hex)


class PrinterWatch:
    """Polls the printer every `interval_s`, calls `on_change(state)` on a change and reports it to the
    hall (`report_device_health("printer", …)`), retrying the report when the hall was unreachable."""

    def __init__(
        self,
        api: HallApi,
        printer: TicketPrinter | None,
        on_change: Callable[[DeviceState], None],
        *,
        interval_s: float = 2.0,
        device: str = "printer",
    ) -> None:
        self.api = api
        self.printer = printer
        self.on_change = on_change
        self.interval_s = interval_s
        self.device = device
        self.state: DeviceState | None = None
        self._reported: DeviceState | None = None

    async def poll_once(self) -> DeviceState:
        state = await printer_state(self.printer)
        if state != self.state:
            self.state = state
            self.on_change(state)
        if state != self._reported:
            try:
                await self.api.report_device_health(self.device, state.health.value, state.reason)
            except ServerUnavailable:
                log.debug("printer state not reported yet: server unreachable")
            except Exception:
                log.exception("printer state report failed")
            else:
                self._reported = state
        return state

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:  # the watch must outlive any one failure, or paper-out goes unnoticed
                log.exception("printer watch")
            await asyncio.sleep(self.interval_s)
