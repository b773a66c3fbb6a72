"""2,000 watchers follow the stream, the server restarts under them, and each one resumes with `since`: every
event it should see arrives once, in order, with no gap and no duplicate, and none needs a snapshot (the
restarted server serves the catch-up from its ring, loaded at start).

The watchers are light asyncio protocols (a WebSocket client each: handshake, frames, reconnect with jitter),
so 2,000 of them and the server fit in one test process; boards follow everything, phones one ticket each.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import time
from dataclasses import dataclass
from typing import Any

import pytest

from hallserver.eventlog import make_filter, record_from_text
from tests.fakes.live_server import LiveServer, Station, live_server
from tests.fakes.ws_listener import Listener, upgrade_request

BOARDS, PHONES = 1400, 600


@dataclass
class Fleet:
    host: str
    port: int
    stopping: bool = False
    ready: int = 0


class Watcher(Listener):
    def __init__(self, fleet: Fleet, query: str, last: int, board: bool) -> None:
        super().__init__()
        self.fleet = fleet
        self.query = query  # "auth=…" (a board) or "token=…" (a phone)
        self.last = last
        self.board = board
        self.seqs: list[int] = []
        self.problems: list[str] = []
        self.snapshots = 0
        self.connections = 0
        self.close_codes: list[int] = []

    async def connect(self, delay: float = 0.0) -> None:
        while not self.fleet.stopping:
            if delay:
                await asyncio.sleep(delay)
            try:
                await asyncio.get_running_loop().create_connection(
                    lambda: self, self.fleet.host, self.fleet.port
                )
                return
            except OSError:
                delay = random.uniform(0.05, 0.3)  # the server is not back yet

    def request(self) -> bytes:
        return upgrade_request(self.fleet.host, self.fleet.port, f"/events?{self.query}&since={self.last}")

    def on_open(self) -> None:
        self.connections += 1
        self.fleet.ready += 1

    def on_refused(self, head: bytes) -> None:
        self.problems.append(f"handshake refused: {head[:60]!r}")

    def on_close(self, code: int) -> None:
        self.close_codes.append(code)  # then it reconnects with since (connection_lost)

    def on_text(self, payload: bytes) -> None:
        m = json.loads(payload)
        seq = int(m["seq"])
        if m["kind"] == "heartbeat":
            if seq > self.last:
                if self.board:
                    self.problems.append(f"heartbeat at {seq} ahead of the last event {self.last}")
                self.last = seq  # a filtered stream: nothing for us up to here
            return
        if m["kind"] == "snapshot":
            self.snapshots += 1
            self.last = seq
            return
        if seq <= self.last:
            self.problems.append(f"duplicate {seq} (had {self.last})")
            return
        if self.board and seq != self.last + 1:
            self.problems.append(f"gap: {seq} after {self.last}")
        self.seqs.append(seq)
        self.last = seq

    def connection_lost(self, exc: Exception | None) -> None:
        if self.open:
            self.fleet.ready -= 1
        self.open = False
        if not self.fleet.stopping:
            asyncio.get_running_loop().create_task(self.connect(random.uniform(0.0, 0.3)))


def _raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        assert hard == resource.RLIM_INFINITY or hard >= need, (
            f"needs {need} open files, the hard limit is {hard}"
        )
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


async def _until(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _calls_and_issues(hall: LiveServer, desk: Station, calls: int, issues: int) -> None:
    for _ in range(calls):
        assert hall.act(hall.counter, "call-next").status_code == 200
        assert hall.act(hall.counter, "start").status_code == 200
        assert hall.act(hall.counter, "finish").status_code == 200
    for _ in range(issues):
        assert hall.post(desk, "/api/tickets", matter="HJ01").status_code == 201


@pytest.mark.timeout(180)
def test_two_thousand_watchers_resume_after_a_restart_without_gap_or_duplicate() -> None:
    _raise_fd_limit(3 * (BOARDS + PHONES) + 512)  # the watchers' sockets and the server's, in one process
    with live_server() as hall:
        desk = hall.station("desk")
        tokens = [hall.post(desk, "/api/tickets", matter="HJ01").json()["token"] for _ in range(PHONES)]
        hall.login_counter()
        assert hall.act(hall.counter, "open").status_code == 200
        start = hall.hall.store.seq

        async def main() -> list[Watcher]:
            fleet = Fleet("127.0.0.1", hall.port)
            watchers = [Watcher(fleet, f"auth={hall.display.token}", start, True) for _ in range(BOARDS)]
            watchers += [Watcher(fleet, f"token={t}", start, False) for t in tokens]
            try:
                await asyncio.gather(*(w.connect() for w in watchers))
                await _until(lambda: fleet.ready == len(watchers), 60, "every watcher connected")
                await asyncio.to_thread(_calls_and_issues, hall, desk, 2, 3)
                await asyncio.to_thread(hall.stop)  # every stream closed with 1012; watchers retry
                await asyncio.to_thread(hall.start)
                await asyncio.to_thread(_calls_and_issues, hall, desk, 3, 3)  # while they come back
                final = hall.hall.store.seq
                await _until(lambda: all(w.last >= final for w in watchers), 90, f"every watcher at {final}")
                return watchers
            finally:
                fleet.stopping = True
                for w in watchers:
                    w.close()

        watchers = asyncio.run(main())
        final = hall.hall.store.seq
        rows = hall.query("SELECT body FROM events WHERE seq > ? AND seq <= ? ORDER BY seq", (start, final))
        records = [record_from_text(r[0], hall.config) for r in rows]
        want_board = [r.seq for r in records]
        assert want_board == list(range(start + 1, final + 1))
        assert sum(r.is_call for r in records) == 5
        ticket_of = {t: hall.hall.store.tokens[t] for t in tokens}
        for w in watchers:
            assert w.problems == [], w.problems[:5]
            assert w.snapshots == 0, "the restarted server should resume everyone from its ring"
            assert w.connections >= 2
            assert 1012 in w.close_codes
            if w.board:
                assert w.seqs == want_board
            else:
                flt = make_filter(hall.config, ticket=ticket_of[w.query[6:]], authenticated=False)
                assert w.seqs == [r.seq for r in records if flt.matches(r)]
