"""Notices ("快到您了") at the service desk (issue 30): after a ticket is issued and printed, the staff type
the citizen's number, tick the consent and send; the hall records it for that ticket and the desk shows it
masked only."""

from __future__ import annotations

import asyncio

from pytestqt.qtbot import QtBot

from counter.desk.controller import DeskController
from counter.desk.flow import DeskFlow, DeskPhase
from counter.desk.view import DeskView
from counter.texts import catalog
from drivers.fakes import FakeTicketPrinter
from hallclient.http import HttpHall
from hallui.issuing import Issuer
from tests.fakes.live_server import LiveServer, Station
from tests.gui.qtloop import complete, run_until

PHONE = "13812345678"


def test_the_desk_opts_the_ticket_it_issued_in(
    live: LiveServer, desk: Station, qtbot: QtBot, running: asyncio.AbstractEventLoop
) -> None:
    view = DeskView(catalog())
    qtbot.addWidget(view)
    api = HttpHall(live.url, desk.token, clock=live.clock, retries=0, verify=live.ssl)
    flow = DeskFlow(live.config)
    controller = DeskController(Issuer(api, FakeTicketPrinter()), flow, clock=live.clock)
    controller.on_change = lambda: view.show_flow(flow)
    view.intent.connect(controller.request)
    controller.start()
    view.show_flow(flow)
    assert not view.notify_box.isVisibleTo(view)  # nothing issued yet
    controller.request("choose", {"matter": "SB02"})
    for m in live.config.matter_by_code["SB02"].precheck.materials:
        controller.request("present", {"material": m.id, "value": True})
    controller.request("issue", {})
    run_until(qtbot, lambda: flow.phase is not DeskPhase.BUSY and flow.last_issued is not None, 15)
    assert view.notify_box.isVisibleTo(view)
    view.notify_phone.setText(PHONE)
    view.notify_send.click()  # no consent ticked: refused here
    assert view.notify_state.text() == "请先确认群众同意"
    assert live.query("SELECT COUNT(*) FROM notice_subs") == [(0,)]
    view.notify_consent.setChecked(True)
    view.notify_send.click()
    run_until(qtbot, lambda: flow.notify.masked != "", 15)
    issued = flow.last_issued
    assert issued is not None
    assert view.notify_state.text() == f"已登记短信提醒：{issued.ticket.label} → 138****5678"
    assert view.notify_phone.text() == ""  # the number leaves the screen once the hall has it
    assert live.query("SELECT ref, via, address FROM notice_subs") == [(issued.ticket.id, "desk", PHONE)]
    complete(qtbot, running, controller.aclose())
    complete(qtbot, running, api.aclose())
