"""The audit log, hash-chained (等保 安全审计, DESIGN.md §9, docs/security.md): a row edited or deleted by
hand is found by `hallq admin audit verify`, which names the first broken link.

Each row's `hash` is an HMAC (with a key derived from the hall key, which is not in the database) over the
previous row's hash, the row's own id and fields, and `detail_hash` — an HMAC of its details, not the details
themselves. The purge may then scrub personal data out of `detail` (setting `scrubbed_at`) and the chain
still holds; only unscrubbed rows have their details checked against `detail_hash`. Keyed, so that someone who
can write the database but not read the key cannot re-chain the rows after an edit, and so a scrubbed phone
number cannot be brute-forced back from its `detail_hash`.

The chain's head (last id and hash) is kept in `meta.audit_head` with its own HMAC, so deleting the last rows
is found too. Rows written before the chain existed are chained once ("sealed") when the first process with
the key opens the database; the seal is an audit row itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HEAD = "audit_head"
_SEP = "\x1f"


def detail_hash(key: bytes, detail: str) -> str:
    return hmac.new(key, detail.encode(), hashlib.sha256).hexdigest()


def _link(key: bytes, prev: str, row_id: int, fields: tuple[str, ...], dhash: str) -> str:
    text = _SEP.join((prev, str(row_id), *fields, dhash))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _head_mac(key: bytes, row_id: int, row_hash: str) -> str:
    return hmac.new(key, f"head{_SEP}{row_id}{_SEP}{row_hash}".encode(), hashlib.sha256).hexdigest()


def _tail(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def _set_head(conn: sqlite3.Connection, key: bytes, row_id: int, row_hash: str) -> None:
    value = f"{row_id}:{row_hash}:{_head_mac(key, row_id, row_hash)}"
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (HEAD, value))


def append(
    conn: sqlite3.Connection,
    key: bytes,
    at: str,
    actor: str,
    station: str,
    action: str,
    target: str,
    detail: dict[str, Any] | str,
) -> int:
    """Append one row, chained to the last (call inside the write transaction). Returns its id."""
    text = (
        detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, separators=(",", ":"))
    )
    prev_id, prev = _tail(conn)
    row_id = prev_id + 1
    dhash = detail_hash(key, text)
    fields = (at, actor, station, action, target)
    row_hash = _link(key, prev, row_id, fields, dhash)
    conn.execute(
        "INSERT INTO audit (id, at, actor, station, action, target, detail, detail_hash, hash)"
        " VALUES (?,?,?,?,?,?,?,?,?)",
        (row_id, *fields, text, dhash, row_hash),
    )
    _set_head(conn, key, row_id, row_hash)
    return row_id


def seal(conn: sqlite3.Connection, key: bytes, at: str) -> int:
    """Chain the rows written before the chain existed (none has a hash and there is no head yet); returns how
    many. Runs in its own transaction; a database already chained is left as it is."""
    if conn.execute("SELECT 1 FROM meta WHERE key = ?", (HEAD,)).fetchone() is not None:
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        chained = conn.execute("SELECT COUNT(*) FROM audit WHERE hash != ''").fetchone()[0]
        if conn.execute("SELECT 1 FROM meta WHERE key = ?", (HEAD,)).fetchone() is not None or chained:
            conn.execute("ROLLBACK")  # chained already (another process, or a head deleted by hand)
            return 0
        prev = GENESIS
        n = 0
        rows = conn.execute(
            "SELECT id, at, actor, station, action, target, detail FROM audit ORDER BY id"
        ).fetchall()
        for row_id, *fields, text in rows:
            dhash = detail_hash(key, text)
            prev = _link(key, prev, row_id, tuple(fields), dhash)
            conn.execute("UPDATE audit SET detail_hash = ?, hash = ? WHERE id = ?", (dhash, prev, row_id))
            n += 1
        if n:
            _set_head(conn, key, rows[-1][0], prev)
            append(conn, key, at, "hallq", "", "audit_sealed", "audit", {"rows": n})
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return n


@dataclass(frozen=True, slots=True)
class Verdict:
    rows: int
    scrubbed: int
    broken_at: int | None  # the id of the first row whose link does not hold (0: the head)
    reason: str

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(conn: sqlite3.Connection, key: bytes) -> Verdict:
    """Walk the chain from the first row; the first link that does not hold, and why."""
    prev = GENESIS
    prev_id = 0
    n = scrubbed = 0
    cur = conn.execute(
        "SELECT id, at, actor, station, action, target, detail, detail_hash, hash, scrubbed_at"
        " FROM audit ORDER BY id"
    )
    for row_id, at, actor, station, action, target, text, dhash, row_hash, scrubbed_at in cur:
        n += 1
        if not row_hash:
            return Verdict(n, scrubbed, row_id, f"row {row_id} is not chained (its hash was removed)")
        if _link(key, prev, row_id, (at, actor, station, action, target), dhash) != row_hash:
            after = f"row {prev_id}" if prev_id else "the start"
            return Verdict(
                n,
                scrubbed,
                row_id,
                f"row {row_id} does not follow {after}: it was edited, or a row between was deleted",
            )
        if scrubbed_at:
            scrubbed += 1
        elif detail_hash(key, text) != dhash:
            return Verdict(n, scrubbed, row_id, f"row {row_id}: its details were edited")
        prev, prev_id = row_hash, row_id
    head = conn.execute("SELECT value FROM meta WHERE key = ?", (HEAD,)).fetchone()
    if head is None:
        if n:
            return Verdict(n, scrubbed, 0, "the chain's head is missing from meta (deleted by hand)")
        return Verdict(0, 0, None, "")
    head_id, head_hash, mac = str(head[0]).split(":")
    if mac != _head_mac(key, int(head_id), head_hash):
        return Verdict(n, scrubbed, 0, "the chain's head was edited by hand")
    if (int(head_id), head_hash) != (prev_id, prev):
        return Verdict(
            n,
            scrubbed,
            prev_id,
            f"the chain ends at row {prev_id} but its head is row {head_id}: rows deleted",
        )
    return Verdict(n, scrubbed, None, "")
