"""The counter app's other set-ups against a real hall server: a vendor 485 call keypad (PROTOCOLS.md §3)
beside an HQP/1 strip and pad, the 导办台 desk mode printing on an emulated network printer, and first-start
enrollment until the manager approves."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from counter.actions import Action
from counter.app import assemble
from counter.desk.view import DeskView
from counter.texts import catalog
from drivers.emulators.bus import Vendor485Emulator
from drivers.emulators.printer import TcpPrinterEmulator
from drivers.factory import StationDevices, build_station
from hallclient.enroll import save_pin
from hallclient.http import HttpHall
from hallcore.config import Device, Station, StationRole
from tests.fakes.live_server import LiveServer
from tests.fakes.live_server import Station as LiveStation
from tests.fakes.shots import docs_dir
from tests.gui.counter_rig import KEYPAD, PAD, Bus, Counter, bus, hqp_station, start_counter, stop_counter
from tests.gui.qtloop import complete, run_until

__all__ = ["bus"]  # a fixture this module uses


@pytest.fixture
def vendor() -> Iterator[Vendor485Emulator]:
    emu = Vendor485Emulator.pty()
    emu.add_keypad(KEYPAD)
    emu.start()
    yield emu
    emu.stop()


def test_vendor_485_keypad_drives_the_window(
    live: LiveServer,
    bus: Bus,
    vendor: Vendor485Emulator,
    desk: LiveStation,
    running: asyncio.AbstractEventLoop,
    qtbot: QtBot,
) -> None:
    station = dataclasses.replace(
        hqp_station(bus.emu.url), keypad=Device(type="vendor485", url=vendor.url, address=KEYPAD)
    )
    c = start_counter(live, qtbot, running, station)
    try:
        c.login()  # the vendor keypad has no login key: the clerk logs in on screen
        a1, a2, a3 = c.queue(desk, 3)
        c.until(lambda: vendor.keypads[KEYPAD].render().endswith("waiting 003 ticket    "))
        # A key pressed while the counter's last request is in flight is refused as busy (as a button is);
        # the strip and the keypad follow the hall's events, which can come before the counter's own reply,
        # so each press waits until the counter may send it.
        c.until(lambda: c.flow.allowed(Action.CALL_NEXT))
        vendor.press(KEYPAD, 0x0C)  # 叫号 (next)
        c.until(lambda: bus.strip.text() == f"请{a1}号到1号窗口")
        shown = f"[{KEYPAD}] waiting 002 ticket {a1[-3:]}"
        c.until(lambda: vendor.keypads[KEYPAD].render() == shown)
        gap = live.config.no_show.min_recall_gap_s  # people need time to walk to the window
        for n in (1, 2):
            live.clock.advance(gap)
            vendor.press(KEYPAD, 0x0D)  # 重呼 (recall)
            c.until(lambda: c.flow.current is not None and c.flow.current.recalls == n)  # noqa: B023
            c.until(lambda: not c.flow.busy)
        live.clock.advance(gap)
        vendor.press(KEYPAD, 0x06, 0x0F)  # 弃号 + confirm (no-show)
        c.until(lambda: live.ticket_state(a1) == "no_show")
        c.until(lambda: bus.strip.text() == "欢迎光临")
        c.until(lambda: c.flow.allowed(Action.CALL_NEXT))
        vendor.press(KEYPAD, 0x0C)
        c.until(lambda: bus.strip.text() == f"请{a2}号到1号窗口")
        partner = live.station("counter", "partner", window=2)  # a transfer to a closed window is refused
        live.login_counter(partner)
        assert live.act(partner, "open").status_code == 200
        c.until(lambda: not c.flow.busy)
        vendor.press(KEYPAD, 2, 0x13)  # digits then 转移 (transfer to window 2)
        c.until(lambda: live.ticket_state(a2) == "waiting")
        c.until(lambda: bus.strip.text() == "欢迎光临")
        c.until(lambda: c.flow.allowed(Action.CALL_NEXT))
        vendor.press(KEYPAD, 0x0C)  # call
        c.until(lambda: live.ticket_state(a3) == "called")
        c.until(lambda: not c.flow.busy)
        vendor.press(KEYPAD, 0x0C)  # the citizen came: start
        c.until(lambda: live.ticket_state(a3) == "serving")
        c.until(lambda: not c.flow.busy)  # a press while a request is in flight is dropped
        vendor.press(KEYPAD, 0x0C)  # finish (and call the next, nobody is left)
        c.until(lambda: live.ticket_state(a3) == "done")
        c.until(lambda: bus.pad.pending == a3)
        bus.emu.rate(PAD, 1)
        c.until(lambda: live.count("SELECT COUNT(*) FROM cases") == 1)
        c.until(lambda: c.flow.allowed(Action.PAUSE))
        vendor.press(KEYPAD, 0x12)  # 暂停 (pause, the hall's first reason)
        reason = live.config.server.pause_reasons[0]
        c.until(lambda: bus.strip.text() == f"暂停服务 {reason}")
        assert vendor.keypads[KEYPAD].unacked == []  # every key frame was echoed (ACKed)
    finally:
        stop_counter(c, running)


@pytest.fixture
def printer() -> Iterator[TcpPrinterEmulator]:
    emu = TcpPrinterEmulator()
    emu.start()
    yield emu
    emu.stop()


def _desk(printer: TcpPrinterEmulator) -> tuple[StationDevices, Station]:
    station = dataclasses.replace(
        hqp_station("loop://", 14, role=StationRole.DESK),
        id="desk-1",
        led=None,
        keypad=None,
        rating_pad=None,
        printer=Device(type="escpos-network", url=printer.url, width_mm=58),
    )
    return build_station(station).start(), station


def open_desk(
    live: LiveServer,
    printer: TcpPrinterEmulator,
    desk: LiveStation,
    running: asyncio.AbstractEventLoop,
    qtbot: QtBot,
) -> tuple[Counter, DeskView]:
    """The counter app as the service desk (its printer on the emulator), logged in on its desk tab."""
    devices, station = _desk(printer)
    c = start_counter(live, qtbot, running, station, token=desk.token, devices=devices)
    try:
        c.login()
        w = c.app.window
        assert w.tabs is not None
        assert w.desk is not None
        w.tabs.setCurrentWidget(w.desk)
    except BaseException:
        stop_counter(c, running)
        raise
    return c, w.desk


def test_desk_issues_with_precheck_and_prints_on_the_desk_printer(
    live: LiveServer,
    printer: TcpPrinterEmulator,
    desk: LiveStation,
    running: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    artifacts: Path,
    repo_root: Path,
) -> None:
    c, d = open_desk(live, printer, desk, running, qtbot)
    w = c.app.window
    try:
        d.search.setText("hkqr")  # pinyin initials of 户口迁入登记
        c.until(lambda: d.matches.count() >= 1)
        d.search.setText("户口迁入")
        c.until(lambda: d.matches.item(0) is not None and "HJ01" in d.matches.item(0).text())
        d._choose(d.matches.item(0))
        c.until(lambda: "deskM_idcard" in {b.objectName() for b in d.checks.values()})
        # 1. a material missing that cannot be tolerated: no ticket, the 一次性告知单 is printed
        d.checks["m:idcard"].setChecked(True)
        d.checks["m:hukou"].setChecked(True)
        d.issue.click()
        c.until(lambda: len(printer.printer.tickets) == 1)
        c.until(lambda: "告知单" in d.notice.text())
        notice = printer.printer.tickets[0].text
        assert "一次性告知单" in notice
        assert "准予迁入证明" in notice
        assert live.count("SELECT COUNT(*) FROM tickets") == 0
        # 2. everything there: a ticket, printed, waiting in the queue
        d.checks["m:move_permit"].setChecked(True)
        w.grab().save(str(artifacts / "counter-desk-precheck.png"))
        d.issue.click()
        c.until(lambda: len(printer.printer.tickets) == 2)
        c.until(lambda: "已取号" in d.notice.text())
        ticket = printer.printer.tickets[1].text
        label = live.query("SELECT label FROM tickets")[0][0]
        assert label in ticket
        assert "户口迁入登记" in ticket
        assert live.ticket_state(label) == "waiting"
        w.grab().save(str(artifacts / "counter-desk-issued.png"))
        w.grab().save(str(docs_dir() / "counter-desk.png"))
        # 2b. 代办: "not in person" opens the agent's papers question; with them, the ticket lists them
        d._choose(d.matches.item(0))
        c.until(lambda: "m:idcard" in d.checks)
        agent_box = d.checks["q:agent_docs"]
        assert agent_box.isHidden()  # asked only after a "no"
        assert "m:authorization" not in d.checks  # the answer vouches for the papers, no boxes
        d.checks["q:in_person"].setChecked(False)
        c.until(lambda: not agent_box.isHidden())
        assert agent_box.isChecked()  # starts at the expected answer: the staff ask
        for mid in ("idcard", "hukou", "move_permit"):
            d.checks[f"m:{mid}"].setChecked(True)
        d.issue.click()
        c.until(lambda: len(printer.printer.tickets) == 3)
        c.until(lambda: "代办" in d.notice.text())
        assert "请核验授权委托书、代理人身份证" in d.notice.text()
        agent_ticket = printer.printer.tickets[2].text
        assert "代办：请在窗口出示以下材料" in agent_ticket
        assert "1. 授权委托书" in agent_ticket
        assert "2. 代理人身份证" in agent_ticket
        assert live.query("SELECT agent FROM prechecks ORDER BY id") == [(0,), (0,), (1,)]
        # 3. the printer runs out of paper: nothing is issued, the staff see why
        printer.printer.set_state("paper_out")
        d.search.setText("HJ04")
        c.until(lambda: d.matches.count() == 1)
        d._choose(d.matches.item(0))
        c.until(lambda: "m:photo" in d.checks)
        for box in d.checks.values():
            box.setChecked(True)
        d.issue.click()
        c.until(lambda: "打印机不可用" in d.notice.text())
        assert live.count("SELECT COUNT(*) FROM tickets") == 2
    finally:
        stop_counter(c, running)


def test_desk_marks_rongque_items_supplied(
    live: LiveServer,
    printer: TcpPrinterEmulator,
    desk: LiveStation,
    running: asyncio.AbstractEventLoop,
    qtbot: QtBot,
) -> None:
    """The citizen comes back with the photo receipt owed on a 容缺 ticket: the desk finds the number, marks
    it brought, and the hall's register says supplied on time."""
    r = live.post(desk, "/api/tickets", matter="SB02", present=["idcard"], holder_name="李四")
    assert r.json()["precheck"]["outcome"] == "容缺", r.text
    tid, label = r.json()["ticket"]["id"], r.json()["ticket"]["label"]
    c, d = open_desk(live, printer, desk, running, qtbot)
    try:
        # A number that owes nothing says so.
        d.owed_label.setText("Z999")
        d.owed_find.click()
        c.until(lambda: "Z999 没有待补" in d.owed_notice.text())
        d.owed_label.setText(label.lower())  # typed as it comes
        d.owed_find.click()
        c.until(lambda: d.findChild(QPushButton, "deskSupply_0_photo_receipt") is not None)
        entry = d.findChild(QLabel, "deskOwedEntry_0")
        assert entry is not None
        assert entry.text() == f"{label}（社会保障卡申领）李* 补齐期限 2026-12-21：待补齐"
        assert d.findChild(QPushButton, "deskSupplyAll_0") is None  # one item: its own button is all
        supply = d.findChild(QPushButton, "deskSupply_0_photo_receipt")
        assert supply is not None
        supply.click()
        c.until(lambda: "全部补齐" in d.owed_notice.text())
        assert d.owed_notice.text() == f"{label} 已登记补齐：数码相片回执；所欠材料已全部补齐（按期补齐）"
        c.until(lambda: d.findChild(QPushButton, "deskSupply_0_photo_receipt") is None)
        assert live.query("SELECT item, supplied_by FROM owed WHERE ticket = ?", (tid,)) == [
            ("photo_receipt", "staff:c1")
        ]
        # The hall gone: the lookup says so, and the desk is not left busy (it can ask again).
        live.stop(wait=c.until)
        d.owed_label.setText(label)
        d.owed_find.click()
        c.until(lambda: "服务器不可用，请稍后再查" in d.owed_notice.text())
        assert c.app.desk is not None
        assert not c.app.desk.flow.owed.busy
    finally:
        stop_counter(c, running)


