"""Notices at 9:30 on a Monday (issue 30, hallserver/notify.py): what one batch of the rules costs the writer
with 200 waiting and 0 / 50 / 200 of them subscribed, while the windows call. The batch runs as one writer
job (between the hall's commands, at most every `notify.batch_s`), so its time is what a ticket issued at
that moment may wait behind it.

    python -m bench.notify [--quick]

Writes bench/results/notify.json. The store is a temp SQLite file (WAL, `synchronous=NORMAL`) on the county
hall's config with the log adapter; the subscriptions are written as the opt-in writes them.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import pathlib
import random
import statistics
import tempfile
import time

from bench.common import figure, pct, write
from hallcore import commands as c
from hallcore.clock import FakeClock
from hallcore.config import Durability
from hallcore.confignotify import Notify
from hallcore.model import Source
from hallfiles.config import read_config
from hallserver.notify import evaluate
from hallserver.store import Job, Store
from hallserver.writectx import Reply, WriteCtx, ok

CONFIG = pathlib.Path(__file__).resolve().parent.parent / "config" / "county.toml"
T0 = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
WAITING = 200


async def one_case(subscribed: int, rounds: int) -> dict[str, float]:
    config = dataclasses.replace(read_config(CONFIG), notify=Notify(enabled=True))
    rng = random.Random(subscribed)
    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock(T0)
        store = Store(pathlib.Path(tmp) / "hall.db", config, clock, durability=Durability.NORMAL)
        store.loop = asyncio.get_running_loop()
        await asyncio.to_thread(store.start)
        try:
            windows = [w.number for w in config.windows if "A" in w.series][:4]
            matters = [m.code for m in config.matters if m.series == "A"]

            def fill(ctx: WriteCtx) -> Reply:
                for w in windows:
                    ctx.accept(c.OpenWindow(w, f"c{w}"))
                ids = []
                for _ in range(WAITING):
                    out = ctx.accept(c.IssueTicket(rng.choice(matters), Source.DESK, os.urandom(12).hex()))
                    ids.append(out.ticket.id if not isinstance(out, Reply) and out.ticket else "")
                for i, tid in enumerate(ids[-subscribed:] if subscribed else []):
                    ctx.execute(
                        "INSERT INTO notice_subs (ref, ref_kind, day, channel, address, masked, number_key,"
                        " lang, via, consent_at)"
                        " VALUES (?, 'ticket', '2026-11-23', 'sms', ?, '', ?, 'zh', 'desk', ?)",
                        (tid, f"139{i:08d}", f"k{i}", ctx.now.isoformat()),
                    )
                return ok({})

            await store.submit(Job(fill))
            times: list[float] = []
            queued = 0
            for r in range(rounds):
                w = windows[r % len(windows)]

                def call(ctx: WriteCtx, w: int = w) -> Reply:
                    # The window finishes the case it holds (if any) and calls the next: the line moves.
                    if ctx.engine.windows[w].current is not None:
                        ctx.accept(c.StartServing(w))
                        ctx.accept(c.Finish(w))
                    ctx.accept(c.CallNext(w, f"c{w}"))
                    return ok({})

                await store.submit(Job(call))
                clock.advance(30)

                def batch(ctx: WriteCtx) -> Reply:
                    t = time.perf_counter()
                    b = evaluate(ctx)
                    return ok({"ms": (time.perf_counter() - t) * 1000, "queued": b.queued})

                reply = json.loads((await store.submit(Job(batch))).text)
                times.append(reply["ms"])
                queued += reply["queued"]
            return {
                "p50": statistics.median(times),
                "p95": pct(times, 95),
                "max": max(times),
                "queued": float(queued),
            }
        finally:
            await asyncio.to_thread(store.stop)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rounds = 20 if args.quick else 100
    load_before = os.getloadavg()
    figures = []
    for n in (0, 50, 200):
        r = asyncio.run(one_case(n, rounds))
        note = f"{WAITING} waiting, {rounds} calls, {int(r['queued'])} notices queued"
        figures.append(
            figure(f"rules' batch, {n} subscribed: writer time p50", round(r["p50"], 3), "ms", note=note)
        )
        figures.append(figure(f"rules' batch, {n} subscribed: writer time p95", round(r["p95"], 3), "ms"))
        print(
            f"{n:4d} subscribed: p50 {r['p50']:.3f} ms  p95 {r['p95']:.3f} ms  max {r['max']:.3f} ms  {note}"
        )
    cpus = sorted(os.sched_getaffinity(0))
    out = write("notify", figures, load_before=load_before, load_after=os.getloadavg(), cpus=cpus)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
