"""How a case ends, from every input of the counter app against a real hall server (issue 22): the outcome
buttons with the 办件编号 field, the Ctrl+digit shortcuts, the HQP/1 keypad's finish with an outcome digit
(and `*` case number), and a vendor 485 keypad, whose "next" finishes as 办结, changed on screen within the
minute and no longer after it."""

from __future__ import annotations

import asyncio
import dataclasses

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drivers.emulators.bus import Vendor485Emulator
from drivers.protocols import KeyCode
from hallcore.caseoutcome import CaseOutcome
from hallcore.config import Device
from tests.fakes.live_server import LiveServer
from tests.fakes.live_server import Station as LiveStation
from tests.gui.counter_rig import KEYPAD, Bus, Counter, bus, clerk, hqp_station, start_counter, stop_counter

__all__ = ["bus", "clerk"]  # fixtures this module uses


def outcome_of(live: LiveServer, label: str) -> tuple[str, str, str]:
    rows = live.query(
        "SELECT outcome, outcome_reason, case_no FROM tickets WHERE label = ? ORDER BY id DESC LIMIT 1",
        (label,),
    )
    return rows[0] if rows else ("", "", "")


def serve_next(c: Counter, label: str) -> None:
    c.click("call_next")
    c.until(lambda: c.flow.held_label == label)
    c.click("start")
    c.until(lambda: c.flow.held_state == "serving")
    c.until(lambda: not c.flow.busy)


def test_outcome_buttons_and_shortcuts_record_the_outcome_and_case_number(
    clerk: Counter, desk: LiveStation, live: LiveServer
) -> None:
    c = clerk
    m = c.app.window.main
    a1, a2, a3 = c.queue(desk, 3)
    assert not m.outcomes[CaseOutcome.ACCEPTED].isEnabled()  # nothing served, nothing just finished
    serve_next(c, a1)
    m.case_no.setText("2026120300123")  # typed or scanned
    c.until(m.outcomes[CaseOutcome.ACCEPTED].isEnabled)
    m.outcomes[CaseOutcome.ACCEPTED].click()
    c.until(lambda: live.ticket_state(a1) == "done")
    assert outcome_of(live, a1) == ("受理", "", "2026120300123")
    c.until(lambda: "受理" in m.outcome.text() and "2026120300123" in m.outcome.text())

    serve_next(c, a2)
    assert m.case_no.text() == ""  # a new case starts with an empty 办件编号
    c.app.window.activateWindow()
    c.qtbot.keyClick(  # type: ignore[no-untyped-call]
        c.app.window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier
    )  # Ctrl+5: 咨询
    c.until(lambda: live.ticket_state(a2) == "done")
    assert outcome_of(live, a2) == ("咨询", "", "")

    serve_next(c, a3)
    reason = live.config.outcomes.refusal_reasons[2]
    c.qtbot.keyClick(  # type: ignore[no-untyped-call]
        c.app.window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier
    )  # Ctrl+4: the form
    c.until(lambda: not m.form_box.isHidden())
    assert live.ticket_state(a3) == "serving"  # nothing is sent before the reason is chosen
    m.forms.refusal_reason.setCurrentText(reason)
    m.form_ok.click()
    c.until(lambda: live.ticket_state(a3) == "done")
    assert outcome_of(live, a3) == ("不予受理", reason, "")


def test_hqp_keypad_finish_with_an_outcome_digit_and_case_number(
    clerk: Counter, bus: Bus, desk: LiveStation, live: LiveServer
) -> None:
    c = clerk
    a1, a2 = c.queue(desk, 2)
    serve_next(c, a1)
    bus.emu.press(KEYPAD, KeyCode.FINISH, "3")  # 补正
    c.until(lambda: live.ticket_state(a1) == "done")
    assert outcome_of(live, a1) == ("补正", "", "")
    c.until(lambda: not c.flow.busy)
    bus.emu.press(KEYPAD, KeyCode.FINISH, "2*88001")  # pressed again within the minute: changed to 受理
    c.until(lambda: outcome_of(live, a1) == ("受理", "", "88001"))
    serve_next(c, a2)
    bus.emu.press(KEYPAD, KeyCode.FINISH, "9")  # not an outcome: refused on screen, nothing sent
    c.until(lambda: "1 办结" in c.app.window.main.message.text())
    assert live.ticket_state(a2) == "serving"
    bus.emu.press(KEYPAD, KeyCode.FINISH, "42")  # 不予受理, the hall's second reason
    c.until(lambda: live.ticket_state(a2) == "done")
    assert outcome_of(live, a2) == ("不予受理", live.config.outcomes.refusal_reasons[1], "")


def test_vendor_keypad_finishes_as_concluded_and_the_clerk_changes_it_within_the_minute(
    live: LiveServer, bus: Bus, desk: LiveStation, running: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    vendor = Vendor485Emulator.pty()
    vendor.add_keypad(KEYPAD)
    vendor.start()
    station = dataclasses.replace(
        hqp_station(bus.emu.url), keypad=Device(type="vendor485", url=vendor.url, address=KEYPAD)
    )
    c = start_counter(live, qtbot, running, station)
    try:
        c.login()
        m = c.app.window.main
        a1, a2 = c.queue(desk, 2)
        for state in ("called", "serving"):
            vendor.press(KEYPAD, 0x0C)  # next: call, then start
            c.until(lambda: live.ticket_state(a1) == state)  # noqa: B023
            c.until(lambda: not c.flow.busy)
        vendor.press(KEYPAD, 0x0C)  # next while serving: finish (as 办结) and call the next
        c.until(lambda: live.ticket_state(a1) == "done" and live.ticket_state(a2) == "called")
        assert outcome_of(live, a1) == ("办结", "", "")
        c.until(lambda: c.flow.held_label == a2 and not c.flow.busy)
        c.until(lambda: "办结结果：办结" in m.outcome.text() and "秒内可更改" in m.outcome.text())
        # On screen, within the minute: it was a 承诺件 accepted with a case number.
        m.case_no.setText("CN-7")
        c.until(m.outcomes[CaseOutcome.ACCEPTED].isEnabled)
        m.outcomes[CaseOutcome.ACCEPTED].click()
        c.until(lambda: outcome_of(live, a1) == ("受理", "", "CN-7"))
        assert live.ticket_state(a2) == "called"  # the next citizen's call is untouched
        c.until(lambda: not c.flow.busy)
        live.clock.advance(61)  # past the minute: the buttons go off, the hall would refuse it too
        c.until(lambda: "可更改" not in m.outcome.text())
        assert not m.outcomes[CaseOutcome.ADVICE].isEnabled()  # the next ticket is called, not served
        assert outcome_of(live, a1) == ("受理", "", "CN-7")
    finally:
        stop_counter(c, running)
        vendor.stop()
