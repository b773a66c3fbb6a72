"""Printer-safe issuing, once for the kiosk and the service desk (`hallui.issuing`), against a real hall
server on 127.0.0.1: what the desk says is what its printer printed, a job lost mid-way is printed once more,
a ticket that cannot be printed is withdrawn (a walk-in) or kept (a booking, which is the citizen's), and
nothing is ever issued twice or left with nobody holding it.

The printers are `FakeTicketPrinter`s (the real `TicketPrinter` Protocol, the exact ESC/POS bytes recorded)
made to fail on cue.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest

from counter.desk.controller import DeskController
from counter.desk.flow import DeskFlow, DeskPhase
from counter.notices import render
from counter.texts import catalog
from drivers.codecs.escpos import PrinterStatus
from drivers.fakes import FakeTicketPrinter
from drivers.protocols import DeviceUnavailable, DriverError, PrinterNotReady, TicketPrint
from hallclient.http import HttpHall
from hallui.issuing import Issuer
from tests.fakes.live_server import LiveServer, Station, live_server

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
def desk(live: LiveServer) -> Station:
    return live.station("desk", "desk-issuing", window=14)


async def _settled(flow: DeskFlow) -> None:
    for _ in range(2000):  # a hang guard, not a speed limit
        if flow.phase is not DeskPhase.BUSY:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the desk stayed busy")


def at_desk(live: LiveServer, desk: Station, printer: FakeTicketPrinter, *intents: Intent) -> DeskFlow:
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


def test_desk_shows_the_tolerated_items_it_printed(live: LiveServer, desk: Station) -> None:
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


def test_desk_prints_a_lost_job_once_more(live: LiveServer, desk: Station) -> None:
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
    live: LiveServer, desk: Station, error: DriverError, says: str
) -> None:
    before = tickets(live)
    flow = at_desk(live, desk, FlakyPrinter(2, error), *walk_in(HJ01, HJ01_ALL))
    label, state = only_new(live, before)
    assert state == "cancelled"  # nobody holds it: it must not be called
    assert says in notice(flow)
    assert label in notice(flow)
    assert flow.phase is DeskPhase.PRECHECK  # the matter stays chosen: issue again


def test_desk_booking_that_cannot_print_stays_valid(live: LiveServer, desk: Station) -> None:
    code = live.book(HJ01, live.clock.now().date(), dt.time(9, 0))
    printer, before = FlakyPrinter(2, DeviceUnavailable("no answer to GS r 1")), tickets(live)
    flow = at_desk(live, desk, printer, ("check_in", {"code": code}))
    label, state = only_new(live, before)
    assert state == "waiting"  # the citizen's booking is used: the number stays theirs
    assert "仍有效" in notice(flow)
    assert label in notice(flow)
