"""Shared set-up of the counter app tests: a real hall server, an emulated HQP/1 bus on a pty, the app.

The app, the server and the flow share the server's `FakeClock`; the network, the bus (a pty) and the Qt loop
are real. `running` keeps the qasync loop marked as running for the whole test, so `qtbot.waitUntil` alone
drives network tasks (see PITFALLS.md and the display tests for why).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from counter.app import CounterApp, assemble
from counter.texts import catalog
from drivers.emulators.bus import EmulatedKeypad, EmulatedRatingPad, EmulatedStrip, HqpBusEmulator
from drivers.factory import StationDevices, build_station
from hallclient.http import HttpHall
from hallcore.config import Device, Station, StationRole
from hallui.qtcompat import pin_singletons
from tests.fakes.live_server import LiveServer, live_server
from tests.fakes.live_server import Station as LiveStation

T = TypeVar("T")

LED, KEYPAD, PAD = 1, 61, 121


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path) as hall:
        yield hall


@pytest.fixture
def running(qloop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    # qasync's default executor makes QThreads; name lookups for reconnects run there, and a QThread's
    # timers torn down off the GUI thread log a Qt warning (fatal here). Plain threads do not.
    pin_singletons()  # as hallui.runner does for the apps: PySide6 6.12 drops None/True references
    executor = ThreadPoolExecutor(4, thread_name_prefix="counter-test-default")
    qloop.set_default_executor(executor)
    asyncio.events._set_running_loop(qloop)
    try:
        yield qloop
    finally:
        asyncio.events._set_running_loop(None)
        executor.shutdown(wait=False)


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


def run_until(qtbot: QtBot, cond: Callable[[], bool], timeout: float = 10) -> None:
    qtbot.waitUntil(cond, timeout=round(timeout * 1000))


def complete(qtbot: QtBot, loop: asyncio.AbstractEventLoop, aw: Awaitable[T], timeout: float = 15) -> T:
    async def wrap() -> T:
        return await aw

    task = loop.create_task(wrap())
    run_until(qtbot, task.done, timeout)
    return task.result()


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
    station: LiveStation

    @property
    def flow(self):  # type: ignore[no-untyped-def]
        return self.app.flow

    def button(self, action: str):  # type: ignore[no-untyped-def]
        return self.app.window.main.buttons[
            next(a for a in self.app.window.main.buttons if a.value == action)
        ]


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
    api = HttpHall(live.url, token or live.counter.token, clock=live.clock, retries=1, backoff_s=0.05)
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
    return Counter(app, api, live, live.counter)


def stop_counter(c: Counter, qtbot: QtBot, loop: asyncio.AbstractEventLoop) -> None:
    complete(qtbot, loop, c.app.aclose())
    complete(qtbot, loop, c.api.aclose())
    c.app.window.close()
    # Delete the Qt side here, on the GUI thread: left to the garbage collector, a cycle holding it may be
    # collected on a worker thread, which Qt does not allow (timers) and which can crash.
    c.app.window.deleteLater()
    qtbot.waitUntil(lambda: _deleted(c.app.window))
    gc.collect()


def _deleted(obj: object) -> bool:
    from shiboken6 import isValid

    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return not isValid(obj)


def login(c: Counter, qtbot: QtBot, staff: str = "c1", pin: str = "246810") -> None:
    page = c.app.window.login
    page.staff.setText(staff)
    page.pin.setText(pin)
    page.go.click()
    run_until(qtbot, lambda: c.flow.phase.value == "main" and c.flow.window_state == "open")


def issue(live: LiveServer, desk: LiveStation, series: str = "A") -> str:
    """A walk-in ticket of `series` from a service desk (waiting at once); returns its label."""
    m = next(m for m in live.config.matters if m.series == series)
    body = {
        "matter": m.code,
        "source": "desk",
        "answers": {q.id: q.expected for q in m.precheck.questions},
        "present": [mat.id for mat in m.precheck.materials],
    }
    r = live.post(desk, "/api/tickets", **body)
    assert r.status_code == 201, r.text
    return str(r.json()["ticket"]["label"])


def click(qtbot: QtBot, c: Counter, action: str) -> None:
    b = c.button(action)
    f = c.app.flow
    # The event of the previous action may arrive before its reply: wait for the reply to clear it.
    run_until(qtbot, lambda: not f.busy)
    assert b.isEnabled(), (
        f"{action} is disabled: in flight {f.in_flight}, unsent {f.unsent}, held {f.held_state!r}, "
        f"online {f.online}, window {f.window_view}, current {f.current}"
    )
    b.click()


def test_support_module_has_no_tests_of_its_own() -> None:
    assert LED != KEYPAD != PAD
