"""The outbox: what the hall owes the provincial platform, one row per report, in the `outbox` table.

Kinds: `rating` (a 好差评 rating, queued in the rating's own transaction) and `followup` (a closed 差评 case
with its 回访 time, 整改 result and the rater's view after, queued in the closing step's transaction). A row's
body is its data items (`hallcore.provincial`), built when it is queued; its `key` is the idempotency key
sent with it, stable across resends.

A row is, by its columns: pending (to send), sent (`sent_at`, the platform answered 2xx), dead (`dead_at`:
refused for good, with the reason in `last_error`; later rows go on without it) or discarded (`discarded_at`,
by a person). Retry puts a dead row back to pending; discard ends a dead or pending row. The uploader
(hallserver/upload.py), the dashboard and `hallq admin outbox` all change rows through these functions; the
callers audit who did it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hallcore.config import HallConfig
from hallcore.model import Case, CaseAction, Rating, Ticket
from hallcore.provincial import RatingFacts, followup_item, rating_item
from hallserver import rows

KINDS = ("rating", "followup")  # what the 好差评 uploader sends
#: A hall-side cancellation of a partner's booking, reported back to it (hallserver/bookpartners.py).
BOOKING_CANCEL = "booking_cancel"
#: Every kind a person may list, retry or discard: the uploader's, the notices (hallserver/notify.py) and the
#: booking partners' reports.
LISTED = (*KINDS, "notice", BOOKING_CANCEL)
STATES = ("pending", "dead", "sent", "discarded", "all")
PENDING = "sent_at IS NULL AND dead_at IS NULL AND discarded_at IS NULL"
_WHERE = {
    "pending": PENDING,
    "dead": "dead_at IS NOT NULL AND discarded_at IS NULL AND sent_at IS NULL",
    "sent": "sent_at IS NOT NULL",
    "discarded": "discarded_at IS NOT NULL",
    "all": "1",
}


class OutboxError(Exception):
    """A refused outbox action; the message says why."""


# ---- queueing (inside the writer's transaction) ------------------------------------------------------------


def facts(config: HallConfig, matter: str, ticket: Ticket | None) -> RatingFacts:
    m = config.matter_by_code.get(matter)
    dept = {d.id: d.name for d in config.departments}.get(m.department, m.department) if m else ""
    return RatingFacts(
        matter_name=m.name if m else "",
        department=dept,
        case_no=ticket.case_no if ticket is not None else "",
        outcome=ticket.outcome if ticket is not None else "",
        rater_name=ticket.holder_masked if ticket is not None else "",
    )


def rating_fields(r: Rating) -> dict[str, Any]:
    """The rating as the `ratings` row's columns (what old outbox rows hold, so both read the same)."""
    return dict(zip(rows.RATINGS.columns, rows.RATINGS.row(r), strict=True))


def enqueue(conn: sqlite3.Connection, now: dt.datetime, kind: str, item: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO outbox (at, kind, key, body) VALUES (?, ?, ?, ?)",
        (now.isoformat(), kind, item["idempotency_key"], json.dumps(item, ensure_ascii=False)),
    )


def queue_rating(
    conn: sqlite3.Connection, now: dt.datetime, config: HallConfig, r: Rating, ticket: Ticket | None
) -> None:
    item = rating_item(config.hall.id, rating_fields(r), facts(config, r.matter, ticket))
    enqueue(conn, now, "rating", item)


def amend_rating(
    conn: sqlite3.Connection, now: dt.datetime, config: HallConfig, r: Rating, ticket: Ticket | None
) -> None:
    """The clerk changed the outcome or 办件编号 of a rated case (within `outcomes.change_window_s`): the
    rating's row still waiting in the outbox is sent as it is now. A row already sent stays as the platform
    took it (its idempotency key would make a resend a no-op)."""
    item = rating_item(config.hall.id, rating_fields(r), facts(config, r.matter, ticket))
    cur = conn.execute(
        f"UPDATE outbox SET body = ? WHERE kind = 'rating' AND key = ? AND {PENDING}",  # noqa: S608 - fixed text
        (json.dumps(item, ensure_ascii=False), item["idempotency_key"]),
    )
    if (
        cur.rowcount == 0
        and not conn.execute(
            "SELECT 1 FROM outbox WHERE kind = 'rating' AND key = ?", (item["idempotency_key"],)
        ).fetchone()
    ):
        enqueue(conn, now, "rating", item)


