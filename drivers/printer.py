"""The ESC/POS ticket printer: status before, completion after, every wait bounded.

A print is reported done only when the printer proved it: `DLE EOT 1..4` say it is online with paper, the
job is sent, `GS r 1` is answered (in buffer order, so after the job was processed) and `DLE EOT` again says
online with paper. `DLE EOT` alone cannot prove a print, because it is answered at once while the job may
still sit in the printer's buffer (PROTOCOLS.md §1). Silence is always "unavailable", never "paper OK".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import serial

from drivers.base import DeviceState, DeviceUnavailable, DriverError, Health, ProtocolError
from drivers.codecs import escpos as ep
from drivers.codecs.escpos import PrinterStatus
from drivers.printing import NoticePrint, TicketPrint, notice_bytes, ticket_bytes
from drivers.protocols import PrinterNotReady, TicketPrinter
from drivers.transport import EscposTransport, SerialTransport, SocketTransport, Transport, drain
from hallcore.config import Device
from hallcore.devicetypes import PRINTER_TYPES

log = logging.getLogger(__name__)

#: How often the printer is asked why it may have stopped while a ticket is printing.
MID_JOB_POLL_S = 0.5
# DLE EOT 2 (offline cause) bits, PROTOCOLS.md §1.
OFFLINE_COVER_OPEN = 0x04
OFFLINE_PAPER_END = 0x20
OFFLINE_ERROR = 0x40


def _is_status_byte(reply: int) -> bool:
    """A DLE EOT reply (fixed bits 0xx1xx10), as opposed to a GS r 1 reply (bits 4 and 7 clear)."""
    return reply & 0b1001_0011 == 0b0001_0010


T = TypeVar("T")


# The common 58 mm USB printer (0416:5011) uses these bulk endpoints, not python-escpos's defaults.
USB_IN_EP = 0x81
USB_OUT_EP = 0x03


class EscposPrinter:
    """A `TicketPrinter` over any `Transport`; one job or status query at a time (thread-safe).

    `transport` may be None when `reopen` is given: the link is then opened on first use, and again after it
    was lost, so an unplugged printer comes back without restarting the app. Reopening happens at the
    caller's pace (a status poll), which is the backoff.
    """

    def __init__(
        self,
        transport: Transport | None,
        *,
        width_mm: int = 80,
        timeout_s: float = 1.0,
        print_timeout_s: float = 15.0,
        reopen: Callable[[], Transport] | None = None,
        name: str = "printer",
    ) -> None:
        if transport is None and reopen is None:
            raise ValueError("EscposPrinter needs a transport or a way to open one")
        ep.columns_for(width_mm)
        self.width_mm = width_mm
        self.name = name
        self._transport = transport
        self._reopen = reopen
        self._timeout = timeout_s
        # A ticket takes 1–3 s to print on a thermal head; GS r 1 is answered only after that.
        self._print_timeout = print_timeout_s
        self._lock = threading.Lock()
        self._last: DeviceState | None = None
        self._closed = False
        self._clear_pending = False  # a failed job could not be cleared from the printer's buffer yet
        # DLE EOT replies carry no tag: an answer still on its way is read as the reply to the next question
        # (a late cover-open `16` taken for DLE EOT 1 parses as "ready"). Count the questions asked mid-job
        # whose answers were not read, so the next status query collects them first.
        self._unanswered = 0

    # --- public -------------------------------------------------------------------------------------------

    def print_ticket(self, ticket: TicketPrint) -> None:
        self._print(ticket_bytes(ticket, self.width_mm), f"ticket {ticket.number}")

    def print_notice(self, notice: NoticePrint) -> None:
        self._print(notice_bytes(notice, self.width_mm), "notice")

    def status(self) -> PrinterStatus:
        with self._lock:
            return self._guarded(self._status)

    def state(self) -> DeviceState:
        try:
            return self.status().state()
        except ProtocolError:
            return DeviceState(Health.UNAVAILABLE, "打印机应答异常 printer answers garbage")
        except DriverError:
            return DeviceState(Health.UNAVAILABLE, "打印机无应答 printer not answering")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._drop_link()

    # --- internals ------------------------------------------------------------------------------------------

    def _print(self, job: bytes, what: str) -> None:
        # ASB off right after the job's ESC @ (which restores the printer's default, possibly ASB on).
        body = job.removeprefix(ep.INIT)
        job = ep.INIT + ep.ASB_OFF + body if len(body) < len(job) else ep.ASB_OFF + job
        with self._lock:

            def run(t: Transport) -> None:
                before = self._status(t)
                if not before.printable:
                    raise PrinterNotReady(before, f"{what} not sent", sent=False)
                try:
                    self._send_and_confirm(t, job, what)
                except DriverError:
                    # The job may sit in the printer's buffer and come out when the cover is closed or
                    # paper loaded, long after the hall voided that number: throw it away first.
                    self._cancel_job(t)
                    raise

            self._guarded(run)

    def _send_and_confirm(self, t: Transport, job: bytes, what: str) -> None:
        t.write(job + ep.PAPER_SENSOR_REQUEST)
        reply = self._await_completion(t, what)
        if reply is None:
            # An offline printer holds GS r 1 (cover opened or paper ran out mid-job), but still
            # answers DLE EOT, so ask why before calling it silence.
            during = self._status(t)
            if not during.printable:
                raise PrinterNotReady(during, f"{what} may be incomplete")
            raise DeviceUnavailable(
                f"{self.name}: no completion answer within {self._print_timeout:g} s; "
                f"{what} may not be printed, reprint or void it"
            )
        sensor = ep.parse_paper_sensor(reply)
        after = self._status(t)
        if sensor.paper_out or not after.printable:
            raise PrinterNotReady(after, f"{what} may be incomplete")

    def _await_completion(self, t: Transport, what: str) -> int | None:
        """The `GS r 1` reply (answered in buffer order, i.e. once the job is printed), or None on silence.

        While waiting, `DLE EOT 2` (offline cause) is asked every MID_JOB_POLL_S: it is answered at once even
        mid-job, so paper running out or a cover opened during the ticket is known within a second instead of
        at the end of the whole completion timeout. The two replies are told apart by their fixed bits:
        `DLE EOT` replies are 0xx1xx10, `GS r 1` replies 0xx0xxxx (PROTOCOLS.md §1).
        """
        deadline = time.monotonic() + self._print_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not self._unanswered:
                return None
            reply = self._reply(t, min(remaining, MID_JOB_POLL_S) if remaining > 0 else self._timeout)
            if reply is None:
                if remaining <= 0:
                    return None  # the DLE EOT 2 still out is collected by the next status query
                if not self._unanswered:  # one question out at a time, however early a read returns
                    t.write(ep.status_request(2))
                    self._unanswered = 1
                continue
            if not _is_status_byte(reply):
                return reply  # GS r 1: the job went through the printer
            self._unanswered = 0
            cause = ep.check_status_byte(reply)
            if cause & (OFFLINE_PAPER_END | OFFLINE_COVER_OPEN | OFFLINE_ERROR):
                raise PrinterNotReady(self._status_after_stop(t), f"{what} may be incomplete")

    def _status_after_stop(self, t: Transport) -> PrinterStatus:
        # The GS r 1 still queued behind the stopped job is dropped by `_status`'s drain, and the job itself
        # by the clear-buffer that follows the failure.
        return self._status(t)

    def _cancel_job(self, t: Transport) -> None:
        """Send `DLE DC4 8` (clear buffers) and wait briefly for its `37 25 00`; best effort, never raises.
        If the link is gone it is sent again first thing on the next link."""
        try:
            t.write(ep.CLEAR_BUFFER)
            seen = bytearray()
            deadline = time.monotonic() + min(self._timeout, 0.5)
            while not seen.endswith(ep.CLEAR_BUFFER_DONE):
                remaining = deadline - time.monotonic()
                got = t.read(1, remaining) if remaining > 0 else b""
                if not got:
                    # Many cheap printers clear without answering; the next status query drains leftovers.
                    log.debug("%s: no answer to DLE DC4 8 (clear buffer)", self.name)
                    break
                seen += got
        except DriverError as e:
            self._clear_pending = True
            log.info("%s: cannot clear the buffer after a failed job (%s); will on reconnect", self.name, e)
            return
        self._clear_pending = False
        log.info("%s: failed job discarded from the printer's buffer (DLE DC4 8)", self.name)

    def _reply(self, t: Transport, timeout: float) -> int | None:
        """The next reply byte within `timeout`, skipping ASB blocks and clear-buffer answers (unsolicited or
        late bytes a printer may send between replies); None when the printer stays silent."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            got = t.read(1, max(remaining, 0.0))
            if not got:
                return None
            byte = got[0]
            if ep.is_asb_header(byte):
                # The 4 bytes of a block come as one burst; a short one is not ASB (e.g. an echoing line).
                block = got + t.read(ep.ASB_LENGTH - 1, self._timeout)
                if len(block) < ep.ASB_LENGTH:
                    raise ProtocolError(
                        f"{self.name}: reply {block.hex(' ')} is neither a status byte (0xx1xx10) nor an ASB "
                        "block; is this an ESC/POS printer?"
                    )
                asb = ep.parse_asb(block)
                log.debug("%s: skipped an ASB block %s (%s)", self.name, block.hex(" "), asb.state().reason)
                continue
            if byte == ep.CLEAR_BUFFER_DONE[0]:
                rest = t.read(len(ep.CLEAR_BUFFER_DONE) - 1, self._timeout)
                if got + rest == ep.CLEAR_BUFFER_DONE:
                    continue
                raise ProtocolError(f"{self.name}: unexpected reply {(got + rest).hex(' ')}")
            return byte

    def _status(self, t: Transport) -> PrinterStatus:
        while self._unanswered:
            # The answer to a mid-job DLE EOT 2 may still be on its way: read it before asking again.
            late = self._reply(t, self._timeout)
            if late is None or _is_status_byte(late):  # a GS r 1 still ahead of it is skipped
                self._unanswered = 0
            log.debug("%s: collected a late reply %s", self.name, late)
        stale = drain(t)
        if stale:
            log.debug("%s: dropped %d stale bytes %s", self.name, len(stale), stale[:16].hex(" "))
        replies = bytearray()
        for n in (1, 2, 3, 4):
            t.write(ep.status_request(n))
            got = self._reply(t, self._timeout)
            if got is None:
                raise DeviceUnavailable(
                    f"{self.name}: no answer to DLE EOT {n} within {self._timeout:g} s; is it on and cabled?"
                )
            replies.append(got)
        status = ep.parse_status(bytes(replies))
        self._note(status.state())
        return status

    def _guarded(self, fn: Callable[[Transport], T]) -> T:
        """Run `fn` on the link; a lost or silent link is dropped so the next call starts afresh."""
        if self._closed:
            raise DeviceUnavailable(f"{self.name}: closed")
        try:
            if self._transport is None:
                assert self._reopen is not None
                self._transport = self._reopen()
            if self._clear_pending:
                self._cancel_job(self._transport)
            return fn(self._transport)
        except PrinterNotReady as e:
            self._note(e.status.state())
            raise
        except DriverError as e:
            self._note(DeviceState(Health.UNAVAILABLE, str(e)))
            if self._reopen is not None:
                self._drop_link()
            raise

    def _drop_link(self) -> None:
        self._unanswered = 0  # a new link has no answers in flight
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _note(self, state: DeviceState) -> None:
        """Log once on loss and once on recovery (and once when it becomes degraded), not on every poll."""
        last, self._last = self._last, state
        if last is not None and last.health is state.health:
            return
        if state.health is Health.UNAVAILABLE:
            log.warning("%s unavailable: %s", self.name, state.reason)
        elif last is not None and last.health is Health.UNAVAILABLE:
            log.info("%s available again%s", self.name, f" ({state.reason})" if state.reason else "")
        elif state.health is Health.DEGRADED:
            log.info("%s degraded: %s", self.name, state.reason)


