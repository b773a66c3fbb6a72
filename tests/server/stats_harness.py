"""A statistics test bench: a hall database with the schema, a read pool and a one-thread writer like the
server's, and random multi-day data in every state (tests/server/test_rollups.py,
tests/server/test_measures_reference.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import pathlib
import random
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

from hallcore.config import HallConfig
from hallserver import rows, stats
from hallserver.store import Job, ReadPool, migrate
from hallserver.writectx import Reply, WriteCtx
from tests.fakes.halls import SHANGHAI

T = TypeVar("T")
START = dt.date(2026, 3, 2)


class Harness:
    """A database with the schema, a read pool like the server's, and a one-thread writer running jobs."""

    def __init__(self, path: pathlib.Path, config: HallConfig) -> None:
        self.path = path
        self.config = config
        migrate(path)
        self.reads = ReadPool(path, 3)
        self.writer_pool = ThreadPoolExecutor(1)
        self.wconn: sqlite3.Connection | None = None
        self.jobs = 0

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self.reads.read(fn)

    def _run_job(self, job: Job) -> Reply:
        if self.wconn is None:
            self.wconn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        conn = self.wconn
        conn.execute("BEGIN IMMEDIATE")
        try:
            reply = job.run(cast(WriteCtx, _Ctx(conn)))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self.jobs += 1
        return reply

    async def submit(self, job: Job) -> Reply:
        return await asyncio.get_running_loop().run_in_executor(self.writer_pool, self._run_job, job)

    def write(self, sql: str, params: Any = ()) -> None:
        """A change made by the hall (on its own connection, committed)."""
        c = sqlite3.connect(str(self.path), isolation_level=None)
        c.execute(sql, params)
        c.close()

    def report(
        self, span: stats.Span, by: str, today: dt.date, *, live: bool, build: bool = True
    ) -> stats.Report:
        # The random days' windows close after midnight: "now" is after all of them (the open time of a
        # window still open now is checked on the server, with the fixture day).
        now = None
        return asyncio.run(
            stats.build_report(
                self.read,
                self.config,
                span,
                by,
                today,
                now,
                submit=self.submit if build else None,
                live_only=live,
                sync_days=1000,
            )
        )

    def ready(self) -> set[str]:
        c = sqlite3.connect(str(self.path))
        try:
            return {r[0] for r in c.execute("SELECT day FROM rollup_days WHERE state = 'ready'")}
        finally:
            c.close()

    def close(self) -> None:
        self.reads.close()
        self.writer_pool.shutdown()
        if self.wconn is not None:
            self.wconn.close()


@dataclasses.dataclass
class _Ctx:
    conn: sqlite3.Connection


# ---- random days -------------------------------------------------------------------------------------------


def _iso(t: dt.datetime, rnd: random.Random) -> str:
    # Some rows are stored with a UTC offset, as a server with a UTC clock would write them.
    return (t.astimezone(dt.UTC) if rnd.random() < 0.2 else t).isoformat()


def _outcome(rnd: random.Random) -> str:
    return rnd.choice(["办结"] * 6 + ["受理"] * 2 + ["补正", "不予受理", "咨询"])


