"""The kiosk app's test rig: a real hall server on 127.0.0.1, the TCP printer emulator behind the kiosk's
ESC/POS driver, and the app as `kiosk.app.assemble` builds it, on the `running` loop of tests/gui/conftest.py.

The kiosk shares the server's `FakeClock` (Monday 09:00, the hall is open); idle and out-of-service delays
are driven by advancing that clock and calling `controller.tick()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import pathlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from drivers.emulators.idcard import SamReaderEmulator
from drivers.emulators.printer import RenderedTicket, TcpPrinterEmulator
from drivers.factory import StationDevices, build_station
from drivers.fakes import SinkPlayer
from drivers.printer import EscposPrinter
from drivers.protocols import TicketPrinter
from drivers.transport import SocketTransport, Transport
from drivers.voice import PromptSpeaker
from hallclient.http import HttpHall
from hallcore.clock import FakeClock
from hallcore.config import Device, HallConfig, Station, StationRole
from kiosk.app import KioskApp, assemble
from kiosk.controller import KioskController
from kiosk.flow import Screen
from kiosk.info import FlowSettings
from kiosk.texts import catalog
from kiosk.views import KioskView
from tests.fakes.live_server import LiveServer, live_server
from tests.gui.qtloop import complete, run_until

#: 户口迁入登记: in person? (no → the agent's papers?), three required materials, none tolerable.
HJ01 = "HJ01"
HJ01_PAPERS = ("idcard", "hukou", "move_permit")
#: 社会保障卡申领: no questions; 身份证 required, 数码相片回执 tolerable (容缺), with a 承诺书.
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
    card_reader: SamReaderEmulator | None = None  # the emulated 居民身份证 reader (`kiosk_rig(reader=True)`)
    sink: SinkPlayer | None = None  # the test audio sink of the spoken guidance (`kiosk_rig(speech=True)`)
    speaker: PromptSpeaker | None = None

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
        """Click a button (the loop is marked running, `running` in tests/gui/conftest.py: Qt delivers the
        network callbacks of the kiosk's tasks while it handles events, and those need a running loop)."""
        b = self.view.findChild(QPushButton, name)
        assert b is not None, f"no button {name} on {self.screen}"
        assert b.isVisible(), f"{name} is not visible"
        assert b.isEnabled(), f"{name} is disabled"
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

    def wait(self, cond: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        """Let Qt and the loop run until `cond()` holds; fail naming `what` after `timeout` s."""
        try:
            run_until(self.qtbot, cond, timeout)
        except AssertionError as exc:  # pytest-qt's own says only "timeout"
            raise AssertionError(f"timed out waiting for {what} (screen {self.screen})") from exc

    def wait_screen(self, screen: Screen, timeout: float = 10.0) -> None:
        self.wait(lambda: self.screen is screen, f"screen {screen}", timeout)

    def tickets(self) -> list[RenderedTicket]:
        return self.emu.tickets

    def db_tickets(self) -> list[tuple[str, str, str, str, str]]:
        return [
            (str(a), str(b), str(c), str(d), str(e))
            for a, b, c, d, e in self.hall.query(
                "SELECT label, state, precheck, priority, matter FROM tickets ORDER BY issued_at, label"
            )
        ]

    def take_hj01(self, then: Screen = Screen.TICKET) -> None:
        """A walk-in for HJ01 with every answer right and every paper there, to the final tap and `then`."""
        self.walk_in(HJ01, [True], list(HJ01_PAPERS))
        self.tap("confirmNormal")
        self.wait_screen(then)

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
    reader: bool = False,
    speech: bool = False,
) -> Iterator[Rig]:
    with contextlib.ExitStack() as stack:
        card_reader = devices = None
        if reader:
            # The reader as a kiosk's config names it, built by drivers.factory like `hallq kiosk` does.
            card_reader = stack.enter_context(SamReaderEmulator.pty(link=tmp_path / "ttyID"))
            station = Station(
                "kiosk-card",
                StationRole.KIOSK,
                id_reader=Device("idcard-serial", url=card_reader.url, baud=115200, poll_s=0.1),
            )
            devices = stack.enter_context(build_station(station))
        sink = SinkPlayer() if speech else None
        # The display's voice pipeline with the test audio sink for a player: espeak-ng renders for real.
        speaker = PromptSpeaker(sink, tmp_path / "speech", recordings=tmp_path / "prompts") if sink else None
        for rig in _rig(
            tmp_path, qtbot, loop, config, print_timeout_s, offline_delay_s, card_reader, devices, speaker
        ):
            rig.sink, rig.speaker = sink, speaker
            yield rig


def _rig(
    tmp_path: pathlib.Path,
    qtbot: Any,
    loop: asyncio.AbstractEventLoop,
    config: HallConfig | None,
    print_timeout_s: float,
    offline_delay_s: float,
    card_reader: SamReaderEmulator | None,
    devices: StationDevices | None,
    speaker: PromptSpeaker | None = None,
) -> Iterator[Rig]:
    with live_server(tmp_path, config, tls=True) as hall, TcpPrinterEmulator() as emu:
        watch_box: list[TapWatch] = []

        def opener() -> Transport:
            w = TapWatch(SocketTransport.connect(emu.host, emu.port, timeout=1.0, write_timeout=2.0))
            watch_box[:] = [w]
            return w

        printer = EscposPrinter(None, reopen=opener, print_timeout_s=print_timeout_s, name="emulated printer")
        clock = hall.clock
        api = HttpHall(
            hall.url, hall.kiosk.token, clock=clock, retries=1, backoff_s=0.05, timeout=3.0, verify=hall.ssl
        )
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
            reader=devices.id_reader if devices is not None else None,
            speaker=speaker,
        )
        app.view.resize(1080, 1920)
        app.view.show()
        app.show()
        rig = Rig(hall, emu, watch_box, printer, api, app, clock, qtbot, loop, card_reader)
        app.controller.start()
        try:
            rig.wait(lambda: app.controller.printer_state is not None and bool(watch_box), "printer poll")
            yield rig
        finally:
            complete(qtbot, loop, app.aclose())
            complete(qtbot, loop, api.aclose())
            printer.close()
            dispose(app)
            # A TLS connection the kiosk had in flight when a test stopped the server
            # (test_server_down_and_back) is left to the garbage collector, and asyncio warns "unclosed
            # transport" in whichever later test the collector runs (CI, 2026-12-03; 1 run in 3). Which client
            # leaves it is not found yet (issue 24's note): collect it here, and let nothing else through.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "unclosed transport", ResourceWarning)
                gc.collect()


def dispose(app: KioskApp) -> None:
    """Delete the kiosk's Qt objects now, on this thread. Left to the cyclic garbage collector they could be
    freed on the server's or the emulator's thread ("Timers cannot be stopped from another thread")."""
    app.view.close()
    for obj in (app.bridge, app.view):
        if shiboken6.isValid(obj):
            shiboken6.delete(obj)
