"""Start-up shared by the apps: one QApplication, one qasync loop, the app's coroutine run on it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from PySide6.QtWidgets import QApplication

T = TypeVar("T")


def run_qt(main: Callable[[QApplication], Awaitable[int]]) -> int:
    """Run `main(app)` on a qasync loop until it returns; Ctrl-C and SIGTERM stop it cleanly."""
    os.environ.setdefault("QT_API", "pyside6")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync  # after QT_API is set: qasync picks the first binding it finds

    from hallui.qtcompat import pin_singletons

    pin_singletons()  # PySide6 6.12 on CPython 3.11 drops references to None/True (see hallui.qtcompat)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    task = loop.create_task(main(app))
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with loop:
        try:
            code: int = loop.run_until_complete(task)
            return code
        except asyncio.CancelledError:
            return 0


def run_on_qt(work: Callable[[], Awaitable[T]]) -> T:
    """`work()` run to its end on the loop `run_qt` sets up, and what it returned (the benchmarks measure the
    apps on the loop they run on); KeyboardInterrupt when Ctrl-C or SIGTERM stopped it first."""
    done: list[T] = []

    async def main(_app: QApplication) -> int:
        done.append(await work())
        return 0

    run_qt(main)
    if not done:
        raise KeyboardInterrupt
    return done[0]
