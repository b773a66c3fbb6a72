"""Steps of a GUI test on the `running` loop (tests/gui/conftest.py), and the hall set-up the apps' tests
share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pytestqt.qtbot import QtBot

from tests.fakes.live_server import LiveServer, Station

T = TypeVar("T")


def run_until(qtbot: QtBot, cond: Callable[[], bool], timeout: float = 10) -> None:
    """Let Qt and the loop run until `cond()` holds (network, stream, widgets); fail after `timeout` s."""
    qtbot.waitUntil(cond, timeout=round(timeout * 1000))


def complete(qtbot: QtBot, loop: asyncio.AbstractEventLoop, aw: Awaitable[T], timeout: float = 15) -> T:
    """Run one async step on the running loop and return its result."""

    async def wrap() -> T:
        return await aw

    task = loop.create_task(wrap())
    run_until(qtbot, task.done, timeout)
    return task.result()


def issue(live: LiveServer, desk: Station, series: str = "A", priority: str = "", **card: str) -> str:
    """A walk-in ticket of `series` (claiming class `priority`) from the service desk (waiting at once);
    returns its label. `card`: `id_number` and `holder_name` of a card read there (刷身份证)."""
    m = next(m for m in live.config.matters if m.series == series)
    body = {
        "matter": m.code,
        "source": "desk",
        "priority": priority,
        "answers": {q.id: q.expected for q in m.precheck.questions},
        "present": [mat.id for mat in m.precheck.materials],
        **card,
    }
    r = live.post(desk, "/api/tickets", **body)
    assert r.status_code == 201, r.text
    return str(r.json()["ticket"]["label"])
