"""Bookings (预约): slots and quotas, per-person limits, cancelling, check-in on time, early or late."""

from __future__ import annotations

import datetime as dt

from hallcore import commands as c
from hallcore.engine import lookups
from hallcore.engine.issuing import check_caps, check_open_for, create_ticket, run_precheck
from hallcore.engine.state import APPOINTMENT, FROM_BOOKING, FROM_KIOSK, EngineState
from hallcore.engine.views import booking_event
from hallcore.model import Booking, BookingState
from hallcore.outcomes import Collector, Outcome, RefusalCode, Refused, refuse
from hallcore.precheck import PrecheckOutcome
from hallcore.privacy import mask_name


def slot_over(s: EngineState, day: dt.date, end: dt.time, now: dt.datetime) -> bool:
    """A slot of `day` ending at `end` is over at `now` (in the hall's time zone): it can no longer be booked,
    and the slot list leaves it out (Engine.slots with `now`)."""
    return dt.datetime.combine(day, end, s.calendar.tz) <= now


def book_slot(s: EngineState, cmd: c.BookSlot, now: dt.datetime, col: Collector) -> Outcome:
    m = s.config.matter_by_code.get(cmd.matter)
    if m is None:
        return refuse(RefusalCode.UNKNOWN_MATTER, f"没有事项 {cmd.matter}", f"unknown matter {cmd.matter!r}")
    if not m.bookable:
        return refuse(
            RefusalCode.NOT_BOOKABLE, f"{m.name}不可预约", f"{m.name_en or m.code} cannot be booked"
        )
    if cmd.code in s.bookings:
        return refuse(RefusalCode.DUPLICATE_CODE, "预约码重复", "duplicate booking code")
    today = s.calendar.business_day(now)
    cfg = s.config.booking
    if cmd.day > today + dt.timedelta(days=cfg.days_ahead):
        return refuse(
            RefusalCode.TOO_FAR_AHEAD,
            f"最多可预约 {cfg.days_ahead} 天内",
            f"bookings open {cfg.days_ahead} days ahead at most",
        )
    if not s.calendar.covers(cmd.day):
        return refuse(
            RefusalCode.SLOT_UNKNOWN,
            f"{cmd.day.year} 年的节假日安排尚未载入，{cmd.day} 暂不开放预约",
            f"the {cmd.day.year} holidays are not loaded yet: no bookings for {cmd.day}",
        )
    slot = next(((a, b) for a, b in s.slot_times(cmd.day) if a == cmd.slot_start), None)
    if slot is None:
        return refuse(
            RefusalCode.SLOT_UNKNOWN,
            f"{cmd.day} {cmd.slot_start:%H:%M} 不是可预约时段",
            f"{cmd.day} {cmd.slot_start:%H:%M} is not a bookable slot",
        )
    if slot_over(s, cmd.day, slot[1], now):
        return refuse(RefusalCode.IN_PAST, "该时段已过", "that slot is over")
    if s.slot_taken.get((m.code, cmd.day, slot[0]), 0) >= s.slot_quota(m.code):
        return refuse(RefusalCode.SLOT_FULL, "该时段已约满", "that slot is fully booked")
    iso = cmd.day.isocalendar()
    people = s.config.persons
    if (
        s.person_day.get((cmd.person_key, cmd.day), 0) >= people.bookings_per_day
        or s.person_week.get((cmd.person_key, iso.year, iso.week), 0) >= people.bookings_per_week
        or s.person_open.get(cmd.person_key, 0) >= people.bookings_open
    ):
        return refuse(
            RefusalCode.PERSON_LIMIT,
            f"每人每天最多预约 {people.bookings_per_day} 次、每周 {people.bookings_per_week} 次，"
            f"同时最多 {people.bookings_open} 个未办理的预约",
            f"at most {people.bookings_per_day} bookings a day, {people.bookings_per_week} a week and "
            f"{people.bookings_open} not yet used at a time per person",
        )
    b = Booking(
        code=cmd.code,
        matter=m.code,
        day=cmd.day,
        slot_start=slot[0],
        slot_end=slot[1],
        person_key=cmd.person_key,
        booked_at=now,
        holder_masked=mask_name(cmd.holder_name) if cmd.holder_name else "",
    )
    s.bookings[b.code] = b
    s.count_booking(b, +1)
    s.count_open(b, +1)
    col.bookings[b.code] = None
    col.events.append(booking_event(s, "booked", b, now))
    return col.accept()


