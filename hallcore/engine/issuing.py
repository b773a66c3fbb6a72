"""Issuing tickets: hours, caps, the pre-check, numbering; print confirmation, voiding, cancelling and
the housekeeping tick."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hallcore import commands as c
from hallcore import identity
from hallcore.config import AtClose, Matter, Series
from hallcore.engine import lookups, persons, waits
from hallcore.engine.state import (
    APPOINTMENT,
    CANCELLED,
    CLOSED,
    EXPIRED,
    FROM_BOOKING,
    FROM_DESK,
    FROM_KIOSK,
    PENDING,
    VOIDED,
    WAITING,
    EngineState,
)
from hallcore.engine.views import booking_event, ticket_event, ticket_view
from hallcore.events import PrecheckRecorded, TicketIssued
from hallcore.model import BookingState, Source, Ticket
from hallcore.outcomes import (
    Accepted,
    Collector,
    Outcome,
    RefusalCode,
    Refused,
    fmt_local,
    iso_or_none,
    refuse,
)
from hallcore.precheck import PrecheckInputError, PrecheckOutcome, PrecheckResult, evaluate
from hallcore.privacy import mask_name


def check_open_for(s: EngineState, m: Matter, source: Source, now: dt.datetime) -> Refused | None:
    day = s.calendar.business_day(now)
    series = s.config.series_by_prefix[m.series]
    desk = source is FROM_DESK
    session = s.calendar.session_at(now)
    if session is not None and not desk and source is not FROM_BOOKING and not session.walk_ins:
        return refuse(
            RefusalCode.BOOKING_ONLY_DAY,
            "现在只办理已预约的事项，请预约后再来",
            "only booked matters are served now; please book a slot",
            next_opening=iso_or_none(s.calendar.next_opening(now, walk_ins_only=True, series=series)),
        )
    if not accepting_walk_ins(s, series, now, desk=desk):
        nxt = s.calendar.next_opening(now, walk_ins_only=not desk, series=None if desk else series)
        when_zh = f"，下次取号时间 {fmt_local(s.calendar.local(nxt))}" if nxt else ""
        when_en = f"; next opening {fmt_local(s.calendar.local(nxt))}" if nxt else ""
        if session is not None and not desk and not s.calendar.takes(session, series):
            # A 5+1 Saturday: walk-ins only for the matters on duty and 咨询.
            names = "、".join(s.config.series_by_prefix[p].name for p in session.walk_in_series)
            return refuse(
                RefusalCode.SERIES_CLOSED,
                f"{series.name}现在只受理预约；现场取号仅限：{names}{when_zh}",
                f"{series.name_en or series.prefix} takes bookings only now; walk-ins: "
                f"{', '.join(session.walk_in_series)}{when_en}",
                hours="",
                next_opening=iso_or_none(nxt),
            )
        if (series.open or series.close) and s.calendar.accepting_walk_ins(now, desk=desk):
            # The hall is open; only this series keeps shorter hours.
            hours = f"{(series.open or dt.time(0)):%H:%M}–{(series.close or dt.time(23, 59)):%H:%M}"
            return refuse(
                RefusalCode.SERIES_CLOSED,
                f"{series.name}只在 {hours} 取号",
                f"{series.name_en or series.prefix} issues tickets {hours} only",
                hours=hours,
            )
        return refuse(
            RefusalCode.HALL_CLOSED,
            f"{series.name}现在不取号{when_zh}",
            f"{series.name_en or series.prefix} is not issuing tickets now{when_en}",
            next_opening=iso_or_none(nxt),
        )
    return check_caps(s, m, day)


def accepting_walk_ins(s: EngineState, series: Series, now: dt.datetime, *, desk: bool = False) -> bool:
    # Opening hours are whole minutes, so the answer cannot change within a minute: memoised per minute.
    key = (series.prefix, int(now.timestamp() // 60), desk)
    ok = s.walk_in_memo.get(key)
    if ok is None:
        if len(s.walk_in_memo) > 4096:
            s.walk_in_memo.clear()
        ok = s.calendar.accepting_walk_ins(now, series, desk=desk)
        s.walk_in_memo[key] = ok
    return ok


def check_caps(s: EngineState, m: Matter, day: dt.date) -> Refused | None:
    series = s.config.series_by_prefix[m.series]
    if m.daily_cap is not None and s.issued_matter.get((day, m.code), 0) >= m.daily_cap:
        return _cap_reached(m.name, m.name_en or m.code, m.daily_cap)
    if series.daily_cap is not None and s.issued_series.get((day, series.prefix), 0) >= series.daily_cap:
        return _cap_reached(series.name, series.name_en or series.prefix, series.daily_cap)
    return None


def _cap_reached(name: str, name_en: str, cap: int) -> Refused:
    return refuse(
        RefusalCode.CAP_REACHED,
        f"{name}今日号已取完（每日 {cap} 个）",
        f"{name_en}: today's {cap} numbers are all taken",
        cap=cap,
    )


def run_precheck(
    s: EngineState,
    m: Matter,
    answers: Any,
    present: frozenset[str] | None,
    source: Source,
    now: dt.datetime,
) -> PrecheckResult | Refused | None:
    has_items = bool(m.precheck.questions or m.precheck.materials)
    if answers is None and present is None:
        if source is FROM_KIOSK and has_items:
            return refuse(
                RefusalCode.PRECHECK_REQUIRED,
                "请先完成预审",
                "please answer the pre-check first",
            )
        return None
    try:
        return evaluate(m, answers or {}, present or frozenset(), s.calendar.business_day(now), s.calendar)
    except PrecheckInputError as exc:
        return refuse(RefusalCode.PRECHECK_INPUT, f"预审答案有误：{exc}", f"pre-check answers: {exc}")


def issue_ticket(s: EngineState, cmd: c.IssueTicket, now: dt.datetime, col: Collector) -> Outcome:
    m = s.config.matter_by_code.get(cmd.matter)
    if m is None:
        return refuse(RefusalCode.UNKNOWN_MATTER, f"没有事项 {cmd.matter}", f"unknown matter {cmd.matter!r}")
    if cmd.priority:
        pc = s.config.class_by_id.get(cmd.priority)
        if pc is None or (cmd.priority == APPOINTMENT and cmd.source is not FROM_BOOKING):
            return refuse(
                RefusalCode.UNKNOWN_PRIORITY,
                f"没有优先类别 {cmd.priority}",
                f"unknown priority class {cmd.priority!r}",
            )
    refusal = check_open_for(s, m, cmd.source, now)
    if refusal is not None:
        return refusal
    pre = run_precheck(s, m, cmd.answers, cmd.present, cmd.source, now)
    if isinstance(pre, Refused):
        return pre
    priority, carded = cmd.priority, None
    if cmd.person is not None:
        # 代办 as the pre-check answers say it (or as the desk declared it): the card read is the agent's.
        agent = cmd.agent or (pre is not None and pre.agent)
        found = persons.decide(s, m, cmd.person, cmd.principal, agent, now)
        if isinstance(found, Refused):
            return found
        carded = found
        # The card decides the age class: it is verified, so a claim of it is replaced by what the card says.
        elder = s.config.identity.elder_class
        if carded.age_class and not priority:
            priority = carded.age_class
        elif priority == elder and not carded.age_class:
            priority = ""
    return create_ticket(
        s, m, cmd.source, cmd.token, priority, pre, cmd.holder_name, "", now, col, carded=carded
    )


def create_ticket(
    s: EngineState,
    m: Matter,
    source: Source,
    token: str,
    priority: str,
    pre: PrecheckResult | None,
    holder_name: str,
    booking: str,
    now: dt.datetime,
    col: Collector,
    slot_at: dt.datetime | None = None,
    *,
    carded: persons.Carded | None = None,
) -> Accepted:
    if pre is not None:
        col.events.append(
            PrecheckRecorded(
                now, m.code, m.name, pre.outcome.value, tuple(i.id for i in pre.missing), source, pre.agent
            )
        )
        if pre.outcome is PrecheckOutcome.FAIL:
            return col.accept(precheck=pre)
    day = s.calendar.business_day(now)
    series = s.config.series_by_prefix[m.series]
    number = s.last_number.get((day, series.prefix), 0) + 1
    s.last_number[(day, series.prefix)] = number
    label = f"{series.prefix}{number:0{series.number_width}d}"
    s.seq += 1
    tolerated = pre is not None and pre.outcome is PrecheckOutcome.TOLERATED
    since = now
    if source is not FROM_BOOKING:
        # A booked-first session (5+1 Saturday): walk-ins count from its close, so everyone booked goes first.
        after = s.calendar.booked_first_until(now)
        since = max(now, after) if after is not None else now
    t = Ticket(
        id=f"{day.isoformat()}/{label}",
        day=day,
        series=series.prefix,
        number=number,
        label=label,
        matter=m.code,
        source=source,
        priority=priority,
        state=PENDING if source is FROM_KIOSK else WAITING,
        issued_at=now,
        since=since,
        key=(since.timestamp(), s.seq, 0),
        token=token,
        precheck=pre.outcome.value if pre else "",
        missing=tuple(i.id for i in pre.missing) if (pre and tolerated) else (),
        due=pre.due if (pre and tolerated) else None,
        holder_masked=mask_name(holder_name) if holder_name else "",
        booking=booking,
        slot_at=slot_at,
        claimed=priority,
    )
    if carded is not None:
        t.identity, t.person_key, t.agent_key = carded.identity, carded.person_key, carded.agent_key
        t.id_last4, t.age_band = carded.last4, carded.age_band
        if priority and priority == carded.age_class:
            t.class_check = identity.VERIFIED
    ahead = s.ahead_of_new(t, now)
    est = waits.estimate_new(s, t, ahead, now)
    waits.note_arrival(s, t)
    t.ahead_at_issue = ahead
    t.estimate_low, t.estimate_high, t.estimate_point = est.low_min, est.high_min, est.point_min
    s.tickets[t.id] = t
    s.by_label[(day, label)] = t.id
    s.count_issue(t, +1)
    s.live[t.id] = None
    if t.state is PENDING:
        s.pending[t.id] = None
    else:
        s.enqueue(t)
    col.tickets[t.id] = None
    col.events.append(
        TicketIssued(now, ticket_view(s, t), ahead, est.low_min, est.high_min, s.waiting_of(t.series))
    )
    return col.accept(t, precheck=pre, estimate=est, ahead=ahead)


def _expiring(s: EngineState, today: dt.date, now: dt.datetime) -> list[Ticket]:
    """Tickets waiting that the day or the session left behind (延时服务, DOMAIN.md): one of an earlier day
    always; one of today once no session is open and no window that would call it is open (open or paused),
    unless `hall.at_close = "carry"` and a later session today will take it."""
    if not s.live:
        return []
    opens = s.calendar.opens_at(today)
    between = s.calendar.session_at(now) is None and (opens is None or now >= opens)
    if between and s.config.hall.at_close is AtClose.CARRY and s.calendar.later_session_today(now):
        between = False
    served: set[str] = set()
    named: set[int] = set()
    if between:
        for number, rt in s.windows.items():
            if rt.state is not CLOSED:
                served.update(s.series_of_window(number))
                named.update(s.named_lines_of(number))
    out = []
    for tid in s.live:
        t = s.tickets[tid]
        if t.state is not WAITING:
            continue
        if t.day < today:
            out.append(t)
        elif between and t.day == today:
            still = t.target_window in named if t.target_window is not None else t.series in served
            if not still:
                out.append(t)
    return out


def confirm_print(s: EngineState, cmd: c.ConfirmPrint, now: dt.datetime, col: Collector) -> Outcome:
    t = lookups.ticket_in(s, cmd.ticket, now, PENDING)
    if isinstance(t, Refused):
        return t
    del s.pending[t.id]
    t.state = WAITING
    s.enqueue(t)
    ticket_event(s, "printed", t, now, col)
    return col.accept(t)


def void_ticket(s: EngineState, cmd: c.VoidTicket, now: dt.datetime, col: Collector) -> Outcome:
    t = lookups.ticket_in(s, cmd.ticket, now, PENDING)
    if isinstance(t, Refused):
        return t
    void_pending(s, t, now, cmd.reason, col)
    return col.accept(t)


def void_pending(s: EngineState, t: Ticket, now: dt.datetime, reason: str, col: Collector) -> None:
    del s.pending[t.id]
    s.live.pop(t.id, None)
    t.state = VOIDED
    t.ended_at = now
    s.count_issue(t, -1)  # a number never printed does not use up the day's cap
    ticket_event(s, "voided", t, now, col, note=reason)


def cancel_ticket(s: EngineState, cmd: c.CancelTicket, now: dt.datetime, col: Collector) -> Outcome:
    t = lookups.ticket_in(s, cmd.ticket, now, WAITING, PENDING)
    if isinstance(t, Refused):
        return t
    if t.state is WAITING:
        s.dequeue(t)
    else:
        del s.pending[t.id]
    s.live.pop(t.id, None)
    t.state = CANCELLED
    t.ended_at = now
    ticket_event(s, "cancelled", t, now, col, note=cmd.reason)
    return col.accept(t)


def tick(s: EngineState, _cmd: c.Tick, now: dt.datetime, col: Collector) -> Outcome:
    timeout = dt.timedelta(seconds=s.config.kiosk.print_confirm_timeout_s)
    for tid in list(s.pending):
        t = s.tickets[tid]
        if now - t.issued_at < timeout:
            break  # oldest first: the rest are younger
        void_pending(s, t, now, "print not confirmed", col)
    today = s.calendar.business_day(now)
    closes = s.calendar.closes_at(today)
    after_close = closes is not None and now >= closes
    for t in _expiring(s, today, now):
        s.dequeue(t)
        s.live.pop(t.id, None)
        t.state = EXPIRED
        t.ended_at = now
        ticket_event(s, "expired", t, now, col, note="hall closed" if t.day == today else "day over")
    for b in s.bookings.values():
        if b.state is BookingState.BOOKED and (b.day < today or (after_close and b.day == today)):
            b.state = BookingState.MISSED
            s.count_open(b, -1)
            col.bookings[b.code] = None
            col.events.append(booking_event(s, "missed", b, now))
    return col.accept()
