"""The server's event loop: asyncio's selector loop that handles at most `MAX_READY` ready sockets per turn.

asyncio runs the callback of every ready socket in one loop iteration. When thousands of phones drop at once,
or their reconnects arrive together, one iteration does thousands of reads, handshakes and closes while
nothing else runs: a call's reply, the boards' events and the heartbeats wait a quarter of a second or more.
Asking epoll for at most `MAX_READY` sockets per poll bounds each iteration; the others stay ready
(level-triggered) and come in the next turns, with timers and replies in between. Accepting is bounded the
same way by the listening socket's `backlog` argument (app.py `ACCEPT_BATCH`), and opening WebSockets by the
stream's admission queue (stream/server.py).
"""

from __future__ import annotations

import asyncio
import select
import selectors
from typing import Any

#: Ready sockets handled per loop turn: ~256 × 20-40 µs of work is a few milliseconds.
MAX_READY = 256


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


def new_event_loop() -> asyncio.AbstractEventLoop:
    return asyncio.SelectorEventLoop(capped_selector())
