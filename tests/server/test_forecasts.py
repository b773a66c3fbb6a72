"""The wait estimates' forward model on a running hall server (issue 29, hallserver/forecasts.py): results
made off the event loop (here inline through the executor interface, and in a real worker process) and
printed at once from the latest fresh one; a worker that dies, hangs or refuses leaves the hall issuing
with the inline estimate, says so in the log, and is replaced."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import pathlib
import signal
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import pytest

from hallcore.config import Durability, HallConfig
from hallcore.engine import forecasts
from hallserver.forecasts import Forecaster, InlineExecutor, worker_process
from hallserver.service import Settings
from tests.fakes.live_server import Station, wait_for
from tests.server.conftest import Running, start_server

T = TypeVar("T")
SERIES = "A"  # HJ01's


def settings(make: Callable[[], Executor], timeout_s: float = 10.0) -> Settings:
    return Settings(
        heartbeat_s=0.5,
        tick_s=3600,
        freeze_gc=False,
        durability=Durability.NORMAL,
        forecasts=make,
        forecast_timeout_s=timeout_s,
    )


@pytest.fixture
def run_server(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> Callable[[Settings], Any]:
    def run(s: Settings) -> Any:
        return start_server(tmp_path, county, seeded_db, settings=s)

    return run


def forecaster(hall: Running) -> Forecaster:
    found = hall.hall.forecaster
    assert found is not None
    return found


def engine_do(hall: Running, fn: Callable[[Any], T]) -> T:
    """`fn(engine)` under the engine lock, from the test's thread."""
    store = hall.hall.store
    with store.engine_lock:
        return fn(store.engine)


def on_loop(hall: Running, coro: Any) -> Any:
    loop = hall.hall.store.loop
    assert loop is not None
    return asyncio.run_coroutine_threadsafe(coro, loop).result(60)


def a_line(hall: Running, n: int) -> tuple[Station, list[dict[str, Any]]]:
    """Window 1 open with its first case in hand and `n` − 1 waiting; the desk that issued them."""
    desk = hall.station("desk")
    counter = hall.station("counter", window=1)
    assert hall.act(counter, "open").status_code == 200
    issued = [hall.issue(desk).json() for _ in range(n)]
    assert hall.act(counter, "call-next").status_code == 200
    return desk, issued


def current(hall: Running) -> bool:
    """The series has a result of its present state."""

    def check(e: Any) -> bool:
        held = e.forecasts.get(SERIES)
        return held is not None and held.version == e.version(SERIES)

    return engine_do(hall, check)


def test_a_ticket_and_the_phone_page_print_the_latest_result(run_server: Callable[[Settings], Any]) -> None:
    with run_server(settings(InlineExecutor)) as (_st, hall):
        desk, issued = a_line(hall, 8)
        hall.clock.advance(2)  # a series is made again at most once a second (of hall time)
        wait_for(lambda: current(hall), timeout=30, what="a result of the line as it is")
        now = hall.clock.now()
        expected = engine_do(hall, lambda e: forecasts.estimate_from(e, SERIES, 7, now))
        assert expected is not None
        r = hall.issue(desk)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["ahead"] == 7
        got = body["estimate"]
        assert (got["low_min"], got["point_min"], got["high_min"], got["wide"]) == (
            expected.low_min,
            expected.point_min,
            expected.high_min,
            expected.wide,
        )
        # The phone page of a ticket further up reads its own position of the same result.
        status = hall.http.get(f"/api/status/{issued[3]['token']}").json()
        mine = engine_do(hall, lambda e: forecasts.estimate_from(e, SERIES, status["ahead"], now))
        assert mine is not None
        assert status["estimate"]["point_min"] == mine.point_min
        assert status["estimate"]["high_min"] == mine.high_min
        assert forecaster(hall).refreshes >= 1
        assert not forecaster(hall).inline


class DeadWorker(Executor):
    """A process pool whose worker has died: every job is refused with BrokenProcessPool, as the real one
    refuses them."""

    def __init__(self) -> None:
        self.made = 0

    def __call__(self) -> Executor:
        self.made += 1
        return self

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        raise BrokenProcessPool("A child process terminated abruptly, the process pool is not usable anymore")


