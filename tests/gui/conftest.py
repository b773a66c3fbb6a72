"""The GUI tier's Qt/asyncio set-up, once for every app's tests (PITFALLS.md: pytest-qt has no asyncio support
of its own, so one fixture runs a `qasync.QEventLoop` and everything uses it).

- `qloop`: an asyncio loop on pytest-qt's QApplication, closed with its tasks at the end.
- `running`: `qloop` marked as the running loop for the whole test, so `qtbot.waitUntil` alone drives network
  tasks (helpers in `tests/gui/qtloop.py`).
- `collect_on_the_gui_thread` (every test): garbage collected here, on the GUI thread.
- `live`, `desk`, `voice_pack`: a real hall server on 127.0.0.1 over TLS (clients pin the per-session test
  CA: `live.ssl`), a service desk station to issue tickets with, a voice pack of quiet segments.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import qasync

from drivers.voice import VoicePack
from hallui.qtcompat import pin_singletons
from tests.fakes.live_server import LiveServer, Station, live_server
from tests.fakes.voicepack import silent_pack


@pytest.fixture
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop running on the Qt event loop, so hallclient coroutines and widgets share one thread.

    Use `qloop.run_until_complete(coro)` to drive async steps; `qtbot.waitUntil` keeps Qt events flowing.
    """
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()


@pytest.fixture
def running(qloop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    """`qloop`, marked as the running loop for the whole test, so that `qtbot.waitUntil` alone drives it.

    qasync delivers socket and timer callbacks whenever Qt processes events, also outside
    `run_until_complete` (which ends with one more `processEvents` after it unset the running loop): a
    websocket handshake finishing there fails with "no running event loop". Tests that keep network tasks
    running in the background therefore never leave the loop "not running"; async steps are tasks awaited
    with `qtbot.waitUntil` (`tests.gui.qtloop.complete`).

    qasync's default executor makes QThreads; name lookups for reconnects run there, and a QThread's timers
    torn down off the GUI thread log a Qt warning (fatal here): plain threads do not.
    """
    pin_singletons()  # as hallui.runner does for the apps: PySide6 6.12 drops None/True references
    executor = ThreadPoolExecutor(4, thread_name_prefix="gui-test-default")
    qloop.set_default_executor(executor)
    asyncio.events._set_running_loop(qloop)
    try:
        yield qloop
    finally:
        asyncio.events._set_running_loop(None)
        executor.shutdown(wait=False)


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread() -> Iterator[None]:
    """Collect garbage here, on the GUI thread, before and after each test (torn down last, after `qloop`).
    A Qt object left to the cyclic GC (a closed qasync loop's timers, a window's widgets) may otherwise be
    freed on whichever thread the GC runs next — the live server's — and Qt warns ("Timers cannot be stopped
    from another thread") or crashes."""
    gc.collect()
    yield
    gc.collect()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """The hall server over TLS (the per-session test CA); the apps' clients pin it (`live.ssl`)."""
    with live_server(tmp_path, tls=True) as hall:
        yield hall


@pytest.fixture
def desk(live: LiveServer) -> Station:
    """A service desk station (window 14) of `live`: tickets issued there wait at once."""
    return live.station("desk", "desk-test", window=14)


@pytest.fixture(scope="session")
def voice_pack(tmp_path_factory: pytest.TempPathFactory) -> VoicePack:
    return silent_pack(tmp_path_factory.mktemp("voice"))
