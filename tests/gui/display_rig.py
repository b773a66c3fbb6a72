"""The display's test rig: a board wired as `display.app.assemble` wires it, with a voice pack of quiet
segments on a fake player, and the hall set-up the display tests share (windows opened, calls made)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from hallclient.http import HttpHall
from hallcore.clock import FakeClock
from hallcore.config import HallConfig
from tests.fakes.halls import SHANGHAI
from tests.fakes.live_server import PIN, LiveServer, Station
from tests.gui.qtloop import complete, issue, run_until


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


@contextlib.contextmanager
def board_on(
    live: LiveServer,
    qtbot: QtBot,
    loop: asyncio.AbstractEventLoop,
    pack: VoicePack,
    cache: Path,
    *,
    url: str = "",
    **kw: Any,
) -> Iterator[Board]:
    """A board (`make_board` options) following `live` (or the server behind `url`) for the `with` block."""
    b = make_board(qtbot, live.config, live.clock, pack, cache, **kw)
    api = HttpHall(url or live.url, live.display.token, clock=live.clock, verify=live.ssl)
    start(b, qtbot, loop, api)
    try:
        yield b
    finally:
        stop(b, qtbot, loop)
        complete(qtbot, loop, api.aclose())


Boards = Callable[..., contextlib.AbstractContextManager[Board]]


@pytest.fixture
def boards(
    live: LiveServer, voice_pack: VoicePack, tmp_path: Path, running: asyncio.AbstractEventLoop, qtbot: QtBot
) -> Boards:
    """`with boards(**options) as b:` a board following `live` (the options of `board_on`)."""
    return functools.partial(board_on, live, qtbot, running, voice_pack, tmp_path / "cache")


@pytest.fixture
def board(boards: Boards) -> Iterator[Board]:
    """A whole-hall board following `live` for the test."""
    with boards() as b:
        yield b


# ---- the hall -----------------------------------------------------------------------------------------


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


def call_one(live: LiveServer, desk: Station, window: int, series: str) -> tuple[Station, str]:
    """Window `window` opened, a ticket of `series` issued at the desk and called there: (station, label)."""
    st = open_window(live, window)
    issue(live, desk, series)
    return st, call_next(live, st)