class HungWorker(Executor):
    """A worker that never answers: its jobs never finish."""

    def __init__(self) -> None:
        self.jobs: list[Future[Any]] = []

    def __call__(self) -> Executor:
        return self

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        job: Future[T] = Future()
        self.jobs.append(job)
        return job


def test_a_dead_worker_leaves_the_hall_on_the_inline_estimate(
    run_server: Callable[[Settings], Any], caplog: pytest.LogCaptureFixture
) -> None:
    dead = DeadWorker()
    caplog.set_level(logging.INFO, logger="hallserver.forecasts")
    with run_server(settings(dead)) as (_st, hall):
        desk, _ = a_line(hall, 5)
        wait_for(lambda: dead.made >= 2, timeout=30, what="a new worker tried after the first died")
        r = hall.issue(desk)
        assert r.status_code == 201, r.text
        assert r.json()["estimate"]["point_min"] is not None  # the inline estimate
        assert engine_do(hall, lambda e: dict(e.forecasts)) == {}
        assert forecaster(hall).inline
    said = [m for m in caplog.messages if "died" in m]
    assert said
    assert "inline" in said[0]
    assert len(said) == 1  # said once, not every second


def test_a_hung_worker_is_not_given_more_and_the_hall_says_so(
    run_server: Callable[[Settings], Any], caplog: pytest.LogCaptureFixture
) -> None:
    hung = HungWorker()
    caplog.set_level(logging.INFO, logger="hallserver.forecasts")
    with run_server(settings(hung, timeout_s=0.2)) as (_st, hall):
        desk, _ = a_line(hall, 5)
        wait_for(lambda: forecaster(hall).inline, timeout=30, what="the slow worker noticed")
        hall.clock.advance(5)
        r = hall.issue(desk)
        assert r.status_code == 201, r.text
        assert r.json()["estimate"]["point_min"] is not None
        assert len(hung.jobs) == 1  # never a second job behind the first
    assert any("slow" in m and "inline" in m for m in caplog.messages)


def test_a_real_worker_process_killed_is_replaced(
    run_server: Callable[[Settings], Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hallserver.forecasts")
    with run_server(settings(worker_process, timeout_s=60)) as (_st, hall):
        desk, _ = a_line(hall, 6)
        hall.clock.advance(2)
        wait_for(lambda: current(hall), timeout=60, what="a first result from the worker process")
        fc = forecaster(hall)
        pid = on_loop(hall, fc.worker_pid())
        assert pid != os.getpid()
        os.kill(pid, signal.SIGKILL)
        hall.clock.advance(2)
        hall.issue(desk)  # the line changed: a refresh is due
        wait_for(lambda: fc.inline, timeout=60, what="the dead worker noticed")
        hall.clock.advance(5)  # the last result is stale now
        r = hall.issue(desk)
        assert r.status_code == 201, r.text  # issued at once, whatever the worker does
        assert r.json()["estimate"]["point_min"] is not None
        hall.clock.advance(2)
        wait_for(lambda: not fc.inline and current(hall), timeout=60, what="a new worker's result")
        assert on_loop(hall, fc.worker_pid()) not in (pid, os.getpid())
    assert any("died" in m for m in caplog.messages)
    assert any("answers again" in m for m in caplog.messages)


ORPHAN = """
import os, sys
from hallserver.forecasts import worker_process
pool = worker_process()
print(pool.submit(os.getpid).result(60), flush=True)
sys.stdin.read()  # until killed
"""


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for task in pathlib.Path(f"/proc/{todo.pop()}/task").glob("*/children"):
            for child in task.read_text().split():
                out.append(int(child))
                todo.append(int(child))
    return out


def test_the_worker_ends_when_its_server_is_killed() -> None:
    """kill -9 of the server leaves no worker process behind."""
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHAN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=root
    )
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        under = descendants(parent.pid)  # the fork server, the worker, multiprocessing's resource tracker
        assert worker in under
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(30)
        wait_for(
            lambda: not any(pathlib.Path(f"/proc/{p}").exists() for p in under),
            timeout=30,
            what="every process the server started gone",
        )
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(30)
        for pipe in (parent.stdin, parent.stdout):
            if pipe is not None:
                pipe.close()


def test_settings_are_plain_and_the_default_is_inline() -> None:
    assert Settings().forecasts is None
    assert dataclasses.replace(Settings(), forecasts=worker_process).forecasts is worker_process
