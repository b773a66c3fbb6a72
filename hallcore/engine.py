"""The queue engine: `Engine.handle(command, now) -> Accepted | Refused`.

Pure in the sense of DESIGN.md §4: deterministic, no I/O, no wall clock — `now` is passed in. It keeps
mutable, indexed state (dicts and heaps) so that issuing and calling stay O(log n). Every command is validated
completely *before* anything changes, so a refusal leaves the state exactly as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hallcore import commands as c
from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig, Matter, Series, Window
from hallcore.estimates import HandleTimes, WaitEstimate, estimate_wait, window_capacity
from hallcore.events import (
    BookingChanged,
    CaseChanged,
    Event,
    PrecheckRecorded,
    RatingRecorded,
    TicketChanged,
    TicketIssued,
    TicketView,
    WindowChanged,
    WindowView,
)
from hallcore.model import (
    AT_WINDOW,
    BAD_SCORES,
    SCORE_NAMES,
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
from hallcore.ordering import NORMAL_RANK, Line, oldest, order_of, top
from hallcore.precheck import PrecheckInputError, PrecheckOutcome, PrecheckResult, evaluate
from hallcore.privacy import mask_name

# Enum members as module constants: attribute access on an Enum class is a descriptor call, and
# these are read on every command.
_PENDING = TicketState.PENDING_PRINT
_WAITING = TicketState.WAITING
_CALLED = TicketState.CALLED
_SERVING = TicketState.SERVING
_DONE = TicketState.DONE
_NO_SHOW = TicketState.NO_SHOW
_CANCELLED = TicketState.CANCELLED
_VOIDED = TicketState.VOIDED
_EXPIRED = TicketState.EXPIRED
_OPEN = WindowState.OPEN
_CLOSED = WindowState.CLOSED
_PAUSED = WindowState.PAUSED
_KIOSK = Source.KIOSK
_BOOKING = Source.BOOKING

APPOINTMENT = "appointment"


class RefusalCode(StrEnum):
    UNKNOWN_MATTER = "unknown_matter"
    UNKNOWN_WINDOW = "unknown_window"
    UNKNOWN_TICKET = "unknown_ticket"
    UNKNOWN_SERIES = "unknown_series"
    UNKNOWN_PRIORITY = "unknown_priority"
    UNKNOWN_BOOKING = "unknown_booking"
    UNKNOWN_CASE = "unknown_case"
    WINDOW_CLOSED = "window_closed"
    WINDOW_PAUSED = "window_paused"
    WINDOW_BUSY = "window_busy"
    WINDOW_NOT_IDLE = "window_not_idle"
    NO_CURRENT_TICKET = "no_current_ticket"
    WRONG_STATE = "wrong_state"
    NOTHING_WAITING = "nothing_waiting"
    HALL_CLOSED = "hall_closed"
    SERIES_CLOSED = "series_closed"
    BOOKING_ONLY_DAY = "booking_only_day"
    CAP_REACHED = "cap_reached"
    PRECHECK_REQUIRED = "precheck_required"
    PRECHECK_INPUT = "precheck_input"
    RECALLS_NOT_EXHAUSTED = "recalls_not_exhausted"
    NOT_SERVED = "not_served"
    ALREADY_RATED = "already_rated"
    BAD_SCORE = "bad_score"
    REASON_REQUIRED = "reason_required"
    UNKNOWN_PAUSE_REASON = "unknown_pause_reason"
    NOT_PARTNER = "not_partner"
    BAD_TARGET = "bad_target"
    SLOT_UNKNOWN = "slot_unknown"
    SLOT_FULL = "slot_full"
    PERSON_LIMIT = "person_limit"
    IN_PAST = "in_past"
    TOO_FAR_AHEAD = "too_far_ahead"
    NOT_BOOKABLE = "not_bookable"
    DUPLICATE_CODE = "duplicate_code"
    BOOKING_TOO_EARLY = "booking_too_early"
    BOOKING_WRONG_DAY = "booking_wrong_day"
    BOOKING_STATE = "booking_state"
    BAD_TRANSITION = "bad_transition"
    NOT_SAME_DAY = "not_same_day"


@dataclass(slots=True)
class Refused:
    """A typed refusal: nothing changed. `message` is for people (zh), `message_en` its English."""

    code: RefusalCode
    message: str
    message_en: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return False


@dataclass(slots=True)
class Changes:
    """Which rows the command touched, so the store writes exactly those in the command's transaction."""

    tickets: tuple[str, ...] = ()
    windows: tuple[int, ...] = ()
    bookings: tuple[str, ...] = ()
    ratings: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()


@dataclass(slots=True)
class Accepted:
    events: tuple[Event, ...]
    changes: Changes
    ticket: Ticket | None = None  # the ticket issued, called or acted on, if any
    precheck: PrecheckResult | None = None
    estimate: WaitEstimate | None = None
    ahead: int | None = None

    @property
    def accepted(self) -> bool:
        return True


Outcome = Accepted | Refused


def _refuse(code: RefusalCode, zh: str, en: str, **detail: Any) -> Refused:
    return Refused(code, zh, en, detail)


