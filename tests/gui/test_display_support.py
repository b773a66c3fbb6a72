"""Shared by the display's GUI tests (no tests here): a board wired to a hall, a voice pack of silent
segments with a fake player, a TCP line to the server that can be cut and held down, and hall set-up."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from pytestqt.qtbot import QtBot

from display.app import DisplayApp, assemble
from display.controller import DisplayController
from display.flow import DisplayFlow
from display.hallboard import LedSync
from display.texts import catalog
from display.views import BoardView, Orientation
from display.voice import VoiceCaller
from drivers.fakes_bus import FakeScheduler, FakeVoicePlayer
from drivers.protocols import LedBoard
from drivers.voice import AnnouncementQueue, VoicePack
from hallclient.api import HallApi
from hallcore.clock import FakeClock
from hallcore.config import HallConfig
from hallui.qtcompat import pin_singletons
from tests.fakes.halls import SHANGHAI
from tests.fakes.live_server import PIN, LiveServer, Station

T = TypeVar("T")


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread() -> Iterator[None]:
    """Collect garbage here, on the GUI thread, before and after each test (torn down last, after
    `qloop`). A Qt object left to the cyclic GC (a closed qasync loop's timers, a board's widgets) may
    otherwise be freed on whichever thread the GC runs next — the live server's — and Qt warns ("Timers
    cannot be stopped from another thread") or crashes."""
    gc.collect()
    yield
    gc.collect()


@pytest.fixture(name="running")
def running_fixture(qloop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    """`qloop`, marked as the running loop for the whole test, so that `qtbot.waitUntil` alone drives it.

    qasync delivers socket and timer callbacks whenever Qt processes events, also outside
    `run_until_complete` (which ends with one more `processEvents` after it unset the running loop): a
    websocket handshake finishing there fails with "no running event loop". Display tests keep network
    tasks running in the background, so they never leave the loop "not running"; async steps are tasks
    awaited with `qtbot.waitUntil` (`complete`)."""
    pin_singletons()  # as hallui.runner does for the apps: PySide6 6.12 drops None/True references
    asyncio.events._set_running_loop(qloop)
    try:
        yield qloop
    finally:
        asyncio.events._set_running_loop(None)


def run_until(qtbot: QtBot, cond: Callable[[], bool], timeout: float = 10) -> None:
    """Let Qt and the loop run until `cond()` holds (network, stream, widgets); fail after `timeout` s."""
    qtbot.waitUntil(cond, timeout=round(timeout * 1000))


def complete(qtbot: QtBot, loop: asyncio.AbstractEventLoop, aw: Awaitable[T], timeout: float = 10) -> T:
    """Run one async step on the running loop and return its result."""
    task = loop.create_task(_wrap(aw))
    run_until(qtbot, task.done, timeout)
    return task.result()


async def _wrap(aw: Awaitable[T]) -> T:
    return await aw


@dataclass
class Board:
    app: DisplayApp
    voice: VoiceCaller
    player: FakeVoicePlayer
    scheduler: FakeScheduler
    hall_board: LedSync | None
    task: asyncio.Task[None] | None = None

    @property
    def flow(self) -> DisplayFlow:
        return self.app.flow

    @property
    def view(self) -> BoardView:
        return self.app.view

    @property
    def controller(self) -> DisplayController:
        return self.app.controller

    def latest(self) -> tuple[str, str]:
        return self.view.latest_number.text(), self.view.latest_window.text()

    def recent(self) -> list[str]:
        return [r.text() for r in self.view.recent if r.text()]


def make_board(
    qtbot: QtBot,
    config: HallConfig,
    clock: FakeClock,
    pack: VoicePack,
    cache: Path,
    *,
    zone: str = "",
    orientation: Orientation = Orientation.LANDSCAPE,
    led: LedBoard | None = None,
    executor: ThreadPoolExecutor | None = None,
) -> Board:
    scheduler = FakeScheduler(clock)
    player = FakeVoicePlayer(scheduler)
    hall_board = None
    if led is not None:
        assert executor is not None
        hall_board = LedSync(led, executor=executor, name="hall board")
    app = assemble(
        config,
        clock,
        catalog(),
        zone=zone,
        tz=SHANGHAI,
        orientation=orientation,
        announcer=AnnouncementQueue.from_config(config.voice, pack, player, clock, cache_dir=cache),
        hall_board=hall_board,
    )
    qtbot.addWidget(app.view)
    assert app.voice is not None
    return Board(app, app.voice, player, scheduler, hall_board)


def start(board: Board, qtbot: QtBot, loop: asyncio.AbstractEventLoop, api: HallApi) -> None:
    board.task = loop.create_task(board.app.run(api))
    run_until(qtbot, lambda: board.flow.state().screen.value == "board")


def stop(board: Board, qtbot: QtBot, loop: asyncio.AbstractEventLoop) -> None:
    complete(qtbot, loop, board.app.aclose())
    if board.task is not None:
        run_until(qtbot, board.task.done)


# ---- the hall -----------------------------------------------------------------------------------------


def matter_of(config: HallConfig, series: str) -> str:
    return next(m.code for m in config.matters if m.series == series)


def issue(live: LiveServer, desk: Station, series: str) -> str:
    """A walk-in ticket of `series` from the service desk (waiting at once); returns its label."""
    m = live.config.matter_by_code[matter_of(live.config, series)]
    body = {
        "matter": m.code,
        "source": "desk",
        "answers": {q.id: q.expected for q in m.precheck.questions},
        "present": [mat.id for mat in m.precheck.materials],
    }
    r = live.post(desk, "/api/tickets", **body)
    assert r.status_code == 201, r.text
    return str(r.json()["ticket"]["label"])


def open_window(live: LiveServer, number: int) -> Station:
    """A counter station at window `number` with a clerk logged in, the window open."""
    st = live.station("counter", f"counter-{number}-{uuid.uuid4().hex[:4]}", window=number)
    st.staff, st.pin = f"c{(number - 1) % 8 + 1}", PIN
    live.login_counter(st)
    r = live.act(st, "open")
    assert r.status_code == 200, r.text
    return st


def call_next(live: LiveServer, st: Station) -> str:
    r = live.act(st, "call-next")
    assert r.status_code == 200, r.text
    return str(r.json()["ticket"]["label"])


class Line:
    """A TCP line between the display and the server: `cut()` drops it, `hold()` keeps it down (new
    connections are closed at once) until `restore()`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.down = False
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}
        pipes = [
            asyncio.ensure_future(self._pipe(reader, up_writer)),
            asyncio.ensure_future(self._pipe(up_reader, writer)),
        ]
        self.tasks.update(pipes)
        await asyncio.gather(*pipes)
        for w in (writer, up_writer):
            self.writers.discard(w)
            w.close()

    def cut(self) -> None:
        for w in list(self.writers):
            w.transport.abort()

    def hold(self) -> None:
        self.down = True
        self.cut()

    def restore(self) -> None:
        self.down = False

    async def aclose(self) -> None:
        self.hold()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
