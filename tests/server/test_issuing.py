"""Printer-safe issuing, once for the kiosk and the service desk (`hallui.issuing`), against a real hall
server on 127.0.0.1: the kiosk and the desk print the same ticket for the same reply (the acceptance test of
issue 15: both through the ESC/POS emulator over TCP, as the stations' own controllers drive it), what the
desk says is what its printer printed, a job lost mid-way is printed once more, a ticket that cannot be
printed is withdrawn (a walk-in) or kept (a booking, which is the citizen's), and nothing is ever issued
twice or left with nobody holding it.

The failing printers are `FakeTicketPrinter`s (the real `TicketPrinter` Protocol, the exact ESC/POS bytes
recorded) made to fail on cue.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from counter.desk.controller import DeskController
from counter.desk.flow import DeskFlow, DeskPhase
from counter.notices import render
from counter.texts import catalog
from drivers.codecs.escpos import PrinterStatus
from drivers.emulators.printer import TcpPrinterEmulator
from drivers.factory import build_station
from drivers.fakes import FakeTicketPrinter
from drivers.protocols import DeviceUnavailable, DriverError, PrinterNotReady, TicketPrint, TicketPrinter
from hallclient.http import HttpHall
from hallclient.types import Issued
from hallcore.config import Device, Station, StationRole
from hallui.issuing import Issuer, PrintResult
from kiosk.controller import KioskController
from kiosk.flow import KioskFlow, Screen
from tests.fakes.live_server import LiveServer, live_server
from tests.fakes.live_server import Station as LiveStation

#: 社会保障卡申领: no questions; 身份证 required, the photo receipt tolerable (容缺).
SB02 = "SB02"
#: 户口迁入登记: one question (in person?), three required materials, none tolerable.
HJ01 = "HJ01"
HJ01_ALL = ("idcard", "hukou", "move_permit")

#: What the desk's view sends its controller: an action and its arguments.
Intent = tuple[str, dict[str, object]]


class FlakyPrinter(FakeTicketPrinter):
    """A `FakeTicketPrinter` whose next `fails` ticket jobs raise `error` (a printer lost mid-job)."""

    def __init__(self, fails: int, error: DriverError) -> None:
        super().__init__()
        self.fails = fails
        self.error = error
        self.attempts = 0

    def print_ticket(self, ticket: TicketPrint) -> None:
        self.attempts += 1
        if self.fails > 0:
            self.fails -= 1
            raise self.error
        super().print_ticket(ticket)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("issuing")) as hall:
        yield hall


@pytest.fixture(scope="module")
def desk(live: LiveServer) -> LiveStation:
    return live.station("desk", "desk-issuing", window=14)


async def _until(cond: Callable[[], bool], what: str) -> None:
    for _ in range(4000):  # a hang guard, not a speed limit
        if cond():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


async def _settled(flow: DeskFlow) -> None:
    await _until(lambda: flow.phase is not DeskPhase.BUSY, "the desk to finish")


def at_desk(live: LiveServer, desk: LiveStation, printer: FakeTicketPrinter, *intents: Intent) -> DeskFlow:
    """Run the desk's intents (as its view sends them) through its controller; returns its flow."""
    flow = DeskFlow(live.config)

    async def go() -> None:
        async with HttpHall(live.url, desk.token, clock=live.clock, retries=0) as api:
            controller = DeskController(Issuer(api, printer), flow)
            for action, args in intents:
                controller.request(action, args)
                await _settled(flow)
            await controller.aclose()

    asyncio.run(go())
    return flow


def walk_in(matter: str, present: tuple[str, ...]) -> list[Intent]:
    steps: list[Intent] = [("choose", {"matter": matter})]
    steps += [("present", {"material": m, "value": True}) for m in present]
    return [*steps, ("issue", {})]


def notice(flow: DeskFlow) -> str:
    assert flow.notice is not None
    return render(flow.notice, catalog())


def tickets(live: LiveServer) -> set[tuple[str, str]]:
    return {(str(label), str(state)) for label, state in live.query("SELECT label, state FROM tickets")}


