"""The counter app against a real hall server and an emulated HQP/1 bus over a pty: login, every action from
the buttons and from keypad key frames, the window strip after each action (as the emulator rendered it),
ratings from the emulated pad, double taps, a server restart mid-shift, a device unplugged."""

# ruff: noqa: F811  (pytest fixtures imported from the support module are parameters here)
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drivers.protocols import KeyCode
from hallui import a11y
from tests.fakes.live_server import LiveServer
from tests.fakes.live_server import Station as LiveStation
from tests.fakes.shots import docs_dir
from tests.gui.test_counter_support import (
    KEYPAD,
    PAD,
    Bus,
    Counter,
    bus,  # noqa: F401
    click,
    hqp_station,
    issue,
    live,  # noqa: F401
    login,
    run_until,
    running,  # noqa: F401
    start_counter,
    stop_counter,
)


@pytest.fixture
def desk(live: LiveServer) -> LiveStation:
    return live.station("desk", "desk-test", window=14)


@pytest.fixture
def counter(
    live: LiveServer,
    bus: Bus,
    running: asyncio.AbstractEventLoop,
    qtbot: QtBot,
) -> Iterator[Counter]:
    c = start_counter(live, qtbot, running, hqp_station(bus.emu.url))
    yield c
    stop_counter(c, qtbot, running)


def strip(bus: Bus) -> str:
    return bus.strip.text()


def test_login_call_recall_start_finish_rating_from_buttons(
    counter: Counter,
    bus: Bus,
    desk: LiveStation,
    live: LiveServer,
    qtbot: QtBot,
    artifacts: Path,
    repo_root: Path,
) -> None:
    c = counter
    run_until(qtbot, lambda: strip(bus) == "本窗口暂停服务")  # closed before anyone logs in
    c.app.window.grab().save(str(artifacts / "counter-login.png"))
    login(c, qtbot)
    run_until(qtbot, lambda: strip(bus) == "欢迎光临")
    a1 = issue(live, desk)
    a2 = issue(live, desk)
    run_until(qtbot, lambda: c.flow.waiting == 2)
    run_until(qtbot, lambda: bus.keypad.waiting == 2)
    click(qtbot, c, "call_next")
    run_until(qtbot, lambda: strip(bus) == f"请{a1}号到1号窗口")
    assert c.app.window.main.number.text() == a1
    assert "按顺序" in c.app.window.main.reason.text()
    run_until(qtbot, lambda: bus.keypad.ticket == a1[-3:] or bus.keypad.ticket == a1)
    run_until(qtbot, lambda: c.app.window.main.waiting.count() == 1)
    click(qtbot, c, "recall")
    run_until(qtbot, lambda: c.flow.current is not None and c.flow.current.recalls == 1)
    assert c.app.window.main.recalls.text() == "重呼 1/2"
    assert strip(bus) == f"请{a1}号到1号窗口"
    c.app.window.grab().save(str(artifacts / "counter-called.png"))
    assert a11y.check(c.app.window, min_pt=18) == []
    c.app.window.grab().save(str(docs_dir() / "counter-called.png"))
    click(qtbot, c, "start")
    matter = c.flow.current.matter_name if c.flow.current else ""
    run_until(qtbot, lambda: strip(bus) == f"{a1} {matter}")
    run_until(qtbot, lambda: c.button("finish").isEnabled())
    click(qtbot, c, "finish")
    run_until(qtbot, lambda: bus.pad.pending == a1)
    c.app.window.grab().save(str(artifacts / "counter-rating.png"))
    c.app.window.grab().save(str(docs_dir() / "counter-rating.png"))
    run_until(qtbot, lambda: strip(bus) == "欢迎光临")
    bus.emu.rate(PAD, 5)
    run_until(qtbot, lambda: c.flow.rating is not None and c.flow.rating.phase.value == "done")
    assert c.app.window.main.rating.text() == f"{a1} 评价：非常满意"
    rows = live.query(
        "SELECT r.score, r.matter, r.window, r.staff, r.issued_at, r.called_at, r.serving_at, r.finished_at, "
        "r.source FROM ratings r JOIN tickets t ON t.id = r.ticket WHERE t.label = ?",
        (a1,),
    )
    assert len(rows) == 1
    score, matter_code, window, staff, issued_at, called_at, serving_at, finished_at, source = rows[0]
    assert (score, window, staff, source) == (5, 1, "c1", "pad")
    assert matter_code == next(m.code for m in live.config.matters if m.series == "A")
    assert all((issued_at, called_at, serving_at, finished_at))
    assert live.count("SELECT COUNT(*) FROM cases") == 0
    run_until(qtbot, lambda: c.flow.counts.rated == 1 and c.flow.counts.finished == 1)
    assert "办结 1" in c.app.window.main.counts.text()
    assert a2


