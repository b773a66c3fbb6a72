"""Issuing tickets: hours, caps, the pre-check, numbering; print confirmation, voiding, cancelling and
the housekeeping tick."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hallcore import commands as c
from hallcore.config import Matter, Series
from hallcore.enginestate import (
    _BOOKING,
    _CANCELLED,
    _EXPIRED,
    _KIOSK,
    _PENDING,
    _VOIDED,
    _WAITING,
    APPOINTMENT,
    EngineState,
)
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
    wrong_state,
)
from hallcore.precheck import PrecheckInputError, PrecheckOutcome, PrecheckResult, evaluate
from hallcore.privacy import mask_name


class IssueRules(EngineState):
    # ---- issuing --------------------------------------------------------------------------------------

    def _check_open_for(self, m: Matter, source: Source, now: dt.datetime) -> Refused | None:
        day = self.calendar.business_day(now)
        series = self.config.series_by_prefix[m.series]
        if self.calendar.is_booking_only(day) and source is not _BOOKING:
            return refuse(
                RefusalCode.BOOKING_ONLY_DAY,
                "今天只办理已预约的事项，请预约后再来",
                "today only booked matters are served; please book a slot",
                next_opening=iso_or_none(self.calendar.next_opening(now, walk_ins_only=True)),
            )
        if not self._accepting_walk_ins(series, now):
            nxt = self.calendar.next_opening(now, walk_ins_only=True)
            when_zh = f"，下次取号时间 {fmt_local(self.calendar.local(nxt))}" if nxt else ""
            when_en = f"; next opening {fmt_local(self.calendar.local(nxt))}" if nxt else ""
            if (series.open or series.close) and self.calendar.accepting_walk_ins(now):
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
        return self._check_caps(m, day)

    def _accepting_walk_ins(self, series: Series, now: dt.datetime) -> bool:
        # Opening hours are whole minutes, so the answer cannot change within a minute: memoised per minute.
        key = (series.prefix, int(now.timestamp() // 60))
        ok = self._walk_in_memo.get(key)
        if ok is None:
            if len(self._walk_in_memo) > 4096:
                self._walk_in_memo.clear()
            ok = self.calendar.accepting_walk_ins(now, series)
            self._walk_in_memo[key] = ok
        return ok

    def _check_caps(self, m: Matter, day: dt.date) -> Refused | None:
        s = self.config.series_by_prefix[m.series]
        if m.daily_cap is not None and self._issued_matter.get((day, m.code), 0) >= m.daily_cap:
            return refuse(
                RefusalCode.CAP_REACHED,
                f"{m.name}今日号已取完（每日 {m.daily_cap} 个）",
                f"{m.name_en or m.code}: today's {m.daily_cap} numbers are all taken",
                cap=m.daily_cap,
            )
        if s.daily_cap is not None and self._issued_series.get((day, s.prefix), 0) >= s.daily_cap:
            return refuse(
                RefusalCode.CAP_REACHED,
                f"{s.name}今日号已取完（每日 {s.daily_cap} 个）",
                f"{s.name_en or s.prefix}: today's {s.daily_cap} numbers are all taken",
                cap=s.daily_cap,
            )
        return None

    def _run_precheck(
        self,
        m: Matter,
        answers: Any,
        present: frozenset[str] | None,
        source: Source,
        now: dt.datetime,
    ) -> PrecheckResult | Refused | None:
        has_items = bool(m.precheck.questions or m.precheck.materials)
        if answers is None and present is None:
            if source is _KIOSK and has_items:
                return refuse(
                    RefusalCode.PRECHECK_REQUIRED,
                    "请先完成预审",
                    "please answer the pre-check first",
                )
            return None
        try:
            return evaluate(
                m, answers or {}, present or frozenset(), self.calendar.business_day(now), self.calendar
            )
        except PrecheckInputError as exc:
            return refuse(RefusalCode.PRECHECK_INPUT, f"预审答案有误：{exc}", f"pre-check answers: {exc}")

    def _issue(self, cmd: c.IssueTicket, now: dt.datetime, col: Collector) -> Outcome:
        m = self.config.matter_by_code.get(cmd.matter)
        if m is None:
            return refuse(
                RefusalCode.UNKNOWN_MATTER, f"没有事项 {cmd.matter}", f"unknown matter {cmd.matter!r}"
            )
        if cmd.priority:
            pc = self.config.class_by_id.get(cmd.priority)
            if pc is None or (cmd.priority == APPOINTMENT and cmd.source is not _BOOKING):
                return refuse(
                    RefusalCode.UNKNOWN_PRIORITY,
                    f"没有优先类别 {cmd.priority}",
                    f"unknown priority class {cmd.priority!r}",
                )
        refusal = self._check_open_for(m, cmd.source, now)
        if refusal is not None:
            return refusal
        pre = self._run_precheck(m, cmd.answers, cmd.present, cmd.source, now)
        if isinstance(pre, Refused):
            return pre
        return self._create_ticket(m, cmd.source, cmd.token, cmd.priority, pre, cmd.holder_name, "", now, col)

    def _create_ticket(
        self,
        m: Matter,
        source: Source,
        token: str,
        priority: str,
        pre: PrecheckResult | None,
        holder_name: str,
        booking: str,
        now: dt.datetime,
        col: Collector,
    ) -> Accepted:
        if pre is not None:
            col.events.append(
                PrecheckRecorded(
                    now, m.code, m.name, pre.outcome.value, tuple(i.id for i in pre.missing), source
                )
            )
            if pre.outcome is PrecheckOutcome.FAIL:
                return self._done(col, precheck=pre)
        day = self.calendar.business_day(now)
        series = self.config.series_by_prefix[m.series]
        number = self._last_number.get((day, series.prefix), 0) + 1
        self._last_number[(day, series.prefix)] = number
        label = f"{series.prefix}{number:0{series.number_width}d}"
        self._seq += 1
        tolerated = pre is not None and pre.outcome is PrecheckOutcome.TOLERATED
        t = Ticket(
            id=f"{day.isoformat()}/{label}",
            day=day,
            series=series.prefix,
            number=number,
            label=label,
            matter=m.code,
            source=source,
            priority=priority,
            state=_PENDING if source is _KIOSK else _WAITING,
            issued_at=now,
            since=now,
            key=(now.timestamp(), self._seq, 0),
            token=token,
            precheck=pre.outcome.value if pre else "",
            missing=tuple(i.id for i in pre.missing) if (pre and tolerated) else (),
            due=pre.due if (pre and tolerated) else None,
            holder_masked=mask_name(holder_name) if holder_name else "",
            booking=booking,
        )
        line = self._line_of(t)
        ahead = line.ahead_of_new(self._rank_of(t))
        est = self.estimate_new(t, ahead, now)
        self._note_arrival(t)
        t.ahead_at_issue = ahead
        t.estimate_low, t.estimate_high, t.estimate_point = est.low_min, est.high_min, est.point_min
        self.tickets[t.id] = t
        self._by_label[(day, label)] = t.id
        self._count_issue(t, +1)
        self._live[t.id] = None
        if t.state is _PENDING:
            self._pending[t.id] = None
        else:
            self._enqueue(t)
        col.tickets[t.id] = None
        col.events.append(
            TicketIssued(now, self._tview(t), ahead, est.low_min, est.high_min, self._waiting_of(t.series))
        )
        return self._done(col, t, precheck=pre, estimate=est, ahead=ahead)

    def _confirm_print(self, cmd: c.ConfirmPrint, now: dt.datetime, col: Collector) -> Outcome:
        t = self._ticket(cmd.ticket, now)
        if isinstance(t, Refused):
            return t
        if t.state is not _PENDING:
            return wrong_state(t, _PENDING)
        del self._pending[t.id]
        t.state = _WAITING
        self._enqueue(t)
        self._ticket_event("printed", t, now, col)
        return self._done(col, t)

    def _void(self, cmd: c.VoidTicket, now: dt.datetime, col: Collector) -> Outcome:
        t = self._ticket(cmd.ticket, now)
        if isinstance(t, Refused):
            return t
        if t.state is not _PENDING:
            return wrong_state(t, _PENDING)
        self._void_pending(t, now, cmd.reason, col)
        return self._done(col, t)

    def _void_pending(self, t: Ticket, now: dt.datetime, reason: str, col: Collector) -> None:
        del self._pending[t.id]
        self._live.pop(t.id, None)
        t.state = _VOIDED
        t.ended_at = now
        self._count_issue(t, -1)  # a number never printed does not use up the day's cap
        self._ticket_event("voided", t, now, col, note=reason)

    def _cancel(self, cmd: c.CancelTicket, now: dt.datetime, col: Collector) -> Outcome:
        t = self._ticket(cmd.ticket, now)
        if isinstance(t, Refused):
            return t
        if t.state not in (_WAITING, _PENDING):
            return wrong_state(t, _WAITING, _PENDING)
        if t.state is _WAITING:
            self._dequeue(t)
        else:
            del self._pending[t.id]
        self._live.pop(t.id, None)
        t.state = _CANCELLED
        t.ended_at = now
        self._ticket_event("cancelled", t, now, col, note=cmd.reason)
        return self._done(col, t)

    def _tick(self, _cmd: c.Tick, now: dt.datetime, col: Collector) -> Outcome:
        timeout = dt.timedelta(seconds=self.config.kiosk.print_confirm_timeout_s)
        for tid in list(self._pending):
            t = self.tickets[tid]
            if now - t.issued_at < timeout:
                break  # oldest first: the rest are younger
            self._void_pending(t, now, "print not confirmed", col)
        today = self.calendar.business_day(now)
        closes = self.calendar.closes_at(today)
        after_close = closes is not None and now >= closes
        if self.config.hall.expire_at_close:
            for tid in list(self._live):
                t = self.tickets[tid]
                if t.state is _WAITING and (t.day < today or (after_close and t.day == today)):
                    self._dequeue(t)
                    self._live.pop(tid, None)
                    t.state = _EXPIRED
                    t.ended_at = now
                    self._ticket_event("expired", t, now, col)
        for b in self.bookings.values():
            if b.state is BookingState.BOOKED and (b.day < today or (after_close and b.day == today)):
                b.state = BookingState.MISSED
                col.bookings[b.code] = None
                col.events.append(self._booking_event("missed", b, now))
        return self._done(col)