def parse_network_url(url: str, default_port: int = 9100) -> tuple[str, int]:
    """`tcp://host:9100`, `socket://host:port`, `host:port` or `host` → (host, port)."""
    rest = url.split("://", 1)[1] if "://" in url else url
    rest = rest.rstrip("/")
    host, sep, port = rest.rpartition(":")
    if not sep:
        host, port = rest, str(default_port)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise DriverError(f"printer url {url!r} is not host:port (e.g. tcp://192.168.1.50:9100)")
    return host.strip("[]"), int(port)


def build_printer(device: Device) -> TicketPrinter:
    """The printer a station's config asks for. Nothing is opened yet: an unplugged printer still builds,
    and reports itself unavailable until it answers."""
    timeout = device.timeout_s
    # Writes carry a whole ticket: about 2 s for 2 KB at 9600 baud, so they get a longer bound than replies.
    write_timeout = max(5.0, timeout)
    opener: Callable[[], Transport]
    if device.type == "fake":
        from drivers.fakes import FakeTicketPrinter

        return FakeTicketPrinter(width_mm=device.width_mm)
    if device.type == "escpos-serial":

        def opener() -> Transport:
            try:
                port = serial.serial_for_url(
                    device.url, baudrate=device.baud, timeout=timeout, write_timeout=write_timeout
                )
            except (serial.SerialException, OSError, ValueError) as e:
                raise DeviceUnavailable(f"{device.url}: cannot open ({e}); is the printer plugged in?") from e
            return SerialTransport(port, name=device.url)

    elif device.type == "escpos-network":
        host, port = parse_network_url(device.url)

        def opener() -> Transport:
            return SocketTransport.connect(host, port, timeout=timeout, write_timeout=write_timeout)

    elif device.type == "escpos-usb":
        if device.usb_vendor is None or device.usb_product is None:
            raise DriverError("escpos-usb printer needs usb_vendor and usb_product (e.g. 0x0416, 0x5011)")
        vendor, product = device.usb_vendor, device.usb_product

        def opener() -> Transport:
            from escpos.printer import Usb

            usb = Usb(
                idVendor=vendor,
                idProduct=product,
                in_ep=USB_IN_EP,
                out_ep=USB_OUT_EP,
                timeout=int(write_timeout * 1000),  # pyusb milliseconds; 0 would mean "wait forever"
            )
            return EscposTransport(usb, timeout=write_timeout, name=f"usb {vendor:04x}:{product:04x}")

    else:
        raise DriverError(f"printer type {device.type!r} is unknown; use one of {', '.join(PRINTER_TYPES)}")
    return EscposPrinter(
        None, reopen=opener, width_mm=device.width_mm, timeout_s=timeout, name=f"{device.type} {device.url}"
    )
