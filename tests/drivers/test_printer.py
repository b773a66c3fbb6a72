"""The ESC/POS ticket printer driver against the emulator, over real TCP (127.0.0.1:0) and a real pty."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from escpos.printer import Dummy

from drivers.base import DeviceUnavailable, DriverError, Health, ProtocolError
from drivers.codecs import escpos as ep
from drivers.codecs.escpos import PrinterStatus
from drivers.emulators.printer import (
    EmulatedPrinter,
    EmulatedState,
    EscposStream,
    PtyPrinterEmulator,
    TcpPrinterEmulator,
    render_png,
)
from drivers.fakes import FakeTicketPrinter
from drivers.printer import EscposPrinter, build_printer, parse_network_url
from drivers.printing import NoticeItem, NoticePrint, notice_bytes, ticket_bytes
from drivers.protocols import PrinterNotReady, TicketPrinter
from drivers.transport import EscposTransport, SerialTransport, SocketTransport
from hallcore.config import Device
from tests.drivers.printer_support import REPLY_S, TICKET, printer_device

from .conftest import PtyPair

pytestmark = pytest.mark.timeout(30)  # hang protection only


NOTICE = NoticePrint(
    hall="某市政务服务中心",
    matter="不动产登记",
    date="2024-05-06",
    items=(NoticeItem("完税证明", "税务窗口（3号）"), NoticeItem("婚姻状况证明（王喆）", "民政局")),
)

SCENARIOS: list[tuple[EmulatedState, PrinterStatus, Health]] = [
    (EmulatedState.READY, PrinterStatus(), Health.OK),
    (EmulatedState.NEAR_END, PrinterStatus(paper_near_end=True), Health.DEGRADED),
    (
        EmulatedState.PAPER_OUT,
        PrinterStatus(online=False, paper_near_end=True, paper_out=True),
        Health.UNAVAILABLE,
    ),
    (EmulatedState.COVER_OPEN, PrinterStatus(online=False, cover_open=True), Health.UNAVAILABLE),
    (EmulatedState.CUTTER_JAM, PrinterStatus(online=False, cutter_error=True), Health.UNAVAILABLE),
    (EmulatedState.OFFLINE, PrinterStatus(online=False), Health.UNAVAILABLE),
]


@pytest.fixture(params=["tcp", "pty"])
def emulator(request: pytest.FixtureRequest) -> Iterator[TcpPrinterEmulator | PtyPrinterEmulator]:
    emu = TcpPrinterEmulator() if request.param == "tcp" else PtyPrinterEmulator()
    with emu:
        yield emu


@pytest.fixture
def printer(emulator: TcpPrinterEmulator | PtyPrinterEmulator) -> Iterator[TicketPrinter]:
    p = build_printer(printer_device(emulator))
    yield p
    p.close()


# --- status scenarios ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "expected", "health"), SCENARIOS, ids=[s[0].value for s in SCENARIOS])
def test_every_scenario_is_reported(
    emulator: TcpPrinterEmulator | PtyPrinterEmulator,
    printer: TicketPrinter,
    state: EmulatedState,
    expected: PrinterStatus,
    health: Health,
) -> None:
    emulator.set_state(state)
    assert printer.status() == expected
    assert printer.state().health is health


def test_silent_printer_is_unavailable_not_paper_ok(
    emulator: TcpPrinterEmulator | PtyPrinterEmulator, printer: TicketPrinter
) -> None:
    emulator.set_state("silent")
    with pytest.raises(DeviceUnavailable, match="no answer to DLE EOT 1"):
        printer.status()
    assert printer.state().health is Health.UNAVAILABLE
    with pytest.raises(DeviceUnavailable, match="no answer"):
        printer.print_ticket(TICKET)
    emulator.set_state("ready")
    assert printer.state().health is Health.OK  # the link is reopened: no restart needed
    assert emulator.tickets == []


# --- printing ---------------------------------------------------------------------------------------------


def test_a_printed_ticket_appears_rendered_in_the_emulator(
    emulator: TcpPrinterEmulator | PtyPrinterEmulator, printer: TicketPrinter
) -> None:
    printer.print_ticket(TICKET)
    [ticket] = emulator.tickets
    assert ticket.raw == ticket_bytes(TICKET, 80)
    for part in ("某市政务服务中心", "A012", "户籍迁移（省内）", "前面还有 3 人", "6～15", "取号时间："):
        assert part in ticket.text
    assert ticket.qr == (TICKET.status_url,)
    assert all(ep.display_width(line) <= 48 for line in ticket.text.splitlines())


def test_a_notice_is_printed_with_every_item(
    emulator: TcpPrinterEmulator | PtyPrinterEmulator, printer: TicketPrinter
) -> None:
    printer.print_notice(NOTICE)
    [notice] = emulator.tickets
    assert notice.raw == notice_bytes(NOTICE, 80)
    assert "一次性告知单" in notice.text
    assert "1. 完税证明" in notice.text
    assert "2. 婚姻状况证明（王喆）" in notice.text
    assert "税务窗口（3号）" in notice.text


def test_near_end_still_prints(
    emulator: TcpPrinterEmulator | PtyPrinterEmulator, printer: TicketPrinter
) -> None:
    emulator.set_state("near_end")
    printer.print_ticket(TICKET)
    assert len(emulator.tickets) == 1
    assert printer.state().health is Health.DEGRADED


@pytest.mark.parametrize("state", ["paper_out", "cover_open", "cutter_jam", "offline"])
def test_not_ready_printer_refuses_before_sending(
    emulator: TcpPrinterEmulator | PtyPrinterEmulator, printer: TicketPrinter, state: str
) -> None:
    emulator.set_state(state)
    with pytest.raises(PrinterNotReady) as caught:
        printer.print_ticket(TICKET)
    assert caught.value.reason == EscposPrinterStateReason[state]
    emulator.set_state("ready")
    assert printer.status().printable
    assert emulator.tickets == []  # nothing was sent, so nothing prints after recovery either


EscposPrinterStateReason = {
    "paper_out": "缺纸 paper out",
    "cover_open": "纸仓盖未关 cover open",
    "cutter_jam": "切刀故障 cutter error",
    "offline": "打印机脱机 printer offline",
}


def test_58mm_tickets_fit_32_columns(emulator: TcpPrinterEmulator | PtyPrinterEmulator) -> None:
    printer = build_printer(printer_device(emulator, width_mm=58))
    try:
        printer.print_ticket(TICKET)
    finally:
        printer.close()
    [ticket] = emulator.tickets
    assert ticket.raw == ticket_bytes(TICKET, 58)


def test_pty_unplug_mid_session_is_device_unavailable() -> None:
    with PtyPrinterEmulator() as emu:
        printer = build_printer(printer_device(emu))
        try:
            printer.print_ticket(TICKET)
            emu.stop()  # both ends of the pty closed: the cable is out
            with pytest.raises(DeviceUnavailable):
                printer.status()
            with pytest.raises(DeviceUnavailable):
                printer.print_ticket(TICKET)
            assert printer.state().health is Health.UNAVAILABLE
        finally:
            printer.close()
    assert len(emu.tickets) == 1


def test_tcp_printer_switched_off_is_unavailable_then_back() -> None:
    emu = TcpPrinterEmulator().start()
    printer = build_printer(Device(type="escpos-network", url=emu.url, timeout_s=REPLY_S))
    try:
        assert printer.state().ok
        port = emu.port
        emu.stop()
        with pytest.raises(DeviceUnavailable):
            printer.status()
        with TcpPrinterEmulator(port=port) as again:
            assert printer.state().ok
            printer.print_ticket(TICKET)
            assert len(again.tickets) == 1
    finally:
        printer.close()


def test_loss_and_recovery_are_logged_once(
    emulator: TcpPrinterEmulator | PtyPrinterEmulator,
    printer: TicketPrinter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="drivers.printer")
    printer.state()
    emulator.set_state("paper_out")
    for _ in range(3):
        printer.state()
    emulator.set_state("ready")
    for _ in range(3):
        printer.state()
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "unavailable" in m]) == 1, messages
    assert len([m for m in messages if "available again" in m]) == 1, messages


# --- completion: an in-memory link to the emulator's parser, scripted mid-job ------------------------------


class _StreamLink:
    """A Transport straight into an emulator parser; `on_job` runs when a cut arrives (a mid-job event)."""

    def __init__(self, emulated: EmulatedPrinter, on_job: EmulatedState | None = None) -> None:
        self.emulated = emulated
        self._stream = EscposStream(emulated)
        self._on_job = on_job
        self._replies = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        if self._on_job is not None and b"\x1d\x56" in data:
            self.emulated.set_state(self._on_job)
        self._replies += self._stream.feed(data)

    def read(self, n: int, timeout: float) -> bytes:
        self._replies += self._stream.feed(b"")
        got, self._replies = bytes(self._replies[:n]), self._replies[n:]
        return got

    def close(self) -> None:
        self.closed = True


def test_cover_opened_mid_job_is_not_ready_and_ticket_held() -> None:
    emulated = EmulatedPrinter()
    link = _StreamLink(emulated, on_job=EmulatedState.COVER_OPEN)
    printer = EscposPrinter(link, timeout_s=REPLY_S, print_timeout_s=REPLY_S)
    with pytest.raises(PrinterNotReady, match="may be incomplete"):
        printer.print_ticket(TICKET)
    assert emulated.tickets == []  # held in the printer's buffer, as a real one does


def test_no_completion_answer_is_unavailable_not_success() -> None:
    emulated = EmulatedPrinter()

    class _SwallowsGsR(_StreamLink):
        def write(self, data: bytes) -> None:
            super().write(data.replace(ep.PAPER_SENSOR_REQUEST, b""))

    printer = EscposPrinter(_SwallowsGsR(emulated), timeout_s=REPLY_S, print_timeout_s=REPLY_S)
    with pytest.raises(DeviceUnavailable, match="no completion answer"):
        printer.print_ticket(TICKET)


def test_paper_running_out_during_the_job_is_reported() -> None:
    emulated = EmulatedPrinter()
    link = _StreamLink(emulated, on_job=EmulatedState.NEAR_END)
    printer = EscposPrinter(link, timeout_s=REPLY_S)
    printer.print_ticket(TICKET)  # near end after the job: printed, and the state says so
    assert printer.state().health is Health.DEGRADED
    assert len(emulated.tickets) == 1


def test_stale_reply_is_drained_before_a_status_query() -> None:
    emulated = EmulatedPrinter()
    link = _StreamLink(emulated)
    link._replies += b"\x00"  # a late GS r 1 answer from an earlier timed-out job
    assert EscposPrinter(link, timeout_s=REPLY_S).status() == PrinterStatus()


# --- the emulator's parser --------------------------------------------------------------------------------


def test_status_requests_inside_payloads_are_not_answered() -> None:
    stream = EmulatedPrinter().stream()
    raster = bytes([0x1D, 0x76, 0x30, 0x00, 0x03, 0x00, 0x01, 0x00]) + b"\x10\x04\x01"
    graphics = bytes([0x1D, 0x28, 0x4C, 0x05, 0x00, 0x30, 0x70]) + b"\x10\x04\x02"
    qr_store = bytes([0x1D, 0x28, 0x6B, 0x06, 0x00, 0x31, 0x50, 0x30]) + b"\x10\x04\x03"
    assert stream.feed(ep.INIT + raster + graphics + qr_store) == b""
    assert stream.feed(ep.status_request(4)) == b"\x12"


def test_byte_by_byte_feeding_gives_the_same_ticket() -> None:
    emulated = EmulatedPrinter()
    stream = emulated.stream()
    job = ticket_bytes(TICKET, 80) + ep.PAPER_SENSOR_REQUEST
    replies = b"".join(stream.feed(job[i : i + 1]) for i in range(len(job)))
    assert replies == b"\x00"
    [ticket] = emulated.tickets
    assert ticket.raw == ticket_bytes(TICKET, 80)


def test_status_is_answered_mid_job_but_gs_r_waits_for_recovery() -> None:
    emulated = EmulatedPrinter(state=EmulatedState.PAPER_OUT)
    stream = emulated.stream()
    job = ticket_bytes(TICKET, 80)
    # DLE EOT is real-time even in the middle of a held job; GS r 1 is held with the job.
    cut = job.index(b"\n") + 1  # hosts send real-time commands between commands, not inside one
    assert stream.feed(job[:cut] + ep.status_request(4) + job[cut:] + ep.PAPER_SENSOR_REQUEST) == b"\x7e"
    assert emulated.tickets == []
    emulated.set_state("ready")
    assert stream.feed(b"") == b"\x00"
    assert len(emulated.tickets) == 1


# --- transports and the factory --------------------------------------------------------------------------


def test_python_escpos_dummy_records_the_exact_job_and_never_reports_paper_ok() -> None:
    dummy = Dummy()
    printer = EscposPrinter(EscposTransport(dummy), timeout_s=REPLY_S)
    with pytest.raises(DeviceUnavailable, match="no answer"):
        printer.print_ticket(TICKET)  # a write-only link cannot prove anything
    assert dummy.output == ep.status_request(1)
    EscposTransport(dummy).write(ticket_bytes(TICKET, 58))
    assert dummy.output.endswith(ticket_bytes(TICKET, 58))


def test_python_escpos_network_object_is_read_with_bounded_waits() -> None:
    from escpos.printer import Network

    with TcpPrinterEmulator() as emu:
        net = Network(host=emu.host, port=emu.port, timeout=REPLY_S)
        printer = EscposPrinter(EscposTransport(net, timeout=REPLY_S), timeout_s=REPLY_S)
        try:
            printer.print_ticket(TICKET)
            emu.set_state("paper_out")
            assert printer.status().paper_out
        finally:
            printer.close()
        assert len(emu.tickets) == 1


def test_an_echoing_link_is_a_protocol_error_not_ready() -> None:
    # loop:// sends every byte back: the first "reply" is the request's own 0x10, which no printer sends.
    port = serial.serial_for_url("loop://", timeout=REPLY_S)
    printer = EscposPrinter(SerialTransport(port), timeout_s=REPLY_S)
    try:
        with pytest.raises(ProtocolError, match="0xx1xx10"):
            printer.status()
        assert "应答异常" in printer.state().reason
    finally:
        printer.close()


def test_a_serial_device_that_never_answers(pty_pair: PtyPair) -> None:
    printer = build_printer(Device(type="escpos-serial", url=pty_pair.path, timeout_s=REPLY_S))
    try:
        with pytest.raises(DeviceUnavailable, match="no answer to DLE EOT 1"):
            printer.status()
    finally:
        printer.close()
    assert os.read(pty_pair.device_fd, 16) == b"\x10\x04\x01"


def test_socket_transport_reports_a_closed_connection() -> None:
    with TcpPrinterEmulator() as emu:
        link = SocketTransport.connect(emu.host, emu.port, timeout=REPLY_S)
        try:
            link.write(ep.status_request(1))
            assert link.read(1, REPLY_S) == b"\x12"
            assert link.read(1, 0.0) == b""
            emu.stop()
            with pytest.raises(DeviceUnavailable, match="closed"):
                link.read(1, REPLY_S)
        finally:
            link.close()


def test_connecting_to_nothing_is_unavailable() -> None:
    with TcpPrinterEmulator() as emu:
        port = emu.port
    printer = build_printer(Device(type="escpos-network", url=f"tcp://127.0.0.1:{port}", timeout_s=REPLY_S))
    with pytest.raises(DeviceUnavailable, match="cannot connect"):
        printer.status()
    printer.close()


def test_factory() -> None:
    fake = build_printer(Device(type="fake", width_mm=58))
    assert isinstance(fake, FakeTicketPrinter)
    assert fake.width_mm == 58
    with pytest.raises(DriverError, match="unknown"):
        build_printer(Device(type="escpos-parallel"))
    with pytest.raises(DriverError, match="usb_vendor"):
        build_printer(Device(type="escpos-usb"))
    missing = build_printer(Device(type="escpos-serial", url="/nonexistent/ttyUSB9", timeout_s=REPLY_S))
    with pytest.raises(DeviceUnavailable, match="cannot open"):
        missing.status()  # built anyway: the app starts and shows the printer as unavailable
    missing.close()


def test_usb_printer_without_the_device_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    import usb.core

    monkeypatch.setattr(usb.core, "find", lambda **_: None)  # the one discovery call: nothing plugged in
    printer = build_printer(
        Device(type="escpos-usb", usb_vendor=0x0416, usb_product=0x5011, timeout_s=REPLY_S)
    )
    with pytest.raises(DeviceUnavailable, match="usb 0416:5011"):
        printer.status()
    printer.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("tcp://192.168.1.50:9100", ("192.168.1.50", 9100)),
        ("socket://10.0.0.7:9101", ("10.0.0.7", 9101)),
        ("printer-3.hall.lan", ("printer-3.hall.lan", 9100)),
        ("127.0.0.1:9200", ("127.0.0.1", 9200)),
    ],
)
def test_network_urls(url: str, expected: tuple[str, int]) -> None:
    assert parse_network_url(url) == expected


def test_bad_network_url() -> None:
    with pytest.raises(DriverError, match="host:port"):
        parse_network_url("tcp://printer:ninety")


# --- the fake -------------------------------------------------------------------------------------------


def test_fake_printer_follows_the_same_rules() -> None:
    fake = FakeTicketPrinter(width_mm=58)
    fake.print_ticket(TICKET)
    fake.print_notice(NOTICE)
    assert fake.tickets == [TICKET]
    assert fake.notices == [NOTICE]
    assert fake.jobs == [ticket_bytes(TICKET, 58), notice_bytes(NOTICE, 58)]
    fake.set_status(PrinterStatus(online=False, paper_out=True))
    with pytest.raises(PrinterNotReady, match="缺纸"):
        fake.print_ticket(TICKET)
    fake.set_status(None)
    with pytest.raises(DeviceUnavailable, match="no answer"):
        fake.status()
    assert fake.state().health is Health.UNAVAILABLE
    fake.set_status(PrinterStatus())
    fake.fail_next = DeviceUnavailable("lost mid-job")
    with pytest.raises(DeviceUnavailable, match="mid-job"):
        fake.print_ticket(TICKET)
    fake.print_ticket(TICKET)
    assert len(fake.tickets) == 2


def test_python_escpos_serial_object_over_a_pty() -> None:
    from escpos.printer import Serial

    with PtyPrinterEmulator() as emu:
        port = Serial(devfile=emu.path, timeout=REPLY_S)
        printer = EscposPrinter(EscposTransport(port, timeout=REPLY_S), timeout_s=REPLY_S)
        try:
            printer.print_ticket(TICKET)
        finally:
            printer.close()
        assert len(emu.tickets) == 1


def test_emulator_draws_a_ticket_as_png(tmp_path: Path) -> None:
    from PIL import Image

    emulated = EmulatedPrinter(width_mm=58)
    emulated.stream().feed(ticket_bytes(TICKET, 58))
    out = tmp_path / "ticket.png"
    render_png(emulated.tickets[0], out, width_mm=58)
    with Image.open(out) as image:
        assert image.width == 384
        assert image.height > 400  # text lines plus the QR code
