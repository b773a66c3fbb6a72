"""The 容缺 register on disk (hallcore/owed.py has the rules; docs/api.md "容缺 register").

One row per owed item in `owed`, written with the ticket in the issuing transaction (hallserver/writectx.py),
so a 容缺 ticket never exists without its entry. Staff at the desk or a counter mark items supplied
(`supply`, audited); the dashboard lists the overdue entries with the holder's masked name and the
matter; the statistics tally how the entries opened in a period ended.

A ticket that was voided (never printed) or cancelled before anyone handled it owes nothing: its entry is
left out of the lists and the figures (the rows stay, like the ticket's).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from hallcore.calendar import Deadline, HallCalendar
from hallcore.config import HallConfig
from hallcore.owed import STATE_NAMES, OwedState, RegisterTally, entry_state, tally
from hallcore.replies import OwedItemView, OwedView, Supplied
from hallserver.errors import ApiError
from hallserver.writectx import Reply, WriteCtx, ok

_SELECT = """SELECT o.ticket, COALESCE(t.label, ''), o.matter, COALESCE(t.holder_masked, ''), o.opened_at,
                     o.due, o.pledge, o.item, o.name, o.supplied_at, o.supplied_by
              FROM owed o LEFT JOIN tickets t ON t.id = o.ticket
              WHERE COALESCE(t.state, '') NOT IN ('voided', 'cancelled')"""


def list_entries(
    conn: sqlite3.Connection,
    config: HallConfig,
    today: dt.date,
    *,
    tickets: Sequence[str] | None = None,
    days: tuple[dt.date, dt.date] | None = None,
    owing: bool = False,
) -> list[OwedView]:
    """The register's entries, oldest due first: those of `tickets`, or of tickets of the business `days`
    (first, last), or — with `owing` — every entry that still owes something."""
    sql, params = _SELECT, []
    if tickets is not None:
        sql += f" AND o.ticket IN ({','.join('?' * len(tickets))})"
        params += list(tickets)
    if days is not None:
        # A ticket id starts with its business day (hallcore/engine/issuing.py).
        sql += " AND substr(o.ticket, 1, 10) BETWEEN ? AND ?"
        params += [d.isoformat() for d in days]
    if owing:
        sql += " AND o.ticket IN (SELECT ticket FROM owed WHERE supplied_at IS NULL)"
    sql += " ORDER BY o.due, o.opened_at, o.ticket, o.rowid"
    cal = HallCalendar(config.hall)
    grouped: dict[str, list[Any]] = {}
    for row in conn.execute(sql, params):
        grouped.setdefault(row[0], []).append(row)
    out = []
    for ticket, rows in grouped.items():
        _, label, matter, holder, opened_at, due_s, pledge, *_ = rows[0]
        due = dt.date.fromisoformat(due_s)
        items = tuple(OwedItemView(r[7], r[8], r[9], r[10]) for r in rows)
        supplied = [
            cal.business_day(dt.datetime.fromisoformat(i.supplied_at)) if i.supplied_at else None
            for i in items
        ]
        m = config.matter_by_code.get(matter)
        state = entry_state(due, supplied, today)
        opened_day = cal.business_day(dt.datetime.fromisoformat(opened_at))
        estimated = not cal.covers_span(opened_day, due)
        left = Deadline(due, cal.working_days_between(today, due), estimated)
        out.append(
            OwedView(
                ticket=ticket,
                label=label or ticket.rsplit("/", 1)[-1],
                matter=matter,
                matter_name=m.name if m else matter,
                holder=holder,
                opened_at=opened_at,
                due=due,
                pledge=bool(pledge),
                state=state.value,
                state_name=STATE_NAMES[state],
                days_left=left.working_days,
                items=items,
                estimated=estimated,
                due_text=left.text(),
            )
        )
    return out


def register_tally(
    conn: sqlite3.Connection, config: HallConfig, first: dt.date, last: dt.date, today: dt.date
) -> RegisterTally:
    """How the entries of the tickets of days `first`..`last` stand on `today`: supplied on time, late,
    never (past due and still owed), still open."""
    entries = list_entries(conn, config, today, days=(first, last))
    return tally(OwedState(e.state) for e in entries)


def supply(
    ticket_id: str, items: Sequence[str] | None, actor: str, station: str
) -> Callable[[WriteCtx], Reply]:
    """Mark owed items of `ticket_id` supplied (`items`, or all when None); supplying an item twice keeps
    the first time. Unknown ticket → 404 `not_owed`; an item the ticket does not owe → 422, nothing marked."""

    def run(ctx: WriteCtx) -> Reply:
        config = ctx.store.config
        today = HallCalendar(config.hall).business_day(ctx.now)
        found = list_entries(ctx.conn, config, today, tickets=[ticket_id])
        if not found:
            raise ApiError(
                404,
                "not_owed",
                "这张号票没有容缺待补材料",
                f"ticket {ticket_id!r} owes nothing: not issued under 容缺, or voided or cancelled since",
            )
        owed = {i.id: i.supplied_at for i in found[0].items}
        wanted = list(owed) if items is None else list(dict.fromkeys(items))
        unknown = [i for i in wanted if i not in owed]
        if unknown or not wanted:
            raise ApiError(
                422,
                "invalid_field",
                f"这张号票不欠这些材料：{'、'.join(unknown) or '（未指定）'}",
                f"ticket {ticket_id!r} owes only {', '.join(owed)}; got {', '.join(unknown) or 'no items'}",
                {"owed": list(owed), "unknown": unknown},
            )
        fresh = [i for i in wanted if owed[i] is None]
        for item in fresh:
            ctx.execute(
                "UPDATE owed SET supplied_at = ?, supplied_by = ? WHERE ticket = ? AND item = ?",
                (ctx.now.isoformat(), actor, ticket_id, item),
            )
        if fresh:
            ctx.audit(actor, station, "owed_supplied", ticket_id, items=fresh)
        (entry,) = list_entries(ctx.conn, config, today, tickets=[ticket_id])
        return ok(Supplied(entry, tuple(fresh)))

    return run
