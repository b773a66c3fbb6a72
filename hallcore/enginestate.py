"""The engine's state and the helpers every rule module shares: lines, counters, views, lookups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig, Window
from hallcore.estimates import (
    ArrivalRate,
    HandleTimes,
    ServiceShares,
    WaitEstimate,
    estimate_wait,
    expected_jumps,
    passed_by_lower,
)
from hallcore.events import BookingChanged, TicketChanged, TicketView, WindowChanged, WindowView
from hallcore.model import (
    AT_WINDOW,
    Booking,
    BookingState,
    Case,
    Rating,
    Source,
    Ticket,
    TicketState,
    WindowRuntime,
    WindowState,
)
from hallcore.ordering import NORMAL_RANK, Line, order_of
from hallcore.outcomes import Accepted, Collector, RefusalCode, Refused, refuse, wrong_state

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


class EngineState:
    """The live queue state of one hall, its indexes, and the read-only queries on it."""

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
        # series -> (open windows serving only it, open shared windows serving it with their series)
        self._capacity: dict[str, tuple[float, tuple[tuple[int, tuple[str, ...]], ...]]] = {}
        self._shares = ServiceShares()
        # The capacity figure itself, per series. It depends on the open windows, on the shared windows'
        # recent calls and on handle-time means, so `_capacity_changed` drops it on any of those; issuing
        # reads it far more often than those change.
        self._capacity_value: dict[str, float] = {}
        self._handle_stats: dict[str, tuple[float, float]] = {}
        self._walk_in_memo: dict[tuple[str, int], bool] = {}
        self._priority_arrivals = ArrivalRate()  # per series: who will pass normal tickets

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
        """The wait for `ahead` people before a ticket of `series`, by the current order alone."""
        mean, cv = self._stats(series)
        return estimate_wait(ahead, mean, self._series_capacity(series), cv=cv)

    def estimate_new(self, t: Ticket, ahead: int, now: dt.datetime) -> WaitEstimate:
        """The wait of a ticket joining its line now, counting who is expected to pass it: priority
        arrivals for a normal ticket, tickets reaching the anti-starvation or priority-run limits for a
        priority ticket (`hallcore.estimates`, "what the people ahead do not show")."""
        mean, cv = self._stats(t.series)
        cap = self._series_capacity(t.series)
        rank = self._rank_of(t)
        policy = self.config.priority
        if rank == NORMAL_RANK:
            rate = self._priority_arrivals.rate(t.series, now.timestamp())
            extra = expected_jumps(ahead, mean, cap, rate, policy.aging_limit_min)
            return estimate_wait(ahead, mean, cap, cv=cv, extra=extra)
        line = self._line_of(t)
        lower_total = sum(n for r, n in line.rank_counts.items() if r > rank)
        passed = passed_by_lower(
            ahead,
            mean,
            cap,
            lambda until_s: self._joined_by(line, until_s, rank),
            lower_total,
            now.timestamp(),
            policy.aging_limit_min,
            policy.max_priority_in_row,
        )
        return estimate_wait(ahead + passed, mean, cap, cv=cv)

    def _joined_by(self, line: Line, until_s: float, rank: int) -> int:
        """Waiting tickets of `line` ranked after `rank` that joined at or before `until_s`: a walk of the
        by-time heap that skips every subtree starting later, so it costs O(those counted + stale)."""
        heap = line.by_since
        tickets = self.tickets
        count = 0
        todo = [0] if heap else []
        while todo:
            i = todo.pop()
            since_s, _key, tid, token = heap[i]
            if since_s > until_s:
                continue
            x = tickets.get(tid)
            if x is not None and x.state is _WAITING and x.qtoken == token and self._rank_of(x) > rank:
                count += 1
            for child in (2 * i + 1, 2 * i + 2):
                if child < len(heap):
                    todo.append(child)
        return count

    def _note_arrival(self, t: Ticket) -> None:
        if self._rank_of(t) != NORMAL_RANK:
            self._priority_arrivals.record(t.series, t.issued_at.timestamp())

    def _stats(self, series: str) -> tuple[float, float]:
        stats = self._handle_stats.get(series)
        if stats is None:
            # Mean and spread change only when a ticket is finished; recomputing them at every issue cost
            # more than the rest of the estimate.
            stats = (self.handle_times.mean(series), self.handle_times.cv(series))
            self._handle_stats[series] = stats
        return stats

    def _series_capacity(self, series: str) -> float:
        """Windows' worth of service for `series`: each open window serving only it counts 1, a shared
        window (综合窗口) the share of its recent service time the series got (`ServiceShares`, 1/k at
        first)."""
        # Cached per series: recomputing over every open window at each issue made issuing O(windows).
        # Any window change (open, close, pause, resume, A/B takeover) clears the cache; the shares of the
        # few shared windows are read fresh.
        value = self._capacity_value.get(series)
        if value is not None:
            return value
        cached = self._capacity.get(series)
        if cached is None:
            dedicated = 0.0
            shared: list[tuple[int, tuple[str, ...]]] = []
            for n, rt in self.windows.items():
                if rt.state is not _OPEN:
                    continue
                served = self._series_of_window(n)
                distinct = set(served)
                if series not in distinct:
                    continue
                if len(distinct) == 1:
                    dedicated += 1.0
                else:
                    shared.append((n, served))
            cached = (dedicated, tuple(shared))
            self._capacity[series] = cached
        dedicated, shared_windows = cached
        if shared_windows:
            means = {s: self._stats(s)[0] for _n, served in shared_windows for s in served}
            value = dedicated + sum(
                self._shares.share(n, served, series, means) for n, served in shared_windows
            )
        else:
            value = dedicated
        self._capacity_value[series] = value
        return value

    def _capacity_changed(self, *, windows: bool = False) -> None:
        if windows:
            self._capacity.clear()
        self._capacity_value.clear()

    def _handle_time_changed(self, series: str) -> None:
        self._handle_stats.pop(series, None)
        # Shared windows weigh their series by mean handle time, so every capacity may move.
        self._capacity_value.clear()

    def _note_call(self, number: int, t: Ticket) -> None:
        served = self._series_of_window(number)
        if len(served) > 1 and t.series in served:
            self._shares.observe(number, t.series)
            self._capacity_value.clear()

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
                self._note_arrival(t)
            if t.state is _PENDING:
                self._pending[t.id] = None
            if t.state in (_PENDING, _WAITING, *AT_WINDOW):
                self._live[t.id] = None
            if t.state is _WAITING:
                self._enqueue(t)
            if t.state is _DONE and t.serving_at and t.ended_at:
                self.handle_times.observe(t.series, (t.ended_at - t.serving_at).total_seconds() / 60)
                self._handle_time_changed(t.series)
        for w in windows:
            if w.number in self.windows:
                self.windows[w.number] = w
        self._capacity_changed(windows=True)
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
            source=t.source,  # a StrEnum is a str: .value would cost a descriptor call per event
            priority=t.priority,
            priority_name=pc.name if pc else "",
            state=t.state,
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
        col: Collector,
        window: int | None = None,
        note: str = "",
    ) -> None:
        col.tickets[t.id] = None
        wv = None
        if window is not None:
            col.windows[window] = None
            wv = self._wview(window)
        col.events.append(TicketChanged(now, action, self._tview(t), wv, self._waiting_of(t.series), note))

    def _window_event(self, action: str, number: int, now: dt.datetime, col: Collector) -> Accepted:
        self._capacity_changed(windows=True)
        col.windows[number] = None
        col.events.append(WindowChanged(now, action, self._wview(number)))
        return Accepted(tuple(col.events), col.changes())

    def _done(self, col: Collector, ticket: Ticket | None = None, **kw: Any) -> Accepted:
        return Accepted(tuple(col.events), col.changes(), ticket, **kw)

    def _window(self, number: int) -> tuple[Window, WindowRuntime] | Refused:
        w = self.config.window_by_number.get(number)
        if w is None:
            return refuse(
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
            return refuse(
                RefusalCode.NO_CURRENT_TICKET,
                f"{number} 号窗口当前没有号",
                f"window {number} holds no ticket",
                window=number,
            )
        t = self.tickets[rt.current]
        if t.state not in states:
            return wrong_state(t, *states)
        return rt, t

    def _ticket(self, ref: str, now: dt.datetime) -> Ticket | Refused:
        t = self.find_ticket(ref, now)
        if t is None:
            return refuse(RefusalCode.UNKNOWN_TICKET, f"没有票号 {ref}", f"no ticket {ref!r}", ticket=ref)
        return t

    def _booking_event(self, action: str, b: Booking, now: dt.datetime) -> BookingChanged:
        m = self.config.matter_by_code[b.matter]
        quota = m.booking_quota if m.booking_quota is not None else self.config.booking.default_quota
        left = quota - self._slot_taken.get((b.matter, b.day, b.slot_start), 0)
        return BookingChanged(now, action, b.code, b.matter, m.name, b.day, b.slot_start, left, b.ticket)

    def _booking(self, code: str) -> Booking | Refused:
        b = self.bookings.get(code)
        if b is None:
            return refuse(RefusalCode.UNKNOWN_BOOKING, f"没有预约 {code}", f"no booking {code!r}")
        return b
