"""The personal-data purge over a long history (issue 25, hallserver/purge.py): how long one step holds
the writer (a step is one transaction of at most `STEP_ROWS` rows of a kind), how long a first purge over
the whole history takes in steps, and what `secure_delete` (on every connection, so purged values are
zeroed in the file) costs the writer's ticket upserts.

    python -m bench.purge [--quick]

Writes bench/results/purge.json. The database is a temp file in WAL mode with `synchronous=NORMAL`; the rows
are synthetic but shaped like the hall's (event bodies of ~700 bytes with a masked name and a note; audit rows
with details; named tickets).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import sqlite3
import statistics
import tempfile
import time

from bench.common import figure, write
from hallserver import audit, purge
from hallserver.store import connect, migrate

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
KEY = os.urandom(32)


def fill(conn: sqlite3.Connection, days: int, per_day: int) -> tuple[int, int, int]:
    """`per_day` tickets a day (a third named), ~6 events each, one audit row in 20 tickets."""
    events = audits = tickets = 0
    conn.execute("BEGIN")
    for d in range(days):
        day = T0 + dt.timedelta(days=d)
        for i in range(per_day):
            at = (day + dt.timedelta(seconds=20 * i)).isoformat()
            tid = f"{day.date().isoformat()}/A{i:03d}"
            named = "张**" if i % 3 == 0 else ""
            conn.execute(
                "INSERT INTO tickets (id, day, series, number, label, matter, source, priority, state,"
                " issued_at, since, key_ts, key_seq, key_rq, token, precheck, missing, holder_masked,"
                " booking, staff, recalls, transfers, requeues, ahead_at_issue, rated, qtoken)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,0,0,0,?,'','[]',?,'','',0,0,0,0,0,0)",
                (tid, day.date().isoformat(), "A", i, f"A{i:03d}", "HJ01", "kiosk", "", "done", at, at,
                 os.urandom(8).hex(), named),
            )  # fmt: skip
            tickets += 1
            for action in ("issued", "called", "serving", "finished", "rated", "printed"):
                ticket = {"id": tid, "label": f"A{i:03d}", "holder_masked": named, "pad": "x" * 500}
                note = "群众要求" if i % 7 == 0 else ""
                body = {"kind": "ticket_changed", "action": action, "at": at, "note": note, "ticket": ticket}
                events += 1
                conn.execute(
                    "INSERT INTO events (seq, at, kind, body) VALUES (?,?,?,?)",
                    (events, at, "ticket_changed", json.dumps(body, ensure_ascii=False)),
                )
            if i % 20 == 0:
                audit.append(
                    conn, KEY, at, "staff:c1", "s1", "cancel_ticket", tid, {"reason": "电话13912345678"}
                )
                audits += 1
    conn.execute("COMMIT")
    return tickets, events, audits


def run_purge(conn: sqlite3.Connection, cutoff: dt.datetime) -> list[float]:
    """Steps until done, as the server runs them; the duration of each (ms)."""
    marks = None
    more = True
    steps: list[float] = []
    while more:
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        step = purge.purge_before(conn, cutoff, cutoff, marks, open_cases=True)
        conn.execute("COMMIT")
        steps.append((time.perf_counter() - t) * 1000)
        marks, more = step.marks, step.more
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # the side thread's work, not the writer's
    return steps


def upserts(path: pathlib.Path, secure: str, n: int) -> float:
    """µs per ticket upsert (one row rewritten with a changed state, in batches of 50 per transaction)."""
    conn = connect(path)
    conn.execute(f"PRAGMA secure_delete = {secure}")
    conn.execute("PRAGMA synchronous = NORMAL")
    ids = [r[0] for r in conn.execute("SELECT id FROM tickets ORDER BY issued_at DESC LIMIT 500")]
    t = time.perf_counter()
    for k in range(n // 50):
        conn.execute("BEGIN IMMEDIATE")
        for tid in ids[(k * 50) % 500 : (k * 50) % 500 + 50]:
            conn.execute(
                "UPDATE tickets SET state = ?, token = ? WHERE id = ?", ("called", os.urandom(8).hex(), tid)
            )
        conn.execute("COMMIT")
    us = (time.perf_counter() - t) / n * 1e6
    conn.close()
    return us


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30 days instead of 120")
    args = ap.parse_args()
    days, per_day = (30, 300) if args.quick else (120, 600)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        db = pathlib.Path(tmp) / "hall.db"
        migrate(db)
        conn = connect(db)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        tickets, events, audits = fill(conn, days, per_day)
        cutoff = T0 + dt.timedelta(days=days - 1)  # all but the last day are past the retention
        # As on the server's writer: no checkpoint inside a commit (the side thread does them, between steps).
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        steps = run_purge(conn, cutoff)
        conn.close()
        runs: dict[str, list[float]] = {}
        for secure in ("OFF", "FAST", "ON") * 2:
            runs.setdefault(secure, []).append(upserts(db, secure, 5000))
    off, fast, on = (min(runs[k]) for k in ("OFF", "FAST", "ON"))
    figures = [
        figure("purge step, p50", round(statistics.median(steps), 1), "ms"),
        figure(
            "purge step, max",
            round(max(steps), 1),
            "ms",
            "< 250",
            max(steps) < 250,
            "the longest the writer waits behind the purge",
        ),
        figure("first purge of the history, in steps", round(sum(steps) / 1000, 2), "s"),
        figure("purge steps", len(steps), "steps"),
        figure("ticket upsert, secure_delete off", round(off, 1), "µs"),
        figure("ticket upsert, secure_delete fast", round(fast, 1), "µs"),
        figure("ticket upsert, secure_delete on", round(on, 1), "µs"),
    ]
    for f in figures:
        print(f"{f['name']:45s} {f['value']:>10} {f['unit']}")
    write(
        "purge",
        figures,
        runs={
            "steps_ms": [round(s, 2) for s in steps],
            "upsert_us": runs,
            "history": {"days": days, "tickets": tickets, "events": events, "audit_rows": audits},
        },
        notes=(
            f"{'Quick run: ' if args.quick else ''}{days} days of {per_day} tickets"
            f" ({events:,} events of ~700 bytes,"
            f" {audits:,} audit rows), all but the last day past the retention;"
            f" STEP_ROWS {purge.STEP_ROWS}, STEP_NAMED {purge.STEP_NAMED}. The upsert figures are the best of"
            " two runs each (interleaved) of 5,000 upserts in transactions of 50"
            f" (synchronous=NORMAL, no fsync per commit). Load average at start {load[0]:.1f}/{load[1]:.1f}"
            " (a shared 2-core machine; other engineers' tests ran), one process, not pinned."
        ),
        load=list(load),
    )


if __name__ == "__main__":
    main()
