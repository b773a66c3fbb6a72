"""Engine entities to SQLite rows and back. Explicit columns (not a JSON blob) so statistics can query them.

Each `*_SQL` is one upsert keyed by the primary key: `INSERT … ON CONFLICT DO UPDATE` rewrites the row in
place (unlike `INSERT OR REPLACE`, which deletes and re-inserts and so touches every index).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from hallcore.model import (
    Booking,
    BookingState,
    CallReason,
    CallReasonKind,
    Case,
    CaseAction,
    CaseState,
    CaseStep,
    Rating,
    Source,
    Ticket,
    TicketState,
    WindowRuntime,
    WindowState,
)

Row = Sequence[Any]


def _ts(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _req_dt(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _upsert(table: str, columns: Sequence[str], key: str) -> str:
    cols = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT ({key}) DO UPDATE SET {sets}"  # noqa: S608


TICKET_COLUMNS = [
    "id",
    "day",
    "series",
    "number",
    "label",
    "matter",
    "source",
    "priority",
    "state",
    "issued_at",
    "since",
    "key_ts",
    "key_seq",
    "key_rq",
    "token",
    "precheck",
    "missing",
    "due",
    "holder_masked",
    "booking",
    "target_window",
    "window",
    "staff",
    "called_at",
    "first_called_at",
    "serving_at",
    "ended_at",
    "recalls",
    "transfers",
    "requeues",
    "call_reason",
    "ahead_at_issue",
    "estimate_low",
    "estimate_high",
    "rated",
    "qtoken",
]
TICKET_SQL = _upsert("tickets", TICKET_COLUMNS, "id")
TICKET_SELECT = f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets"  # noqa: S608


def ticket_row(t: Ticket) -> tuple[Any, ...]:
    r = t.call_reason
    return (
        t.id,
        t.day.isoformat(),
        t.series,
        t.number,
        t.label,
        t.matter,
        t.source.value,
        t.priority,
        t.state.value,
        t.issued_at.isoformat(),
        t.since.isoformat(),
        t.key[0],
        t.key[1],
        t.key[2],
        t.token,
        t.precheck,
        json.dumps(list(t.missing)),
        t.due.isoformat() if t.due else None,
        t.holder_masked,
        t.booking,
        t.target_window,
        t.window,
        t.staff,
        _ts(t.called_at),
        _ts(t.first_called_at),
        _ts(t.serving_at),
        _ts(t.ended_at),
        t.recalls,
        t.transfers,
        t.requeues,
        json.dumps([r.kind.value, r.text, r.text_en], ensure_ascii=False) if r else None,
        t.ahead_at_issue,
        t.estimate_low,
        t.estimate_high,
        int(t.rated),
        t.qtoken,
    )


def ticket_from_row(row: Row) -> Ticket:
    (
        id_,
        day,
        series,
        number,
        label,
        matter,
        source,
        priority,
        state,
        issued_at,
        since,
        key_ts,
        key_seq,
        key_rq,
        token,
        precheck,
        missing,
        due,
        holder_masked,
        booking,
        target_window,
        window,
        staff,
        called_at,
        first_called_at,
        serving_at,
        ended_at,
        recalls,
        transfers,
        requeues,
        call_reason,
        ahead_at_issue,
        estimate_low,
        estimate_high,
        rated,
        qtoken,
    ) = row
    reason = None
    if call_reason:
        kind, text, text_en = json.loads(call_reason)
        reason = CallReason(CallReasonKind(kind), text, text_en)
    return Ticket(
        id=id_,
        day=dt.date.fromisoformat(day),
        series=series,
        number=number,
        label=label,
        matter=matter,
        source=Source(source),
        priority=priority,
        state=TicketState(state),
        issued_at=_req_dt(issued_at),
        since=_req_dt(since),
        key=(float(key_ts), int(key_seq), int(key_rq)),
        token=token,
        precheck=precheck,
        missing=tuple(json.loads(missing)),
        due=dt.date.fromisoformat(due) if due else None,
        holder_masked=holder_masked,
        booking=booking,
        target_window=target_window,
        window=window,
        staff=staff,
        called_at=_dt(called_at),
        first_called_at=_dt(first_called_at),
        serving_at=_dt(serving_at),
        ended_at=_dt(ended_at),
        recalls=recalls,
        transfers=transfers,
        requeues=requeues,
        call_reason=reason,
        ahead_at_issue=ahead_at_issue,
        estimate_low=estimate_low,
        estimate_high=estimate_high,
        rated=bool(rated),
        qtoken=qtoken,
    )


WINDOW_COLUMNS = [
    "number",
    "state",
    "staff",
    "pause_reason",
    "paused_at",
    "opened_at",
    "current",
    "priority_streak",
    "taken_over",
]
WINDOW_SQL = _upsert("windows", WINDOW_COLUMNS, "number")
WINDOW_SELECT = f"SELECT {', '.join(WINDOW_COLUMNS)} FROM windows"  # noqa: S608


def window_row(w: WindowRuntime) -> tuple[Any, ...]:
    return (
        w.number,
        w.state.value,
        w.staff,
        w.pause_reason,
        _ts(w.paused_at),
        _ts(w.opened_at),
        w.current,
        w.priority_streak,
        json.dumps(list(w.taken_over)),
    )


def window_from_row(row: Row) -> WindowRuntime:
    number, state, staff, pause_reason, paused_at, opened_at, current, streak, taken_over = row
    return WindowRuntime(
        number=number,
        state=WindowState(state),
        staff=staff,
        pause_reason=pause_reason,
        paused_at=_dt(paused_at),
        opened_at=_dt(opened_at),
        current=current,
        priority_streak=streak,
        taken_over=tuple(json.loads(taken_over)),
    )


BOOKING_COLUMNS = [
    "code",
    "matter",
    "day",
    "slot_start",
    "slot_end",
    "person_key",
    "state",
    "booked_at",
    "ticket",
    "holder_masked",
]
BOOKING_SQL = _upsert("bookings", BOOKING_COLUMNS, "code")
BOOKING_SELECT = f"SELECT {', '.join(BOOKING_COLUMNS)} FROM bookings"  # noqa: S608


def booking_row(b: Booking) -> tuple[Any, ...]:
    return (
        b.code,
        b.matter,
        b.day.isoformat(),
        b.slot_start.isoformat(),
        b.slot_end.isoformat(),
        b.person_key,
        b.state.value,
        _ts(b.booked_at),
        b.ticket,
        b.holder_masked,
    )


def booking_from_row(row: Row) -> Booking:
    code, matter, day, slot_start, slot_end, person_key, state, booked_at, ticket, holder_masked = row
    return Booking(
        code=code,
        matter=matter,
        day=dt.date.fromisoformat(day),
        slot_start=dt.time.fromisoformat(slot_start),
        slot_end=dt.time.fromisoformat(slot_end),
        person_key=person_key,
        state=BookingState(state),
        booked_at=_dt(booked_at),
        ticket=ticket,
        holder_masked=holder_masked,
    )


RATING_COLUMNS = [
    "ticket",
    "score",
    "matter",
    "window",
    "staff",
    "at",
    "issued_at",
    "called_at",
    "serving_at",
    "finished_at",
    "source",
]
RATING_SQL = _upsert("ratings", RATING_COLUMNS, "ticket")
RATING_SELECT = f"SELECT {', '.join(RATING_COLUMNS)} FROM ratings"  # noqa: S608


def rating_row(r: Rating) -> tuple[Any, ...]:
    return (
        r.ticket,
        r.score,
        r.matter,
        r.window,
        r.staff,
        r.at.isoformat(),
        r.issued_at.isoformat(),
        _ts(r.called_at),
        _ts(r.serving_at),
        _ts(r.finished_at),
        r.source,
    )


def rating_from_row(row: Row) -> Rating:
    ticket, score, matter, window, staff, at, issued_at, called_at, serving_at, finished_at, source = row
    return Rating(
        ticket=ticket,
        score=score,
        matter=matter,
        window=window,
        staff=staff,
        at=_req_dt(at),
        issued_at=_req_dt(issued_at),
        called_at=_dt(called_at),
        serving_at=_dt(serving_at),
        finished_at=_dt(finished_at),
        source=source,
    )


CASE_COLUMNS = [
    "id",
    "ticket",
    "score",
    "window",
    "staff",
    "matter",
    "opened_at",
    "due",
    "state",
    "steps",
    "closed_at",
]
CASE_SQL = _upsert("cases", CASE_COLUMNS, "id")
CASE_SELECT = f"SELECT {', '.join(CASE_COLUMNS)} FROM cases"  # noqa: S608


def case_row(c: Case) -> tuple[Any, ...]:
    steps = [[s.action.value, s.note, s.staff, s.at.isoformat()] for s in c.steps]
    return (
        c.id,
        c.ticket,
        c.score,
        c.window,
        c.staff,
        c.matter,
        c.opened_at.isoformat(),
        c.due.isoformat(),
        c.state.value,
        json.dumps(steps, ensure_ascii=False),
        _ts(c.closed_at),
    )


def case_from_row(row: Row) -> Case:
    id_, ticket, score, window, staff, matter, opened_at, due, state, steps, closed_at = row
    return Case(
        id=id_,
        ticket=ticket,
        score=score,
        window=window,
        staff=staff,
        matter=matter,
        opened_at=_req_dt(opened_at),
        due=dt.date.fromisoformat(due),
        state=CaseState(state),
        steps=[CaseStep(CaseAction(a), n, s, _req_dt(at)) for a, n, s, at in json.loads(steps)],
        closed_at=_dt(closed_at),
    )
