"""Notices on the writer: opt-in and withdrawal (consent recorded, audited), and the rules' batch that queues
what is due in the outbox (hallcore/notices.py has the rules; hallserver/notify_send.py delivers).

- The number (or WeChat openid) lives only in `notice_subs.address`, shown masked everywhere, and is blanked
  as soon as no rule of the hall can still need it (`hallcore.notices.ticket_needs_address`), or at once on
  withdrawal; `number_key` (a keyed hash, never the number) counts the caps per number and day.
- A due notice enters the outbox (kind `notice`) under its key `<hall>:<ticket or booking>:<kind>`, unique,
  so a rule fires once per ticket through restarts and retries: the row is the record that it fired.
- Capped notices are written as discarded rows with the cap as the reason (seen in the outbox listing,
  never looked at again); a queue notice in quiet hours is not written, so it may fire after them.
- The batch reads the engine once per run (each line ordered once, `Engine.people_ahead_many`), so 200
  waiting with 50 subscribed costs the writer one sort per line, every `notify.batch_s` at most.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig
from hallcore.model import BookingState, TicketState
from hallcore.notices import (
    KINDS,
    TicketFacts,
    booking_due,
    cap_refusal,
    mask_address,
    notice_key,
    render,
    send_after,
    ticket_due,
    ticket_needs_address,
)
from hallcore.owed import item_names
from hallcore.replies import NoticeSub, NoticeWithdrawn
from hallserver.errors import ApiError
from hallserver.store import Job
from hallserver.writectx import Reply, WriteCtx, ok

#: States in which a ticket may still be opted in.
OPEN_STATES = frozenset(
    {TicketState.PENDING_PRINT, TicketState.WAITING, TicketState.CALLED, TicketState.SERVING}
)


def number_key(key: bytes, channel: str, address: str) -> str:
    """A keyed hash of a number or openid: caps count by it, and it outlives the number (never reversible)."""
    return hmac.new(key, f"notice\n{channel}\n{address}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class OptIn:
    ref: str  # a ticket id, or a booking code when `booking`
    channel: str  # sms | wechat
    address: str
    lang: str
    via: str  # desk | kiosk | phone | wechat
    station: str  # the station (or "public") that opted in
    booking: bool = False


def optin_job(o: OptIn, key: str) -> Job:
    """Subscribe a ticket (or booking): replaces its earlier subscription; refused when the number already
    serves `notify.optin_per_number_day` other tickets today."""

    def run(ctx: WriteCtx) -> Reply:
        cfg = ctx.store.config
        today = HallCalendar(cfg.hall).business_day(ctx.now)
        if o.booking:
            b = ctx.engine.bookings.get(o.ref)
            if b is None or b.state is not BookingState.BOOKED or b.day <= today:
                raise ApiError(
                    409, "not_subscribable", "该预约无法设置提醒", "only a future booking takes a reminder"
                )
        else:
            t = ctx.engine.tickets.get(o.ref)
            if t is None or t.state not in OPEN_STATES:
                raise ApiError(409, "not_subscribable", "该号已办结或不存在", "the ticket is not waiting")
        used = ctx.execute(
            "SELECT COUNT(DISTINCT ref) FROM notice_subs WHERE number_key = ? AND day = ? AND ref != ?",
            (key, today.isoformat(), o.ref),
        ).fetchone()[0]
        if used >= cfg.notify.optin_per_number_day:
            raise ApiError(
                429,
                "number_limit",
                "该号码今天已登记过多次提醒",
                f"this number already takes notices for {used} tickets today",
            )
        _withdraw(ctx, o.ref)
        masked = mask_address(o.channel, o.address)
        ctx.execute(
            "INSERT INTO notice_subs (ref, ref_kind, day, channel, address, masked, number_key, lang, via,"
            " consent_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                o.ref,
                "booking" if o.booking else "ticket",
                today.isoformat(),
                o.channel,
                o.address,
                masked,
                key,
                o.lang,
                o.via,
                ctx.now.isoformat(),
            ),
        )
        # The audit names the channel and who opted in; the masked number stays with the consent row (purged).
        ctx.audit(o.station, o.station, "notice_optin", o.ref, channel=o.channel, via=o.via)
        return ok(NoticeSub(o.ref, o.channel, masked, ctx.now))

    return Job(run)


def withdraw_job(ref: str, actor: str, station: str) -> Job:
    """Withdraw consent: the number is blanked at once and notices not yet sent are discarded."""

    def run(ctx: WriteCtx) -> Reply:
        n = _withdraw(ctx, ref)
        if n == 0:
            raise ApiError(404, "not_subscribed", "没有登记提醒", "no notices are set up for this")
        ctx.audit(actor, station, "notice_withdraw", ref)
        return ok(NoticeWithdrawn(ref, True))

    return Job(run)


def _withdraw(ctx: WriteCtx, ref: str) -> int:
    subs = [
        r[0] for r in ctx.execute("SELECT id FROM notice_subs WHERE ref = ? AND withdrawn_at IS NULL", (ref,))
    ]
    for sid in subs:
        ctx.execute(
            "UPDATE notice_subs SET withdrawn_at = ?, address = '', purged_at = ? WHERE id = ?",
            (ctx.now.isoformat(), ctx.now.isoformat(), sid),
        )
        ctx.execute(
            "UPDATE outbox SET discarded_at = ?, last_error = 'consent withdrawn' WHERE kind = 'notice'"
            " AND sent_at IS NULL AND discarded_at IS NULL AND claimed_at IS NULL"
            " AND json_extract(body, '$.sub') = ?",
            (ctx.now.isoformat(), sid),
        )
    return len(subs)


def sub_of(conn: sqlite3.Connection, ref: str) -> dict[str, Any] | None:
    """The live subscription of a ticket or booking, as screens may show it (masked)."""
    row = conn.execute(
        "SELECT channel, masked, lang, via, consent_at FROM notice_subs"
        " WHERE ref = ? AND withdrawn_at IS NULL",
        (ref,),
    ).fetchone()
    if row is None:
        return None
    return dict(zip(("channel", "masked", "lang", "via", "consent_at"), row, strict=True))


# ---- the rules' batch -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    queued: int
    live: int  # subscriptions still holding an address
    purged: int


def evaluate(ctx: WriteCtx) -> Batch:
    """On the writer: queue every notice now due for the live subscriptions; purge numbers no rule needs."""
    cfg: HallConfig = ctx.store.config
    ncfg = cfg.notify
    cal = HallCalendar(cfg.hall)
    now = ctx.now
    subs = ctx.execute(
        "SELECT id, ref, ref_kind, channel, number_key, lang FROM notice_subs"
        " WHERE address != '' AND withdrawn_at IS NULL"
    ).fetchall()
    if not subs:
        return Batch(0, 0, 0)
    refs = [s[1] for s in subs]
    fired = _fired(ctx.conn, cfg.hall.id, refs)
    tickets = [s[1] for s in subs if s[2] == "ticket"]
    # Positions only where the "ahead" rule may still fire (after it, the place in the line is not needed).
    open_ahead = [t for t in tickets if "ahead" not in fired.get(t, frozenset())]
    ahead = ctx.engine.people_ahead_many(open_ahead, now) if ncfg.enabled else {}
    minutes = _minutes(ctx, ncfg.rules.ahead, ncfg.rules.within_min, ahead, now)
    owed = _owed(ctx.conn, cfg, tickets)
    day_start = (
        dt.datetime.combine(cal.business_day(now), dt.time(0), cal.tz).astimezone(now.tzinfo).isoformat()
    )
    queued = purged = 0
    for sid, ref, ref_kind, channel, nkey, lang in subs:
        done = fired.get(ref, frozenset())
        due: list[tuple[str, dict[str, str]]] = []
        needs = True
        if ref_kind == "ticket":
            facts = _facts(ctx, ref, ahead, minutes, owed)
            if ncfg.enabled and facts is not None:
                due = [(d.kind, d.params) for d in ticket_due(ncfg, cal, facts, done, now)]
            needs = ticket_needs_address(ncfg, facts, done | {k for k, _ in due})
        else:
            b = ctx.engine.bookings.get(ref)
            booked = b is not None and b.state is BookingState.BOOKED
            if ncfg.enabled and b is not None and booking_due(ncfg, cal, b.day, booked, done, now):
                m = cfg.matter_by_code.get(b.matter)
                slot = f"{b.slot_start:%H:%M}-{b.slot_end:%H:%M}"
                due = [
                    ("booking", {"matter": m.name if m else b.matter, "day": b.day.isoformat(), "slot": slot})
                ]
            needs = booked and b is not None and "booking" not in done and not due and ncfg.rules.booking_eve
        for kind, params in due:
            after = send_after(ncfg, cal, kind, now)
            if after is None:
                needs = True  # a queue notice held back by quiet hours may still fire after them
                continue
            queued += _queue(ctx, cfg, sid, ref, channel, nkey, lang, kind, params, after, day_start)
        if not needs and not _unsent(ctx.conn, sid):
            ctx.execute(
                "UPDATE notice_subs SET address = '', purged_at = ? WHERE id = ?", (now.isoformat(), sid)
            )
            purged += 1
    return Batch(queued, len(subs) - purged, purged)


def _queue(
    ctx: WriteCtx,
    cfg: HallConfig,
    sid: int,
    ref: str,
    channel: str,
    nkey: str,
    lang: str,
    kind: str,
    params: dict[str, str],
    after: dt.datetime,
    day_start: str,
) -> int:
    params = {"hall": cfg.hall.name, **params}
    for_ticket = ctx.execute(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'notice' AND json_extract(body, '$.sub') = ?"
        " AND (discarded_at IS NULL OR last_error = 'consent withdrawn')",
        (sid,),
    ).fetchone()[0]
    for_number = ctx.execute(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'notice' AND json_extract(body, '$.sub') IN"
        " (SELECT id FROM notice_subs WHERE number_key = ?) AND discarded_at IS NULL AND at >= ?",
        (nkey, day_start),
    ).fetchone()[0]
    refusal = cap_refusal(cfg.notify, for_ticket, for_number)
    body = {
        "sub": sid,
        "ref": ref,
        "kind": kind,
        "channel": channel,
        "lang": lang,
        "params": params,
        "text": render(cfg.notify, lang, kind, params),
        "not_before": after.isoformat(),
    }
    cur = ctx.execute(
        "INSERT OR IGNORE INTO outbox (at, kind, key, body, discarded_at, last_error) VALUES (?,?,?,?,?,?)",
        (
            ctx.now.isoformat(),
            "notice",
            notice_key(cfg.hall.id, ref, kind),
            json.dumps(body, ensure_ascii=False),
            ctx.now.isoformat() if refusal else None,
            refusal,
        ),
    )
    return 0 if refusal else cur.rowcount


def _fired(conn: sqlite3.Connection, hall: str, refs: list[str]) -> dict[str, frozenset[str]]:
    """The kinds already queued (sent, pending, capped or discarded) per ticket or booking, by their keys."""
    out: dict[str, set[str]] = {}
    prefix = f"{hall}:"
    keys = [notice_key(hall, ref, kind) for ref in refs for kind in KINDS]
    for i in range(0, len(keys), 400):
        part = keys[i : i + 400]
        marks = ",".join("?" * len(part))
        for (key,) in conn.execute(
            f"SELECT key FROM outbox WHERE kind = 'notice' AND key IN ({marks})",  # noqa: S608 - placeholders
            tuple(part),
        ):
            ref, _, kind = key.removeprefix(prefix).rpartition(":")
            out.setdefault(ref, set()).add(kind)
    return {k: frozenset(v) for k, v in out.items()}


def _owed(
    conn: sqlite3.Connection, cfg: HallConfig, tickets: list[str]
) -> dict[str, tuple[tuple[str, ...], dt.date]]:
    """The 容缺 items still owed per subscribed ticket (hallserver/owed.py), and the due day."""
    if not tickets or cfg.notify.rules.owed_days <= 0:
        return {}
    marks = ",".join("?" * len(tickets))
    rows = conn.execute(
        f"SELECT ticket, matter, item, due FROM owed WHERE supplied_at IS NULL AND ticket IN ({marks})"  # noqa: S608
        " ORDER BY ticket, rowid",
        tuple(tickets),
    ).fetchall()
    out: dict[str, tuple[list[str], str, str]] = {}
    for ticket, matter, item, due in rows:
        out.setdefault(ticket, ([], matter, due))[0].append(item)
    return {
        t: (tuple(item_names(cfg.matter_by_code.get(m), items)), dt.date.fromisoformat(due))
        for t, (items, m, due) in out.items()
    }


def _facts(
    ctx: WriteCtx,
    ref: str,
    ahead: dict[str, int],
    minutes: dict[str, int | None],
    owed: dict[str, tuple[tuple[str, ...], dt.date]],
) -> TicketFacts | None:
    items, due = owed.get(ref, ((), None))
    t = ctx.engine.tickets.get(ref)
    if t is None:
        if not items:
            return None
        row = ctx.execute("SELECT label, state FROM tickets WHERE id = ?", (ref,)).fetchone()
        label, state = (row[0], row[1]) if row else (ref.rpartition("/")[2], "done")
        return TicketFacts(label, state, None, None, None, items, due)
    return TicketFacts(t.label, t.state.value, ahead.get(ref), minutes.get(ref), t.window, items, due)


def _minutes(
    ctx: WriteCtx, near: int, within: int, ahead: dict[str, int], now: dt.datetime
) -> dict[str, int | None]:
    """The estimate (minutes) of the waiting subscribed tickets that the "ahead" rule needs it for: those
    near enough to be told (`near`, for the text) and those that may be under `within` minutes. Each series'
    tickets are taken by places ahead, ascending, and stop at the first estimate over `within` (more people
    ahead never wait less), so a long line costs a few estimates, not one per subscribed ticket."""
    out: dict[str, int | None] = {}
    over: dict[str, int] = {}  # series -> the fewest ahead whose estimate is over `within`
    engine = ctx.engine
    for n, series, tid in sorted((n, engine.tickets[t].series, t) for t, n in ahead.items()):
        if n > near and (within <= 0 or n >= over.get(series, n + 1)):
            continue
        point = engine.estimate_for(series, n, now).point_min
        out[tid] = point
        if point is None or point > within:
            over.setdefault(series, n)
    return out


def _unsent(conn: sqlite3.Connection, sid: int) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM outbox WHERE kind = 'notice' AND json_extract(body, '$.sub') = ?"
            " AND sent_at IS NULL AND dead_at IS NULL AND discarded_at IS NULL LIMIT 1",
            (sid,),
        ).fetchone()
        is not None
    )


def evaluate_job() -> Job:
    def run(ctx: WriteCtx) -> Reply:
        b = evaluate(ctx)
        return ok({"queued": b.queued, "live": b.live, "purged": b.purged})

    return Job(run)