def test_first_start_shows_the_enrollment_code_until_approved(
    live: LiveServer, bus: Bus, running: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    station = hqp_station(bus.emu.url, 3)
    api = HttpHall(live.url, None, clock=live.clock, retries=1, backoff_s=0.05, verify=live.ssl)
    devices = build_station(station).start()
    app = assemble(live.config, station, api, live.clock, catalog(), devices, enrolled=False)
    app.window.show()
    token_path = tmp_path / "counter-03.json"
    assert live.pin is not None
    save_pin(token_path, live.url, live.pin)  # what `hallclient.link.locate` does over TLS before enrolling
    task = running.create_task(app.enroll(api, token_path, poll_s=0.1))
    run_until(qtbot, lambda: app.window.enroll.code.text() != "")
    assert app.window.pages.currentWidget() is app.window.enroll
    code = app.window.enroll.code.text()
    # The short fingerprint of the pinned hall CA beside the code, as the dashboard shows it.
    assert live.pin.short in app.window.enroll.fingerprint.text()
    live.approve_code(code, window=3)
    run_until(qtbot, task.done)
    api.set_token(task.result())
    assert token_path.exists()
    complete(qtbot, running, app.start())
    run_until(qtbot, lambda: app.flow.online)
    assert app.window.pages.currentWidget() is app.window.login
    c = Counter(app, api, live, qtbot)
    c.login(staff="c3")
    assert c.flow.window == 3
    stop_counter(c, running)


def test_bad_pin_is_refused_and_shown(
    live: LiveServer, bus: Bus, running: asyncio.AbstractEventLoop, qtbot: QtBot, artifacts: Path
) -> None:
    c = start_counter(live, qtbot, running, hqp_station(bus.emu.url))
    try:
        page = c.app.window.login
        page.staff.setText("c1")
        page.pin.setText("000000")
        page.go.click()
        c.until(lambda: "密码" in page.message.text())
        assert c.flow.phase.value == "login"
        click_ok = page.go.isEnabled()
        assert click_ok
    finally:
        stop_counter(c, running)
