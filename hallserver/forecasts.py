"""The forward model on the hall server (issue 29): each series' call-time forecast kept fresh by a worker
process, never on the event loop.

Once a `interval_s` (a second), for each series that changed since its last result (`hallcore.engine.
forecasts.refresh_due`), the model's input is read from the engine under its lock on the read pool
(`Store.engine_read`: plain frozen data, `hallcore.engine.forecastinput`), the model runs on the executor
(`hallcore.forecast.forecast`: a worker process in `hallq server`, `InlineExecutor` in most tests: the same
interface), and the results are installed under the engine lock again. Issuing never waits for any of it: a
ticket takes its position's estimate from the latest fresh result, or the inline estimate when there is none
(`hallcore.engine.waits`). A worker that dies is replaced at the next refresh and one that is slow is not
given more; the log says when the hall's estimates are inline because of it, and when the model is back.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pathlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from hallcore.clock import Clock
from hallcore.engine import Engine, forecasts
from hallcore.engine.forecastinput import forecast_input
from hallcore.forecast import Forecast, ForecastInput, forecast
from hallserver.evloop import cancel
from hallserver.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

#: What builds the model's executor (again after a worker died).
ExecutorFactory = Callable[[], Executor]
#: A refresh whose results take longer than this leaves the hall on the inline estimates meanwhile (the
#: first one also starts the worker: an interpreter and the model's imports, a second or two on a busy hall
#: server).
TIMEOUT_S = 10.0


class InlineExecutor(Executor):
    """Runs each job at once in the caller's thread: the model's executor in tests (the read pool's thread
    calls it there, never the event loop)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            done.set_exception(exc)
        return done


def worker_process() -> Executor:
    """One worker process for the model, started on its first job and ended when the server ends, however
    it ends. Forked from multiprocessing's fork server, which is started clean (nothing of the server's
    threads, sockets or database is inherited) with only the model imported: a spawned worker would import
    the server's own main module again (`python -m hallserver`: FastAPI and every route), a second or two of
    CPU at every start."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["hallcore.forecast", "hallserver.forecasts"])
    return ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=end_with_parent, initargs=(os.getpid(),)
    )


#: How often the worker looks whether the server that started it is still there.
PARENT_CHECK_S = 1.0


def end_with_parent(server: int) -> None:
    """The worker's initializer: it exits once the server that started it is gone. A server killed with
    SIGKILL never tells its pool to stop, and the worker holds both ends of its own job queue, so it would
    wait for a job for ever (the fork server, its parent, ends with the server by itself)."""

    def watch() -> None:
        while _alive(server):
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="forecast-worker-parent", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the pid was reused by another user's process
        return False
    try:  # a killed server its parent has not reaped yet is a zombie: gone all the same
        return pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def forecast_all(inputs: tuple[ForecastInput, ...]) -> tuple[Forecast, ...]:
    """The model for several series in one job (one round trip to the worker a refresh)."""
    return tuple(forecast(inp) for inp in inputs)


class Forecaster:
    """Keeps the engine's forecasts fresh (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        make_executor: ExecutorFactory,
        *,
        interval_s: float = forecasts.REFRESH_S,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.store = store
        self.clock = clock
        self.make_executor = make_executor
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._executor: Executor | None = None
        self._pending: asyncio.Future[tuple[Forecast, ...]] | None = None
        self._task: asyncio.Task[None] | None = None
        self.inline = False  # the hall's estimates are inline because the worker failed
        self.refreshes = 0  # results installed
        self.last_refresh_s = 0.0  # the last refresh's wall time, input to install

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hall-forecasts")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None
        self._drop_executor()

    def _drop_executor(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self._pending = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.refresh()
            except Exception:
                log.exception("forecast refresh failed; the hall's estimates are inline meanwhile")

    async def run_on_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the model's executor (started if need be), awaited without blocking the loop."""
        if self._executor is None:
            self._executor = self.make_executor()
        return await asyncio.wrap_future(self._executor.submit(fn, *args))

    async def worker_pid(self) -> int:
        """The worker's process id (the server's own with `InlineExecutor`)."""
        return await self.run_on_worker(os.getpid)

    async def refresh(self) -> int:
        """One refresh: the series that changed get a new result. Returns how many were installed."""
        late = self._pending
        if late is not None:
            if not late.done():
                return 0  # the worker is still on the last one (slow): not given more
            self._pending = None  # late results are stale: dropped, a worker that died replaced
            if not late.cancelled() and isinstance(late.exception(), BrokenProcessPool):
                self._drop_executor()
        started = time.perf_counter()
        now = self.clock.now()

        def due(engine: Engine) -> tuple[ForecastInput, ...]:
            return tuple(
                forecast_input(engine, series, now)
                for series in engine.lines
                if forecasts.refresh_due(engine, series, now)
            )

        inputs = await self.store.engine_read(due)
        if not inputs:
            return 0
        pending = asyncio.ensure_future(self.run_on_worker(forecast_all, inputs))
        self._pending = pending
        try:
            done, _ = await asyncio.wait({pending}, timeout=self.timeout_s)
            if not done:
                self._fell_back(f"the forecast worker is slow (no result in {self.timeout_s:.0f} s)")
                return 0
            results = pending.result()
        except BrokenProcessPool:
            self._fell_back("the forecast worker died; a new one starts at the next refresh")
            self._drop_executor()
            return 0
        finally:
            if pending.done():
                self._pending = None

        def install(engine: Engine) -> int:
            return sum(forecasts.install(engine, r) for r in results)

        installed = await self.store.engine_read(install)
        self.refreshes += installed
        self.last_refresh_s = time.perf_counter() - started
        if self.inline:
            self.inline = False
            log.info("the forecast worker answers again: wait estimates from the forward model")
        return installed

    def _fell_back(self, why: str) -> None:
        if not self.inline:
            log.warning("%s: the hall issues with the inline wait estimates meanwhile", why)
        self.inline = True