def test_bad_rating_opens_a_case_and_timeout_leaves_unrated(
    counter: Counter,
    bus: Bus,
    desk: LiveStation,
    live: LiveServer,
    qtbot: QtBot,
) -> None:
    c = counter
    login(c, qtbot)
    a1, a2 = issue(live, desk), issue(live, desk)
    for label, outcome in ((a1, 2), (a2, None)):
        run_until(qtbot, lambda: c.button("call_next").isEnabled())
        click(qtbot, c, "call_next")
        run_until(qtbot, lambda: c.flow.held_label == label)  # noqa: B023
        click(qtbot, c, "start")
        run_until(qtbot, lambda: c.flow.held_state == "serving")
        click(qtbot, c, "finish")
        run_until(qtbot, lambda: bus.pad.pending == label)  # noqa: B023
        if outcome is None:
            with bus.emu.lock:
                bus.pad.time_out()
        else:
            bus.emu.rate(PAD, outcome)
        run_until(
            qtbot, lambda: c.flow.rating is not None and c.flow.rating.phase.value in ("done", "timeout")
        )
    assert live.count("SELECT COUNT(*) FROM cases") == 1
    assert live.query("SELECT c.score, c.window, c.staff FROM cases c")[0] == (2, 1, "c1")
    assert live.count("SELECT COUNT(*) FROM ratings") == 1  # the timed-out one stays unrated
    assert "未评价" in c.app.window.main.rating.text()
    assert c.button("rate_again").isEnabled()


def test_every_action_from_keypad_frames(
    counter: Counter,
    bus: Bus,
    desk: LiveStation,
    live: LiveServer,
    qtbot: QtBot,
    artifacts: Path,
) -> None:
    c = counter
    bus.emu.press(KEYPAD, KeyCode.LOGIN, "c1*246810")
    run_until(qtbot, lambda: c.flow.window_state == "open")
    run_until(qtbot, lambda: strip(bus) == "欢迎光临")
    a1, a2, a3 = issue(live, desk), issue(live, desk), issue(live, desk)
    run_until(qtbot, lambda: c.flow.waiting == 3)
    bus.emu.press(KEYPAD, KeyCode.NEXT)
    run_until(qtbot, lambda: strip(bus) == f"请{a1}号到1号窗口")
    bus.emu.press(KEYPAD, KeyCode.RECALL)
    run_until(qtbot, lambda: c.flow.current is not None and c.flow.current.recalls == 1)
    bus.emu.press(KEYPAD, KeyCode.RECALL)
    run_until(qtbot, lambda: c.flow.current is not None and c.flow.current.recalls == 2)
    bus.emu.press(KEYPAD, KeyCode.NO_SHOW)
    run_until(qtbot, lambda: live.ticket_state(a1) == "no_show")
    run_until(qtbot, lambda: strip(bus) == "欢迎光临")
    bus.emu.press(KEYPAD, KeyCode.NEXT)
    run_until(qtbot, lambda: strip(bus) == f"请{a2}号到1号窗口")
    bus.emu.press(KEYPAD, KeyCode.START)
    run_until(qtbot, lambda: strip(bus).startswith(f"{a2} "))
    bus.emu.press(KEYPAD, KeyCode.TRANSFER, "2")  # to window 2 (the A/B partner)
    run_until(qtbot, lambda: live.ticket_state(a2) == "waiting")
    run_until(qtbot, lambda: strip(bus) == "欢迎光临")
    bus.emu.press(KEYPAD, KeyCode.NEXT)
    run_until(qtbot, lambda: strip(bus) == f"请{a3}号到1号窗口")
    bus.emu.press(KEYPAD, KeyCode.NEXT)  # called -> serving
    run_until(qtbot, lambda: live.ticket_state(a3) == "serving")
    bus.emu.press(KEYPAD, KeyCode.FINISH)
    run_until(qtbot, lambda: live.ticket_state(a3) == "done")
    run_until(qtbot, lambda: bus.pad.pending == a3)
    bus.emu.rate(PAD, 4)
    run_until(qtbot, lambda: live.count("SELECT COUNT(*) FROM ratings") == 1)
    bus.emu.press(KEYPAD, KeyCode.PAUSE, "2")  # the second reason of the hall's list
    reason = live.config.server.pause_reasons[1]
    run_until(qtbot, lambda: strip(bus) == f"暂停服务 {reason}")
    c.app.window.grab().save(str(artifacts / "counter-paused.png"))
    bus.emu.press(KEYPAD, KeyCode.RESUME)
    run_until(qtbot, lambda: strip(bus) == "欢迎光临")
    bus.emu.press(KEYPAD, KeyCode.LOGOUT)
    run_until(qtbot, lambda: c.flow.phase.value == "login")
    assert c.flow.counts.no_show == 1
    assert c.flow.counts.transferred == 1


