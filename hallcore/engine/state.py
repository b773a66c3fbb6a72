"""The engine's state: tickets, windows, bookings, ratings and cases, the waiting lines and the per-day
counters that keep every rule O(log n).

The rules (`issuing`, `calling`, `windows`, `booking`, `rating`) are functions over this state; the wait
model's caches are kept here too but only `waits` reads or writes them.
"""

from __future__ import annotations

import datetime as dt

from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig
from hallcore.estimatebands import BandScale, RateSpread
from hallcore.forecast import Forecast
from hallcore.handletimes import HandleTimes, ServiceShares
from hallcore.history import HandleHistory
from hallcore.model import Booking, Case, Rating, Source, Ticket, TicketState, WindowRuntime, WindowState
from hallcore.ordering import Line, WindowRules, order_key
from hallcore.passers import ArrivalRate

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
FROM_DESK = Source.DESK

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
        self.head_start_s = {pc.id: pc.head_start_min * 60.0 for pc in config.priority_classes}
        self.absolute = frozenset(pc.id for pc in config.priority_classes if pc.absolute)
        # Nobody is passed by a ticket whose effective time is more than this after theirs (DESIGN.md §4).
        self.bound_s = max(self.head_start_s.values(), default=0.0)
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
        self.person_open: dict[str, int] = {}  # person key -> bookings still booked
        # Carded tickets (`persons`), not counting voided ones: (person key, day), (.., matter), agents'.
        self.person_tickets: dict[tuple[str, dt.date], int] = {}
        self.person_matter: dict[tuple[str, dt.date, str], int] = {}
        self.agent_tickets: dict[tuple[str, dt.date], int] = {}
        self.pending: dict[str, None] = {}  # pending_print ticket ids, oldest first
        self.live: dict[str, None] = {}  # waiting/called/serving/pending: candidates for expiry
        self.walk_in_memo: dict[tuple[str, int, bool], bool] = {}  # (series, minute, desk) -> accepting
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
        # series -> the sum of the waiting tickets' matter reference times (`HandleTimes.ref`): the people
        # ahead are a mix of matters, some longer than others (`waits.line_mean`).
        self.line_ref: dict[str, float] = {}
        # series -> (the minute it was made for, the capacity profile over the staffing plan from then on)
        self.profiles: dict[str, tuple[int, list[tuple[float, float]]]] = {}
        self.series_windows: dict[str, tuple[int, ...]] = {}  # series -> the windows configured for it
        # The hall's past days (`use_history`; None: the config's priors only) and, per (series, weekday,
        # hour), how much longer its cases take then than over the whole day (`pace`).
        self.history: HandleHistory | None = None
        self.paces: dict[tuple[str, int, int], float] = {}
        # series -> (the minute's profile it was made from, that profile paced: `waits.paced_profile_of`)
        self.paced_profiles: dict[str, tuple[list[tuple[float, float]], list[tuple[float, float]]]] = {}
        self.priority_arrivals = ArrivalRate()  # per series: who will pass normal tickets
        # The band's width beyond the handle-time spread, and its scale, from the checked estimates.
        self.rate_spread = RateSpread()
        self.band_scale = BandScale()
        # ---- the forward model's results (`forecasts`) and what they were made from ----
        self.forecasts: dict[str, Forecast] = {}  # series -> the latest result installed
        self.changes = 0  # counts every change a forecast depends on
        self.series_changed: dict[str, int] = {}  # series -> `changes` at its line's last change
        self.all_changed = 0  # `changes` at the last change of every series' (windows, handle times)

    # ---- the lines ------------------------------------------------------------------------------------

    def head_start(self, t: Ticket) -> float:
        """The head start of the ticket's class in seconds (0 for none, or a class staff revoked)."""
        return self.head_start_s.get(t.priority, 0.0) if t.priority else 0.0

    def line_of(self, t: Ticket) -> Line:
        if t.target_window is not None:
            return self.window_lines[t.target_window]
        return self.lines[t.series]

    def enqueue(self, t: Ticket) -> None:
        """Put a waiting ticket in its line with its key: effective time − head start, or for a booking
        checked in before its slot, no head start until the slot starts (`hallcore.ordering`)."""
        t.qtoken += 1
        since = t.since.timestamp()
        hs = self.head_start(t)
        absolute = t.priority in self.absolute
        if t.slot_at is not None:
            key = since
            slot = t.slot_at.timestamp()
            due = (slot, order_key(slot, hs))
        else:
            key = order_key(since, hs)
            due = None
        t.key = (key, t.key[1], t.key[2])
        self.line_of(t).push(t, key, absolute=absolute, due=due)
        self.line_changed(t.series)
        if t.target_window is None:
            self.line_ref[t.series] = self.line_ref.get(t.series, 0.0) + self.ticket_ref(t)

    def ahead_of_new(self, t: Ticket, now: dt.datetime) -> int:
        """How many in its line the order puts before a ticket joining now (`t` is not in the line yet)."""
        line = self.line_of(t)
        hs = 0.0 if t.slot_at is not None else self.head_start(t)
        absolute = t.slot_at is None and t.priority in self.absolute
        if hs == 0 and not absolute:
            return line.count  # every key waiting is at or before its effective time, so before now
        line.promote(now.timestamp(), self.tickets)
        key = order_key(t.since.timestamp(), hs)
        if absolute:
            return sum(1 for e in line.absolute if e[:3] < (key, t.key[1], 0) and line.valid(e, self.tickets))
        before = line.count_before((key, t.key[1], 0), self.tickets)
        # Absolute tickets go first whatever their key (within their run limit).
        return before + sum(
            1 for e in line.absolute if e[:3] >= (key, t.key[1], 0) and line.valid(e, self.tickets)
        )

    def dequeue(self, t: Ticket) -> None:
        """Call before a waiting ticket changes state, line or key."""
        line = self.line_of(t)
        line.removed(t.id)
        t.qtoken += 1
        self.line_changed(t.series)
        if t.target_window is None:
            # An empty line starts its sum afresh, so rounding never accumulates over a day.
            left = self.line_ref.get(t.series, 0.0) - self.ticket_ref(t)
            self.line_ref[t.series] = left if line.count > 0 else 0.0

    def line_changed(self, series: str | None = None) -> None:
        """A change the forward model's result depends on: in `series`' line, or (None) in every series'."""
        self.changes += 1
        if series is None:
            self.all_changed = self.changes
        else:
            self.series_changed[series] = self.changes

    def version(self, series: str) -> int:
        """Changes so far that `series`' forecast depends on: equal versions, the same line and windows."""
        return max(self.series_changed.get(series, 0), self.all_changed)

    def ticket_ref(self, t: Ticket) -> float:
        """The reference time of the ticket's matter (`HandleTimes.ref`; its series' prior if none)."""
        ref = self.handle_times.ref(t.matter)
        return self.handle_times.prior(t.series) if ref is None else ref

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

    def rules(self, *, strict: bool) -> WindowRules:
        """How a window chooses (`hallcore.ordering.choose`), its series merged or in strict order."""
        return WindowRules(strict, self.config.priority.absolute_in_row, self.bound_s)

    def rules_for(self, number: int) -> WindowRules:
        return self.rules(strict=self.config.window_by_number[number].strict_series_order)

    def named_lines_of(self, number: int) -> tuple[int, ...]:
        """The windows whose tickets transferred by name this window calls: its own, then those of the windows
        it covers (A/B takeover: what is left goes back at end-takeover, as it never left their line)."""
        return (number, *self.windows[number].taken_over)

    def lines_for(self, number: int) -> list[Line]:
        """The lines a window calls from, in order: tickets transferred to it (or to a window it covers) by
        name, then its series."""
        return [
            *(self.window_lines[n] for n in self.named_lines_of(number)),
            *(self.lines[s] for s in self.series_of_window(number)),
        ]

    def waiting_of(self, *series: str) -> dict[str, int]:
        return {s: self.lines[s].count for s in dict.fromkeys(series) if s in self.lines}

    # ---- the counters ---------------------------------------------------------------------------------

    def count_issue(self, t: Ticket, delta: int) -> None:
        km, ks = (t.day, t.matter), (t.day, t.series)
        self.issued_matter[km] = self.issued_matter.get(km, 0) + delta
        self.issued_series[ks] = self.issued_series.get(ks, 0) + delta
        if t.person_key:
            kp, kpm = (t.person_key, t.day), (t.person_key, t.day, t.matter)
            self.person_tickets[kp] = self.person_tickets.get(kp, 0) + delta
            self.person_matter[kpm] = self.person_matter.get(kpm, 0) + delta
        if t.agent_key:
            ka = (t.agent_key, t.day)
            self.agent_tickets[ka] = self.agent_tickets.get(ka, 0) + delta

    def count_booking(self, b: Booking, delta: int) -> None:
        ks = (b.matter, b.day, b.slot_start)
        self.slot_taken[ks] = self.slot_taken.get(ks, 0) + delta
        kd = (b.person_key, b.day)
        self.person_day[kd] = self.person_day.get(kd, 0) + delta
        iso = b.day.isocalendar()
        kw = (b.person_key, iso.year, iso.week)
        self.person_week[kw] = self.person_week.get(kw, 0) + delta

    def count_open(self, b: Booking, delta: int) -> None:
        """`b` became booked (+1) or stopped being booked (−1): checked in, cancelled or missed."""
        n = self.person_open.get(b.person_key, 0) + delta
        if n > 0:
            self.person_open[b.person_key] = n
        else:
            self.person_open.pop(b.person_key, None)

    def slot_quota(self, matter: str) -> int:
        m = self.config.matter_by_code[matter]
        return m.booking_quota if m.booking_quota is not None else self.config.booking.default_quota

    def slot_times(self, day: dt.date) -> list[tuple[dt.time, dt.time]]:
        # No slot on a day whose year has no calendar: it may yet be a holiday (hallcore/calendar.py).
        if not self.calendar.covers(day):
            return []
        step = dt.timedelta(minutes=self.config.booking.slot_min)
        out = []
        for session in self.calendar.sessions_on(day):
            if not session.bookings:
                continue
            base = dt.datetime.combine(day, session.open)
            end = dt.datetime.combine(day, session.close)
            while base + step <= end:
                out.append((base.time(), (base + step).time()))
                base += step
        return out
