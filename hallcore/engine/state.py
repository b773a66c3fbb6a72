"""The engine's state: tickets, windows, bookings, ratings and cases, the waiting lines and the per-day
counters that keep every rule O(log n).

The rules (`issuing`, `calling`, `windows`, `booking`, `rating`) are functions over this state; the wait
model's caches are kept here too but only `waits` reads or writes them.
"""

from __future__ import annotations

import datetime as dt

from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig
from hallcore.estimates import ArrivalRate, HandleTimes, ServiceShares
from hallcore.model import Booking, Case, Rating, Source, Ticket, TicketState, WindowRuntime, WindowState
from hallcore.ordering import NORMAL_RANK, Line

# Enum members as module constants: attribute access on an Enum class is a descriptor call (~4x a global
# read), and these are read on every command.
PENDING = TicketState.PENDING_PRINT
WAITING = TicketState.WAITING
CALLED = TicketState.CALLED
SERVING = TicketState.SERVING
DONE = TicketState.DONE
NO_SHOW = TicketState.NO_SHOW
CANCELLED = TicketState.CANCELLED
VOIDED = TicketState.VOIDED
EXPIRED = TicketState.EXPIRED
OPEN = WindowState.OPEN
CLOSED = WindowState.CLOSED
PAUSED = WindowState.PAUSED
FROM_KIOSK = Source.KIOSK
FROM_BOOKING = Source.BOOKING

#: The priority class a booking checked in on time gets, if the hall configures it.
APPOINTMENT = "appointment"


class EngineState:
    """The live queue state of one hall and its indexes."""

    def __init__(self, config: HallConfig) -> None:
        self.config = config
        self.calendar = HallCalendar(config.hall)
        self.tickets: dict[str, Ticket] = {}
        self.windows: dict[int, WindowRuntime] = {w.number: WindowRuntime(w.number) for w in config.windows}
        self.bookings: dict[str, Booking] = {}
        self.ratings: dict[str, Rating] = {}
        self.cases: dict[str, Case] = {}
        # ---- the waiting lines (`hallcore.ordering`) ----
        self.lines: dict[str, Line] = {s.prefix: Line() for s in config.series}
        self.window_lines: dict[int, Line] = {w.number: Line() for w in config.windows}
        self.rank = {pc.id: pc.rank for pc in config.priority_classes}
        self.seq = 0  # the position key's tie-breaker, in issue order
        self.requeue_seq = 0
        # ---- per business day ----
        self.last_number: dict[tuple[dt.date, str], int] = {}
        self.issued_matter: dict[tuple[dt.date, str], int] = {}  # not counting voided tickets
        self.issued_series: dict[tuple[dt.date, str], int] = {}
        self.by_label: dict[tuple[dt.date, str], str] = {}
        self.slot_taken: dict[tuple[str, dt.date, dt.time], int] = {}
        self.person_day: dict[tuple[str, dt.date], int] = {}
        self.person_week: dict[tuple[str, int, int], int] = {}
        self.pending: dict[str, None] = {}  # pending_print ticket ids, oldest first
        self.live: dict[str, None] = {}  # waiting/called/serving/pending: candidates for expiry
        self.walk_in_memo: dict[tuple[str, int], bool] = {}  # (series, minute) -> accepting walk-ins
        # ---- the wait model (`waits`) ----
        self.handle_times = HandleTimes.from_matters(config.matters)
        # series -> (open windows serving only it, open shared windows serving it with their series)
        self.capacity: dict[str, tuple[float, tuple[tuple[int, tuple[str, ...]], ...]]] = {}
        self.shares = ServiceShares()
        # The capacity figure itself, per series. It depends on the open windows, on the shared windows'
        # recent calls and on handle-time means, so `waits` drops it on any of those; issuing reads it far
        # more often than those change.
        self.capacity_value: dict[str, float] = {}
        self.handle_stats: dict[str, tuple[float, float]] = {}
        self.priority_arrivals = ArrivalRate()  # per series: who will pass normal tickets

    # ---- the lines ------------------------------------------------------------------------------------

    def aging_s(self) -> float | None:
        lim = self.config.priority.aging_limit_min
        return lim * 60.0 if lim is not None else None

    def rank_of(self, t: Ticket) -> int:
        return self.rank.get(t.priority, NORMAL_RANK) if t.priority else NORMAL_RANK

    def line_of(self, t: Ticket) -> Line:
        if t.target_window is not None:
            return self.window_lines[t.target_window]
        return self.lines[t.series]

    def enqueue(self, t: Ticket) -> None:
        t.qtoken += 1
        self.line_of(t).push(t, self.rank_of(t))

    def dequeue(self, t: Ticket) -> None:
        """Call before a waiting ticket changes state or line."""
        self.line_of(t).removed(self.rank_of(t))
        t.qtoken += 1

    def series_of_window(self, number: int) -> tuple[str, ...]:
        """The series a window calls: its own, then those of the windows it covers (A/B takeover)."""
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

    def lines_for(self, number: int) -> list[Line]:
        """The lines a window calls from, in order: tickets transferred to it by name, then its series."""
        return [self.window_lines[number], *(self.lines[s] for s in self.series_of_window(number))]

    def waiting_of(self, *series: str) -> dict[str, int]:
        return {s: self.lines[s].count for s in dict.fromkeys(series) if s in self.lines}

    # ---- the counters ---------------------------------------------------------------------------------

    def count_issue(self, t: Ticket, delta: int) -> None:
        km, ks = (t.day, t.matter), (t.day, t.series)
        self.issued_matter[km] = self.issued_matter.get(km, 0) + delta
        self.issued_series[ks] = self.issued_series.get(ks, 0) + delta

    def count_booking(self, b: Booking, delta: int) -> None:
        ks = (b.matter, b.day, b.slot_start)
        self.slot_taken[ks] = self.slot_taken.get(ks, 0) + delta
        kd = (b.person_key, b.day)
        self.person_day[kd] = self.person_day.get(kd, 0) + delta
        iso = b.day.isocalendar()
        kw = (b.person_key, iso.year, iso.week)
        self.person_week[kw] = self.person_week.get(kw, 0) + delta

    def slot_quota(self, matter: str) -> int:
        m = self.config.matter_by_code[matter]
        return m.booking_quota if m.booking_quota is not None else self.config.booking.default_quota

    def slot_times(self, day: dt.date) -> list[tuple[dt.time, dt.time]]:
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
