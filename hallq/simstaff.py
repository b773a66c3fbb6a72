"""The simulated day's staffing: the config's plan (`windows[].staffed`, `windows[].closures`) as the day
really takes it, with clerks absent or late, lunch turns back late, planned breaks moved or skipped, unplanned
breaks, short pauses and faults. The estimator never sees any of this except through the hall's events."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
from collections import defaultdict
from collections.abc import Callable

from hallcore.calendar import HallCalendar
from hallq.simbase import Clerk, SimBase

BREAK_REASON = "休息"
SHORT_PAUSE_REASON = "临时外出"
FAULT_REASON = "系统故障"


class Staffing(SimBase):
    def staff_windows(self) -> None:
        """Staff the windows the config's plan rosters (`windows[].staffed`; `params.windows` overrides), a
        few clerks absent or late; the planned closures (lunch turns, breaks) taken roughly as planned; some
        unplanned breaks, short pauses and the odd system fault. The clerks of the day are faster or slower
        than the history as a whole (`day_speed_sigma`) and each on their own (`clerk_sigma`)."""
        allowed = set(self.p.windows) if self.p.windows is not None else None
        staffed: list[int] = []
        rostered: dict[tuple[str, ...], int] = defaultdict(int)
        for w in self.cfg.windows:
            rostered[w.series] += w.staffed
        for w in self.cfg.windows:
            if allowed is not None:
                if w.number in allowed:
                    staffed.append(w.number)
            elif w.staffed and (rostered[w.series] < 2 or self.rng.random() >= self.p.absent_rate):
                # The only rostered clerk of a series is covered when absent (someone is sent): never absent.
                staffed.append(w.number)
        opens = self.clock(self.p.start.hour, self.p.start.minute)
        closes = self.clock(self.p.end.hour, self.p.end.minute)
        gaps = self._session_gaps(opens, closes)
        day_speed = self.rng.lognormvariate(0.0, self.p.day_speed_sigma)
        for n in sorted(staffed):
            clerk = Clerk(
                n,
                f"clerk{n}",
                day_speed * self.rng.lognormvariate(0.0, self.p.clerk_sigma),
                random.Random(self.rng.getrandbits(64)),
            )
            self.clerks[n] = clerk
            late = self.rng.random() < self.p.late_open_rate
            self.at(opens + dt.timedelta(minutes=self.rng.uniform(10, 40) if late else 0), self._opener(n))
            self._plan_closures(n, opens, closes, gaps)
            self._plan_pauses(n, opens, closes)
            for a, b in gaps:
                self.at(a, functools.partial(self.when_idle, n, functools.partial(self.go_lunch, n, b)))
            self.at(closes, functools.partial(self.when_idle, n, functools.partial(self.close_for_day, n)))
        for w in self.cfg.windows:
            if w.number in self.clerks:
                self.result.capacity.update(
                    {s: self.result.capacity.get(s, 0.0) + 1.0 / len(set(w.series)) for s in set(w.series)}
                )

    def _plan_closures(
        self, n: int, opens: dt.datetime, closes: dt.datetime, gaps: list[tuple[dt.datetime, dt.datetime]]
    ) -> None:
        """The window's planned closures as the day takes them: a lunch turn closes the window from its start
        (when the case in hand ends) to its end and 0–10 minutes more; a planned break is skipped now and
        then, starts up to 10 minutes early or 15 late, and lasts 10–20 minutes. None inside a session gap
        (the whole hall is closed then)."""
        clerk = self.clerks[n]
        for closure in self.cfg.window_by_number[n].closures:
            start = self.clock(closure.start.hour, closure.start.minute)
            end = self.clock(closure.end.hour, closure.end.minute)
            if not opens < start < closes or any(a <= start < b for a, b in gaps):
                continue
            if closure.reason == "午休":
                if self.p.lunch:
                    lunch = functools.partial(self.go_lunch, n, end)
                    self.at(start, functools.partial(self.when_idle, n, lunch))
                continue
            if clerk.rng.random() < self.p.planned_break_skip:
                continue
            when = start + dt.timedelta(minutes=clerk.rng.uniform(-10, 15))
            minutes = clerk.rng.uniform(10, 20)
            pause = functools.partial(self.pause, n, closure.reason, minutes)
            self.at(max(when, opens), functools.partial(self.when_idle, n, pause))

    def _session_gaps(self, opens: dt.datetime, closes: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """The breaks between the day's sessions (a lunch break, before an evening session) within the run."""
        day = self.p.day
        sessions = HallCalendar(self.cfg.hall).sessions_on(day)
        out = []
        for before, after in itertools.pairwise(sessions):
            a = dt.datetime.combine(day, before.close, self.tz)
            b = dt.datetime.combine(day, after.open, self.tz)
            if opens < a < b < closes:
                out.append((a, b))
        return out

    def _plan_pauses(self, n: int, opens: dt.datetime, closes: dt.datetime) -> None:
        plans: list[tuple[float, str, float, float]] = []
        if self.rng.random() < self.p.break_rate:
            plans.append((self.rng.uniform(9, 16), BREAK_REASON, 10, 20))
        if self.rng.random() < self.p.short_pause_rate:
            plans.append((self.rng.uniform(9, 16), SHORT_PAUSE_REASON, 3, 8))
        if self.rng.random() < self.p.fault_rate:
            plans.append((self.rng.uniform(9, 16), FAULT_REASON, 15, 30))
        for hour, reason, lo, hi in plans:
            when = self.clock(int(hour), int((hour % 1) * 60))
            if opens < when < closes - dt.timedelta(minutes=hi):
                minutes = self.rng.uniform(lo, hi)
                pause = functools.partial(self.pause, n, reason, minutes)
                self.at(when, functools.partial(self.when_idle, n, pause))

    def _opener(self, n: int) -> Callable[[], None]:
        # A partial, not a closure, so a day can be deep-copied and run on (bench/simfloor.py forks it).
        return functools.partial(self._open, n)

    def _open(self, n: int) -> None:
        clerk = self.clerks[n]
        # A refusal here means the window was left open (a server that ran before): use it as it is.
        self.port.open_window(n, clerk.staff, self.now)
        self.back(n)

    def when_idle(self, n: int, action: Callable[[], None]) -> None:
        """Run `action` now if the clerk holds no ticket, else right after the case in hand."""
        clerk = self.clerks[n]
        if clerk.busy:
            clerk.pending.append(action)
        else:
            action()

    def away(self, n: int) -> None:
        clerk = self.clerks[n]
        clerk.away = True
        for s in self.serves[n]:
            self.idle_by_series[s].discard(n)

    def back(self, n: int) -> None:
        self.clerks[n].away = False
        self.free(n)

    def go_lunch(self, n: int, until: dt.datetime) -> None:
        """Close for lunch until `until` (and 0–10 minutes more): the window's turn in the plan, or the whole
        hall between two sessions."""
        if self.clerks[n].away or not self.port.close_window(n, self.now):
            return
        self.result.pauses["午休（关窗）"] += 1
        self.away(n)
        self.at(until + dt.timedelta(minutes=self.clerks[n].rng.uniform(0, 10)), self._opener(n))

    def pause(self, n: int, reason: str, minutes: float) -> None:
        if self.clerks[n].away or not self.port.pause(n, reason, self.now):
            return
        self.result.pauses[reason] += 1
        self.away(n)
        self.after(minutes * 60, functools.partial(self._resume, n))

    def _resume(self, n: int) -> None:
        if self.port.resume(n, self.now):
            self.back(n)

    def close_for_day(self, n: int) -> None:
        clerk = self.clerks[n]
        if clerk.away and not self.port.resume(n, self.now):
            return  # closed already (lunch not over) — nothing to do
        if self.port.close_window(n, self.now):
            self.away(n)