class _Collector:
    """Collects events and touched rows while one command is applied."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.tickets: dict[str, None] = {}
        self.windows: dict[int, None] = {}
        self.bookings: dict[str, None] = {}
        self.ratings: dict[str, None] = {}
        self.cases: dict[str, None] = {}

    def changes(self) -> Changes:
        return Changes(
            tuple(self.tickets),
            tuple(self.windows),
            tuple(self.bookings),
            tuple(self.ratings),
            tuple(self.cases),
        )


class Engine:
    """Holds a hall's live queue state and applies commands to it. Build one per hall; restore with `load`."""

    def __init__(self, config: HallConfig) -> None:
        self.config = config
        self.calendar = HallCalendar(config.hall)
        self.tickets: dict[str, Ticket] = {}
        self.windows: dict[int, WindowRuntime] = {w.number: WindowRuntime(w.number) for w in config.windows}
        self.bookings: dict[str, Booking] = {}
        self.ratings: dict[str, Rating] = {}
        self.cases: dict[str, Case] = {}
        self.handle_times = HandleTimes.from_matters(config.matters)
        self._lines: dict[str, Line] = {s.prefix: Line() for s in config.series}
        self._window_lines: dict[int, Line] = {w.number: Line() for w in config.windows}
        self._last_number: dict[tuple[dt.date, str], int] = {}
        self._issued_matter: dict[tuple[dt.date, str], int] = {}  # not counting voided tickets
        self._issued_series: dict[tuple[dt.date, str], int] = {}
        self._by_label: dict[tuple[dt.date, str], str] = {}
        self._slot_taken: dict[tuple[str, dt.date, dt.time], int] = {}
        self._person_day: dict[tuple[str, dt.date], int] = {}
        self._person_week: dict[tuple[str, int, int], int] = {}
        self._pending: dict[str, None] = {}  # pending_print ticket ids, oldest first
        self._live: dict[str, None] = {}  # waiting/called/serving/pending: candidates for expiry
        self._seq = 0
        self._requeue_seq = 0
        self._rank = {pc.id: pc.rank for pc in config.priority_classes}
        self._capacity: dict[str, float] = {}
        self._handle_stats: dict[str, tuple[float, float]] = {}
        self._walk_in_memo: dict[tuple[str, int], bool] = {}
        self._handlers: dict[type, Callable[[Any, dt.datetime, _Collector], Outcome]] = {
            c.IssueTicket: self._issue,
            c.ConfirmPrint: self._confirm_print,
            c.VoidTicket: self._void,
            c.CallNext: self._call_next,
            c.CallSpecific: self._call_specific,
            c.Recall: self._recall,
            c.StartServing: self._start,
            c.Finish: self._finish,
            c.MarkNoShow: self._no_show,
            c.RequeueNoShow: self._requeue,
            c.Transfer: self._transfer,
            c.CancelTicket: self._cancel,
            c.Tick: self._tick,
            c.OpenWindow: self._open,
            c.CloseWindow: self._close,
            c.PauseWindow: self._pause,
            c.ResumeWindow: self._resume,
            c.TakeOver: self._take_over,
            c.EndTakeOver: self._end_take_over,
            c.BookSlot: self._book,
            c.CancelBooking: self._cancel_booking,
            c.CheckIn: self._check_in,
            c.Rate: self._rate,
            c.CaseStepCommand: self._case_step,
        }

    # ---- public ---------------------------------------------------------------------------------------

    def handle(self, command: c.Command, now: dt.datetime) -> Outcome:
        """Apply one command at `now`. Never raises for bad input: a refusal says what to fix."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        handler = self._handlers.get(type(command))
        if handler is None:
            raise TypeError(f"not an engine command: {command!r}")
        col = _Collector()
        return handler(command, now, col)

    def waiting_count(self, series: str) -> int:
        line = self._lines.get(series)
        return line.count if line else 0

    def waiting_counts(self) -> dict[str, int]:
        return {s: line.count for s, line in self._lines.items()}

    def people_ahead(self, ticket_id: str, now: dt.datetime) -> int | None:
        """Waiting tickets the current order would call before this one if nobody else arrived (O(n))."""
        t = self.tickets.get(ticket_id)
        if t is None or t.state not in (_WAITING, _PENDING):
            return None
        line = self._line_of(t)
        if t.state is _PENDING:
            return line.ahead_of_new(self._rank_of(t))
        order = order_of(line, self.tickets, now, self._aging_s())
        return next(i for i, o in enumerate(order) if o.id == t.id)

    def estimate_for(self, series: str, ahead: int) -> WaitEstimate:
        stats = self._handle_stats.get(series)
        if stats is None:
            # Mean and spread change only when a ticket is finished; recomputing them at every issue cost
            # more than the rest of the estimate.
            stats = (self.handle_times.mean(series), self.handle_times.cv(series))
            self._handle_stats[series] = stats
        return estimate_wait(ahead, stats[0], self._series_capacity(series), cv=stats[1])

    def _series_capacity(self, series: str) -> float:
        # Cached per series: recomputing over every open window at each issue made issuing O(windows).
        # Any window change (open, close, pause, resume, A/B takeover) clears the cache.
        cap = self._capacity.get(series)
        if cap is None:
            cap = window_capacity(self._open_series_lists(), series)
            self._capacity[series] = cap
        return cap

    def window_view(self, number: int) -> WindowView:
        return self._wview(number)

    def ticket_view(self, ticket: Ticket) -> TicketView:
        return self._tview(ticket)

    def find_ticket(self, ref: str, now: dt.datetime) -> Ticket | None:
        """By id ("2026-11-23/A012") or by today's label ("A012")."""
        t = self.tickets.get(ref)
        if t is not None:
            return t
        tid = self._by_label.get((self.calendar.business_day(now), ref.upper()))
        return self.tickets.get(tid) if tid else None

    def candidates(self, window: int, now: dt.datetime) -> list[Ticket]:
        """Who waits for this window, in the order it would call them (for the clerk's list)."""
        out: list[Ticket] = []
        aging = self._aging_s()
        for line in self._lines_for(window):
            out.extend(order_of(line, self.tickets, now, aging))
        if aging is not None:
            limit = now.timestamp() - aging
            overdue = sorted((t for t in out if t.since.timestamp() <= limit), key=lambda t: (t.since, t.key))
            rest = [t for t in out if t.since.timestamp() > limit]
            out = overdue + rest
        return out

    def remaining_today(self, matter_code: str, now: dt.datetime) -> int | None:
        """Numbers left today for a matter (the tighter of its cap and its series' cap); None = no cap."""
        m = self.config.matter_by_code.get(matter_code)
        if m is None:
            return None
        day = self.calendar.business_day(now)
        s = self.config.series_by_prefix[m.series]
        left: list[int] = []
        if m.daily_cap is not None:
            left.append(m.daily_cap - self._issued_matter.get((day, m.code), 0))
        if s.daily_cap is not None:
            left.append(s.daily_cap - self._issued_series.get((day, s.prefix), 0))
        return max(0, min(left)) if left else None

    def slots(self, matter_code: str, day: dt.date) -> list[tuple[dt.time, dt.time, int]]:
        """Booking slots of a day with the quota left in each."""
        m = self.config.matter_by_code.get(matter_code)
        if m is None:
            return []
        quota = m.booking_quota if m.booking_quota is not None else self.config.booking.default_quota
        return [(a, b, quota - self._slot_taken.get((m.code, day, a), 0)) for a, b in self._slot_times(day)]

    # ---- restore --------------------------------------------------------------------------------------

    def load(
        self,
        tickets: Iterable[Ticket],
        windows: Iterable[WindowRuntime] = (),
        bookings: Iterable[Booking] = (),
        ratings: Iterable[Rating] = (),
        cases: Iterable[Case] = (),
    ) -> None:
        """Rebuild the state from stored rows (server start). Tickets must come in issue order."""
        for t in tickets:
            self.tickets[t.id] = t
            self._seq = max(self._seq, t.key[1])
            self._requeue_seq = max(self._requeue_seq, t.key[2])
            k = (t.day, t.series)
            self._last_number[k] = max(self._last_number.get(k, 0), t.number)
            self._by_label[(t.day, t.label)] = t.id
            if t.state is not _VOIDED:
                self._count_issue(t, +1)
            if t.state is _PENDING:
                self._pending[t.id] = None
            if t.state in (_PENDING, _WAITING, *AT_WINDOW):
                self._live[t.id] = None
            if t.state is _WAITING:
                self._enqueue(t)
            if t.state is _DONE and t.serving_at and t.ended_at:
                self.handle_times.observe(t.series, (t.ended_at - t.serving_at).total_seconds() / 60)
                self._handle_stats.pop(t.series, None)
        for w in windows:
            if w.number in self.windows:
                self.windows[w.number] = w
        self._capacity.clear()
        for b in bookings:
            self.bookings[b.code] = b
            if b.state is not BookingState.CANCELLED:
                self._count_booking(b, +1)
        for r in ratings:
            self.ratings[r.ticket] = r
        for cs in cases:
            self.cases[cs.id] = cs

    # ---- helpers --------------------------------------------------------------------------------------

    def _aging_s(self) -> float | None:
        lim = self.config.priority.aging_limit_min
        return lim * 60.0 if lim is not None else None

    def _rank_of(self, t: Ticket) -> int:
        return self._rank.get(t.priority, NORMAL_RANK) if t.priority else NORMAL_RANK

    def _line_of(self, t: Ticket) -> Line:
        if t.target_window is not None:
            return self._window_lines[t.target_window]
        return self._lines[t.series]

    def _enqueue(self, t: Ticket) -> None:
        t.qtoken += 1
        self._line_of(t).push(t, self._rank_of(t))

    def _dequeue(self, t: Ticket) -> None:
        """Call before a waiting ticket changes state or line."""
        self._line_of(t).removed(self._rank_of(t))
        t.qtoken += 1

    def _series_of_window(self, number: int) -> tuple[str, ...]:
        w = self.config.window_by_number[number]
        rt = self.windows[number]
        if not rt.taken_over:
            return w.series
        extra: list[str] = []
        for p in rt.taken_over:
            extra.extend(
                s for s in self.config.window_by_number[p].series if s not in w.series and s not in extra
            )
        return w.series + tuple(extra)

    def _lines_for(self, number: int) -> list[Line]:
        return [self._window_lines[number], *(self._lines[s] for s in self._series_of_window(number))]

    def _open_series_lists(self) -> list[tuple[str, ...]]:
        return [self._series_of_window(n) for n, rt in self.windows.items() if rt.state is _OPEN]

    def _count_issue(self, t: Ticket, delta: int) -> None:
        km, ks = (t.day, t.matter), (t.day, t.series)
        self._issued_matter[km] = self._issued_matter.get(km, 0) + delta
        self._issued_series[ks] = self._issued_series.get(ks, 0) + delta

    def _count_booking(self, b: Booking, delta: int) -> None:
        ks = (b.matter, b.day, b.slot_start)
        self._slot_taken[ks] = self._slot_taken.get(ks, 0) + delta
        kd = (b.person_key, b.day)
        self._person_day[kd] = self._person_day.get(kd, 0) + delta
        iso = b.day.isocalendar()
        kw = (b.person_key, iso.year, iso.week)
        self._person_week[kw] = self._person_week.get(kw, 0) + delta

    def _slot_times(self, day: dt.date) -> list[tuple[dt.time, dt.time]]:
        hours = self.calendar.hours_on(day)
        if hours is None:
            return []
        step = dt.timedelta(minutes=self.config.booking.slot_min)
        base = dt.datetime.combine(day, hours.open)
        end = dt.datetime.combine(day, hours.close)
        out = []
        while base + step <= end:
            out.append((base.time(), (base + step).time()))
            base += step
        return out

    def _tview(self, t: Ticket) -> TicketView:
        m = self.config.matter_by_code[t.matter]
        w = self.config.window_by_number.get(t.window) if t.window is not None else None
        pc = self.config.class_by_id.get(t.priority) if t.priority else None
        r = t.call_reason
        return TicketView(
            id=t.id,
            label=t.label,
            series=t.series,
            matter=t.matter,
            matter_name=m.name,
            matter_name_en=m.name_en,
            source=t.source.value,
            priority=t.priority,
            priority_name=pc.name if pc else "",
            state=t.state.value,
            issued_at=t.issued_at,
            window=t.window,
            window_name=w.name if w else "",
            holder_masked=t.holder_masked,
            recalls=t.recalls,
            transfers=t.transfers,
            precheck=t.precheck,
            missing=t.missing,
            due=t.due,
            call_reason=r.text if r else "",
            call_reason_en=r.text_en if r else "",
            target_window=t.target_window,
        )

    def _wview(self, number: int) -> WindowView:
        w = self.config.window_by_number[number]
        rt = self.windows[number]
        cur = self.tickets.get(rt.current) if rt.current else None
        return WindowView(
            number=number,
            name=w.name,
            state=rt.state.value,
            zone=w.zone,
            series=self._series_of_window(number),
            staff=rt.staff,
            pause_reason=rt.pause_reason,
            current=cur.label if cur else "",
            current_state=cur.state.value if cur else "",
            taken_over=rt.taken_over,
        )

    def _waiting_of(self, *series: str) -> dict[str, int]:
        return {s: self._lines[s].count for s in dict.fromkeys(series) if s in self._lines}

    def _ticket_event(
        self,
        action: str,
        t: Ticket,
        now: dt.datetime,
        col: _Collector,
        window: int | None = None,
        note: str = "",
    ) -> None:
        col.tickets[t.id] = None
        wv = None
        if window is not None:
            col.windows[window] = None
            wv = self._wview(window)
        col.events.append(TicketChanged(now, action, self._tview(t), wv, self._waiting_of(t.series), note))

    def _window_event(self, action: str, number: int, now: dt.datetime, col: _Collector) -> Accepted:
        self._capacity.clear()
        col.windows[number] = None
        col.events.append(WindowChanged(now, action, self._wview(number)))
        return Accepted(tuple(col.events), col.changes())

    def _done(self, col: _Collector, ticket: Ticket | None = None, **kw: Any) -> Accepted:
        return Accepted(tuple(col.events), col.changes(), ticket, **kw)

    def _window(self, number: int) -> tuple[Window, WindowRuntime] | Refused:
        w = self.config.window_by_number.get(number)
        if w is None:
            return _refuse(
                RefusalCode.UNKNOWN_WINDOW,
                f"没有 {number} 号窗口",
                f"there is no window {number}",
                window=number,
            )
        return w, self.windows[number]

    def _held(self, number: int, *states: TicketState) -> tuple[WindowRuntime, Ticket] | Refused:
        found = self._window(number)
        if isinstance(found, Refused):
            return found
        _w, rt = found
        if rt.current is None:
            return _refuse(
                RefusalCode.NO_CURRENT_TICKET,
                f"{number} 号窗口当前没有号",
                f"window {number} holds no ticket",
                window=number,
            )
        t = self.tickets[rt.current]
        if t.state not in states:
            return _wrong_state(t, *states)
        return rt, t

    # ---- issuing --------------------------------------------------------------------------------------

    def _check_open_for(self, m: Matter, source: Source, now: dt.datetime) -> Refused | None:
        day = self.calendar.business_day(now)
        series = self.config.series_by_prefix[m.series]
        if self.calendar.is_booking_only(day) and source is not _BOOKING:
            return _refuse(
                RefusalCode.BOOKING_ONLY_DAY,
                "今天只办理已预约的事项，请预约后再来",
                "today only booked matters are served; please book a slot",
                next_opening=_iso(self.calendar.next_opening(now, walk_ins_only=True)),
            )
        if not self._accepting_walk_ins(series, now):
            nxt = self.calendar.next_opening(now, walk_ins_only=True)
            when_zh = f"，下次取号时间 {_fmt(self.calendar.local(nxt))}" if nxt else ""
            when_en = f"; next opening {_fmt(self.calendar.local(nxt))}" if nxt else ""
            if (series.open or series.close) and self.calendar.accepting_walk_ins(now):
                # The hall is open; only this series keeps shorter hours.
                hours = f"{(series.open or dt.time(0)):%H:%M}–{(series.close or dt.time(23, 59)):%H:%M}"
                return _refuse(
                    RefusalCode.SERIES_CLOSED,
                    f"{series.name}只在 {hours} 取号",
                    f"{series.name_en or series.prefix} issues tickets {hours} only",
                    hours=hours,
                )
            return _refuse(
                RefusalCode.HALL_CLOSED,
                f"{series.name}现在不取号{when_zh}",
                f"{series.name_en or series.prefix} is not issuing tickets now{when_en}",
                next_opening=_iso(nxt),
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
            return _refuse(
                RefusalCode.CAP_REACHED,
                f"{m.name}今日号已取完（每日 {m.daily_cap} 个）",
                f"{m.name_en or m.code}: today's {m.daily_cap} numbers are all taken",
                cap=m.daily_cap,
            )
        if s.daily_cap is not None and self._issued_series.get((day, s.prefix), 0) >= s.daily_cap:
            return _refuse(
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
                return _refuse(
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
            return _refuse(RefusalCode.PRECHECK_INPUT, f"预审答案有误：{exc}", f"pre-check answers: {exc}")

    def _issue(self, cmd: c.IssueTicket, now: dt.datetime, col: _Collector) -> Outcome:
        m = self.config.matter_by_code.get(cmd.matter)
        if m is None:
            return _refuse(
                RefusalCode.UNKNOWN_MATTER, f"没有事项 {cmd.matter}", f"unknown matter {cmd.matter!r}"
            )
        if cmd.priority:
            pc = self.config.class_by_id.get(cmd.priority)
            if pc is None or (cmd.priority == APPOINTMENT and cmd.source is not _BOOKING):
                return _refuse(
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
        col: _Collector,
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
        est = self.estimate_for(t.series, ahead)
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

    def _ticket(self, ref: str, now: dt.datetime) -> Ticket | Refused:
        t = self.find_ticket(ref, now)
        if t is None:
            return _refuse(RefusalCode.UNKNOWN_TICKET, f"没有票号 {ref}", f"no ticket {ref!r}", ticket=ref)
        return t

    def _confirm_print(self, cmd: c.ConfirmPrint, now: dt.datetime, col: _Collector) -> Outcome:
        t = self._ticket(cmd.ticket, now)
        if isinstance(t, Refused):
            return t
        if t.state is not _PENDING:
            return _wrong_state(t, _PENDING)
        del self._pending[t.id]
        t.state = _WAITING
        self._enqueue(t)
        self._ticket_event("printed", t, now, col)
        return self._done(col, t)

    def _void(self, cmd: c.VoidTicket, now: dt.datetime, col: _Collector) -> Outcome:
        t = self._ticket(cmd.ticket, now)
        if isinstance(t, Refused):
            return t
        if t.state is not _PENDING:
            return _wrong_state(t, _PENDING)
        self._void_pending(t, now, cmd.reason, col)
        return self._done(col, t)

    def _void_pending(self, t: Ticket, now: dt.datetime, reason: str, col: _Collector) -> None:
        del self._pending[t.id]
        self._live.pop(t.id, None)
        t.state = _VOIDED
        t.ended_at = now
        self._count_issue(t, -1)  # a number never printed does not use up the day's cap
        self._ticket_event("voided", t, now, col, note=reason)

    # ---- calling --------------------------------------------------------------------------------------

    def _ready_window(self, number: int) -> tuple[Window, WindowRuntime] | Refused:
        found = self._window(number)
        if isinstance(found, Refused):
            return found
        w, rt = found
        if rt.state is _CLOSED:
            return _refuse(
                RefusalCode.WINDOW_CLOSED,
                f"{number} 号窗口未开启",
                f"window {number} is closed",
                window=number,
            )
        if rt.state is _PAUSED:
            return _refuse(
                RefusalCode.WINDOW_PAUSED,
                f"{number} 号窗口暂停中（{rt.pause_reason}），请先恢复",
                f"window {number} is paused ({rt.pause_reason}); resume it first",
                window=number,
            )
        if rt.current is not None:
            cur = self.tickets[rt.current]
            return _refuse(
                RefusalCode.WINDOW_BUSY,
                f"{number} 号窗口还在处理 {cur.label}：请先办结、过号或转办",
                f"window {number} still holds {cur.label}: finish, mark no-show or transfer it first",
                window=number,
                ticket=cur.label,
            )
        return w, rt

    def pick(self, number: int, now: dt.datetime) -> tuple[Ticket, CallReason] | None:
        """The ticket `call next` would take at this window now, and why (no state change)."""
        rt = self.windows[number]
        lines = self._lines_for(number)
        aging = self._aging_s()
        if aging is not None:
            limit = now.timestamp() - aging
            best: Ticket | None = None
            for line in lines:
                o = oldest(line, self.tickets)
                if (
                    o is not None
                    and o.since.timestamp() <= limit
                    and (best is None or (o.since, o.key) < (best.since, best.key))
                ):
                    best = o
            if best is not None:
                mins = int((now - best.since).total_seconds() // 60)
                return best, CallReason(
                    CallReasonKind.WAITED_OVER_LIMIT,
                    f"等待超过 {self.config.priority.aging_limit_min} 分钟（已等 {mins} 分钟）",
                    f"waited over {self.config.priority.aging_limit_min} min ({mins} min)",
                )
        max_row = self.config.priority.max_priority_in_row
        if max_row is not None and rt.priority_streak >= max_row:
            for i, line in enumerate(lines):
                found = top(line, self.tickets, normal_only=True)
                if found is not None:
                    if i == 0:
                        return found[0], self._reason(found[0], found[1], i)
                    return found[0], CallReason(
                        CallReasonKind.NORMAL_AFTER_PRIORITY_RUN,
                        f"已连续叫 {rt.priority_streak} 个优先号，轮到普通号",
                        f"{rt.priority_streak} priority calls in a row: a normal ticket's turn",
                    )
        for i, line in enumerate(lines):
            found = top(line, self.tickets)
            if found is not None:
                return found[0], self._reason(found[0], found[1], i)
        return None

    def _reason(self, t: Ticket, rank: int, line_index: int) -> CallReason:
        if line_index == 0:
            return CallReason(CallReasonKind.TRANSFERRED_HERE, "转入本窗口", "transferred to this window")
        if t.priority and rank != NORMAL_RANK:
            pc = self.config.class_by_id[t.priority]
            if t.priority == APPOINTMENT:
                return CallReason(CallReasonKind.BOOKING_DUE, "预约到时", "booking due now")
            return CallReason(CallReasonKind.PRIORITY, f"优先：{pc.name}", f"priority: {pc.name_en or pc.id}")
        s = self.config.series_by_prefix[t.series]
        return CallReason(
            CallReasonKind.SERIES_ORDER, f"按顺序（{s.name}）", f"in order ({s.name_en or s.prefix})"
        )

    def _call_next(self, cmd: c.CallNext, now: dt.datetime, col: _Collector) -> Outcome:
        ready = self._ready_window(cmd.window)
        if isinstance(ready, Refused):
            return ready
        picked = self.pick(cmd.window, now)
        if picked is None:
            return _refuse(
                RefusalCode.NOTHING_WAITING,
                f"{cmd.window} 号窗口暂无等候的号",
                f"nobody is waiting for window {cmd.window}",
                window=cmd.window,
            )
        t, reason = picked
        return self._call(t, cmd.window, cmd.staff, reason, now, col)

    def _call(
        self, t: Ticket, number: int, staff: str, reason: CallReason, now: dt.datetime, col: _Collector
    ) -> Accepted:
        rt = self.windows[number]
        self._dequeue(t)
        t.state = _CALLED
        t.window = number
        t.target_window = None
        t.staff = staff or rt.staff
        t.called_at = now
        if t.first_called_at is None:
            t.first_called_at = now
        t.call_reason = reason
        rt.current = t.id
        if reason.kind in (CallReasonKind.PRIORITY, CallReasonKind.BOOKING_DUE):
            rt.priority_streak += 1
        elif reason.kind is not CallReasonKind.SPECIFIC:
            rt.priority_streak = 0
        self._ticket_event("called", t, now, col, number)
        return self._done(col, t)

    def _call_specific(self, cmd: c.CallSpecific, now: dt.datetime, col: _Collector) -> Outcome:
        if not cmd.reason.strip():
            return _refuse(
                RefusalCode.REASON_REQUIRED, "指定叫号须填写原因", "calling a specific ticket needs a reason"
            )
        ready = self._ready_window(cmd.window)
        if isinstance(ready, Refused):
            return ready
        t = self._ticket(cmd.ticket, now)
        if isinstance(t, Refused):
            return t
        if t.state is not _WAITING:
            return _wrong_state(t, _WAITING)
        reason = CallReason(
            CallReasonKind.SPECIFIC, f"指定叫号：{cmd.reason}", f"called by ticket: {cmd.reason}"
        )
        return self._call(t, cmd.window, cmd.staff, reason, now, col)

    def _recall(self, cmd: c.Recall, now: dt.datetime, col: _Collector) -> Outcome:
        held = self._held(cmd.window, _CALLED)
        if isinstance(held, Refused):
            return held
        _rt, t = held
        t.recalls += 1
        t.called_at = now
        self._ticket_event("recalled", t, now, col, cmd.window)
        return self._done(col, t)

    def _start(self, cmd: c.StartServing, now: dt.datetime, col: _Collector) -> Outcome:
        held = self._held(cmd.window, _CALLED)
        if isinstance(held, Refused):
            return held
        _rt, t = held
        t.state = _SERVING
        t.serving_at = now
        self._ticket_event("serving", t, now, col, cmd.window)
        return self._done(col, t)

    def _finish(self, cmd: c.Finish, now: dt.datetime, col: _Collector) -> Outcome:
        held = self._held(cmd.window, _SERVING)
        if isinstance(held, Refused):
            return held
        rt, t = held
        t.state = _DONE
        t.ended_at = now
        rt.current = None
        self._live.pop(t.id, None)
        if t.serving_at is not None:
            self.handle_times.observe(t.series, (now - t.serving_at).total_seconds() / 60)
            self._handle_stats.pop(t.series, None)
        self._ticket_event("finished", t, now, col, cmd.window)
        return self._done(col, t)

    def _no_show(self, cmd: c.MarkNoShow, now: dt.datetime, col: _Collector) -> Outcome:
        held = self._held(cmd.window, _CALLED)
        if isinstance(held, Refused):
            return held
        rt, t = held
        need = self.config.no_show.max_recalls
        if t.recalls < need:
            return _refuse(
                RefusalCode.RECALLS_NOT_EXHAUSTED,
                f"请先重呼（已重呼 {t.recalls}/{need} 次）",
                f"recall first ({t.recalls} of {need} recalls done)",
                recalls=t.recalls,
                needed=need,
            )
        t.state = _NO_SHOW
        t.ended_at = now
        rt.current = None
        self._live.pop(t.id, None)
        self._ticket_event("no_show", t, now, col, cmd.window)
        return self._done(col, t)

    def _requeue(self, cmd: c.RequeueNoShow, now: dt.datetime, col: _Collector) -> Outcome:
        t = self._ticket(cmd.ticket, now)
        if isinstance(t, Refused):
            return t
        if t.state is not _NO_SHOW:
            return _wrong_state(t, _NO_SHOW)
        if t.day != self.calendar.business_day(now):
            return _refuse(
                RefusalCode.NOT_SAME_DAY,
                "过号票只能当天重新排队",
                "a no-show can be re-queued the same day only",
            )
        # Behind the next k tickets of its line by the current order; at the end if fewer wait.
        line = self._lines[t.series]
        order = order_of(line, self.tickets, now, self._aging_s())
        k = self.config.no_show.requeue_behind
        self._requeue_seq += 1
        t.state = _WAITING
        t.window = None
        t.ended_at = None
        t.requeues += 1
        t.since = now
        t.priority = ""  # a returning no-show joins as a normal ticket
        if order:
            anchor = order[min(k, len(order)) - 1]
            t.key = (anchor.key[0], anchor.key[1], self._requeue_seq)
        else:
            self._seq += 1
            t.key = (now.timestamp(), self._seq, 0)
        self._live[t.id] = None
        self._enqueue(t)
        self._ticket_event("requeued", t, now, col)
        return self._done(col, t)

    def _transfer(self, cmd: c.Transfer, now: dt.datetime, col: _Collector) -> Outcome:
        held = self._held(cmd.window, _CALLED, _SERVING)
        if isinstance(held, Refused):
            return held
        rt, t = held
        if bool(cmd.to_series) == (cmd.to_window is not None):
            return _refuse(
                RefusalCode.BAD_TARGET,
                "请选择转办到一个业务类别或一个窗口",
                "transfer to one series or one window",
            )
        if cmd.to_series and cmd.to_series not in self._lines:
            return _refuse(
                RefusalCode.UNKNOWN_SERIES,
                f"没有业务类别 {cmd.to_series}",
                f"unknown series {cmd.to_series!r}",
            )
        if cmd.to_window is not None:
            if cmd.to_window not in self.windows:
                return _refuse(
                    RefusalCode.UNKNOWN_WINDOW,
                    f"没有 {cmd.to_window} 号窗口",
                    f"there is no window {cmd.to_window}",
                )
            if cmd.to_window == cmd.window:
                return _refuse(
                    RefusalCode.BAD_TARGET, "不能转办到本窗口", "cannot transfer to the same window"
                )
        old_series = t.series
        rt.current = None
        t.state = _WAITING
        t.transfers += 1
        t.serving_at = None
        if cmd.to_series:
            t.series = cmd.to_series
            t.target_window = None
        else:
            t.target_window = cmd.to_window
        # Number, issue time and position key are kept: the citizen is not sent to the back (DESIGN.md §4).
        self._enqueue(t)
        target = cmd.to_series or f"{cmd.to_window} 号窗口"
        col.tickets[t.id] = None
        col.windows[cmd.window] = None
        col.events.append(
            TicketChanged(
                now,
                "transferred",
                self._tview(t),
                self._wview(cmd.window),
                self._waiting_of(old_series, t.series),
                f"{target} {cmd.reason}".strip(),
            )
        )
        return self._done(col, t)

    def _cancel(self, cmd: c.CancelTicket, now: dt.datetime, col: _Collector) -> Outcome:
        t = self._ticket(cmd.ticket, now)
        if isinstance(t, Refused):
            return t
        if t.state not in (_WAITING, _PENDING):
            return _wrong_state(t, _WAITING, _PENDING)
        if t.state is _WAITING:
            self._dequeue(t)
        else:
            del self._pending[t.id]
        self._live.pop(t.id, None)
        t.state = _CANCELLED
        t.ended_at = now
        self._ticket_event("cancelled", t, now, col, note=cmd.reason)
        return self._done(col, t)

    def _tick(self, _cmd: c.Tick, now: dt.datetime, col: _Collector) -> Outcome:
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

    # ---- windows --------------------------------------------------------------------------------------

    def _open(self, cmd: c.OpenWindow, now: dt.datetime, col: _Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        _w, rt = found
        if rt.state is not _CLOSED:
            return _refuse(
                RefusalCode.BAD_TRANSITION,
                f"{cmd.window} 号窗口已开启",
                f"window {cmd.window} is already open",
            )
        rt.state = _OPEN
        rt.staff = cmd.staff
        rt.opened_at = now
        rt.priority_streak = 0
        return self._window_event("opened", cmd.window, now, col)

    def _close(self, cmd: c.CloseWindow, now: dt.datetime, col: _Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        _w, rt = found
        if rt.state is _CLOSED:
            return _refuse(
                RefusalCode.BAD_TRANSITION,
                f"{cmd.window} 号窗口已关闭",
                f"window {cmd.window} is already closed",
            )
        if rt.current is not None:
            return _idle_first(cmd.window, self.tickets[rt.current])
        rt.state = _CLOSED
        rt.staff = ""
        rt.pause_reason = ""
        rt.paused_at = None
        rt.taken_over = ()
        return self._window_event("closed", cmd.window, now, col)

    def _pause(self, cmd: c.PauseWindow, now: dt.datetime, col: _Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        _w, rt = found
        reasons = self.config.server.pause_reasons
        if not cmd.reason.strip():
            return _refuse(
                RefusalCode.REASON_REQUIRED, "暂停须选择原因", "pausing needs a reason", reasons=list(reasons)
            )
        if reasons and cmd.reason not in reasons:
            return _refuse(
                RefusalCode.UNKNOWN_PAUSE_REASON,
                f"暂停原因须为：{'、'.join(reasons)}",
                f"the pause reason must be one of: {', '.join(reasons)}",
                reasons=list(reasons),
            )
        if rt.state is not _OPEN:
            return _refuse(
                RefusalCode.BAD_TRANSITION,
                f"{cmd.window} 号窗口不在服务中，无法暂停",
                f"window {cmd.window} is not open, so it cannot pause",
            )
        if rt.current is not None:
            return _idle_first(cmd.window, self.tickets[rt.current])
        rt.state = _PAUSED
        rt.pause_reason = cmd.reason
        rt.paused_at = now
        return self._window_event("paused", cmd.window, now, col)

    def _resume(self, cmd: c.ResumeWindow, now: dt.datetime, col: _Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        _w, rt = found
        if rt.state is not _PAUSED:
            return _refuse(
                RefusalCode.BAD_TRANSITION, f"{cmd.window} 号窗口未暂停", f"window {cmd.window} is not paused"
            )
        rt.state = _OPEN
        rt.pause_reason = ""
        rt.paused_at = None
        return self._window_event("resumed", cmd.window, now, col)

    def _take_over(self, cmd: c.TakeOver, now: dt.datetime, col: _Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        w, rt = found
        partner = self.config.window_by_number.get(cmd.partner)
        if (
            partner is None
            or cmd.partner == cmd.window
            or (w.partner != cmd.partner and partner.partner != w.number)
        ):
            return _refuse(
                RefusalCode.NOT_PARTNER,
                f"{cmd.partner} 号窗口不是 {cmd.window} 号窗口的 A/B 岗搭档",
                f"window {cmd.partner} is not the A/B partner of window {cmd.window}",
            )
        if rt.state is _CLOSED:
            return _refuse(
                RefusalCode.WINDOW_CLOSED, f"{cmd.window} 号窗口未开启", f"window {cmd.window} is closed"
            )
        if cmd.partner in rt.taken_over:
            return _refuse(
                RefusalCode.BAD_TRANSITION,
                f"{cmd.window} 号窗口已接管 {cmd.partner} 号窗口",
                f"window {cmd.window} already covers window {cmd.partner}",
            )
        rt.taken_over = (*rt.taken_over, cmd.partner)
        return self._window_event("takeover", cmd.window, now, col)

    def _end_take_over(self, cmd: c.EndTakeOver, now: dt.datetime, col: _Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        _w, rt = found
        if cmd.partner not in rt.taken_over:
            return _refuse(
                RefusalCode.BAD_TRANSITION,
                f"{cmd.window} 号窗口没有接管 {cmd.partner} 号窗口",
                f"window {cmd.window} does not cover window {cmd.partner}",
            )
        rt.taken_over = tuple(p for p in rt.taken_over if p != cmd.partner)
        return self._window_event("takeover_ended", cmd.window, now, col)

    # ---- bookings -------------------------------------------------------------------------------------

    def _booking_event(self, action: str, b: Booking, now: dt.datetime) -> BookingChanged:
        m = self.config.matter_by_code[b.matter]
        quota = m.booking_quota if m.booking_quota is not None else self.config.booking.default_quota
        left = quota - self._slot_taken.get((b.matter, b.day, b.slot_start), 0)
        return BookingChanged(now, action, b.code, b.matter, m.name, b.day, b.slot_start, left, b.ticket)

    def _book(self, cmd: c.BookSlot, now: dt.datetime, col: _Collector) -> Outcome:
        m = self.config.matter_by_code.get(cmd.matter)
        if m is None:
            return _refuse(
                RefusalCode.UNKNOWN_MATTER, f"没有事项 {cmd.matter}", f"unknown matter {cmd.matter!r}"
            )
        if not m.bookable:
            return _refuse(
                RefusalCode.NOT_BOOKABLE, f"{m.name}不可预约", f"{m.name_en or m.code} cannot be booked"
            )
        if cmd.code in self.bookings:
            return _refuse(RefusalCode.DUPLICATE_CODE, "预约码重复", "duplicate booking code")
        today = self.calendar.business_day(now)
        cfg = self.config.booking
        if cmd.day > today + dt.timedelta(days=cfg.days_ahead):
            return _refuse(
                RefusalCode.TOO_FAR_AHEAD,
                f"最多可预约 {cfg.days_ahead} 天内",
                f"bookings open {cfg.days_ahead} days ahead at most",
            )
        slot = next(((a, b) for a, b in self._slot_times(cmd.day) if a == cmd.slot_start), None)
        if slot is None:
            return _refuse(
                RefusalCode.SLOT_UNKNOWN,
                f"{cmd.day} {cmd.slot_start:%H:%M} 不是可预约时段",
                f"{cmd.day} {cmd.slot_start:%H:%M} is not a bookable slot",
            )
        if dt.datetime.combine(cmd.day, slot[1], self.calendar.tz) <= now:
            return _refuse(RefusalCode.IN_PAST, "该时段已过", "that slot is over")
        quota = m.booking_quota if m.booking_quota is not None else cfg.default_quota
        if self._slot_taken.get((m.code, cmd.day, slot[0]), 0) >= quota:
            return _refuse(RefusalCode.SLOT_FULL, "该时段已约满", "that slot is fully booked")
        iso = cmd.day.isocalendar()
        if (
            self._person_day.get((cmd.person_key, cmd.day), 0) >= cfg.per_person_per_day
            or self._person_week.get((cmd.person_key, iso.year, iso.week), 0) >= cfg.per_person_per_week
        ):
            return _refuse(
                RefusalCode.PERSON_LIMIT,
                f"每人每天最多预约 {cfg.per_person_per_day} 次、每周 {cfg.per_person_per_week} 次",
                f"at most {cfg.per_person_per_day} a day, {cfg.per_person_per_week} a week per person",
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
        self.bookings[b.code] = b
        self._count_booking(b, +1)
        col.bookings[b.code] = None
        col.events.append(self._booking_event("booked", b, now))
        return self._done(col)

    def _booking(self, code: str) -> Booking | Refused:
        b = self.bookings.get(code)
        if b is None:
            return _refuse(RefusalCode.UNKNOWN_BOOKING, f"没有预约 {code}", f"no booking {code!r}")
        return b

    def _cancel_booking(self, cmd: c.CancelBooking, now: dt.datetime, col: _Collector) -> Outcome:
        b = self._booking(cmd.code)
        if isinstance(b, Refused):
            return b
        if b.state is not BookingState.BOOKED:
            return _refuse(
                RefusalCode.BOOKING_STATE,
                f"该预约已{_BOOKING_ZH[b.state]}",
                f"that booking is {b.state.value}",
            )
        b.state = BookingState.CANCELLED
        self._count_booking(b, -1)
        col.bookings[b.code] = None
        col.events.append(self._booking_event("cancelled", b, now))
        return self._done(col)

    def _check_in(self, cmd: c.CheckIn, now: dt.datetime, col: _Collector) -> Outcome:
        b = self._booking(cmd.code)
        if isinstance(b, Refused):
            return b
        if b.state is not BookingState.BOOKED:
            return _refuse(
                RefusalCode.BOOKING_STATE,
                f"该预约已{_BOOKING_ZH[b.state]}",
                f"that booking is {b.state.value}",
            )
        today = self.calendar.business_day(now)
        if b.day != today:
            return _refuse(
                RefusalCode.BOOKING_WRONG_DAY,
                f"您预约的是 {b.day:%m月%d日} {b.slot_start:%H:%M}，不是今天",
                f"your booking is for {b.day} {b.slot_start:%H:%M}, not today",
                day=b.day.isoformat(),
            )
        tz = self.calendar.tz
        start = dt.datetime.combine(b.day, b.slot_start, tz)
        end = dt.datetime.combine(b.day, b.slot_end, tz)
        early = dt.timedelta(minutes=self.config.booking.early_min)
        grace = dt.timedelta(minutes=self.config.booking.late_grace_min)
        if now < start - early:
            return _refuse(
                RefusalCode.BOOKING_TOO_EARLY,
                f"请于 {(start - early):%H:%M} 后签到（预约时段 {b.slot_start:%H:%M}）",
                f"please check in after {(start - early):%H:%M} (slot {b.slot_start:%H:%M})",
                from_time=(start - early).isoformat(),
            )
        m = self.config.matter_by_code[b.matter]
        on_time = now <= end + grace
        if on_time:
            caps = self._check_caps(m, today)
        else:
            # Late: a walk-in like everyone else, so the hall's hours and caps apply (DESIGN.md §4).
            caps = self._check_open_for(m, _KIOSK, now) if not self.calendar.is_booking_only(today) else None
            caps = caps or self._check_caps(m, today)
        if caps is not None:
            return caps
        pre = self._run_precheck(m, cmd.answers, cmd.present, _BOOKING, now)
        if isinstance(pre, Refused):
            return pre
        if pre is not None and pre.outcome is PrecheckOutcome.FAIL:
            return self._create_ticket(m, _BOOKING, cmd.token, "", pre, "", b.code, now, col)
        priority = APPOINTMENT if on_time and APPOINTMENT in self._rank else ""
        out = self._create_ticket(m, _BOOKING, cmd.token, priority, pre, "", b.code, now, col)
        assert out.ticket is not None
        out.ticket.holder_masked = b.holder_masked
        b.state = BookingState.CHECKED_IN
        b.ticket = out.ticket.id
        col.bookings[b.code] = None
        col.events.append(self._booking_event("checked_in", b, now))
        return self._done(col, out.ticket, precheck=pre, estimate=out.estimate, ahead=out.ahead)

    # ---- ratings and 差评 cases ---------------------------------------------------------------------

    def _rate(self, cmd: c.Rate, now: dt.datetime, col: _Collector) -> Outcome:
        t = self._ticket(cmd.ticket, now)
        if isinstance(t, Refused):
            return t
        if cmd.score not in SCORE_NAMES:
            return _refuse(RefusalCode.BAD_SCORE, "评价须为 1–5 级", "a rating is a score from 1 to 5")
        if t.state is not _DONE or t.window is None:
            return _refuse(
                RefusalCode.NOT_SERVED, f"{t.label} 尚未办结，不能评价", f"{t.label} has not been served yet"
            )
        if t.rated:
            return _refuse(
                RefusalCode.ALREADY_RATED,
                f"{t.label} 已评价（一次一评）",
                f"{t.label} is already rated (one rating per case)",
            )
        t.rated = True
        r = Rating(
            ticket=t.id,
            score=cmd.score,
            matter=t.matter,
            window=t.window,
            staff=t.staff,
            at=now,
            issued_at=t.issued_at,
            called_at=t.first_called_at,
            serving_at=t.serving_at,
            finished_at=t.ended_at,
            source=cmd.source,
        )
        self.ratings[t.id] = r
        col.tickets[t.id] = None
        col.ratings[t.id] = None
        m = self.config.matter_by_code[t.matter]
        col.events.append(
            RatingRecorded(
                now, t.id, t.label, r.score, SCORE_NAMES[r.score][0], t.matter, m.name, r.window, r.staff
            )
        )
        if cmd.score in BAD_SCORES:
            due = self.calendar.add_working_days(
                self.calendar.business_day(now), self.config.rating.case_deadline_days
            )
            case = Case(
                id=f"C-{t.id}",
                ticket=t.id,
                score=cmd.score,
                window=t.window,
                staff=t.staff,
                matter=t.matter,
                opened_at=now,
                due=due,
            )
            self.cases[case.id] = case
            col.cases[case.id] = None
            col.events.append(self._case_event("opened", case, now, ""))
        return self._done(col, t)

    def _case_event(self, action: str, case: Case, now: dt.datetime, note: str) -> CaseChanged:
        t = self.tickets[case.ticket]
        m = self.config.matter_by_code[case.matter]
        return CaseChanged(
            now,
            action,
            case.id,
            case.ticket,
            t.label,
            case.score,
            case.state.value,
            case.due,
            case.window,
            m.name,
            note,
        )

    def _case_step(self, cmd: c.CaseStepCommand, now: dt.datetime, col: _Collector) -> Outcome:
        case = self.cases.get(cmd.case)
        if case is None:
            return _refuse(RefusalCode.UNKNOWN_CASE, f"没有差评工单 {cmd.case}", f"no case {cmd.case!r}")
        if not cmd.note.strip():
            return _refuse(RefusalCode.REASON_REQUIRED, "请填写处理记录", "write down what was done")
        allowed = _CASE_MOVES.get((case.state, cmd.action))
        if allowed is None:
            return _refuse(
                RefusalCode.BAD_TRANSITION,
                f"工单状态为 {case.state.value}，不能 {cmd.action.value}",
                f"a case that is {case.state.value} cannot take the step {cmd.action.value}",
            )
        case.state = allowed
        case.steps.append(CaseStep(cmd.action, cmd.note, cmd.staff, now))
        case.closed_at = now if allowed is CaseState.CLOSED else None
        col.cases[case.id] = None
        col.events.append(self._case_event(cmd.action.value, case, now, cmd.note))
        return self._done(col)


_CASE_MOVES: dict[tuple[CaseState, CaseAction], CaseState] = {
    (CaseState.OPEN, CaseAction.CALLBACK): CaseState.CALLED_BACK,
    (CaseState.CALLED_BACK, CaseAction.CALLBACK): CaseState.CALLED_BACK,
    (CaseState.OPEN, CaseAction.RESOLVE): CaseState.RESOLVED,  # anonymous raters cannot be called back
    (CaseState.CALLED_BACK, CaseAction.RESOLVE): CaseState.RESOLVED,
    (CaseState.RESOLVED, CaseAction.CLOSE): CaseState.CLOSED,
    (CaseState.CLOSED, CaseAction.APPEAL): CaseState.APPEALED,
    (CaseState.APPEALED, CaseAction.CALLBACK): CaseState.CALLED_BACK,
    (CaseState.APPEALED, CaseAction.RESOLVE): CaseState.RESOLVED,
}

_BOOKING_ZH = {
    BookingState.BOOKED: "预约",
    BookingState.CHECKED_IN: "签到",
    BookingState.CANCELLED: "取消",
    BookingState.MISSED: "过期",
}

_STATE_ZH = {
    _PENDING: "待打印",
    _WAITING: "等候中",
    _CALLED: "已叫号",
    _SERVING: "办理中",
    _DONE: "已办结",
    _NO_SHOW: "已过号",
    _CANCELLED: "已取消",
    _VOIDED: "已作废",
    _EXPIRED: "已过期",
}


def _wrong_state(t: Ticket, *expected: TicketState) -> Refused:
    want = "、".join(_STATE_ZH[s] for s in expected)
    return _refuse(
        RefusalCode.WRONG_STATE,
        f"{t.label} {_STATE_ZH[t.state]}，此操作需要它处于：{want}",
        f"{t.label} is {t.state.value}; this needs it to be {' or '.join(s.value for s in expected)}",
        ticket=t.label,
        state=t.state.value,
    )


def _idle_first(number: int, t: Ticket) -> Refused:
    return _refuse(
        RefusalCode.WINDOW_NOT_IDLE,
        f"{number} 号窗口还在处理 {t.label}，请先办结、过号或转办",
        f"window {number} still holds {t.label}: finish, mark no-show or transfer it first",
        ticket=t.label,
    )


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


def _fmt(when: dt.datetime) -> str:
    return when.strftime("%m-%d %H:%M")