def test_forms_transfer_specific_requeue_pause_takeover_close(
    counter: Counter,
    bus: Bus,
    desk: LiveStation,
    live: LiveServer,
    qtbot: QtBot,
) -> None:
    c = counter
    w = c.app.window
    login(c, qtbot)
    a1, a2, a3 = issue(live, desk), issue(live, desk), issue(live, desk)
    run_until(qtbot, lambda: c.flow.waiting == 3)
    # call a specific ticket: the reason is required
    click(qtbot, c, "call_specific")
    w.main.forms.specific_ticket.setText(a3)
    w.main.form_ok.click()
    run_until(qtbot, lambda: "原因" in w.main.message.text())
    click(qtbot, c, "call_specific")
    w.main.forms.specific_ticket.setText(a3)
    w.main.forms.specific_reason.setText("老人行动不便")
    w.main.form_ok.click()
    run_until(qtbot, lambda: strip(bus) == f"请{a3}号到1号窗口")
    assert "指定叫号" in w.main.reason.text()
    # transfer to a series
    click(qtbot, c, "transfer")
    combo = w.main.forms.transfer_series
    combo.setCurrentIndex(combo.findData("B"))
    w.main.form_ok.click()
    run_until(qtbot, lambda: live.ticket_state(a3) == "waiting" and c.flow.held_label == "")
    assert live.query("SELECT series FROM tickets WHERE label = ?", (a3,))[0][0] == "B"
    # no-show then requeue it
    click(qtbot, c, "call_next")
    run_until(qtbot, lambda: c.flow.held_label == a1)
    for n in (1, 2):
        click(qtbot, c, "recall")
        run_until(qtbot, lambda: c.flow.current is not None and c.flow.current.recalls == n)  # noqa: B023
    click(qtbot, c, "no_show")
    run_until(qtbot, lambda: live.ticket_state(a1) == "no_show")
    click(qtbot, c, "requeue")
    assert w.main.forms.requeue_ticket.itemText(0) == a1
    run_until(qtbot, w.main.form_ok.isEnabled)
    w.main.form_ok.click()
    run_until(qtbot, lambda: c.app.controller.sent[-1].action.value == "requeue" and not c.flow.busy)
    assert live.ticket_state(a1) == "waiting", w.main.message.text()
    # pause with a reason from the list, resume
    click(qtbot, c, "pause")
    w.main.forms.pause_reason.setCurrentIndex(2)
    w.main.form_ok.click()
    reason = live.config.server.pause_reasons[2]
    run_until(qtbot, lambda: strip(bus) == f"暂停服务 {reason}")
    click(qtbot, c, "resume")
    run_until(qtbot, lambda: strip(bus) == "欢迎光临")
    # A/B post: cover window 2, visible to everyone as a window event
    click(qtbot, c, "take_over")
    run_until(qtbot, lambda: c.flow.covering == (2,))
    assert "接管 2" in w.main.state.text()
    assert (
        live.count("SELECT COUNT(*) FROM events WHERE kind = 'window_changed' AND body LIKE '%takeover%'")
        >= 1
    )
    click(qtbot, c, "end_take_over")
    run_until(qtbot, lambda: c.flow.covering == ())
    click(qtbot, c, "close")
    run_until(qtbot, lambda: strip(bus) == "本窗口暂停服务")
    assert a2


