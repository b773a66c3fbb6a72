"""The server's event loop: asyncio's selector loop that handles at most `MAX_READY` ready sockets per turn.

asyncio runs the callback of every ready socket in one loop iteration. When thousands of phones drop at once,
or their reconnects arrive together, one iteration does thousands of reads, handshakes and closes while
nothing else runs: a call's reply, the boards' events and the heartbeats wait a quarter of a second or more.
Asking epoll for at most `MAX_READY` sockets per poll bounds each iteration; the others stay ready
(level-triggered) and come in the next turns, with timers and replies in between. Accepting is bounded the
same way by the listening socket's `backlog` argument (app.py `ACCEPT_BATCH`), and opening WebSockets by the
stream's admission queue (stream/server.py). Each turn's CPU time is kept (`HallLoop.longest_turn_s`).
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import selectors
import time
from collections import deque
from typing import Any

#: Ready sockets handled per loop turn: 64 × 30-100 µs (a read, an HTTP parse, a handshake) is a few
#: milliseconds (256 let a storm's turns reach 20-30 ms of CPU, bench/server.py (f)).
MAX_READY = 64


class _CappedEpoll:
    """The epoll object with `poll()` asking for at most `cap` events; everything else passes through."""

    def __init__(self, epoll: Any, cap: int) -> None:
        self._epoll = epoll
        self._cap = cap

    def poll(self, timeout: float = -1, maxevents: int = -1) -> list[tuple[int, int]]:
        n = self._cap if maxevents <= 0 else min(maxevents, self._cap)
        result: list[tuple[int, int]] = self._epoll.poll(timeout, n)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._epoll, name)


def capped_selector(cap: int = MAX_READY) -> selectors.BaseSelector:
    if not hasattr(select, "epoll"):  # pragma: no cover - the hall server runs on Linux
        return selectors.DefaultSelector()
    sel = selectors.EpollSelector()
    # EpollSelector.select() asks its epoll object for every registered fd; the wrapper lowers that.
    sel._selector = _CappedEpoll(sel._selector, cap)  # type: ignore[attr-defined]
    return sel


class HallLoop(asyncio.SelectorEventLoop):
    """The selector loop that also times each turn in CPU time of its thread (waiting in epoll costs none):
    the longest turn is the stall the server's own work causes, whatever else runs on the machine. A lag
    measured by the clock includes time the process waited for a CPU; this does not."""

    def __init__(self) -> None:
        super().__init__(capped_selector())
        self._turns: deque[tuple[int, float]] = deque()  # (second, longest turn in it)

    def _run_once(self) -> None:
        t = time.thread_time()
        super()._run_once()  # type: ignore[misc]
        took = time.thread_time() - t
        now = int(self.time())
        turns = self._turns
        if turns and turns[-1][0] == now:
            if took > turns[-1][1]:
                turns[-1] = (now, took)
        else:
            turns.append((now, took))
            while len(turns) > 60:
                turns.popleft()

    def longest_turn_s(self, window_s: float = 10.0) -> float:
        since = self.time() - window_s
        return max((took for at, took in self._turns if at >= since - 1), default=0.0)


def new_event_loop() -> asyncio.AbstractEventLoop:
    return HallLoop()


async def cancel(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel the background tasks and wait until each has stopped (a CancelledError is the expected end)."""
    live = [t for t in tasks if t is not None]
    for t in live:
        t.cancel()
    for t in live:
        with contextlib.suppress(asyncio.CancelledError):
            await t


class Worker:
    """A part of the server that runs one background loop, `_run`, from `start()` until `stop()` (the upload
    to the provincial platform, the booking partners' lists and reports, the shipper to the centre)."""

    #: The task's name (in asyncio's task dumps and the server's logs).
    task_name = "hall-worker"
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        raise NotImplementedError
