"""Every kiosk path by tapping widgets, against a real hall server on 127.0.0.1 and the TCP printer emulator.

Each test asserts the server's ticket table and what the emulated printer rendered, not only the screen.
The kiosk shares the server's `FakeClock` (Monday 09:00, the hall is open); idle and out-of-service delays
are driven by advancing that clock and calling `app.tick()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import gc
import pathlib
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton

from drivers.emulators.printer import EmulatedState, RenderedTicket, TcpPrinterEmulator
from drivers.printer import EscposPrinter
from drivers.protocols import TicketPrinter
from drivers.transport import SocketTransport, Transport
from hallclient.http import HttpHall
from hallcore.clock import FakeClock
from hallcore.config import HallConfig
from kiosk.app import KioskApp, assemble
from kiosk.controller import KioskController
from kiosk.flow import FlowSettings, Screen
from kiosk.texts import catalog
from kiosk.views import KioskView
from tests.fakes.live_server import LiveServer, live_server

#: 户口迁入登记: one question (in person?), three required materials, none tolerable.
HJ01 = "HJ01"
#: 社会保障卡申领: no questions; 身份证 required, 照片回执 tolerable (容缺).
SB02 = "SB02"


class TapWatch:
    """A transport wrapper that runs `on_job` when a print job (ESC @ …) is written: "during printing"."""

    def __init__(self, inner: Transport, on_job: Callable[[], None] | None = None) -> None:
        self.inner = inner
        self.on_job = on_job

    def write(self, data: bytes) -> None:
        if self.on_job is not None and data.startswith(b"\x1b@"):
            hook, self.on_job = self.on_job, None
            hook()
        self.inner.write(data)

    def read(self, n: int, timeout: float) -> bytes:
        return self.inner.read(n, timeout)

    def close(self) -> None:
        self.inner.close()


@dataclass
class Rig:
    hall: LiveServer
    emu: TcpPrinterEmulator
    watches: list[TapWatch]
    printer: TicketPrinter
    api: HttpHall
    app: KioskApp
    clock: FakeClock
    qtbot: Any
    loop: asyncio.AbstractEventLoop

    @property
    def controller(self) -> KioskController:
        return self.app.controller

    @property
    def view(self) -> KioskView:
        return self.app.view

    @property
    def watch(self) -> TapWatch:
        """The printer link's current transport (it is reopened after a loss)."""
        return self.watches[0]

    @property
    def screen(self) -> Screen:
        return self.app.flow.screen

    def expect(self, screen: Screen) -> None:
        assert self.screen is screen, f"on {self.screen}, expected {screen}"

    def tap(self, name: str) -> None:
        """Click a button. The loop is running (the test body is a coroutine): Qt delivers the network
        callbacks of the kiosk's tasks while it handles events, and those need a running asyncio loop."""
        b = self.view.findChild(QPushButton, name)
        assert b is not None, f"no button {name} on {self.screen}"
        assert b.isVisible(), f"{name} is not visible"
        assert b.isEnabled(), f"{name} is disabled"

        assert self.loop.is_running(), "tap inside the test's coroutine (see on_loop)"
        self.qtbot.mouseClick(b, Qt.MouseButton.LeftButton)

    def text(self, name: str) -> str:
        w = self.view.findChild(QLabel, name)
        assert w is not None, f"no label {name} on {self.screen}"
        return w.text()

    def has(self, name: str) -> bool:
        return (
            self.view.findChild(QLabel, name) is not None
            or self.view.findChild(QPushButton, name) is not None
        )

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def session(self, body: Coroutine[Any, Any, None]) -> None:
        """Run `body` with the kiosk's background work (printer watch, health polls, HTTP connections)
        alive only inside it: pytest-qt processes Qt events between test phases, and an asyncio callback
        delivered then would find no running loop."""

        async def run() -> None:
            self.controller.start()
            try:
                await self.wait(
                    lambda: self.controller.printer_state is not None and bool(self.watches), "printer poll"
                )
                await body
            finally:
                await self.app.aclose()
                await self.api.aclose()
                # Let closed connections deliver their last callbacks while the loop still runs.
                for _ in range(5):
                    await asyncio.sleep(0.01)

        self.run(run())

    async def wait(self, cond: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        """Let the loop (Qt and asyncio) run until `cond()` holds (like qtbot.waitUntil, on the loop)."""
        deadline = self.loop.time() + timeout
        while not cond():
            if self.loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what} (screen {self.screen})")
            await asyncio.sleep(0.005)

    async def wait_screen(self, screen: Screen, timeout: float = 10.0) -> None:
        await self.wait(lambda: self.screen is screen, f"screen {screen}", timeout)

    def tickets(self) -> list[RenderedTicket]:
        return self.emu.tickets

    def db_tickets(self) -> list[tuple[str, str, str, str, str]]:
        return [
            (str(a), str(b), str(c), str(d), str(e))
            for a, b, c, d, e in self.hall.query(
                "SELECT label, state, precheck, priority, matter FROM tickets ORDER BY issued_at, label"
            )
        ]

    def walk_in(self, matter: str, answers: list[bool], materials: list[str]) -> None:
        """Welcome → search by pinyin initials → matter → questions → materials → confirm."""
        self.tap("welcomeStart")
        self.expect(Screen.MATTERS)
        m = self.app.config.matter_by_code[matter]
        for ch in m.pinyin[:4]:
            self.tap(f"key_{ch.upper()}")
        self.tap(f"matter_{matter}")
        for yes in answers:
            self.expect(Screen.QUESTION)
            self.tap("questionYes" if yes else "questionNo")
        if m.precheck.materials:
            self.expect(Screen.MATERIALS)
            for mid in materials:
                self.tap(f"material_{mid}")
            self.tap("materialsDone")
        self.expect(Screen.CONFIRM)


