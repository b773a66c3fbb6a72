"""The counter app against a real hall server and an emulated HQP/1 bus over a pty: login, every action from
the buttons and from keypad key frames, the window strip after each action (as the emulator rendered it),
ratings from the emulated pad, double taps, a server restart mid-shift, a device unplugged."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from drivers.protocols import KeyCode
from hallcore import idnumber
from hallui import a11y
from tests.fakes.live_server import LiveServer
from tests.fakes.live_server import Station as LiveStation
from tests.fakes.shots import docs_dir
from tests.gui.counter_rig import KEYPAD, PAD, Bus, Counter, bus, hqp_station, start_counter, stop_counter
from tests.gui.qtloop import issue

__all__ = ["bus"]  # a fixture this module uses


@pytest.fixture
def counter(
    live: LiveServer,
    bus: Bus,
    running: asyncio.AbstractEventLoop,
    qtbot: QtBot,
) -> Iterator[Counter]:
    c = start_counter(live, qtbot, running, hqp_station(bus.emu.url))
    yield c
    stop_counter(c, running)


@pytest.fixture
def clerk(counter: Counter) -> Counter:
    """The counter with its clerk logged in and the window open."""
    counter.login()
    return counter


def test_login_call_recall_start_finish_rating_from_buttons(
    counter: Counter, bus: Bus, desk: LiveStation, live: LiveServer, artifacts: Path
) -> None:
    c = counter
    c.until(lambda: bus.strip.text() == "本窗口暂停服务")  # closed before anyone logs in
    c.app.window.grab().save(str(artifacts / "counter-login.png"))
    c.login()
    c.until(lambda: bus.strip.text() == "欢迎光临")
    a1, _a2 = c.queue(desk, 2)
    c.until(lambda: bus.keypad.waiting == 2)
    c.click("call_next")
    c.until(lambda: bus.strip.text() == f"请{a1}号到1号窗口")
    assert c.app.window.main.number.text() == a1
    assert "按顺序" in c.app.window.main.reason.text()
    c.until(lambda: bus.keypad.ticket == a1[-3:] or bus.keypad.ticket == a1)
    c.until(lambda: c.app.window.main.waiting.count() == 1)
    live.clock.advance(live.config.no_show.min_recall_gap_s)  # people need time to walk to the window
    c.click("recall")
    c.until(lambda: c.flow.current is not None and c.flow.current.recalls == 1)
    assert c.app.window.main.recalls.text() == "重呼 1/2"
    assert bus.strip.text() == f"请{a1}号到1号窗口"
    c.app.window.grab().save(str(artifacts / "counter-called.png"))
    assert a11y.check(c.app.window, min_pt=18) == []
    c.app.window.grab().save(str(docs_dir() / "counter-called.png"))
    c.click("start")
    matter = c.flow.current.matter_name if c.flow.current else ""
    c.until(lambda: bus.strip.text() == f"{a1} {matter}")
    c.until(lambda: c.button("finish").isEnabled())
    c.click("finish")
    c.until(lambda: bus.pad.pending == a1)
    c.app.window.grab().save(str(artifacts / "counter-rating.png"))
    c.app.window.grab().save(str(docs_dir() / "counter-rating.png"))
    c.until(lambda: bus.strip.text() == "欢迎光临")
    bus.emu.rate(PAD, 5)
    c.until(lambda: c.flow.rating is not None and c.flow.rating.phase.value == "done")
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
    c.until(lambda: c.flow.counts.rated == 1 and c.flow.counts.finished == 1)
    assert "办结 1" in c.app.window.main.counts.text()


def test_bad_rating_opens_a_case_and_timeout_leaves_unrated(
    clerk: Counter, bus: Bus, desk: LiveStation, live: LiveServer
) -> None:
    c = clerk
    for label, outcome in zip(c.queue(desk, 2), (2, None), strict=True):
        c.until(lambda: c.button("call_next").isEnabled())
        c.click("call_next")
        c.until(lambda: c.flow.held_label == label)  # noqa: B023
        c.click("start")
        c.until(lambda: c.flow.held_state == "serving")
        c.click("finish")
        c.until(lambda: bus.pad.pending == label)  # noqa: B023
        if outcome is None:
            with bus.emu.lock:
                bus.pad.time_out()
        else:
            bus.emu.rate(PAD, outcome)
        # This ticket's rating: the first one's stays "done" until the second is finished, so waiting on the
        # phase alone let the checks below run before the second timed out.
        phase = "timeout" if outcome is None else "done"
        c.until(
            lambda: (
                c.flow.rating is not None
                and c.flow.rating.ticket.label == label  # noqa: B023
                and c.flow.rating.phase.value == phase  # noqa: B023
            )
        )
    assert live.count("SELECT COUNT(*) FROM cases") == 1
    assert live.query("SELECT c.score, c.window, c.staff FROM cases c")[0] == (2, 1, "c1")
    assert live.count("SELECT COUNT(*) FROM ratings") == 1  # the timed-out one stays unrated
    assert "未评价" in c.app.window.main.rating.text()
    assert c.button("rate_again").isEnabled()


def test_every_action_from_keypad_frames(
    counter: Counter, bus: Bus, desk: LiveStation, live: LiveServer, artifacts: Path
) -> None:
    c = counter

    def press(key: KeyCode, digits: str = "", then: Callable[[], bool] | None = None) -> None:
        # As `Counter.click`: the previous action's event (what `then` saw) may arrive before its reply, and
        # a key pressed while a request is in flight is dropped by design (one press, one request), so the
        # press waits for the reply, as a clerk waits for the strip and the screen.
        c.until(lambda: not c.flow.busy)
        bus.emu.press(KEYPAD, key, digits)
        if then is not None:
            c.until(then)

    press(KeyCode.LOGIN, "c1*246810", lambda: c.flow.window_state == "open")
    c.until(lambda: bus.strip.text() == "欢迎光临")
    a1, a2, a3 = c.queue(desk, 3)
    press(KeyCode.NEXT, then=lambda: bus.strip.text() == f"请{a1}号到1号窗口")
    gap = live.config.no_show.min_recall_gap_s  # people need time to walk to the window
    for n in (1, 2):
        live.clock.advance(gap)
        press(KeyCode.RECALL, then=lambda: c.flow.current is not None and c.flow.current.recalls == n)  # noqa: B023
    live.clock.advance(gap)
    press(KeyCode.NO_SHOW, then=lambda: live.ticket_state(a1) == "no_show")
    c.until(lambda: bus.strip.text() == "欢迎光临")
    press(KeyCode.NEXT, then=lambda: bus.strip.text() == f"请{a2}号到1号窗口")
    press(KeyCode.START, then=lambda: bus.strip.text().startswith(f"{a2} "))
    partner = live.station("counter", "partner", window=2)  # a transfer to a closed window is refused
    live.login_counter(partner)
    assert live.act(partner, "open").status_code == 200
    press(KeyCode.TRANSFER, "2", lambda: live.ticket_state(a2) == "waiting")  # to window 2 (the A/B partner)
    c.until(lambda: bus.strip.text() == "欢迎光临")
    press(KeyCode.NEXT, then=lambda: bus.strip.text() == f"请{a3}号到1号窗口")
    press(KeyCode.NEXT, then=lambda: live.ticket_state(a3) == "serving")  # called -> serving
    press(KeyCode.FINISH, then=lambda: live.ticket_state(a3) == "done")
    c.until(lambda: bus.pad.pending == a3)
    bus.emu.rate(PAD, 4)
    c.until(lambda: live.count("SELECT COUNT(*) FROM ratings") == 1)
    reason = live.config.server.pause_reasons[1]
    press(KeyCode.PAUSE, "2", lambda: bus.strip.text() == f"暂停服务 {reason}")  # the hall's second reason
    c.app.window.grab().save(str(artifacts / "counter-paused.png"))
    press(KeyCode.RESUME, then=lambda: bus.strip.text() == "欢迎光临")
    press(KeyCode.LOGOUT, then=lambda: c.flow.phase.value == "login")
    assert c.flow.counts.no_show == 1
    assert c.flow.counts.transferred == 1


def test_forms_transfer_specific_requeue_pause_takeover_close(
    clerk: Counter, bus: Bus, desk: LiveStation, live: LiveServer
) -> None:
    c = clerk
    w = c.app.window
    a1, _a2, a3 = c.queue(desk, 3)

    def form(action: str, fill: Callable[[], None]) -> None:
        c.click(action)
        fill()
        w.main.form_ok.click()

    # call a specific ticket: the reason is required
    form("call_specific", lambda: w.main.forms.specific_ticket.setText(a3))
    c.until(lambda: "原因" in w.main.message.text())

    def specific() -> None:
        w.main.forms.specific_ticket.setText(a3)
        w.main.forms.specific_reason.setText("老人行动不便")

    form("call_specific", specific)
    c.until(lambda: bus.strip.text() == f"请{a3}号到1号窗口")
    assert "指定叫号" in w.main.reason.text()
    # transfer to a series
    combo = w.main.forms.transfer_series
    form("transfer", lambda: combo.setCurrentIndex(combo.findData("B")))
    c.until(lambda: live.ticket_state(a3) == "waiting" and c.flow.held_label == "")
    assert live.query("SELECT series FROM tickets WHERE label = ?", (a3,))[0][0] == "B"
    # no-show then requeue it
    c.click("call_next")
    c.until(lambda: c.flow.held_label == a1)
    for n in (1, 2):
        live.clock.advance(live.config.no_show.min_recall_gap_s)
        c.click("recall")
        c.until(lambda: c.flow.current is not None and c.flow.current.recalls == n)  # noqa: B023
    live.clock.advance(live.config.no_show.min_recall_gap_s)
    c.click("no_show")
    c.until(lambda: live.ticket_state(a1) == "no_show")
    c.click("requeue")
    assert w.main.forms.requeue_ticket.itemText(0) == a1
    c.until(w.main.form_ok.isEnabled)
    w.main.form_ok.click()
    c.until(lambda: c.app.controller.sent[-1].action.value == "requeue" and not c.flow.busy)
    assert live.ticket_state(a1) == "waiting", w.main.message.text()
    # pause with a reason from the list, resume
    form("pause", lambda: w.main.forms.pause_reason.setCurrentIndex(2))
    reason = live.config.server.pause_reasons[2]
    c.until(lambda: bus.strip.text() == f"暂停服务 {reason}")
    c.click("resume")
    c.until(lambda: bus.strip.text() == "欢迎光临")
    # A/B post: cover window 2, visible to everyone as a window event
    c.click("take_over")
    c.until(lambda: c.flow.covering == (2,))
    assert "接管 2" in w.main.state.text()
    assert (
        live.count("SELECT COUNT(*) FROM events WHERE kind = 'window_changed' AND body LIKE '%takeover%'")
        >= 1
    )
    c.click("end_take_over")
    c.until(lambda: c.flow.covering == ())
    c.click("close")
    c.until(lambda: bus.strip.text() == "本窗口暂停服务")


def test_double_tap_and_keypad_repeat_call_one_ticket(
    clerk: Counter, desk: LiveStation, live: LiveServer
) -> None:
    c = clerk
    a1, _a2 = c.queue(desk, 2)
    b = c.button("call_next")
    b.click()
    b.click()  # the second tap lands on a disabled button
    c.app.bridge.request("call_next", {})  # and even a direct second intent is refused by the flow
    c.until(lambda: c.flow.held_label == a1)
    c.until(lambda: not c.flow.busy)
    assert live.count("SELECT COUNT(*) FROM tickets WHERE state = 'called'") == 1
    assert [cmd.action.value for cmd in c.app.controller.sent].count("call_next") == 1


def test_server_restart_mid_shift_recovers_and_next_call_works(
    clerk: Counter, bus: Bus, desk: LiveStation, live: LiveServer, artifacts: Path
) -> None:
    c = clerk
    a1, _a2 = c.queue(desk, 2)
    live.stop(wait=c.until)
    c.until(lambda: not c.flow.online)
    assert not c.button("call_next").isEnabled()
    c.app.window.grab().save(str(artifacts / "counter-offline.png"))
    assert "断开" in c.app.window.banner.text() or "无法连接" in c.app.window.banner.text()
    live.start()
    c.until(lambda: c.flow.online, timeout=20)
    c.until(lambda: c.button("call_next").isEnabled())
    c.click("call_next")
    c.until(lambda: bus.strip.text() == f"请{a1}号到1号窗口")
    assert live.count("SELECT COUNT(*) FROM tickets WHERE state = 'called'") == 1


def test_action_sent_while_server_goes_down_is_resent_once(
    clerk: Counter, desk: LiveStation, live: LiveServer
) -> None:
    c = clerk
    [a1] = c.queue(desk, 1)
    live.stop(wait=c.until)
    # The stream has not noticed yet: the tap goes out, gets no answer, and is kept with its request id.
    c.flow.set_connection("live")
    c.app.bridge.request("call_next", {})
    c.until(lambda: c.flow.unsent is not None, timeout=20)
    rid = c.flow.unsent.request_id if c.flow.unsent else ""
    assert "重发" in c.app.window.main.message.text()
    live.start()
    c.until(lambda: c.flow.held_label == a1, timeout=20)
    assert {cmd.request_id for cmd in c.app.controller.sent if cmd.action.value == "call_next"} == {rid}
    assert live.count("SELECT COUNT(*) FROM tickets WHERE state = 'called'") == 1


def test_device_down_buttons_still_work(clerk: Counter, bus: Bus, desk: LiveStation) -> None:
    c = clerk
    bus.emu.pty_pipe.unplug()
    c.until(lambda: "设备故障" in c.app.window.devices.text())
    assert "窗口条屏" in c.app.window.devices.text()
    [a1] = c.queue(desk, 1)
    c.click("call_next")
    c.until(lambda: c.flow.held_label == a1)


def test_the_clerk_sees_why_and_revokes_a_claimed_class(
    clerk: Counter, bus: Bus, desk: LiveStation, live: LiveServer, artifacts: Path
) -> None:
    c = clerk
    w = c.app.window
    normal = issue(live, desk)
    live.clock.advance(60)
    elderly = issue(live, desk, priority="elderly")
    c.until(lambda: c.flow.waiting == 2)
    # The list says why each one is where it is: the elderly citizen's head start puts them first.
    c.until(lambda: w.main.waiting.count() == 2 and w.main.waiting.item(0).text().startswith(elderly))
    assert "优先: 老年人（70周岁以上）（提前 15 分钟）" in w.main.waiting.item(0).text()
    assert not c.button("revoke_class").isEnabled()  # nothing held yet
    c.click("call_next")
    c.until(lambda: c.flow.held_label == elderly and c.button("confirm_class").isEnabled())
    assert w.main.reason.text() == "叫号原因：优先: 老年人（70周岁以上）（提前 15 分钟）"
    assert w.main.priority.text() == "优先类别：老年人（70周岁以上）"
    # Revoking needs a reason, written to the audit trail.
    c.click("revoke_class")
    w.main.form_ok.click()
    c.until(lambda: "撤销优先必须填写原因" in w.main.message.text())
    c.click("revoke_class")
    w.main.forms.revoke_reason.setText("未满 70 周岁")
    w.main.form_ok.click()
    c.until(lambda: c.flow.current is not None and c.flow.current.class_check == "revoked")
    c.until(lambda: w.main.priority.text() == "优先类别已撤销（申报：老年人（70周岁以上）），按普通号办理")
    c.until(lambda: not c.flow.busy)
    assert not c.button("revoke_class").isEnabled()  # checked once
    assert not c.button("confirm_class").isEnabled()
    ((actor, target, detail),) = live.query(
        "SELECT actor, target, detail FROM audit WHERE action = 'revoke_class'"
    )
    assert (actor, target) == ("staff:c1", f"{live.clock.now():%Y-%m-%d}/{elderly}")
    assert "未满 70 周岁" in detail
    assert live.query("SELECT class_check, claimed FROM tickets WHERE label = ?", (elderly,)) == [
        ("revoked", "elderly")
    ]
    w.grab().save(str(artifacts / "counter-class-revoked.png"))
    # The next one has no class to check.
    c.click("start")
    c.click("finish")
    c.click("call_next")
    c.until(lambda: c.flow.held_label == normal and c.button("recall").isEnabled())
    assert not c.button("confirm_class").isEnabled()  # no class claimed
    assert w.main.priority.text() == "优先类别：普通"
    c.until(lambda: bus.strip.text() == f"请{normal}号到1号窗口")  # the strip settled before the rig stops


def test_a_carded_ticket_shows_the_masked_holder_and_the_verified_class(
    clerk: Counter, desk: LiveStation, live: LiveServer
) -> None:
    """刷身份证取号 (issue 27): the counter shows the holder's masked name and the class the card verified;
    nothing to confirm or revoke (the card is the check), and never the number or the full name."""
    c = clerk
    w = c.app.window
    number = idnumber.complete("34152419500315123")  # born 1950
    label = issue(live, desk, id_number=number, holder_name="张三丰")
    c.until(lambda: c.flow.waiting == 1)
    c.click("call_next")
    c.until(lambda: c.flow.held_label == label)
    assert w.main.priority.text() == "刷证：张** · 优先类别：老年人（70周岁以上）（身份证核验）"
    assert not c.button("confirm_class").isEnabled()
    assert not c.button("revoke_class").isEnabled()
    shown = " ".join(x.text() for x in w.findChildren(QLabel))
    assert number not in shown
    assert "张三丰" not in shown