def fill_random(h: Harness, days: list[dt.date], seed: int) -> None:
    """Tickets in every state, ratings, estimates, pre-checks, window events and 差评 cases, per day."""
    rnd = random.Random(seed)
    cfg = h.config
    series = [s.prefix for s in cfg.series]
    matters = {s: [m.code for m in cfg.matters if m.series == s] or ["HJ01"] for s in series}
    materials = [mat.id for m in cfg.matters for mat in m.precheck.materials]
    conn = sqlite3.connect(str(h.path), isolation_level=None)
    conn.execute("BEGIN")
    evs: list[tuple[dt.datetime, str, str]] = []
    busy_until: dict[int, dt.datetime] = {}
    for day in days:
        nine = dt.datetime.combine(day, dt.time(8, 30), SHANGHAI)
        for w in rnd.sample(range(1, 9), 5):
            opened = nine + dt.timedelta(minutes=rnd.randint(0, 60))
            if busy_until.get(w, opened) > opened:
                continue  # still open from the day before
            pause = opened + dt.timedelta(minutes=rnd.randint(30, 200))
            resumed = pause + dt.timedelta(minutes=rnd.randint(1, 40), seconds=rnd.randint(0, 59))
            # Some windows stay open past midnight (closed the next morning) or pause over it.
            closed = resumed + dt.timedelta(minutes=rnd.choice([200, 300, 1000]))
            if rnd.random() < 0.1:
                pause, resumed = closed - dt.timedelta(minutes=1), closed + dt.timedelta(minutes=600)
                closed = resumed + dt.timedelta(minutes=5)
            busy_until[w] = closed
            for at, action, reason in (
                (opened, "opened", ""),
                (pause, "paused", rnd.choice(["休息", "会议", ""])),
                (resumed, "resumed", ""),
                (closed, "closed", ""),
            ):
                body = {"window": {"number": w, "pause_reason": reason}, "action": action}
                evs.append((at, _iso(at, rnd), json.dumps(body)))
    seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
    for _at, text, body_text in sorted(evs, key=lambda e: e[0]):
        seq += 1
        conn.execute(
            "INSERT INTO events (seq, at, kind, body) VALUES (?,?,?,?)",
            (seq, text, "window_changed", body_text),
        )
    for day in days:
        nine = dt.datetime.combine(day, dt.time(8, 30), SHANGHAI)
        for i in range(rnd.randint(20, 90)):
            s = rnd.choice(series)
            m = rnd.choice(matters[s])
            issued = nine + dt.timedelta(minutes=rnd.randint(0, 480), seconds=rnd.randint(0, 59))
            state = rnd.choice(["done"] * 6 + ["no_show", "expired", "cancelled", "voided", "waiting"])
            wait = dt.timedelta(seconds=rnd.randint(0, 5400) if rnd.random() > 0.02 else rnd.randint(0, 2))
            called = issued + wait if state in ("done", "no_show") else None
            serving = (
                called + dt.timedelta(seconds=rnd.randint(5, 60)) if state == "done" and called else None
            )
            ended = serving + dt.timedelta(seconds=rnd.randint(30, 2400)) if serving else None
            window = rnd.randint(1, 8) if called else (None if rnd.random() < 0.7 else rnd.randint(1, 8))
            tid = f"{day.isoformat()}-{s}{i:03d}"
            row = {
                "id": tid,
                "day": day.isoformat(),
                "series": s,
                "number": i + 1,
                "label": f"{s}{i + 1:03d}",
                "matter": m,
                "source": "kiosk",
                "priority": "normal",
                "state": state,
                "issued_at": _iso(issued, rnd),
                "since": issued.isoformat(),
                "key_ts": issued.timestamp(),
                "key_seq": i,
                "key_rq": 0,
                "token": f"t{seed}{tid}",
                "precheck": "",
                "missing": "[]",
                "due": None,
                "holder_masked": "",
                "booking": "",
                "target_window": None,
                "window": window,
                "staff": f"c{window}" if window else "",
                "called_at": _iso(called, rnd) if called else None,
                "first_called_at": _iso(called, rnd) if called else None,
                "serving_at": _iso(serving, rnd) if serving else None,
                "ended_at": _iso(ended, rnd) if ended else None,
                "recalls": 0,
                "transfers": rnd.choice([0, 0, 0, 1, 2]),
                "requeues": 0,
                "call_reason": None,
                "ahead_at_issue": rnd.randint(0, 20),
                "estimate_low": None,
                "estimate_high": None,
                "rated": 0,
                "qtoken": 0,
                "slot_at": None,
                "claimed": "",
                "class_check": "",
                # How the case ended (issue 22); the first day has none, as days before outcomes were
                # recorded. Drawn apart from `rnd` so the other figures stay those of the seed.
                "outcome": _outcome(random.Random(f"{seed}/{tid}"))
                if state == "done" and day != days[0]
                else "",
                "outcome_reason": "",
                "case_no": "",
                # 刷身份证取号 (issue 27): a carded share with an age decade, drawn apart from `rnd` too.
                **_carded(random.Random(f"card/{seed}/{tid}")),
            }
            conn.execute(rows.TICKETS.upsert, [row[c] for c in rows.TICKETS.columns])
            if called and rnd.random() < 0.8:
                low = rnd.randint(0, 40)
                conn.execute(
                    "INSERT INTO estimates (ticket, issued_at, series, ahead, low_min, high_min, point_min,"
                    " called_at, wait_min) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        tid,
                        row["issued_at"],
                        s,
                        0,
                        low,
                        low + 15,
                        low + 7,
                        row["called_at"],
                        wait.seconds / 60,
                    ),
                )
            if state == "done" and ended and rnd.random() < 0.7:
                score = rnd.choice([5, 5, 5, 4, 4, 3, 2, 1])
                conn.execute(
                    "INSERT INTO ratings (ticket, score, matter, window, staff, at, issued_at, called_at,"
                    " serving_at, finished_at, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (tid, score, m, window, row["staff"], ended.isoformat(), row["issued_at"],
                     row["called_at"], row["serving_at"], row["ended_at"], "pad"),
                )  # fmt: skip
                if score <= 2:
                    cid = f"case-{tid}"
                    due = day + dt.timedelta(days=rnd.randint(1, 8))
                    closed_at = None
                    if rnd.random() < 0.5:
                        closed_at = (ended + dt.timedelta(days=rnd.randint(0, 10))).isoformat()
                    steps = [["callback", "", "c1", ended.isoformat()]] if rnd.random() < 0.5 else []
                    conn.execute(
                        "INSERT INTO cases (id, ticket, score, window, staff, matter, opened_at, due, state,"
                        " steps, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (cid, tid, score, window, row["staff"], m, ended.isoformat(), due.isoformat(),
                         "closed" if closed_at else "open", json.dumps(steps), closed_at),
                    )  # fmt: skip
                    if rnd.random() < 0.6:
                        conn.execute(
                            "INSERT INTO case_contacts (case_id, phone, consent_at, source) VALUES (?,?,?,?)",
                            (cid, "13800001234", ended.isoformat(), "pad"),
                        )
        for _ in range(rnd.randint(5, 40)):
            at = nine + dt.timedelta(minutes=rnd.randint(-600, 900))  # some fall on the neighbouring days
            outcome = rnd.choice(["通过", "通过", "容缺", "不通过"])
            missing = [] if outcome == "通过" else rnd.sample(materials, rnd.randint(1, 3))
            conn.execute(
                "INSERT INTO prechecks (at, matter, outcome, missing, source) VALUES (?,?,?,?,?)",
                (_iso(at, rnd), "HJ01", outcome, json.dumps(missing), "kiosk"),
            )
    conn.execute("COMMIT")
    conn.close()


def _carded(r: random.Random) -> dict[str, object]:
    kind = r.choice(["", "", "card", "card", "card", "agent"])
    return {
        "identity": kind,
        "person_key": f"{r.getrandbits(64):016x}" if kind == "card" else "",
        "agent_key": f"{r.getrandbits(64):016x}" if kind == "agent" else "",
        "id_last4": f"{r.randint(0, 9999):04d}" if kind else "",
        "age_band": r.choice([10, 20, 30, 40, 50, 60, 70, 80]) if kind == "card" else None,
    }