@contextlib.contextmanager
def kiosk_rig(
    tmp_path: pathlib.Path,
    qtbot: Any,
    loop: asyncio.AbstractEventLoop,
    *,
    config: HallConfig | None = None,
    print_timeout_s: float = 2.0,
    offline_delay_s: float = 5.0,
) -> Iterator[Rig]:
    with live_server(tmp_path, config) as hall, TcpPrinterEmulator() as emu:
        watch_box: list[TapWatch] = []

        def opener() -> Transport:
            w = TapWatch(SocketTransport.connect(emu.host, emu.port, timeout=1.0, write_timeout=2.0))
            watch_box[:] = [w]
            return w

        printer = EscposPrinter(None, reopen=opener, print_timeout_s=print_timeout_s, name="emulated printer")
        clock = hall.clock
        api = HttpHall(hall.url, hall.kiosk.token, clock=clock, retries=1, backoff_s=0.05, timeout=3.0)
        cfg = hall.config
        app = assemble(
            cfg,
            api,
            printer,
            clock,
            catalog(),
            settings=FlowSettings(
                float(cfg.kiosk.idle_reset_s), float(cfg.kiosk.elder_idle_reset_s), offline_delay_s
            ),
            tick_ms=3_600_000,  # tests call tick() themselves after moving the clock
            printer_poll_s=0.05,
            health_poll_s=0.05,
        )
        app.view.resize(1080, 1920)
        app.view.show()
        app.show()
        rig = Rig(hall, emu, watch_box, printer, api, app, clock, qtbot, loop)
        try:
            yield rig
        finally:
            app.bridge.stop_ticking()
            printer.close()
            dispose(app)


def dispose(app: KioskApp) -> None:
    """Delete the kiosk's Qt objects now, on this thread. Left to the cyclic garbage collector they could be
    freed on the server's or the emulator's thread ("Timers cannot be stopped from another thread")."""
    app.view.close()
    for obj in (app.bridge, app.view):
        if shiboken6.isValid(obj):
            shiboken6.delete(obj)
    gc.collect()


