"""The counter app's test rig: a real hall server, an emulated HQP/1 bus on a pty, the app as `assemble`
builds it (the same wiring as `hallq counter`).

The app, the server and the flow share the server's `FakeClock`; the network, the bus (a pty) and the Qt loop
are real, on the `running` loop of tests/gui/conftest.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from counter.app import CounterApp, assemble
from counter.flow import CounterFlow
from counter.texts import catalog
from drivers.emulators.bus import EmulatedKeypad, EmulatedRatingPad, EmulatedStrip, HqpBusEmulator
from drivers.factory import StationDevices, build_station
from hallclient.http import HttpHall
from hallcore.config import Device, Station, StationRole
from tests.fakes.live_server import LiveServer
from tests.fakes.live_server import Station as LiveStation
from tests.gui.qtloop import complete, issue, run_until

LED, KEYPAD, PAD = 1, 61, 121


@dataclass
class Bus:
    emu: HqpBusEmulator
    strip: EmulatedStrip
    keypad: EmulatedKeypad
    pad: EmulatedRatingPad


@pytest.fixture
def bus() -> Iterator[Bus]:
    emu = HqpBusEmulator.pty()
    b = Bus(emu, emu.add_strip(LED), emu.add_keypad(KEYPAD), emu.add_rating_pad(PAD))
    emu.start()
    yield b
    emu.stop()


@pytest.fixture
def clerk(live: LiveServer, bus: Bus, running: asyncio.AbstractEventLoop, qtbot: QtBot) -> Iterator[Counter]:
    """A counter on the emulated bus with its clerk logged in and the window open (import it with `bus`)."""
    c = start_counter(live, qtbot, running, hqp_station(bus.emu.url))
    c.login()
    yield c
    stop_counter(c, running)


def hqp_station(url: str, window: int = 1, *, role: StationRole = StationRole.COUNTER) -> Station:
    return Station(
        id=f"counter-{window:02d}",
        role=role,
        window=window,
        led=Device(type="hqp", url=url, address=LED),
        keypad=Device(type="hqp", url=url, address=KEYPAD),
        rating_pad=Device(type="hqp", url=url, address=PAD),
    )


@dataclass
class Counter:
    app: CounterApp
    api: HttpHall
    live: LiveServer
    qtbot: QtBot

    @property
    def flow(self) -> CounterFlow:
        return self.app.flow

    def button(self, action: str) -> QPushButton:
        return next(b for a, b in self.app.window.main.buttons.items() if a.value == action)

    def until(self, cond: Callable[[], bool], timeout: float = 30) -> None:
        # A hang guard, generous for a loaded 2-core machine (a round trip through the server, the stream and
        # the bus poll can take seconds there); the conditions are what the tests check.
        run_until(self.qtbot, cond, timeout)

    def login(self, staff: str = "c1", pin: str = "246810") -> None:
        page = self.app.window.login
        page.staff.setText(staff)
        page.pin.setText(pin)
        page.go.click()
        self.until(lambda: self.flow.phase.value == "main" and self.flow.window_state == "open")

    def click(self, action: str) -> None:
        b = self.button(action)
        f = self.flow
        # The event of the previous action may arrive before its reply: wait for the reply to clear it.
        self.until(lambda: not f.busy)
        assert b.isEnabled(), (
            f"{action} is disabled: in flight {f.in_flight}, unsent {f.unsent}, held {f.held_state!r}, "
            f"online {f.online}, window {f.window_view}, current {f.current}"
        )
        b.click()

    def queue(self, desk: LiveStation, n: int, series: str = "A") -> list[str]:
        """`n` walk-ins issued at the desk, seen waiting by this counter; their labels."""
        before = self.flow.waiting
        labels = [issue(self.live, desk, series) for _ in range(n)]
        self.until(lambda: self.flow.waiting == before + n)
        return labels


def start_counter(
    live: LiveServer,
    qtbot: QtBot,
    loop: asyncio.AbstractEventLoop,
    station: Station,
    *,
    token: str | None = None,
    devices: StationDevices | None = None,
    retry_s: float = 0.2,
    rating_timeout_s: int | None = None,
) -> Counter:
    config = live.config
    if rating_timeout_s is not None:
        config = dataclasses.replace(
            config, rating=dataclasses.replace(config.rating, timeout_s=rating_timeout_s)
        )
    api = HttpHall(
        live.url, token or live.counter.token, clock=live.clock, retries=1, backoff_s=0.05, verify=live.ssl
    )
    app = assemble(
        config,
        station,
        api,
        live.clock,
        catalog(),
        devices if devices is not None else build_station(station).start(),
        retry_s=retry_s,
    )
    app.controller._health_s = 0.2
    app.window.resize(1000, 1150)
    app.window.show()
    complete(qtbot, loop, app.start())
    run_until(qtbot, lambda: app.flow.online)
    return Counter(app, api, live, qtbot)


def stop_counter(c: Counter, loop: asyncio.AbstractEventLoop) -> None:
    complete(c.qtbot, loop, c.app.aclose())
    complete(c.qtbot, loop, c.api.aclose())
    c.app.window.close()
    # Delete the Qt side here, on the GUI thread: left to the garbage collector, a cycle holding it may be
    # collected on a worker thread, which Qt does not allow (timers) and which can crash.
    c.app.window.deleteLater()
    c.until(lambda: _deleted(c.app.window))


def _deleted(obj: object) -> bool:
    from shiboken6 import isValid

    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return not isValid(obj)
