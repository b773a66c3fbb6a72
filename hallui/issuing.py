"""Printer-safe issuing (DESIGN.md §4), once for the kiosk and the service desk (导办台): no ticket is handed
out that was not printed, no phantom numbers. Qt-free asyncio: the apps' controllers run it.

The sequence: ask the printer (off the event loop) → issue with the pre-check answers (one request id, so a
retry after no answer replays instead of issuing twice) → print the reply's own `print` block in the
citizen's language → confirm the print. A failed pre-check prints the 一次性告知单 instead, nothing is issued.

When the ticket does not print, what happens depends on the ticket, not on the station:
- a kiosk walk-in is `pending_print`: it is voided (nobody can be called with it). A printer that refused
  before any byte went out is "printer down" (nothing issued as far as the citizen knows: go to the desk);
- a desk walk-in is `waiting` at once: it is cancelled, for the same reason (a number nobody holds);
- a booking check-in is `waiting` at once and is the citizen's booking: it is kept, and the screen shows the
  number to take to the desk (cancelling it would use the booking up).
A print that fails mid-job is sent once more if the printer is ready again (the same number twice on paper is
harmless; none at all is not). A station that dies between issue and confirm leaves a `pending_print` ticket
that the server voids by itself after `kiosk.print_confirm_timeout_s`.

This lives in the shared app toolkit because the kiosk and the counter may not import each other; it is not in
hallclient (which knows no devices) nor in drivers (which knows no hall API).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from drivers.protocols import (
    DeviceState,
    DeviceUnavailable,
    DriverError,
    Health,
    PrinterNotReady,
    TicketPrinter,
)
from hallclient.api import HallApi, new_request_id
from hallclient.errors import HallReplyError, ServerUnavailable
from hallclient.types import Issued, NotIssued

log = logging.getLogger(__name__)

#: A printer that is not configured at all: the station issues nothing (the kiosk sends people to the desk).
NO_PRINTER = DeviceState(Health.UNAVAILABLE, "未配置打印机 no printer configured")


async def printer_state(printer: TicketPrinter | None) -> DeviceState:
    """The printer's state, asked off the event loop; never raises."""
    if printer is None:
        return NO_PRINTER
    return await device_state(printer)


class HasState(Protocol):
    def state(self) -> DeviceState: ...


async def device_state(device: HasState) -> DeviceState:
    """A device's state, asked off the event loop; never raises (state() should not raise; a driver bug must
    not stop the station: it reads as unavailable)."""
    try:
        return await asyncio.to_thread(device.state)
    except DriverError as exc:
        return DeviceState(Health.UNAVAILABLE, str(exc))


def printable(state: DeviceState) -> bool:
    """OK or merely degraded (paper near end) prints; unavailable does not."""
    return state.health is not Health.UNAVAILABLE


@dataclass(frozen=True, slots=True)
class Request:
    """One ticket to issue: a walk-in (matter + pre-check answers) or a booking check-in (code).

    `request_id` is sent with the issue; the same request sent again after no answer keeps it, so the server
    replays the first reply instead of issuing twice."""

    request_id: str = field(default_factory=new_request_id)
    matter: str = ""
    answers: Mapping[str, bool] = field(default_factory=dict)
    present: frozenset[str] = frozenset()
    priority: str = ""
    holder_name: str = field(default="", repr=False)
    booking_code: str = ""
    language: Literal["zh", "en"] = "zh"
    # 刷身份证取号: the card read (the agent's in 代办) and the principal's; never in a repr, so never logged.
    id_number: str = field(default="", repr=False)
    agent: bool = False
    principal_id_number: str = field(default="", repr=False)

    def same_ticket(self, other: Request) -> bool:
        """The same ticket asked for again (the request id aside): a retry, not a new request."""
        return replace(self, request_id="") == replace(other, request_id="")