def queue_followup(
    conn: sqlite3.Connection,
    now: dt.datetime,
    config: HallConfig,
    case: Case,
    r: Rating | None,
    ticket: Ticket | None,
) -> None:
    """A 差评 case just closed: its follow-up result for the platform (every close after an appeal again)."""
    rating = (
        rating_fields(r)
        if r is not None
        else {
            "ticket": case.ticket,
            "score": case.score,
            "matter": case.matter,
            "window": case.window,
            "staff": case.staff,
            "at": case.opened_at.isoformat(),
        }
    )
    closes = sum(1 for s in case.steps if s.action is CaseAction.CLOSE)
    case_row = {
        "id": case.id,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "steps": [(s.action.value, s.note, s.staff, s.at.isoformat()) for s in case.steps],
    }
    item = followup_item(config.hall.id, rating, facts(config, case.matter, ticket), case_row, closes)
    enqueue(conn, now, "followup", item)


def queue_booking_cancel(conn: sqlite3.Connection, now: dt.datetime, config: HallConfig, code: str) -> None:
    """Booking `code` was just cancelled: when it came from a partner (`booking_imports`) and the partner did
    not cancel it itself, the cancellation is owed to that partner, once (its key is the same on resends) —
    if the partner takes reports (`report_url`; a partner that only publishes a list may not)."""
    row = conn.execute(
        "SELECT partner, external_id, cancelled_by FROM booking_imports WHERE code = ?", (code,)
    ).fetchone()
    if row is None or row[2] == "partner":
        return
    partner, external_id, _by = row
    conn.execute("UPDATE booking_imports SET cancelled_by = 'hall' WHERE code = ?", (code,))
    p = next((p for p in config.booking_import.partners if p.id == partner), None)
    if p is not None and not p.report_url:
        return
    hall_id = config.hall.id
    item = {
        "idempotency_key": f"{hall_id}:{partner}:{external_id}:cancel",
        "kind": BOOKING_CANCEL,
        "hall": hall_id,
        "partner": partner,
        "external_id": external_id,
        "code": code,
        "state": "cancelled",
        "cancelled_at": now.isoformat(),
    }
    if not conn.execute("SELECT 1 FROM outbox WHERE key = ?", (item["idempotency_key"],)).fetchone():
        enqueue(conn, now, BOOKING_CANCEL, item)


def item_of(key: str, text: str, config: HallConfig) -> dict[str, Any]:
    """A row's data items. Rows queued before the adapter hold the bare `ratings` row (a JSON array)."""
    value = json.loads(text)
    if isinstance(value, list):
        legacy = dict(zip(rows.RATINGS.columns, value, strict=False))
        return rating_item(config.hall.id, legacy, facts(config, str(legacy["matter"]), None))
    item = dict(value)
    if key:
        item["idempotency_key"] = key
    return item


# ---- the uploader's reads and marks ------------------------------------------------------------------------


def pending(
    conn: sqlite3.Connection, limit: int, kinds: Sequence[str] = KINDS
) -> list[tuple[int, str, str, str]]:
    """The oldest rows of `kinds` to send: (id, kind, key, body)."""
    marks = ",".join("?" * len(kinds))
    return conn.execute(
        f"SELECT id, kind, key, body FROM outbox WHERE {PENDING} AND kind IN ({marks})"  # noqa: S608 - fixed text
        " ORDER BY id LIMIT ?",
        (*kinds, limit),
    ).fetchall()


def counts(conn: sqlite3.Connection, kinds: Sequence[str] = KINDS) -> dict[str, Any]:
    """Pending (with the oldest's time), dead and sent rows of `kinds`."""
    of = f" AND kind IN ({','.join('?' * len(kinds))})"
    ks = tuple(kinds)
    pend, oldest = conn.execute(f"SELECT COUNT(*), MIN(at) FROM outbox WHERE {PENDING}{of}", ks).fetchone()  # noqa: S608
    dead = conn.execute(f"SELECT COUNT(*) FROM outbox WHERE {_WHERE['dead']}{of}", ks).fetchone()[0]  # noqa: S608
    sent = conn.execute(f"SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL{of}", ks).fetchone()[0]  # noqa: S608
    return {"pending": int(pend), "dead": int(dead), "sent": int(sent), "oldest_pending_at": oldest or ""}


def mark_sent(conn: sqlite3.Connection, row_id: int, now: dt.datetime) -> None:
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, sent_at = ?, last_error = '', last_try_at = ?"
        " WHERE id = ? AND sent_at IS NULL",
        (now.isoformat(), now.isoformat(), row_id),
    )


