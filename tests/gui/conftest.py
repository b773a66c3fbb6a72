"""One asyncio loop for Qt tests: a qasync.QEventLoop on pytest-qt's QApplication (PITFALLS.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import qasync


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