def only_new(live: LiveServer, before: set[tuple[str, str]]) -> tuple[str, str]:
    """The one ticket issued since `before` (label, state); fails if there is not exactly one."""
    labels = {label for label, _ in before}
    [new] = [t for t in tickets(live) if t[0] not in labels]
    return new


def emulated_printer(emu: TcpPrinterEmulator) -> TicketPrinter:
    """The station's printer as the app builds it (`drivers.factory`), on the emulator's TCP port."""
    device = Device("escpos-network", emu.url, width_mm=80)
    printer = build_station(Station("printer-test", StationRole.DESK, printer=device)).printer
    assert printer is not None
    return printer


def test_kiosk_and_desk_print_the_same_tolerated_items_and_estimate(
    live: LiveServer, desk: LiveStation
) -> None:
    """SB02 with the photo receipt missing (容缺), from the kiosk and then from the desk, into the same queue
    (a window open, one person waiting; the kiosk's ticket is cancelled before the desk issues, so both see
    the same people ahead). Each station's own controller drives the shared service; each prints on its own
    emulated printer. The two replies agree in all but the ticket's identity, and so do the printed bytes."""
    window = live.station("counter", "issuing-counter", window=5)  # 5号社保窗口 serves B
    live.login_counter(window)
    assert live.act(window, "open").status_code == 200
    assert live.post(desk, "/api/tickets", matter=SB02, answers={}, present=["idcard"]).status_code == 201
    with TcpPrinterEmulator() as kiosk_emu, TcpPrinterEmulator() as desk_emu:
        kiosk_printer, desk_printer = emulated_printer(kiosk_emu), emulated_printer(desk_emu)
        try:
            at_kiosk, at_desk = asyncio.run(_kiosk_then_desk(live, desk, kiosk_printer, desk_printer))
        finally:
            kiosk_printer.close()
            desk_printer.close()
        # SB02 asks for a 承诺书: it comes out below the ticket, after its own cut.
        [kiosk_paper, kiosk_pledge], [desk_paper, desk_pledge] = kiosk_emu.tickets, desk_emu.tickets
    # The same reply, but for the ticket's identity.
    assert (at_kiosk.ahead, at_kiosk.estimate) == (at_desk.ahead, at_desk.estimate)
    assert at_kiosk.precheck == at_desk.precheck
    assert at_desk.precheck is not None
    assert at_desk.estimate.low_min is not None  # a window is open: a real range, not "no estimate"
    # The same paper: the desk's bytes are the kiosk's with the number and the phone link swapped.
    k, d = at_kiosk.ticket.label, at_desk.ticket.label
    assert len(at_kiosk.status_url) == len(at_desk.status_url)
    swapped = kiosk_paper.raw.replace(k.encode(), d.encode())
    swapped = swapped.replace(at_kiosk.status_url.encode(), at_desk.status_url.encode())
    assert swapped == desk_paper.raw
    assert kiosk_pledge.raw.replace(k.encode(), d.encode()) == desk_pledge.raw
    # And what is on it: the tolerable items only, the due date, the estimate as the reply gives it.
    tolerable = [m.name for m in live.config.matter_by_code[SB02].precheck.materials if m.tolerable]
    low, high = at_desk.estimate.low_min, at_desk.estimate.high_min
    for paper in (kiosk_paper, desk_paper):
        text = paper.text.replace(" ", "")
        assert [line for line in text.splitlines() if line[:2] in ("1.", "2.")] == [f"1.{tolerable[0]}"]
        assert f"补齐期限：{at_desk.precheck.due}前" in text
        assert f"预计等候{low}～{high if high is not None else low}分钟" in text
    pledge = desk_pledge.text.replace(" ", "").replace("\n", "")
    assert pledge.startswith("承诺书")
    assert f"缺少以下材料：{tolerable[0]}。本人承诺于{at_desk.precheck.due}前补齐" in pledge
    assert "承诺人（签字）：" in pledge


