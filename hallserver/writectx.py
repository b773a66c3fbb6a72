"""What a job sees on the writer thread: the engine, the open transaction, and helpers that write an accepted
command's rows and numbered events together (so a reply never names a row or event that is not stored)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Protocol

from hallcore import commands as c
from hallcore.clock import Clock
from hallcore.codec import encode
from hallcore.config import HallConfig
from hallcore.engine import Accepted, Engine, Outcome
from hallcore.events import Event, PrecheckRecorded, RatingRecorded, TicketChanged, TicketIssued
from hallcore.model import BookingState, CaseState
from hallcore.owed import item_names
from hallserver import audit, outbox, rows
from hallserver.errors import ApiError, from_refusal
from hallserver.eventlog import EventRecord, describe


class StoreState(Protocol):
    """What a job may read and replace of the store (hallserver/store.py `Store`, which runs the jobs): a
    protocol, so that this module does not import the store that imports it."""

    engine: Engine
    config: HallConfig
    clock: Clock
    tokens: dict[str, str]  # status token -> ticket id
    device_health: dict[tuple[str, str], tuple[str, str]]
    audit_key: bytes  # the audit chain's key (hallserver/keys.py, audit.py)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    text: str  # JSON body, encoded once: the same bytes are stored for idempotent replay and sent


def _default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(body: Any) -> str:
    """A reply body (a `hallcore.replies` dataclass, or plain data) as the JSON sent and stored."""
    return json.dumps(encode(body), ensure_ascii=False, separators=(",", ":"), default=_default)


def ok(body: Any, status: int = 200) -> Reply:
    return Reply(status, dumps(body))


def error_reply(err: ApiError) -> Reply:
    return Reply(err.status, dumps(err.body()))


class WriteCtx:
    """Per-batch context. Everything written here commits (or rolls back) with the batch."""

    def __init__(self, store: StoreState, conn: sqlite3.Connection, seq: int) -> None:
        self.store = store
        self.conn = conn
        self.seq = seq
        self.records: list[EventRecord] = []
        self.new_tokens: dict[str, str] = {}
        self.now = store.clock.now()
        self.job_mutated = False
        self._seen: dict[tuple[str, str], tuple[str, Reply]] = {}

    @property
    def engine(self) -> Engine:
        return self.store.engine

    def begin_job(self, now: dt.datetime) -> None:
        self.now = now
        self.job_mutated = False

    # ---- idempotency ------------------------------------------------------------------------------------

    def replay(self, scope: str, request_id: str, fingerprint: str) -> Reply | None:
        """The stored reply for a repeated request id, or None for a new one."""
        if not request_id:
            return None
        key = (scope, request_id)
        seen = self._seen.get(key)
        if seen is None:
            row = self.conn.execute(
                "SELECT fingerprint, status, body FROM idempotency WHERE station = ? AND request_id = ?", key
            ).fetchone()
            if row is None:
                return None
            seen = (row[0], Reply(int(row[1]), row[2]))
        fp, reply = seen
        # A blank stored fingerprint is one made before they were keyed (schema m010): it matches any repeat.
        if fp and fp != fingerprint:
            return error_reply(
                ApiError(
                    422,
                    "request_id_reused",
                    "该请求编号已用于另一个请求，请为新请求生成新的 request_id",
                    "this request_id was already used for a different request: make a new one",
                    {"request_id": request_id},
                )
            )
        return reply

    def remember(self, scope: str, request_id: str, fingerprint: str, reply: Reply) -> None:
        self.conn.execute(
            "INSERT INTO idempotency (station, request_id, fingerprint, status, body, at)"
            " VALUES (?,?,?,?,?,?)",
            (scope, request_id, fingerprint, reply.status, reply.text, self.now.isoformat()),
        )
        self._seen[(scope, request_id)] = (fingerprint, reply)

    # ---- commands and events ------------------------------------------------------------------------------

    def apply(self, command: c.Command) -> Outcome:
        """Run one engine command; an accepted one has its rows and events written in this transaction."""
        out = self.engine.handle(command, self.now)
        if isinstance(out, Accepted) and (out.events or _any_change(out)):
            self.job_mutated = True
            self._write(out)
        return out

    def accept(self, command: c.Command) -> Accepted | Reply:
        """`apply`, for a route: the command's `Accepted`, or its refusal as the error reply to return."""
        out = self.apply(command)
        if isinstance(out, Accepted):
            return out
        return error_reply(from_refusal(out))

    def _write(self, out: Accepted) -> None:
        eng = self.engine
        ex = self.conn.execute
        for tid in out.changes.tickets:
            t = eng.tickets[tid]
            ex(rows.TICKETS.upsert, rows.TICKETS.row(t))
            if t.token:
                self.new_tokens[t.token] = t.id
        for n in out.changes.windows:
            ex(rows.WINDOWS.upsert, rows.WINDOWS.row(eng.windows[n]))
        for code in out.changes.bookings:
            b = eng.bookings[code]
            ex(rows.BOOKINGS.upsert, rows.BOOKINGS.row(b))
            if b.state is BookingState.CANCELLED:
                # A partner's booking cancelled here (the citizen, the desk) is reported back to the partner.
                outbox.queue_booking_cancel(self.conn, self.now, eng.config, code)
        rated = {ev.ticket for ev in out.events if isinstance(ev, RatingRecorded)}
        for tid in out.changes.ratings:
            r = eng.ratings[tid]
            ex(rows.RATINGS.upsert, rows.RATINGS.row(r))
            # Every rating is queued for the provincial 好差评 upload; the uploader marks it sent. A rating
            # changed later (the case's outcome or 办件编号 corrected) updates its row if it is still queued.
            if tid in rated:
                outbox.queue_rating(self.conn, self.now, eng.config, r, eng.tickets.get(tid))
            else:
                outbox.amend_rating(self.conn, self.now, eng.config, r, eng.tickets.get(tid))
        for cid in out.changes.cases:
            case = eng.cases[cid]
            ex(rows.CASES.upsert, rows.CASES.row(case))
            if case.state is CaseState.CLOSED and case.closed_at == self.now:
                # The follow-up (回访, 整改, the rater's view) goes to the platform when the case closes.
                r_ = eng.ratings.get(case.ticket)
                outbox.queue_followup(self.conn, self.now, eng.config, case, r_, eng.tickets.get(case.ticket))
        for ev in out.events:
            self._side_tables(ev, out)
            self.emit(ev)

    def _side_tables(self, ev: Event, out: Accepted) -> None:
        ex = self.conn.execute
        if isinstance(ev, PrecheckRecorded):
            ex(
                "INSERT INTO prechecks (at, matter, outcome, missing, source, agent) VALUES (?,?,?,?,?,?)",
                (ev.at.isoformat(), ev.matter, ev.outcome, json.dumps(list(ev.missing)), ev.source, ev.agent),
            )
        elif isinstance(ev, TicketIssued):
            self._open_owed(ev)
            est = out.estimate
            ex(
                "INSERT OR IGNORE INTO estimates"
                " (ticket, issued_at, series, ahead, low_min, high_min, point_min)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    ev.ticket.id,
                    ev.at.isoformat(),
                    ev.ticket.series,
                    ev.ahead,
                    ev.estimate_low,
                    ev.estimate_high,
                    est.point_min if est is not None else None,
                ),
            )
        elif isinstance(ev, TicketChanged) and ev.action == "called":
            t = self.engine.tickets.get(ev.ticket.id)
            if t is not None and t.first_called_at == ev.at:
                # The real wait, joined with the estimate given at issue (for MAE and range coverage).
                wait = (ev.at - t.issued_at).total_seconds() / 60
                ex(
                    "UPDATE estimates SET called_at = ?, wait_min = ? WHERE ticket = ? AND called_at IS NULL",
                    (ev.at.isoformat(), wait, t.id),
                )

    def _open_owed(self, ev: TicketIssued) -> None:
        """A 容缺 ticket opens its register entry in the same transaction (hallserver/owed.py)."""
        t = self.engine.tickets.get(ev.ticket.id)
        if t is None or not t.missing or t.due is None:
            return
        m = self.engine.config.matter_by_code.get(t.matter)
        pledge = int(m is not None and bool(m.precheck.pledge))
        self.conn.executemany(
            "INSERT OR IGNORE INTO owed (ticket, item, name, matter, opened_at, due, pledge)"
            " VALUES (?,?,?,?,?,?,?)",
            [
                (t.id, item, name, t.matter, ev.at.isoformat(), t.due.isoformat(), pledge)
                for item, name in zip(t.missing, item_names(m, t.missing), strict=True)
            ],
        )

    def emit(self, event: Event) -> int:
        """Number and store one event; it is published after the commit."""
        self.seq += 1
        rec = describe(event, self.seq, self.store.config)
        self.conn.execute(
            "INSERT INTO events (seq, at, kind, body) VALUES (?,?,?,?)",
            (rec.seq, event.at.isoformat(), rec.kind, rec.text),
        )
        self.records.append(rec)
        self.job_mutated = True
        return self.seq

    def audit(self, actor: str, station: str, action: str, target: str, **detail: Any) -> None:
        """One audit row, chained to the last (hallserver/audit.py), in this job's transaction."""
        audit.append(
            self.conn,
            self.store.audit_key,
            self.now.isoformat(),
            actor,
            station,
            action,
            target,
            dumps(detail),
        )

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)


def _any_change(out: Accepted) -> bool:
    ch = out.changes
    return bool(ch.tickets or ch.windows or ch.bookings or ch.ratings or ch.cases)