def mark_failed(conn: sqlite3.Connection, row_id: int, now: dt.datetime, error: str, *, dead: bool) -> None:
    """A failed try: transient (stays pending) or permanent (`dead`: out of the queue with its reason)."""
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, last_try_at = ?,"
        " dead_at = CASE WHEN ? THEN ? ELSE dead_at END WHERE id = ? AND sent_at IS NULL",
        (error[:500], now.isoformat(), dead, now.isoformat(), row_id),
    )


# ---- people's view and actions (dashboard, `hallq admin outbox`) -------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    at: str
    kind: str
    key: str
    state: str
    attempts: int
    last_error: str
    last_try_at: str
    dead_at: str
    summary: str  # what the row is about, for a person (no personal data)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "kind": self.kind,
            "key": self.key,
            "state": self.state,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "last_try_at": self.last_try_at,
            "dead_at": self.dead_at,
            "summary": self.summary,
        }


def _state(sent: str | None, dead: str | None, discarded: str | None) -> str:
    if sent:
        return "sent"
    if discarded:
        return "discarded"
    return "dead" if dead else "pending"


def _summary(kind: str, text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return ""
    if isinstance(value, list):
        value = dict(zip(rows.RATINGS.columns, value, strict=False))
        return f"{value.get('ticket', '')} {value.get('matter', '')} {value.get('score', '')}"
    if kind == BOOKING_CANCEL:
        return f"{value.get('partner', '')} {value.get('external_id', '')} {value.get('code', '')}"
    what = value.get("case_id") if kind == "followup" else value.get("ticket_id")
    return f"{what} {value.get('matter_code', '')} {value.get('level_name', '')}".strip()


def list_rows(
    conn: sqlite3.Connection, state: str = "dead", kind: str = "", limit: int = 200
) -> list[OutboxRow]:
    if state not in _WHERE:
        raise OutboxError(f"unknown state {state!r}: one of {', '.join(STATES)}")
    where = _WHERE[state] + (" AND kind = ?" if kind else "")
    params: tuple[Any, ...] = (kind, limit) if kind else (limit,)
    cols = "id, at, kind, key, body, attempts, last_error, last_try_at, sent_at, dead_at, discarded_at"
    sql = f"SELECT {cols} FROM outbox WHERE {where} ORDER BY id DESC LIMIT ?"  # noqa: S608 - fixed text
    cur = conn.execute(sql, params)
    return [
        OutboxRow(
            id=i,
            at=at,
            kind=k,
            key=key,
            state=_state(sent, dead, disc),
            attempts=int(att),
            last_error=err or "",
            last_try_at=tried or "",
            dead_at=dead or "",
            summary=_summary(k, body),
        )
        for i, at, k, key, body, att, err, tried, sent, dead, disc in cur
    ]


def _ids(conn: sqlite3.Connection, ids: Sequence[int], where: str) -> list[int]:
    marks = ",".join("?" * len(ids))
    found = conn.execute(
        f"SELECT id FROM outbox WHERE id IN ({marks}) AND {where}",  # noqa: S608 - placeholders only
        tuple(ids),
    ).fetchall()
    return [int(r[0]) for r in found]


def retry(conn: sqlite3.Connection, ids: Sequence[int]) -> list[int]:
    """Put dead rows back in the queue (in their original place: the queue is by id). Refuses rows that are
    not dead, naming them, and changes nothing then."""
    ok = _ids(conn, ids, _WHERE["dead"])
    if bad := sorted(set(ids) - set(ok)):
        raise OutboxError(f"not dead letters (only those can be retried): {', '.join(map(str, bad))}")
    conn.executemany("UPDATE outbox SET dead_at = NULL WHERE id = ?", [(i,) for i in ok])
    return ok


def discard(conn: sqlite3.Connection, ids: Sequence[int], now: dt.datetime) -> list[int]:
    """End dead or pending rows for good (never sent). Refuses sent or already discarded rows."""
    ok = _ids(conn, ids, "sent_at IS NULL AND discarded_at IS NULL")
    if bad := sorted(set(ids) - set(ok)):
        raise OutboxError(f"already sent or discarded: {', '.join(map(str, bad))}")
    conn.executemany("UPDATE outbox SET discarded_at = ? WHERE id = ?", [(now.isoformat(), i) for i in ok])
    return ok
