"""`hallq admin audit verify` and `hallq admin purge --before DATE` (issue 25, docs/security.md).

`audit verify` walks the audit chain (hallserver/audit.py) and names the first broken link: exit 0 when it
holds, 1 when not. `purge --before DATE` purges personal data of the days before DATE at once
(hallserver/purge.py, the same rules as the scheduled purge), audited, then truncates the WAL. DATE may be
today at the latest: the running server holds today's rows in memory and purges them itself on schedule.
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import sqlite3
import zoneinfo
from collections.abc import Callable
from typing import Any

from hallserver import audit, keys, purge

#: The hall's time zone when no config is given (`--config` gives the hall's own).
DEFAULT_TZ = "Asia/Shanghai"


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("audit", help="the audit log: verify its hash chain")
    asub = p.add_subparsers(dest="audit_cmd", required=True)
    asub.add_parser("verify", help="check every link of the chain; name the first broken one (exit 1)")
    p = sub.add_parser("purge", help="purge personal data of the days before DATE now (audited)")
    p.add_argument("--before", required=True, type=dt.date.fromisoformat, metavar="DATE")


def run(
    conn_of: Callable[[pathlib.Path], sqlite3.Connection],
    audit_row: Callable[..., None],
    say: Callable[[str], None],
    db: pathlib.Path,
    args: argparse.Namespace,
) -> int:
    conn = conn_of(db)
    try:
        if args.cmd == "audit":
            verdict = audit.verify(conn, keys.recorded_key(conn).derive("audit"))
            if not verdict.ok:
                say(f"audit chain BROKEN at row {verdict.broken_at}: {verdict.reason}")
                return 1
            say(f"audit chain holds: {verdict.rows} rows ({verdict.scrubbed} with personal data scrubbed)")
            return 0
        tz = zoneinfo.ZoneInfo(_hall_tz(args))
        now = dt.datetime.now(tz)
        if args.before > now.date():
            raise purge.PurgeError(
                f"--before {args.before} is after today ({now.date()}): the running server holds today's rows"
            )
        cutoff = dt.datetime.combine(args.before, dt.time(0), tz)
        counts = dict.fromkeys(purge.COUNTED, 0)
        marks = None
        more = True
        while more:  # short transactions: a running server's writer waits for each only briefly
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                step = purge.purge_before(conn, cutoff, now, marks, open_cases=False)
            marks, more = step.marks, step.more
            for k, v in step.counts.items():
                counts[k] += v
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            audit_row(conn, "purge", args.before.isoformat(), **{k: v for k, v in counts.items() if v})
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        say(
            "purged before "
            + args.before.isoformat()
            + ": "
            + ", ".join(f"{k} {v}" for k, v in counts.items())
        )
        return 0
    finally:
        conn.close()


def _hall_tz(args: argparse.Namespace) -> str:
    if args.config is None:
        return DEFAULT_TZ
    from hallfiles.config import read_config

    return read_config(pathlib.Path(args.config)).hall.timezone
