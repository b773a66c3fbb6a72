"""Every kiosk path by tapping widgets, against a real hall server on 127.0.0.1 and the TCP printer emulator.

Each test asserts the server's ticket table and what the emulated printer rendered, not only the screen.
The rig is tests/gui/kiosk_rig.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit

from drivers.emulators.printer import EmulatedState
from hallcore.config import HallConfig, Session
from hallfiles.config import read_config
from kiosk.flow import Screen
from tests.fakes.live_server import COUNTY
from tests.gui.kiosk_rig import HJ01, HJ01_PAPERS, SB02, Rig, kiosk_rig


@pytest.fixture
def rig(tmp_path: pathlib.Path, qtbot: Any, running: asyncio.AbstractEventLoop) -> Iterator[Rig]:
    with kiosk_rig(tmp_path, qtbot, running) as r:
        yield r


# ---- pre-check outcomes ----------------------------------------------------------------------------------


def test_pass_issues_prints_and_confirms(rig: Rig) -> None:
    rig.take_hj01()
    assert rig.text("ticketNumber") == "A001"
    assert "A001" in rig.tickets()[-1].text
    assert rig.tickets()[-1].qr[0].startswith("http")
    assert rig.db_tickets() == [("A001", "waiting", "通过", "", HJ01)]
    assert rig.text("ticketTake")
    qr = rig.view.findChild(QLabel, "ticketQr")
    assert qr is not None
    assert qr.pixmap().width() > 100


def test_tolerated_ticket_lists_what_to_bring(rig: Rig) -> None:
    rig.walk_in(SB02, [], ["idcard"])
    assert rig.has("confirmTolerated")
    rig.tap("confirmNormal")
    rig.wait_screen(Screen.TICKET)
    assert rig.has("ticketTolerated")
    photo = next(m for m in rig.app.config.matter_by_code[SB02].precheck.materials if m.tolerable)
    assert photo.name == "数码相片回执"
    assert rig.text("ticketBringItem_0") == f"1. {photo.name}"
    assert not rig.has("ticketBringItem_1")
    # The ticket, then the 承诺书 on its own slip (SB02 asks for one).
    ticket, pledge = rig.tickets()
    label, state, precheck, _, _ = rig.db_tickets()[-1]
    assert (label[0], state, precheck) == ("B", "waiting", "容缺")
    lines = ticket.text.splitlines()
    at = lines.index("容缺受理：请补齐以下材料")
    assert lines[at + 1] == f"1. {photo.name}"
    assert lines[at + 2].startswith("补齐期限：")
    assert label in ticket.text
    flat = pledge.text.replace("\n", "")
    assert flat.lstrip().startswith("承诺书")
    assert f"号码：{label}" in flat
    assert f"缺少以下材料：{photo.name}。" in flat
    assert rig.has("ticketPledge")


def test_failed_precheck_prints_notice_and_issues_nothing(rig: Rig) -> None:
    rig.walk_in(HJ01, [False, False], ["idcard"])  # an agent without the papers, and papers missing
    assert rig.has("confirmFail")
    rig.tap("confirmNormal")
    rig.wait_screen(Screen.NOTICE)
    assert rig.has("noticeItem_0")
    assert rig.has("noticePrinted")
    assert rig.db_tickets() == []
    notice = rig.tickets()[-1].text
    assert "一次性告知单" in notice
    assert "准予迁入证明" in notice
    assert "授权委托书" in notice


def test_priority_choice_is_on_the_ticket(rig: Rig) -> None:
    rig.walk_in(HJ01, [True], list(HJ01_PAPERS))
    assert rig.has("priorityNotice")
    rig.tap("priority_elderly")
    rig.wait_screen(Screen.TICKET)
    assert rig.db_tickets()[-1][3] == "elderly"
    assert "老年人" in rig.text("ticketPriority")
    assert "老年人" in rig.tickets()[-1].text


def test_english_ticket(rig: Rig) -> None:
    rig.tap("lang_en")  # the home screen's language card: one button per language of the hall
    rig.take_hj01()
    assert rig.text("ticketTitle") == "Your number"
    assert "People ahead" in rig.tickets()[-1].text or "Nobody is ahead" in rig.tickets()[-1].text


# ---- caps and hours --------------------------------------------------------------------------------------


def hj01_capped(cap: int) -> HallConfig:
    """The county hall with a daily cap of `cap` numbers for HJ01."""
    base = read_config(COUNTY)
    matters = tuple(dataclasses.replace(m, daily_cap=cap) if m.code == HJ01 else m for m in base.matters)
    return dataclasses.replace(base, matters=matters)


def test_full_matter_says_so_with_next_opening(tmp_path: pathlib.Path, qtbot: Any, running: Any) -> None:
    with kiosk_rig(tmp_path, qtbot, running, config=hj01_capped(1)) as rig:
        rig.take_hj01()
        rig.tap("homeButton")
        rig.take_hj01(then=Screen.MESSAGE)
        assert rig.text("messageTitle") == "该事项今日号已取完"
        assert rig.text("messageNext") == "下次取号时间：2026-11-24 08:30"
        assert [t[0] for t in rig.db_tickets()] == ["A001"]
        assert len(rig.tickets()) == 1
        # The list now says "full" before anyone answers the questions again.
        rig.tap("backButton")
        rig.tap("backButton")
        for ch in "HKQR":
            rig.tap(f"key_{ch}")
        assert rig.text(f"matter_{HJ01}_sub") == "今日已满"


def test_matter_list_shows_numbers_left(tmp_path: pathlib.Path, qtbot: Any, running: Any) -> None:
    with kiosk_rig(tmp_path, qtbot, running, config=hj01_capped(5)) as rig:
        rig.take_hj01()
        rig.tap("homeButton")
        rig.tap("welcomeStart")
        for ch in "HKQR":
            rig.tap(f"key_{ch}")
        # The kiosk asks the hall what is left (the server's engine counts it); the list then says so.
        rig.wait(lambda: rig.text(f"matter_{HJ01}_sub") == "今日余号 4", "4 numbers left shown")


def find_hj01(rig: Rig) -> None:
    """From the welcome screen to HJ01 in the matter list, by its pinyin initials."""
    rig.tap("welcomeStart")
    for ch in "HKQR":
        rig.tap(f"key_{ch}")


def try_hj01_closed(rig: Rig) -> None:
    """Ask for HJ01 anyway while it takes no walk-ins: the hall refuses, and says so."""
    rig.tap(f"matter_{HJ01}")
    rig.tap("questionYes")
    for mid in ("idcard", "hukou", "move_permit"):
        rig.tap(f"material_{mid}")
    rig.tap("materialsDone")
    rig.tap("confirmNormal")
    rig.wait_screen(Screen.MESSAGE)
    assert rig.text("messageTitle") == "该事项现在不取号"
    assert rig.db_tickets() == []


def test_closed_hours_shown_in_list(rig: Rig) -> None:
    rig.clock.set(dt.datetime(2026, 11, 23, 17, 10, tzinfo=rig.clock.now().tzinfo))
    find_hj01(rig)
    assert rig.text(f"matter_{HJ01}_sub") == "暂停取号 · 下次取号时间：2026-11-24 08:30"
    try_hj01_closed(rig)
    assert rig.text("messageNext") == "下次取号时间：2026-11-24 08:30"


def lunch_break() -> HallConfig:
    """The county hall with a lunch break on Mondays: 08:30-12:00 and 13:30-17:30."""
    base = read_config(COUNTY)
    sessions = (Session(dt.time(8, 30), dt.time(12, 0)), Session(dt.time(13, 30), dt.time(17, 30)))
    return dataclasses.replace(
        base, hall=dataclasses.replace(base.hall, hours={**base.hall.hours, "mon": sessions})
    )


def test_over_lunch_the_kiosk_shows_the_afternoon_opening(
    tmp_path: pathlib.Path, qtbot: Any, running: Any
) -> None:
    with kiosk_rig(tmp_path, qtbot, running, config=lunch_break()) as rig:
        rig.clock.set(dt.datetime(2026, 11, 23, 12, 10, tzinfo=rig.clock.now().tzinfo))
        find_hj01(rig)
        assert rig.text(f"matter_{HJ01}_sub") == "暂停取号 · 下次取号时间：2026-11-23 13:30"
        try_hj01_closed(rig)  # asked anyway, the hall says the same and issues nothing
        assert rig.text("messageNext") == "下次取号时间：2026-11-23 13:30"
        rig.tap("homeButton")
        # The afternoon session opens: the list takes walk-ins again.
        rig.clock.set(dt.datetime(2026, 11, 23, 13, 30, tzinfo=rig.clock.now().tzinfo))
        find_hj01(rig)
        assert not rig.has(f"matter_{HJ01}_sub")  # no "暂停取号" under it any more


# ---- printer-safe issuing --------------------------------------------------------------------------------


def test_paper_out_before_sends_to_desk_and_reports(rig: Rig) -> None:
    rig.emu.set_state(EmulatedState.PAPER_OUT)
    rig.wait_screen(Screen.DESK)
    assert rig.text("deskTitle") == "请到服务台取号"
    assert "缺纸" in rig.text("deskReason")
    rig.wait(
        lambda: rig.hall.count("SELECT COUNT(*) FROM device_health WHERE health = 'unavailable'") == 1,
        "paper out reported to the hall",
    )
    assert rig.app.flow.screen is Screen.DESK
    assert not rig.has("welcomeStart")
    rig.emu.set_state(EmulatedState.READY)
    rig.wait_screen(Screen.WELCOME)
    rig.wait(
        lambda: rig.hall.count("SELECT COUNT(*) FROM device_health WHERE health = 'ok'") == 1,
        "paper back reported to the hall",
    )
    assert rig.db_tickets() == []


def test_paper_out_during_printing_voids(rig: Rig) -> None:
    rig.walk_in(HJ01, [True], list(HJ01_PAPERS))
    rig.watch.on_job = lambda: rig.emu.set_state(EmulatedState.PAPER_OUT)
    rig.tap("confirmNormal")
    rig.wait(lambda: rig.screen in (Screen.TICKET, Screen.DESK), "print outcome")
    rig.expect(Screen.TICKET)
    assert "A001" in rig.text("ticketVoided")
    assert rig.db_tickets() == [("A001", "voided", "通过", "", HJ01)]
    assert rig.tickets() == []
    rig.tap("homeButton")
    rig.wait_screen(Screen.DESK)
    # Nobody can be called with it.
    rig.hall.login_counter()
    assert rig.hall.act(rig.hall.counter, "open").status_code == 200
    r = rig.hall.act(rig.hall.counter, "call-next")
    assert r.status_code == 409, r.text


# ---- bookings ----------------------------------------------------------------------------------------------


def _book(rig: Rig, day: dt.date, slot: dt.time) -> str:
    return rig.hall.book(HJ01, day, slot)


def _check_in(rig: Rig, code: str) -> None:
    rig.tap("welcomeBooking")
    rig.expect(Screen.BOOKING)
    box = rig.view.findChild(QLineEdit, "bookingCode")
    assert box is not None
    for ch in code:
        rig.tap(f"codeKey_{ch}")
    assert box.text() == code
    rig.tap("bookingSubmit")
    rig.wait(lambda: rig.screen in (Screen.TICKET, Screen.MESSAGE), "check-in outcome")


def test_booking_on_time_gets_priority(rig: Rig) -> None:
    code = _book(rig, dt.date(2026, 11, 23), dt.time(9, 0))
    _check_in(rig, code)
    rig.expect(Screen.TICKET)
    label, state, _, priority, _ = rig.db_tickets()[-1]
    assert (state, priority) == ("waiting", "appointment")
    assert label in rig.tickets()[-1].text
    assert not rig.has("ticketLate")


def test_booking_too_early_and_walk_in_fallback(rig: Rig) -> None:
    code = _book(rig, dt.date(2026, 11, 23), dt.time(15, 0))
    _check_in(rig, code)
    rig.expect(Screen.MESSAGE)
    assert rig.text("messageTitle") == "还没到签到时间"
    assert "14:30" in rig.text("messageText")
    assert rig.db_tickets() == []
    assert rig.tickets() == []
    rig.tap("messageWalkIn")
    rig.expect(Screen.MATTERS)


def test_booking_scanned_wrong_day(rig: Rig) -> None:
    code = _book(rig, dt.date(2026, 11, 24), dt.time(9, 0))
    rig.controller.scanned(f"{rig.hall.url}/b/{code}")
    rig.wait_screen(Screen.MESSAGE)
    assert rig.text("messageTitle") == "预约日期不是今天"
    assert rig.db_tickets() == []


def test_booking_late_becomes_walk_in(rig: Rig) -> None:
    code = _book(rig, dt.date(2026, 11, 23), dt.time(9, 0))
    rig.clock.set(dt.datetime(2026, 11, 23, 10, 0, tzinfo=rig.clock.now().tzinfo))
    _check_in(rig, code)
    rig.expect(Screen.TICKET)
    assert rig.has("ticketLate")
    assert rig.db_tickets()[-1][3] == ""


# ---- server and idle -----------------------------------------------------------------------------------


def test_server_down_and_back(rig: Rig) -> None:
    rig.tap("welcomeStart")
    rig.hall.stop()
    rig.wait(lambda: not rig.app.flow.server_ok, "server loss noticed")
    rig.expect(Screen.MATTERS)  # not yet: a short blip is not an outage
    rig.clock.advance(5)
    rig.controller.tick()
    rig.expect(Screen.OFFLINE)
    assert rig.text("offlineTitle") == "本机暂停服务"
    rig.hall.start()
    rig.wait_screen(Screen.WELCOME)
    rig.take_hj01()
    assert rig.db_tickets()[-1][:2] == ("A001", "waiting")


def test_idle_resets_to_welcome_and_elder_waits_longer(rig: Rig) -> None:
    rig.tap("welcomeElder")
    rig.tap("welcomeStart")
    rig.clock.advance(rig.hall.config.kiosk.idle_reset_s + 1)
    rig.controller.tick()
    rig.expect(Screen.MATTERS)  # elder mode: the longer limit
    rig.clock.advance(rig.hall.config.kiosk.elder_idle_reset_s)
    rig.controller.tick()
    rig.expect(Screen.WELCOME)
    assert rig.app.flow.elder is False
    rig.tap("welcomeStart")
    rig.clock.advance(rig.hall.config.kiosk.idle_reset_s)
    rig.controller.tick()
    rig.expect(Screen.WELCOME)


# ---- first start -------------------------------------------------------------------------------------------


def test_enrollment_code_until_approved_then_token_kept(rig: Rig) -> None:
    from hallclient.enroll import load_token, save_pin

    path = rig.hall.db.parent / "state" / "kiosk-test.json"
    rig.api.set_token(None)
    assert rig.hall.pin is not None
    save_pin(path, rig.hall.url, rig.hall.pin)  # what `hallclient.link.locate` does over TLS before enrolling
    enrolling = rig.loop.create_task(rig.controller.enroll(path, "一楼自助取号机", rig.hall.url, poll_s=0.1))
    rig.wait(lambda: rig.controller.info.enroll_code != "", "the enrollment code")
    rig.expect(Screen.ENROLL)
    code = rig.text("enrollCode")
    assert code == rig.controller.info.enroll_code
    assert rig.hall.pin.short in rig.text("enrollFingerprint")  # beside the code, as on the dashboard
    rig.hall.approve_code(code)
    rig.wait_screen(Screen.WELCOME, timeout=15)
    rig.wait(enrolling.done, "the token")
    assert enrolling.result() == load_token(path)
    token = load_token(path)
    assert token is not None
    assert (path.stat().st_mode & 0o777) == 0o600