@dataclass(frozen=True, slots=True)
class PrintResult:
    """What happened at the printer after the hall issued.

    `printed`: the ticket is on paper. Otherwise `withdrawn` says the number was voided or cancelled (nothing
    valid in anyone's hand) or kept (a booking: the number stays valid, shown on screen); `maybe_on_paper`
    that the printer stopped mid-job, so part of a ticket may have come out; `reason` the printer's error."""

    printed: bool
    withdrawn: bool = False
    maybe_on_paper: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class IssuedOutcome:
    issued: Issued
    result: PrintResult


@dataclass(frozen=True, slots=True)
class NoticeOutcome:
    """The pre-check failed: no ticket; the 一次性告知单 was printed unless `reason` says why not."""

    not_issued: NotIssued
    printed: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PrinterDown:
    """Nothing was issued: the printer was not ready (or refused the job before anything was printed)."""

    state: DeviceState


Outcome = IssuedOutcome | NoticeOutcome | PrinterDown


class Issuer:
    """Runs the printer-safe sequence for one station's printer (the kiosk's or the desk's)."""

    def __init__(
        self,
        api: HallApi,
        printer: TicketPrinter | None,
        *,
        reprint_once: bool = True,
        confirm_tries: int = 3,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.api = api
        self.printer = printer
        self.reprint_once = reprint_once
        self.confirm_tries = confirm_tries
        self._sleep = sleep
        self.last_state: DeviceState | None = None  # the printer's state as the last run saw it

    async def run(self, request: Request) -> Outcome:
        """Issue and print. Raises what the hall answered instead (`Refusal`, `AuthError`, `DiskFull`: nothing
        issued) and `ServerUnavailable` (nothing issued that will not void itself; send the same request
        again to retry)."""
        printer = self.printer
        state = await printer_state(printer)
        self.last_state = state
        if printer is None or not printable(state):
            return PrinterDown(state)
        reply: Issued | NotIssued
        if request.booking_code:
            reply = await self.api.check_in(request.booking_code, request_id=request.request_id)
        else:
            reply = await self.api.issue_ticket(
                request.matter,
                priority=request.priority,
                answers=request.answers,
                present=request.present,
                holder_name=request.holder_name,
                id_number=request.id_number,
                agent=request.agent,
                principal_id_number=request.principal_id_number,
                request_id=request.request_id,
            )
        if isinstance(reply, NotIssued):
            return await self._print_notice(printer, reply, request)
        return await self._print_ticket(printer, reply, request)

    async def _print_notice(
        self, printer: TicketPrinter, reply: NotIssued, request: Request
    ) -> NoticeOutcome:
        try:
            await asyncio.to_thread(printer.print_notice, reply.printout(request.language))
        except DriverError as exc:
            log.warning("一次性告知单 not printed: %s", exc)
            return NoticeOutcome(reply, printed=False, reason=str(exc))
        return NoticeOutcome(reply, printed=True)

    async def _print_ticket(self, printer: TicketPrinter, issued: Issued, request: Request) -> Outcome:
        ticket = issued.ticket
        job = issued.printout(request.language)  # the hall's own print block, in the citizen's language
        tries = 2 if self.reprint_once else 1
        error: DriverError | None = None
        for attempt in range(tries):
            try:
                await asyncio.to_thread(printer.print_ticket, job)
            except DeviceUnavailable as exc:
                # Refused before the job was sent: nothing on paper. Mid-job or no answer: maybe half a
                # ticket. Either way once more if the printer is ready again.
                error = exc
                if attempt + 1 < tries and printable(await printer_state(printer)):
                    log.info("%s: not printed (%s), printing it once more", ticket.label, exc)
                    continue
                break
            except DriverError as exc:
                error = exc
                break
            else:
                if ticket.state == "pending_print":
                    await self._confirm(ticket.id, request.request_id)
                return IssuedOutcome(issued, PrintResult(printed=True))
        assert error is not None
        log.warning("%s not printed: %s", ticket.label, error)
        self.last_state = await printer_state(printer)
        sent = not (isinstance(error, PrinterNotReady) and not error.sent)
        reason = str(error)
        if ticket.state != "pending_print" and request.booking_code:
            # A checked-in booking waits already and is the citizen's: keep it, they show the number.
            return IssuedOutcome(issued, PrintResult(printed=False, maybe_on_paper=sent, reason=reason))
        await self._withdraw(issued, request.request_id, reason)
        if ticket.state == "pending_print" and not sent:
            return PrinterDown(self.last_state)
        return IssuedOutcome(
            issued, PrintResult(printed=False, withdrawn=True, maybe_on_paper=sent, reason=reason)
        )

    async def _confirm(self, ticket_id: str, request_id: str) -> None:
        rid = f"{request_id}-printed"
        for attempt in range(self.confirm_tries):
            try:
                await self.api.confirm_print(ticket_id, request_id=rid)
                return
            except ServerUnavailable:
                # The same request id makes the retry safe; without a confirmation the server voids the
                # ticket after print_confirm_timeout_s, and the paper in the citizen's hand is worthless.
                if attempt + 1 == self.confirm_tries:
                    raise
                await self._sleep(0.5 * (attempt + 1))

    async def _withdraw(self, issued: Issued, request_id: str, reason: str) -> None:
        """Void a pending ticket, cancel a waiting one: a number nobody holds must not stay in the queue."""
        t = issued.ticket
        why = f"print failed: {reason}"[:200]
        # If this fails too, a pending ticket is voided by the server after its timeout; a waiting one is
        # logged for the staff (they see the number on the screen).
        try:
            if t.state == "pending_print":
                await self.api.void_ticket(t.id, why, request_id=f"{request_id}-void")
            else:
                await self.api.cancel_ticket(t.id, why, request_id=f"{request_id}-cancel")
        except (ServerUnavailable, HallReplyError) as exc:
            log.error("could not withdraw unprinted ticket %s: %s", t.label, exc)


class DeviceWatch:
    """Polls a device's state every `interval_s` (`probe`, which never raises), calls `on_change(state)` on a
    change and reports it to the hall (`report_device_health(device, …)`), retrying the report when the hall
    was unreachable, so the dashboard shows a station out of paper or with its ID card reader unplugged."""

    def __init__(
        self,
        api: HallApi,
        probe: Callable[[], Awaitable[DeviceState]],
        on_change: Callable[[DeviceState], None],
        *,
        interval_s: float = 2.0,
        device: str = "printer",
    ) -> None:
        self.api = api
        self.probe = probe
        self.on_change = on_change
        self.interval_s = interval_s
        self.device = device
        self.state: DeviceState | None = None
        self._reported: DeviceState | None = None

    def seen(self, state: DeviceState) -> None:
        """A state learnt elsewhere (the issuer's own check): tell `on_change` now, not at the next poll."""
        if state != self.state:
            self.state = state
            self.on_change(state)

    async def poll_once(self) -> DeviceState:
        state = await self.probe()
        self.seen(state)
        if state != self._reported:
            try:
                await self.api.report_device_health(self.device, state.health.value, state.reason)
            except ServerUnavailable:
                log.debug("%s state not reported yet: server unreachable", self.device)
            except Exception:
                log.exception("%s state report failed", self.device)
            else:
                self._reported = state
        return state

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:  # the watch must outlive any one failure, or paper-out goes unnoticed
                log.exception("%s watch", self.device)
            await asyncio.sleep(self.interval_s)


class PrinterWatch(DeviceWatch):
    """The watch of a station's ticket printer (None: not configured, reported as unavailable)."""

    def __init__(
        self,
        api: HallApi,
        printer: TicketPrinter | None,
        on_change: Callable[[DeviceState], None],
        *,
        interval_s: float = 2.0,
        device: str = "printer",
    ) -> None:
        super().__init__(api, lambda: printer_state(printer), on_change, interval_s=interval_s, device=device)
        self.printer = printer
