"""`hallq admin outbox list|retry|discard`: the outbox (hallserver/outbox.py) from a shell, for every kind.

Straight on the hall's database like the other admin commands (safe while the server runs: WAL and a busy
timeout); retry and discard are audited as `admin-cli:<user>`, and the running server picks retried rows up
at its next poll.
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import sqlite3
from collections.abc import Callable
from typing import Any

from hallserver import outbox


def add_parser(sub: Any) -> None:
    p = sub.add_parser("outbox", help="reports owed to the provincial platform: list, retry, discard")
    osub = p.add_subparsers(dest="outbox_cmd", required=True)
    q = osub.add_parser("list", help="rows by state (dead letters by default)")
    q.add_argument("--state", default="dead", choices=outbox.STATES)
    q.add_argument("--kind", default="", choices=("", *outbox.LISTED))
    q.add_argument("--limit", type=int, default=200)
    for name, what in (("retry", "put dead letters back in the queue"), ("discard", "never send these rows")):
        q = osub.add_parser(name, help=what)
        q.add_argument("ids", nargs="+", type=int)


def run(
    conn_of: Callable[[pathlib.Path], sqlite3.Connection],
    audit: Callable[..., None],
    say: Callable[[str], None],
    db: pathlib.Path,
    args: argparse.Namespace,
) -> None:
    """One outbox command; `outbox.OutboxError` when refused (nothing changed then)."""
    conn = conn_of(db)
    try:
        if args.outbox_cmd == "list":
            found = outbox.list_rows(conn, args.state, args.kind, args.limit)
            for r in found:
                say(
                    f"{r.id:>7}  {r.kind:<8} {r.state:<9} {r.at[:19]}  tries={r.attempts}  {r.key}"
                    f"  {r.summary}" + (f"\n         {r.last_error}" if r.last_error else "")
                )
            say(f"{len(found)} row(s) {args.state}")
            return
        now = dt.datetime.now(dt.UTC)
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            if args.outbox_cmd == "retry":
                done = outbox.retry(conn, args.ids)
            else:
                done = outbox.discard(conn, args.ids, now)
            for i in done:
                audit(conn, f"outbox_{args.outbox_cmd}", str(i))
        say(f"{args.outbox_cmd}: {', '.join(map(str, done))}")
    finally:
        conn.close()