def on_loop(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body on the qasync loop in one go, so the kiosk's tasks never see a stopped loop."""

    @functools.wraps(fn)
    def run(rig: Rig, *args: Any, **kwargs: Any) -> None:
        rig.session(fn(rig, *args, **kwargs))

    return run


@pytest.fixture
def rig(tmp_path: pathlib.Path, qtbot: Any, qloop: asyncio.AbstractEventLoop) -> Iterator[Rig]:
    with kiosk_rig(tmp_path, qtbot, qloop) as r:
        yield r


# ---- pre-check outcomes ----------------------------------------------------------------------------------


@on_loop
async def test_pass_issues_prints_and_confirms(rig: Rig) -> None:
    rig.walk_in(HJ01, [True], ["idcard", "hukou", "move_permit"])
    rig.tap("confirmNormal")
    await rig.wait_screen(Screen.TICKET)
    assert rig.text("ticketNumber") == "A001"
    assert "A001" in rig.tickets()[-1].text
    assert rig.tickets()[-1].qr[0].startswith("http")
    assert rig.db_tickets() == [("A001", "waiting", "通过", "", HJ01)]
    assert rig.text("ticketTake")
    qr = rig.view.findChild(QLabel, "ticketQr")
    assert qr is not None
    assert qr.pixmap().width() > 100


@on_loop
async def test_tolerated_ticket_lists_what_to_bring(rig: Rig) -> None:
    rig.walk_in(SB02, [], ["idcard"])
    assert rig.has("confirmTolerated")
    rig.tap("confirmNormal")
    await rig.wait_screen(Screen.TICKET)
    assert rig.has("ticketTolerated")
    assert "照片回执" in rig.text("ticketBringItem_0") or rig.text("ticketBringItem_0")
    printed = rig.tickets()[-1].text
    assert "容缺" in printed
    label, state, precheck, _, _ = rig.db_tickets()[-1]
    assert (label[0], state, precheck) == ("B", "waiting", "容缺")


@on_loop
async def test_failed_precheck_prints_notice_and_issues_nothing(rig: Rig) -> None:
    rig.walk_in(HJ01, [False], ["idcard"])
    assert rig.has("confirmFail")
    rig.tap("confirmNormal")
    await rig.wait_screen(Screen.NOTICE)
    assert rig.has("noticeItem_0")
    assert rig.has("noticePrinted")
    assert rig.db_tickets() == []
    notice = rig.tickets()[-1].text
    assert "一次性告知单" in notice
    assert "准予迁入证明" in notice


@on_loop
async def test_priority_choice_is_on_the_ticket(rig: Rig) -> None:
    rig.walk_in(HJ01, [True], ["idcard", "hukou", "move_permit"])
    assert rig.has("priorityNotice")
    rig.tap("priority_elderly")
    await rig.wait_screen(Screen.TICKET)
    assert rig.db_tickets()[-1][3] == "elderly"
    assert "老年人" in rig.text("ticketPriority")
    assert "老年人" in rig.tickets()[-1].text


@on_loop
async def test_english_ticket(rig: Rig) -> None:
    rig.tap("welcomeLanguage")
    rig.walk_in(HJ01, [True], ["idcard", "hukou", "move_permit"])
    rig.tap("confirmNormal")
    await rig.wait_screen(Screen.TICKET)
    assert rig.text("ticketTitle") == "Your number"
    assert "People ahead" in rig.tickets()[-1].text or "Nobody is ahead" in rig.tickets()[-1].text


# ---- caps and hours --------------------------------------------------------------------------------------


def test_full_matter_says_so_with_next_opening(tmp_path: pathlib.Path, qtbot: Any, qloop: Any) -> None:
    import dataclasses

    from hallserver.configfile import read_config
    from tests.fakes.live_server import COUNTY

    base = read_config(COUNTY)
    matters = tuple(dataclasses.replace(m, daily_cap=1) if m.code == HJ01 else m for m in base.matters)
    cfg = dataclasses.replace(base, matters=matters)
    with kiosk_rig(tmp_path, qtbot, qloop, config=cfg) as rig:
        rig.session(_full_matter(rig))


async def _full_matter(rig: Rig) -> None:
    if True:
        rig.walk_in(HJ01, [True], ["idcard", "hukou", "move_permit"])
        rig.tap("confirmNormal")
        await rig.wait_screen(Screen.TICKET)
        rig.tap("homeButton")
        rig.walk_in(HJ01, [True], ["idcard", "hukou", "move_permit"])
        rig.tap("confirmNormal")
        await rig.wait_screen(Screen.MESSAGE)
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


def test_matter_list_shows_numbers_left(tmp_path: pathlib.Path, qtbot: Any, qloop: Any) -> None:
    import dataclasses

    from hallserver.configfile import read_config
    from tests.fakes.live_server import COUNTY

    base = read_config(COUNTY)
    matters = tuple(dataclasses.replace(m, daily_cap=5) if m.code == HJ01 else m for m in base.matters)
    cfg = dataclasses.replace(base, matters=matters)
    with kiosk_rig(tmp_path, qtbot, qloop, config=cfg) as rig:
        rig.session(_numbers_left(rig))


async def _numbers_left(rig: Rig) -> None:
    rig.walk_in(HJ01, [True], ["idcard", "hukou", "move_permit"])
    rig.tap("confirmNormal")
    await rig.wait_screen(Screen.TICKET)
    rig.tap("homeButton")
    rig.tap("welcomeStart")
    for ch in "HKQR":
        rig.tap(f"key_{ch}")
    # The kiosk asks the hall what is left (the server's engine counts it); the list then says so.
    await rig.wait(lambda: rig.text(f"matter_{HJ01}_sub") == "今日余号 4", "4 numbers left shown")


@on_loop
async def test_closed_hours_shown_in_list(rig: Rig) -> None:
    rig.clock.set(dt.datetime(2026, 11, 23, 17, 10, tzinfo=rig.clock.now().tzinfo))
    rig.tap("welcomeStart")
    for ch in "HKQR":
        rig.tap(f"key_{ch}")
    assert rig.text(f"matter_{HJ01}_sub") == "暂停取号 · 下次取号时间：2026-11-24 08:30"
    rig.tap(f"matter_{HJ01}")
    rig.tap("questionYes")
    for mid in ("idcard", "hukou", "move_permit"):
        rig.tap(f"material_{mid}")
    rig.tap("materialsDone")
    rig.tap("confirmNormal")
    await rig.wait_screen(Screen.MESSAGE)
    assert rig.text("messageTitle") == "该事项现在不取号"
    assert rig.text("messageNext") == "下次取号时间：2026-11-24 08:30"
    assert rig.db_tickets() == []


# ---- printer-safe issuing --------------------------------------------------------------------------------


@on_loop
async def test_paper_out_before_sends_to_desk_and_reports(rig: Rig) -> None:
    rig.emu.set_state(EmulatedState.PAPER_OUT)
    await rig.wait_screen(Screen.DESK)
    assert rig.text("deskTitle") == "请到服务台取号"
    assert "缺纸" in rig.text("deskReason")
    await rig.wait(
        lambda: rig.hall.count("SELECT COUNT(*) FROM device_health WHERE health = 'unavailable'") == 1,
        "paper out reported to the hall",
    )
    assert rig.app.flow.screen is Screen.DESK
    assert not rig.has("welcomeStart")
    rig.emu.set_state(EmulatedState.READY)
    await rig.wait_screen(Screen.WELCOME)
    await rig.wait(
        lambda: rig.hall.count("SELECT COUNT(*) FROM device_health WHERE health = 'ok'") == 1,
        "paper back reported to the hall",
    )
    assert rig.db_tickets() == []


@on_loop
async def test_paper_out_during_printing_voids(rig: Rig) -> None:
    rig.walk_in(HJ01, [True], ["idcard", "hukou", "move_permit"])
    rig.watch.on_job = lambda: rig.emu.set_state(EmulatedState.PAPER_OUT)
    rig.tap("confirmNormal")
    await rig.wait(lambda: rig.screen in (Screen.TICKET, Screen.DESK), "print outcome")
    rig.expect(Screen.TICKET)
    assert "A001" in rig.text("ticketVoided")
    assert rig.db_tickets() == [("A001", "voided", "通过", "", HJ01)]
    assert rig.tickets() == []
    rig.tap("homeButton")
    await rig.wait_screen(Screen.DESK)
    # Nobody can be called with it.
    rig.hall.login_counter()
    assert rig.hall.act(rig.hall.counter, "open").status_code == 200
    r = rig.hall.act(rig.hall.counter, "call-next")
    assert r.status_code == 409, r.text


# ---- bookings ----------------------------------------------------------------------------------------------


def _book(rig: Rig, day: dt.date, slot: dt.time) -> str:
    return rig.hall.book(HJ01, day, slot)


async def _check_in(rig: Rig, code: str) -> None:
    rig.tap("welcomeBooking")
    rig.expect(Screen.BOOKING)
    box = rig.view.findChild(QLineEdit, "bookingCode")
    assert box is not None
    for ch in code:
        rig.tap(f"codeKey_{ch}")
    assert box.text() == code
    rig.tap("bookingSubmit")
    await rig.wait(lambda: rig.screen in (Screen.TICKET, Screen.MESSAGE), "check-in outcome")


@on_loop
async def test_booking_on_time_gets_priority(rig: Rig) -> None:
    code = _book(rig, dt.date(2026, 11, 23), dt.time(9, 0))
    await _check_in(rig, code)
    rig.expect(Screen.TICKET)
    label, state, _, priority, _ = rig.db_tickets()[-1]
    assert (state, priority) == ("waiting", "appointment")
    assert label in rig.tickets()[-1].text
    assert not rig.has("ticketLate")


@on_loop
async def test_booking_too_early_and_walk_in_fallback(rig: Rig) -> None:
    code = _book(rig, dt.date(2026, 11, 23), dt.time(15, 0))
    await _check_in(rig, code)
    rig.expect(Screen.MESSAGE)
    assert rig.text("messageTitle") == "还没到签到时间"
    assert "14:30" in rig.text("messageText")
    assert rig.db_tickets() == []
    assert rig.tickets() == []
    rig.tap("messageWalkIn")
    rig.expect(Screen.MATTERS)


@on_loop
async def test_booking_scanned_wrong_day(rig: Rig) -> None:
    code = _book(rig, dt.date(2026, 11, 24), dt.time(9, 0))
    rig.controller.scanned(f"{rig.hall.url}/b/{code}")
    await rig.wait_screen(Screen.MESSAGE)
    assert rig.text("messageTitle") == "预约日期不是今天"
    assert rig.db_tickets() == []


@on_loop
async def test_booking_late_becomes_walk_in(rig: Rig) -> None:
    code = _book(rig, dt.date(2026, 11, 23), dt.time(9, 0))
    rig.clock.set(dt.datetime(2026, 11, 23, 10, 0, tzinfo=rig.clock.now().tzinfo))
    await _check_in(rig, code)
    rig.expect(Screen.TICKET)
    assert rig.has("ticketLate")
    assert rig.db_tickets()[-1][3] == ""


# ---- server and idle -----------------------------------------------------------------------------------


@on_loop
async def test_server_down_and_back(rig: Rig) -> None:
    rig.tap("welcomeStart")
    rig.hall.stop()
    await rig.wait(lambda: not rig.app.flow.server_ok, "server loss noticed")
    rig.expect(Screen.MATTERS)  # not yet: a short blip is not an outage
    rig.clock.advance(5)
    rig.controller.tick()
    rig.expect(Screen.OFFLINE)
    assert rig.text("offlineTitle") == "本机暂停服务"
    rig.hall.start()
    await rig.wait_screen(Screen.WELCOME)
    rig.walk_in(HJ01, [True], ["idcard", "hukou", "move_permit"])
    rig.tap("confirmNormal")
    await rig.wait_screen(Screen.TICKET)
    assert rig.db_tickets()[-1][:2] == ("A001", "waiting")


@on_loop
async def test_idle_resets_to_welcome_and_elder_waits_longer(rig: Rig) -> None:
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


@on_loop
async def test_enrollment_code_until_approved_then_token_kept(rig: Rig) -> None:
    from hallclient.enroll import load_token

    path = rig.hall.db.parent / "state" / "kiosk-test.json"
    rig.api.set_token(None)
    enrolling = asyncio.ensure_future(rig.controller.enroll(path, "一楼自助取号机", rig.hall.url, poll_s=0.1))
    await rig.wait(lambda: rig.controller.info.enroll_code != "", "the enrollment code")
    rig.expect(Screen.ENROLL)
    code = rig.text("enrollCode")
    assert code == rig.controller.info.enroll_code
    rig.hall.approve_code(code)
    await rig.wait_screen(Screen.WELCOME, timeout=15)
    assert await enrolling == load_token(path)
    token = load_token(path)
    assert token is not None
    assert (path.stat().st_mode & 0o777) == 0o600
