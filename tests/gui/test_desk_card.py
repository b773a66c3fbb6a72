"""The service desk reads ID cards too (issue 27): the emulated reader over a pty, built by drivers.factory
from the desk station's config, the desk's controller and view, a real server over TLS. The card's holder is
shown masked with the class the card verifies, the ticket is theirs (counted, classed), and the card is
dropped once the ticket is issued."""

from __future__ import annotations

import asyncio
import pathlib
from typing import Any

from pytestqt.qtbot import QtBot

from counter.desk.controller import DeskController
from counter.desk.flow import DeskFlow, DeskPhase
from counter.desk.view import DeskView
from counter.texts import catalog
from drivers.emulators.idcard import SamReaderEmulator
from drivers.factory import build_station
from drivers.fakes import FakeTicketPrinter
from hallclient.http import HttpHall
from hallcore.config import Device, Station, StationRole
from hallui.issuing import Issuer
from tests.fakes.live_server import LiveServer
from tests.gui.qtloop import complete, run_until
from tests.gui.test_kiosk_card import ELDER, ELDER_ID


def test_the_desk_reads_a_card_and_issues_for_its_holder(
    tmp_path: pathlib.Path, live: LiveServer, qtbot: QtBot, running: asyncio.AbstractEventLoop
) -> None:
    desk = live.station("desk", "desk-card", window=14)
    printer = FakeTicketPrinter()
    view = DeskView(catalog())
    with SamReaderEmulator.pty(link=tmp_path / "ttyDesk") as emu:
        # The desk's reader as its station config names it, built by drivers.factory as `hallq counter` does.
        reader = Device("idcard-serial", url=emu.url, baud=115200, poll_s=0.1)
        station = Station("desk-card", StationRole.DESK, window=14, id_reader=reader)
        with build_station(station) as devices:
            api = HttpHall(live.url, desk.token, clock=live.clock, retries=0, verify=live.ssl)
            flow = DeskFlow(live.config)
            controller = DeskController(
                Issuer(api, printer), flow, reader=devices.id_reader, clock=live.clock
            )
            controller.on_change = lambda: view.show_flow(flow)
            controller.start()
            view.show_flow(flow)
            assert view.card.text() == "可刷身份证：按证取号、核验年龄"
            emu.place(ELDER)
            run_until(qtbot, lambda: flow.card is not None, 15)
            assert view.card.text() == "已刷身份证：张** · 老年人（70周岁以上）（身份证核验）"
            controller.request("choose", {"matter": "SB02"})
            matter = live.config.matter_by_code["SB02"]
            for m in matter.precheck.materials:
                controller.request("present", {"material": m.id, "value": True})
            controller.request("issue", {})
            run_until(qtbot, lambda: flow.phase is not DeskPhase.BUSY and flow.last_issued is not None, 15)
            assert flow.card is None  # served: the next citizen reads their own card
            assert view.card.text() == "可刷身份证：按证取号、核验年龄"
            rows = live.query("SELECT priority, class_check, identity, holder_masked FROM tickets")
            assert rows == [("elderly", "verified", "card", "张**")]
            assert "老年人" in printer.tickets[-1].priority
            shown: Any = " ".join(w.text() for w in view.findChildren(type(view.card)))
            assert ELDER_ID not in shown
            complete(qtbot, running, controller.aclose())
            complete(qtbot, running, api.aclose())
    view.deleteLater()
