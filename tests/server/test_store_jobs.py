"""How the writer hands replies back (hallserver/store.py): a batch's replies reach the loop in one wake-up
with the batch's events published first, a job whose caller went away before it ran is never run, and a
caller that goes away while its job runs leaves the others' replies alone."""

from __future__ import annotations

import asyncio
import contextvars
import pathlib
import shutil
import threading
from collections.abc import Callable
from typing import TypeVarTuple

from hallcore.clock import FakeClock
from hallcore.config import Durability, HallConfig
from hallcore.events import DeviceHealth
from hallserver.eventlog import EventRecord
from hallserver.store import Job, Store
from hallserver.writectx import Reply, WriteCtx, ok
from tests.fakes.live_server import MONDAY_9

HANG_GUARD_S = 30.0


Ts = TypeVarTuple("Ts")


class CountingLoop(asyncio.SelectorEventLoop):
    """Counts the writer's calls into the loop."""

    threadsafe_calls = 0

    def call_soon_threadsafe(
        self,
        callback: Callable[[*Ts], object],
        *args: *Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        if threading.current_thread().name == "hall-writer":
            self.threadsafe_calls += 1
        return super().call_soon_threadsafe(callback, *args, context=context)


def test_a_batch_is_handed_back_in_one_wake_up_and_a_job_gone_before_it_ran_never_runs(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    db = tmp_path / "hall.db"
    shutil.copy(seeded_db, db)
    store = Store(db, county, FakeClock(MONDAY_9), durability=Durability.NORMAL)
    published: list[int] = []
    seen_by_replies: list[list[int]] = []
    hold = threading.Event()
    held = threading.Event()
    ran: list[str] = []

    def on_commit(records: list[EventRecord]) -> None:
        published.extend(r.seq for r in records)

    def blocker(ctx: WriteCtx) -> Reply:
        held.set()
        assert hold.wait(HANG_GUARD_S)
        return ok({})

    def report(name: str) -> Job:
        def run(ctx: WriteCtx) -> Reply:
            ran.append(name)
            ctx.emit(DeviceHealth(ctx.now, "st-1", name, "degraded", "paper low"))
            return ok({"name": name})

        return Job(run)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, CountingLoop)
        store.on_commit = on_commit
        store.loop = loop
        await asyncio.to_thread(store.start)
        try:
            first = asyncio.create_task(store.submit(Job(blocker)))
            assert await asyncio.to_thread(held.wait, HANG_GUARD_S)  # the writer is busy with `blocker`
            gone = asyncio.create_task(store.submit(report("gone")))
            queued = [asyncio.create_task(store.submit(report(f"p{i}"))) for i in range(5)]
            await asyncio.sleep(0)  # every job is queued behind the blocker
            gone.cancel()
            await asyncio.sleep(0)
            calls = loop.threadsafe_calls
            hold.set()
            assert (await asyncio.wait_for(first, HANG_GUARD_S)).status == 200

            async def reply_of(task: asyncio.Task[Reply]) -> Reply:
                reply = await asyncio.wait_for(task, HANG_GUARD_S)
                seen_by_replies.append(list(published))
                return reply

            replies = await asyncio.gather(*(reply_of(t) for t in queued))
            assert [r.status for r in replies] == [200] * 5
            assert gone.cancelled()
        finally:
            await asyncio.to_thread(store.stop)
        assert ran == [f"p{i}" for i in range(5)]  # "gone" never ran
        assert store.batches == 2  # the blocker's, then the five together
        # Two batches, one call into the loop each (not one per job).
        assert loop.threadsafe_calls - calls == 2
        # Every reply came after its batch's events were published.
        assert all(len(seen) == 5 for seen in seen_by_replies)

    with asyncio.Runner(loop_factory=CountingLoop) as runner:
        runner.run(main())