async def _kiosk_then_desk(
    live: LiveServer, desk: LiveStation, kiosk_printer: TicketPrinter, desk_printer: TicketPrinter
) -> tuple[Issued, Issued]:
    live.manager_headers()  # logs the manager in (a sync call: before the loop's work starts)
    async with (
        HttpHall(live.url, live.kiosk.token, clock=live.clock, retries=0) as kiosk_api,
        HttpHall(live.url, desk.token, clock=live.clock, retries=0) as desk_api,
        HttpHall(live.url, live.manager_token, clock=live.clock, retries=0) as manager_api,
    ):
        cfg = live.config
        flow = KioskFlow(matters=cfg.matters, priority_classes=cfg.priority_classes)
        kiosk = KioskController(cfg, kiosk_api, Issuer(kiosk_api, kiosk_printer), flow, live.clock)
        kiosk.do(flow.start)
        kiosk.do(flow.choose_matter, SB02)
        kiosk.do(flow.toggle_material, "idcard")
        kiosk.do(flow.materials_done)
        kiosk.submit("")  # the citizen's final tap
        await _until(lambda: flow.screen is Screen.TICKET, "the kiosk's ticket")
        assert flow.issued is not None
        assert flow.print_result == PrintResult(printed=True)
        # The manager clears the kiosk's ticket (a desk may cancel only its own, or its window's).
        await manager_api.cancel_ticket(flow.issued.ticket.id, "test: the desk issues into the same queue")
        desk_flow = DeskFlow(cfg)
        controller = DeskController(Issuer(desk_api, desk_printer), desk_flow)
        for action, args in walk_in(SB02, ("idcard",)):
            controller.request(action, args)
            await _settled(desk_flow)
        await kiosk.aclose()
        await controller.aclose()
        assert desk_flow.last_issued is not None
        return flow.issued, desk_flow.last_issued


def test_desk_shows_the_tolerated_items_it_printed(live: LiveServer, desk: LiveStation) -> None:
    printer, before = FakeTicketPrinter(), tickets(live)
    flow = at_desk(live, desk, printer, *walk_in(SB02, ("idcard",)))
    [ticket] = printer.tickets
    photo = next(m for m in live.config.matter_by_code[SB02].precheck.materials if m.tolerable)
    assert ticket.tolerance_items == (photo.name,)
    assert ticket.tolerance_due
    text = notice(flow)
    assert f"容缺受理：{photo.name}，{ticket.tolerance_due} 前补齐" in text
    assert text.startswith(f"已取号 {ticket.number}")
    assert only_new(live, before) == (ticket.number, "waiting")


def test_desk_prints_a_lost_job_once_more(live: LiveServer, desk: LiveStation) -> None:
    printer, before = FlakyPrinter(1, DeviceUnavailable("no answer to GS r 1")), tickets(live)
    flow = at_desk(live, desk, printer, *walk_in(HJ01, HJ01_ALL))
    assert printer.attempts == 2
    [ticket] = printer.tickets
    assert "已取号" in notice(flow)
    assert only_new(live, before) == (ticket.number, "waiting")


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (DeviceUnavailable("no answer to GS r 1"), "打印结果不明"),
        (PrinterNotReady(PrinterStatus(paper_out=True), sent=False), "打印失败"),
    ],
)
def test_desk_walk_in_that_cannot_print_is_cancelled(
    live: LiveServer, desk: LiveStation, error: DriverError, says: str
) -> None:
    before = tickets(live)
    flow = at_desk(live, desk, FlakyPrinter(2, error), *walk_in(HJ01, HJ01_ALL))
    label, state = only_new(live, before)
    assert state == "cancelled"  # nobody holds it: it must not be called
    assert says in notice(flow)
    assert label in notice(flow)
    assert flow.phase is DeskPhase.PRECHECK  # the matter stays chosen: issue again


def test_desk_booking_that_cannot_print_stays_valid(live: LiveServer, desk: LiveStation) -> None:
    code = live.book(HJ01, live.clock.now().date(), dt.time(9, 0))
    printer, before = FlakyPrinter(2, DeviceUnavailable("no answer to GS r 1")), tickets(live)
    flow = at_desk(live, desk, printer, ("check_in", {"code": code}))
    label, state = only_new(live, before)
    assert state == "waiting"  # the citizen's booking is used: the number stays theirs
    assert "仍有效" in notice(flow)
    assert label in notice(flow)