def test_double_tap_and_keypad_repeat_call_one_ticket(
    counter: Counter,
    bus: Bus,
    desk: LiveStation,
    live: LiveServer,
    qtbot: QtBot,
) -> None:
    c = counter
    login(c, qtbot)
    a1, _a2 = issue(live, desk), issue(live, desk)
    run_until(qtbot, lambda: c.flow.waiting == 2)
    b = c.button("call_next")
    b.click()
    b.click()  # the second tap lands on a disabled button
    c.app.bridge.request("call_next", {})  # and even a direct second intent is refused by the flow
    run_until(qtbot, lambda: c.flow.held_label == a1)
    run_until(qtbot, lambda: not c.flow.busy)
    assert live.count("SELECT COUNT(*) FROM tickets WHERE state = 'called'") == 1
    assert [cmd.action.value for cmd in c.app.controller.sent].count("call_next") == 1


def test_server_restart_mid_shift_recovers_and_next_call_works(
    counter: Counter,
    bus: Bus,
    desk: LiveStation,
    live: LiveServer,
    qtbot: QtBot,
    artifacts: Path,
) -> None:
    c = counter
    login(c, qtbot)
    a1, a2 = issue(live, desk), issue(live, desk)
    run_until(qtbot, lambda: c.flow.waiting == 2)
    live.stop()
    run_until(qtbot, lambda: not c.flow.online)
    assert not c.button("call_next").isEnabled()
    c.app.window.grab().save(str(artifacts / "counter-offline.png"))
    assert "断开" in c.app.window.banner.text() or "无法连接" in c.app.window.banner.text()
    live.start()
    run_until(qtbot, lambda: c.flow.online, timeout=20)
    run_until(qtbot, lambda: c.button("call_next").isEnabled())
    click(qtbot, c, "call_next")
    run_until(qtbot, lambda: strip(bus) == f"请{a1}号到1号窗口")
    assert live.count("SELECT COUNT(*) FROM tickets WHERE state = 'called'") == 1
    assert a2


def test_action_sent_while_server_goes_down_is_resent_once(
    counter: Counter,
    bus: Bus,
    desk: LiveStation,
    live: LiveServer,
    qtbot: QtBot,
) -> None:
    c = counter
    login(c, qtbot)
    a1 = issue(live, desk)
    run_until(qtbot, lambda: c.flow.waiting == 1)
    live.stop()
    # The stream has not noticed yet: the tap goes out, gets no answer, and is kept with its request id.
    c.flow.set_connection("live")
    c.app.bridge.request("call_next", {})
    run_until(qtbot, lambda: c.flow.unsent is not None, timeout=20)
    rid = c.flow.unsent.request_id if c.flow.unsent else ""
    assert "重发" in c.app.window.main.message.text()
    live.start()
    run_until(qtbot, lambda: c.flow.held_label == a1, timeout=20)
    assert {cmd.request_id for cmd in c.app.controller.sent if cmd.action.value == "call_next"} == {rid}
    assert live.count("SELECT COUNT(*) FROM tickets WHERE state = 'called'") == 1


def test_device_down_buttons_still_work(
    counter: Counter,
    bus: Bus,
    desk: LiveStation,
    live: LiveServer,
    qtbot: QtBot,
) -> None:
    c = counter
    login(c, qtbot)
    a1 = issue(live, desk)
    bus.emu.pty_pipe.unplug()
    run_until(qtbot, lambda: "设备故障" in c.app.window.devices.text())
    assert "窗口条屏" in c.app.window.devices.text()
    run_until(qtbot, lambda: c.flow.waiting == 1)
    click(qtbot, c, "call_next")
    run_until(qtbot, lambda: c.flow.held_label == a1)