def cancel_booking(s: EngineState, cmd: c.CancelBooking, now: dt.datetime, col: Collector) -> Outcome:
    b = lookups.booked(s, cmd.code)
    if isinstance(b, Refused):
        return b
    b.state = BookingState.CANCELLED
    s.count_booking(b, -1)
    s.count_open(b, -1)
    col.bookings[b.code] = None
    col.events.append(booking_event(s, "cancelled", b, now))
    return col.accept()


def check_in(s: EngineState, cmd: c.CheckIn, now: dt.datetime, col: Collector) -> Outcome:
    b = lookups.booked(s, cmd.code)
    if isinstance(b, Refused):
        return b
    today = s.calendar.business_day(now)
    if b.day != today:
        return refuse(
            RefusalCode.BOOKING_WRONG_DAY,
            f"您预约的是 {b.day:%m月%d日} {b.slot_start:%H:%M}，不是今天",
            f"your booking is for {b.day} {b.slot_start:%H:%M}, not today",
            day=b.day.isoformat(),
        )
    tz = s.calendar.tz
    start = dt.datetime.combine(b.day, b.slot_start, tz)
    end = dt.datetime.combine(b.day, b.slot_end, tz)
    early = dt.timedelta(minutes=s.config.booking.early_min)
    grace = dt.timedelta(minutes=s.config.booking.late_grace_min)
    if now < start - early:
        return refuse(
            RefusalCode.BOOKING_TOO_EARLY,
            f"请于 {(start - early):%H:%M} 后签到（预约时段 {b.slot_start:%H:%M}）",
            f"please check in after {(start - early):%H:%M} (slot {b.slot_start:%H:%M})",
            from_time=(start - early).isoformat(),
        )
    m = s.config.matter_by_code[b.matter]
    on_time = now <= end + grace
    if on_time:
        caps = check_caps(s, m, today)
    else:
        # Late: a walk-in like everyone else, so the hall's hours and caps apply (DESIGN.md §4) — except in a
        # session that takes no walk-ins of this series (5+1 Saturday): they booked, so they are served.
        session = s.calendar.session_at(now)
        series = s.config.series_by_prefix[m.series]
        booked_only = session is not None and not s.calendar.takes(session, series)
        caps = None if booked_only else check_open_for(s, m, FROM_KIOSK, now)
        caps = caps or check_caps(s, m, today)
    if caps is not None:
        return caps
    pre = run_precheck(s, m, cmd.answers, cmd.present, FROM_BOOKING, now)
    if isinstance(pre, Refused):
        return pre
    if pre is not None and pre.outcome is PrecheckOutcome.FAIL:
        return create_ticket(s, m, FROM_BOOKING, cmd.token, "", pre, "", b.code, now, col)
    priority = APPOINTMENT if on_time and APPOINTMENT in s.head_start_s else ""
    # Early: it waits like a walk-in until its slot starts, then its head start applies (DESIGN.md §4).
    slot_at = start if priority and now < start else None
    out = create_ticket(s, m, FROM_BOOKING, cmd.token, priority, pre, "", b.code, now, col, slot_at)
    assert out.ticket is not None
    out.ticket.holder_masked = b.holder_masked
    b.state = BookingState.CHECKED_IN
    s.count_open(b, -1)
    b.ticket = out.ticket.id
    col.bookings[b.code] = None
    col.events.append(booking_event(s, "checked_in", b, now))
    return col.accept(out.ticket, precheck=pre, estimate=out.estimate, ahead=out.ahead)
