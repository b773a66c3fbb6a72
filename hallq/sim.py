"""`hallq sim`: a hall day simulated against the real engine on a virtual clock, as fast as it can run, in
scaled real time (`--speed N`), or against a running server through its API (`--against URL`, real time).

Citizens arrive per matter with an hourly profile (morning peak), answer the pre-check (most pass, some 容缺,
some fail and go home with the 一次性告知单), take kiosk tickets or check in a booking (on time, late, or not
at all), sometimes with a priority class; clerks open their windows (staffed in proportion to the hall, a few
late), take lunch in turns (half of each group of windows closes 12:00–13:00), take breaks and short pauses,
call, serve, recall and mark no-shows (some come back and are re-queued), transfer a few cases, and ask for a
rating. Handle times per matter are lognormal around means that differ from the config's priors on purpose,
as in a real hall, so the estimates' error (MAE) and range coverage are measured, not assumed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import heapq
import math
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig, Matter
from hallcore.configload import ConfigError
from hallcore.engine import Engine
from hallq.simports import Called, EnginePort, HallPort, Issue, new_person
from hallq.simstats import DayStats, TicketRecord, day_stats, render
from hallserver.configfile import read_config

#: Share of the day's walk-ins in each hour (a Monday: the morning peak, a lunch dip, an afternoon bump).
HOURLY_PROFILE = {8: 0.06, 9: 0.19, 10: 0.18, 11: 0.12, 12: 0.04, 13: 0.09, 14: 0.13, 15: 0.12, 16: 0.07}
BREAK_REASON = "休息"
SHORT_PAUSE_REASON = "临时外出"
FAULT_REASON = "系统故障"


@dataclass
class SimParams:
    day: dt.date
    start: dt.time = dt.time(8, 30)
    end: dt.time = dt.time(17, 0)
    arrivals: int | None = None  # whole-day walk-ins; None = sized to the staffed windows and `load`
    open_share: float = 0.85  # share of each group of windows staffed (at least one per group)
    load: float = 0.72  # mean utilisation of the staffed windows over the day the arrivals are sized for
    late_open_rate: float = 0.08  # windows whose clerk arrives 10–40 min late
    lunch: bool = True  # half of each group of windows closes 12:00–13:00
    break_rate: float = 0.6  # clerks taking one 10–20 min break
    short_pause_rate: float = 0.2  # clerks stepping away 3–8 min once
    fault_rate: float = 0.02  # windows with a 15–30 min system fault
    no_show_rate: float = 0.04
    no_show_return_rate: float = 0.3  # no-shows who come back and are re-queued
    transfer_rate: float = 0.015
    precheck_fail_rate: float = 0.07
    precheck_tolerated_rate: float = 0.08
    priority_rate: float = 0.06
    booking_share: float = 0.12  # bookings as a share of walk-ins, for bookable matters
    booking_late_rate: float = 0.08
    booking_no_show_rate: float = 0.12
    rating_rate: float = 0.8
    handle_bias: float = 1.15  # real handle times run this much longer than the priors on the whole…
    matter_sigma: float = 0.25  # …each matter's mean off by a lognormal factor with this spread…
    handle_sigma: tuple[float, float] = (0.35, 0.7)  # …and each case lognormal with a sigma in this range
    clerk_sigma: float = 0.1  # some clerks are faster than others
    seed: int = 1
    windows: tuple[int, ...] | None = None  # staff only these windows (None: the plan above)


@dataclass
class SimResult:
    config: HallConfig
    params: SimParams
    records: dict[str, TicketRecord]
    engine: Engine | None = None  # set when the simulation ran in process
    calls: list[tuple[dt.datetime, str, int, str]] = field(default_factory=list)
    prechecks: Counter[str] = field(default_factory=Counter)
    bookings: Counter[str] = field(default_factory=Counter)
    pauses: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    capacity: dict[str, float] = field(default_factory=dict)
    commands: int = 0
    wall_s: float = 0.0
    tz: dt.tzinfo = dt.UTC

    def waits_min(self) -> list[float]:
        return [w for r in self.records.values() if (w := r.wait_min) is not None]

    def stats(self) -> DayStats:
        return day_stats(
            self.config,
            self.records.values(),
            prechecks=self.prechecks,
            bookings=self.bookings,
            pauses=self.pauses,
            refusals=self.refusals,
            capacity=self.capacity,
            tz=self.tz,
        )


class Pacer:
    """Maps virtual time to the wall clock: `wait_until` returns at once (as fast as possible) or sleeps so
    that virtual time runs `speed` times real time from the first call."""

    def __init__(self, speed: float | None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.speed = speed
        self._sleep = sleep
        self._origin: tuple[dt.datetime, float] | None = None

    def wait_until(self, when: dt.datetime) -> None:
        if self.speed is None:
            return
        if self._origin is None:
            self._origin = (when, time.monotonic())
            return
        due = self._origin[1] + (when - self._origin[0]).total_seconds() / self.speed
        delay = due - time.monotonic()
        if delay > 0:
            self._sleep(delay)


@dataclass(slots=True)
class _Clerk:
    window: int
    staff: str
    speed: float
    busy: bool = False  # holds a ticket (called or serving)
    away: bool = True  # closed or paused
    pending: list[Callable[[], None]] = field(default_factory=list)  # breaks waiting for the case to end


class _Sim:
    def __init__(
        self,
        config: HallConfig,
        params: SimParams,
        port: HallPort,
        *,
        pacer: Pacer | None = None,
        on_call: Callable[[str], None] | None = None,
        start_at: dt.datetime | None = None,
    ) -> None:
        self.cfg = config
        self.p = params
        self.port = port
        self.pacer = pacer or Pacer(None)
        self.on_call = on_call
        self.rng = random.Random(params.seed)
        self.tz = HallCalendar(config.hall).tz
        self.now = start_at or dt.datetime.combine(params.day, params.start, self.tz)
        self.queue: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self.n = 0
        self.result = SimResult(config, params, {}, tz=self.tz)
        if isinstance(port, EnginePort):
            self.result.engine = port.engine
        self.records = self.result.records
        self.clerks: dict[int, _Clerk] = {}
        self.idle_by_series: dict[str, set[int]] = defaultdict(set)
        self.serves: dict[int, tuple[str, ...]] = {w.number: w.series for w in config.windows}
        self.persons = 0
        self._matter_model()

    # ---- scheduling ---------------------------------------------------------------------------------------

    def at(self, when: dt.datetime, action: Callable[[], None]) -> None:
        self.n += 1
        heapq.heappush(self.queue, (when, self.n, action))

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        self.at(self.now + dt.timedelta(seconds=seconds), action)

    def clock(self, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(self.p.day, dt.time(hour, minute), self.tz)

    # ---- the hall's real handle times -------------------------------------------------------------------

    def _matter_model(self) -> None:
        """Each matter's real mean handle time and spread, and its popularity within its series."""
        rng = random.Random(self.p.seed * 7919 + 1)
        self.real_mean: dict[str, float] = {}
        self.real_sigma: dict[str, float] = {}
        popularity: dict[str, float] = {}
        by_series: dict[str, list[Matter]] = defaultdict(list)
        for m in self.cfg.matters:
            by_series[m.series].append(m)
        for matters in by_series.values():
            ranks = list(range(len(matters)))
            rng.shuffle(ranks)
            for m, rank in zip(matters, ranks, strict=True):
                popularity[m.code] = 1.0 / (rank + 1) ** 0.8
        for m in self.cfg.matters:
            self.real_mean[m.code] = (
                m.prior_handle_min * self.p.handle_bias * rng.lognormvariate(0.0, self.p.matter_sigma)
            )
            self.real_sigma[m.code] = rng.uniform(*self.p.handle_sigma)
        self.popularity = popularity

    def handle_minutes(self, matter: str, clerk: _Clerk) -> float:
        sigma = self.real_sigma[matter]
        # exp(N(−σ²/2, σ)) has mean 1, so the matter's mean is what real_mean says.
        return self.real_mean[matter] * clerk.speed * self.rng.lognormvariate(-sigma * sigma / 2, sigma)

    # ---- staffing -----------------------------------------------------------------------------------------

    def staff_windows(self) -> None:
        """Staff each group of windows with the same series in proportion (at least one per group), every
        综合窗口, a few clerks late; lunch in turns; breaks, short pauses and the odd system fault."""
        groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
        allowed = set(self.p.windows) if self.p.windows is not None else None
        for w in self.cfg.windows:
            if allowed is None or w.number in allowed:
                groups[w.series].append(w.number)
        staffed: list[int] = []
        lunch: list[int] = []
        for series, numbers in groups.items():
            self.rng.shuffle(numbers)
            k = len(numbers) if len(series) > 1 else max(1, round(len(numbers) * self.p.open_share))
            chosen = sorted(numbers[:k])
            staffed += chosen
            if self.p.lunch and len(chosen) >= 2:
                lunch += chosen[: len(chosen) // 2]
        opens = self.clock(self.p.start.hour, self.p.start.minute)
        closes = self.clock(self.p.end.hour, self.p.end.minute)
        for n in sorted(staffed):
            clerk = _Clerk(n, f"clerk{n}", self.rng.lognormvariate(0.0, self.p.clerk_sigma))
            self.clerks[n] = clerk
            late = self.rng.random() < self.p.late_open_rate
            self.at(opens + dt.timedelta(minutes=self.rng.uniform(10, 40) if late else 0), self._opener(n))
            if n in lunch and opens < self.clock(12) < closes:
                self.at(
                    self.clock(12), functools.partial(self.when_idle, n, functools.partial(self.go_lunch, n))
                )
            self._plan_pauses(n, opens, closes)
            self.at(closes, functools.partial(self.when_idle, n, functools.partial(self.close_for_day, n)))
        for w in self.cfg.windows:
            if w.number in self.clerks:
                self.result.capacity.update(
                    {s: self.result.capacity.get(s, 0.0) + 1.0 / len(set(w.series)) for s in set(w.series)}
                )

    def _plan_pauses(self, n: int, opens: dt.datetime, closes: dt.datetime) -> None:
        plans: list[tuple[float, str, float, float]] = []
        if self.rng.random() < self.p.break_rate:
            hour = self.rng.choice([9.75, 14.5])
            plans.append((hour + self.rng.uniform(0, 1.5), BREAK_REASON, 10, 20))
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
        def open_() -> None:
            clerk = self.clerks[n]
            # A refusal here means the window was left open (a server that ran before): use it as it is.
            self.port.open_window(n, clerk.staff, self.now)
            self.back(n)

        return open_

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

    def go_lunch(self, n: int) -> None:
        if self.clerks[n].away or not self.port.close_window(n, self.now):
            return
        self.result.pauses["午休（关窗）"] += 1
        self.away(n)
        self.at(self.clock(13) + dt.timedelta(minutes=self.rng.uniform(0, 10)), self._opener(n))

    def pause(self, n: int, reason: str, minutes: float) -> None:
        if self.clerks[n].away or not self.port.pause(n, reason, self.now):
            return
        self.result.pauses[reason] += 1
        self.away(n)

        def resume() -> None:
            if self.port.resume(n, self.now):
                self.back(n)

        self.after(minutes * 60, resume)

    def close_for_day(self, n: int) -> None:
        clerk = self.clerks[n]
        if clerk.away and not self.port.resume(n, self.now):
            return  # closed already (lunch not over) — nothing to do
        if self.port.close_window(n, self.now):
            self.away(n)

    # ---- citizens -----------------------------------------------------------------------------------------

    def day_arrivals(self) -> int:
        """Walk-ins for the day: enough to keep the staffed windows `load` busy over the open hours at the
        real handle times (bookings come on top)."""
        if self.p.arrivals is not None:
            return self.p.arrivals
        mean_real = sum(self.real_mean[m.code] * self.popularity[m.code] for m in self.cfg.matters) / sum(
            self.popularity.values()
        )
        hours = (
            dt.datetime.combine(self.p.day, self.p.end) - dt.datetime.combine(self.p.day, self.p.start)
        ).total_seconds() / 3600
        open_windows = sum(self.result.capacity.values())
        # Arrivals before opening or after the cut-off, and failed pre-checks, never reach a window.
        first = self.p.start.hour + self.p.start.minute / 60
        last = self.p.end.hour + self.p.end.minute / 60
        closes = HallCalendar(self.cfg.hall).closes_at(self.p.day)
        if closes is not None:
            local = closes.astimezone(self.tz)
            last = min(last, local.hour + local.minute / 60 - self.cfg.hall.cutoff_min / 60)
        inside = sum(
            share * max(0.0, min(hour + 1, last) - max(hour, first)) for hour, share in HOURLY_PROFILE.items()
        )
        reach = max(inside, 0.05) * (1 - self.p.precheck_fail_rate)
        return int(self.p.load * open_windows * hours * 60 / mean_real / reach)

    def matter_weights(self) -> tuple[list[Matter], list[float]]:
        """Demand per matter: each series gets arrivals in proportion to the service it is staffed for
        (windows ÷ real handle time, as a hall sizes its windows), split by the matters' popularity."""
        cap = {s.prefix: self.result.capacity.get(s.prefix, 0.0) for s in self.cfg.series}
        pop_sum: dict[str, float] = defaultdict(float)
        handle: dict[str, float] = defaultdict(float)
        for m in self.cfg.matters:
            pop_sum[m.series] += self.popularity[m.code]
            handle[m.series] += self.popularity[m.code] * self.real_mean[m.code]
        matters = list(self.cfg.matters)
        weights = [
            cap[m.series]
            / (handle[m.series] / pop_sum[m.series])
            * self.popularity[m.code]
            / pop_sum[m.series]
            for m in matters
        ]
        return matters, weights

    def schedule_arrivals(self) -> None:
        total = self.day_arrivals()
        matters, weights = self.matter_weights()
        first = self.clock(self.p.start.hour, self.p.start.minute)
        last = self.clock(self.p.end.hour, self.p.end.minute)
        closes = HallCalendar(self.cfg.hall).closes_at(self.p.day)
        if closes is not None:
            last = min(last, closes - dt.timedelta(minutes=self.cfg.hall.cutoff_min))
        for hour, share in HOURLY_PROFILE.items():
            for _ in range(self._poisson(total * share)):
                when = self.clock(hour) + dt.timedelta(seconds=self.rng.uniform(0, 3600))
                if when < max(first, self.now) or when >= last:
                    continue
                matter = self.rng.choices(matters, weights)[0].code
                prio = self._priority()
                self.at(when, functools.partial(self.arrive, matter, prio))
        self.schedule_bookings(total, matters, weights)

    def _priority(self) -> str:
        classes = [pc.id for pc in self.cfg.priority_classes if pc.kiosk_selectable]
        return self.rng.choice(classes) if classes and self.rng.random() < self.p.priority_rate else ""

    def schedule_bookings(self, walk_ins: int, matters: list[Matter], weights: list[float]) -> None:
        """Citizens who booked ahead (the evening before), with their fate today: on time, late, or absent."""
        bookable = [(m, w) for m, w in zip(matters, weights, strict=True) if m.bookable]
        if not bookable or self.p.booking_share <= 0:
            return
        booked_at = self.now - dt.timedelta(hours=14) if self.result.engine is not None else self.now
        grace = dt.timedelta(minutes=self.cfg.booking.late_grace_min)
        ms, ws = [m for m, _ in bookable], [w for _, w in bookable]
        slots_cache: dict[str, list[tuple[dt.time, dt.time, int]]] = {}
        for _ in range(self._poisson(walk_ins * self.p.booking_share)):
            m = self.rng.choices(ms, ws)[0]
            slots = slots_cache.get(m.code)
            if slots is None:
                slots = slots_cache[m.code] = self.port.slots(m.code, self.p.day)
            usable = [s for s in slots if s[2] > 0 and self.clock(s[0].hour, s[0].minute) > self.now]
            if not usable:
                continue
            slot = self.rng.choices(usable, [HOURLY_PROFILE.get(s[0].hour, 0.01) for s in usable])[0]
            self.persons += 1
            code = self.port.book(
                m.code, self.p.day, slot[0], new_person(self.p.seed * 100_000 + self.persons), booked_at
            )
            if code is None:
                self.result.refusals["booking"] += 1
                continue
            self.result.bookings["booked"] += 1
            start = self.clock(slot[0].hour, slot[0].minute)
            end = self.clock(slot[1].hour, slot[1].minute)
            roll = self.rng.random()
            if roll < self.p.booking_no_show_rate:
                self.result.bookings["never came"] += 1
                continue
            if roll < self.p.booking_no_show_rate + self.p.booking_late_rate:
                when = end + grace + dt.timedelta(minutes=self.rng.uniform(5, 30))
                kind = "late (walk-in)"
            else:
                when = start + dt.timedelta(minutes=self.rng.uniform(-20, 10))
                kind = "on time"
            self.at(max(when, self.now), functools.partial(self.check_in, code, m.code, kind))

    def _poisson(self, lam: float) -> int:
        # Knuth for small means, normal approximation for large ones: good enough for arrivals.
        if lam > 50:
            return max(0, round(self.rng.gauss(lam, math.sqrt(lam))))
        k, prod, limit = 0, self.rng.random(), math.exp(-lam)
        while prod > limit:
            k += 1
            prod *= self.rng.random()
        return k

    def answers_for(self, m: Matter) -> tuple[dict[str, bool], frozenset[str]]:
        roll = self.rng.random()
        answers = {q.id: q.expected for q in m.precheck.questions}
        present = {x.id for x in m.precheck.materials}
        if roll < self.p.precheck_fail_rate:
            hard = [x.id for x in m.precheck.materials if x.required and not x.tolerable]
            if hard:
                present.discard(self.rng.choice(hard))
            elif m.precheck.questions:
                q = self.rng.choice(m.precheck.questions)
                answers[q.id] = not q.expected
        elif roll < self.p.precheck_fail_rate + self.p.precheck_tolerated_rate:
            soft = [x.id for x in m.precheck.materials if x.tolerable]
            if soft:
                present.discard(self.rng.choice(soft))
        return answers, frozenset(present)

    def arrive(self, matter: str, priority: str) -> None:
        answers, present = self.answers_for(self.cfg.matter_by_code[matter])
        out = self.port.issue(matter, priority, answers, present, self.now)
        self._issued(out, matter, "kiosk", priority)
        if out.ticket is not None:
            self.after(self.rng.uniform(3, 8), functools.partial(self.printed, out.ticket))

    def check_in(self, code: str, matter: str, kind: str) -> None:
        answers, present = self.answers_for(self.cfg.matter_by_code[matter])
        out = self.port.check_in(code, answers, present, self.now)
        if out.ticket is not None:
            self.result.bookings[f"checked in {kind}"] += 1
        self._issued(out, matter, "booking", "appointment" if kind == "on time" else "")
        if out.ticket is not None:
            self.records[out.ticket].printed = True
            self.wake(out.series)

    def _issued(self, out: Issue, matter: str, source: str, priority: str) -> None:
        if out.refused:
            self.result.refusals[out.refused] += 1
            return
        if out.precheck:
            self.result.prechecks[out.precheck] += 1
        if out.ticket is None:
            return
        self.records[out.ticket] = TicketRecord(
            out.ticket,
            out.label,
            out.series,
            matter,
            source,
            priority,
            self.now,
            out.ahead,
            out.low,
            out.high,
            out.point,
        )

    def printed(self, ticket: str) -> None:
        if self.port.confirm_print(ticket, self.now):
            rec = self.records[ticket]
            rec.printed = True
            self.wake(rec.series)

    # ---- clerks -------------------------------------------------------------------------------------------

    def wake(self, series: str) -> None:
        for n in sorted(self.idle_by_series.get(series, ())):
            self.try_call(n)
            if not self.idle_by_series.get(series):
                break

    def free(self, n: int) -> None:
        """The clerk is done with the case in hand: run what waited for that, then call again soon."""
        clerk = self.clerks[n]
        clerk.busy = False
        while clerk.pending and not clerk.busy:
            clerk.pending.pop(0)()
        if clerk.away:
            return
        for s in self.serves[n]:
            self.idle_by_series[s].add(n)
        self.after(self.rng.uniform(5, 20), functools.partial(self.try_call, n))

    def try_call(self, n: int) -> None:
        clerk = self.clerks[n]
        if clerk.busy or clerk.away:
            return
        called = self.port.call_next(n, self.now)
        if called is None:
            return
        clerk.busy = True
        for s in self.serves[n]:
            self.idle_by_series[s].discard(n)
        self._record_call(n, called)
        if self.rng.random() < self.p.no_show_rate:
            self.after(60, functools.partial(self.recall_or_skip, n, called, 1))
        else:
            self.after(self.rng.uniform(20, 90), functools.partial(self.start, n, called))

    def _record_call(self, n: int, called: Called) -> None:
        rec = self.records.get(called.ticket)
        if rec is not None:
            if rec.first_called_at is None:
                rec.first_called_at = self.now
            rec.state = "called"
            rec.window = n
        self.result.calls.append((self.now, called.label, n, called.reason))
        if self.on_call:
            w = self.cfg.window_by_number[n]
            local = self.now.astimezone(self.tz)
            self.on_call(f"{local:%H:%M:%S}  请 {called.label} 号到 {n} 号窗口（{w.name}）  {called.reason}")

    def recall_or_skip(self, n: int, called: Called, tries: int) -> None:
        rec = self.records.get(called.ticket)
        if tries <= self.cfg.no_show.max_recalls:
            self.port.recall(n, self.now)
            if rec is not None:
                rec.recalls += 1
            self.after(60, functools.partial(self.recall_or_skip, n, called, tries + 1))
            return
        if self.port.no_show(n, self.now) and rec is not None:
            rec.state = "no_show"
            rec.no_shows += 1
            if self.rng.random() < self.p.no_show_return_rate:
                self.after(self.rng.uniform(300, 1800), functools.partial(self.come_back, called))
        self.free(n)

    def come_back(self, called: Called) -> None:
        if self.port.requeue(called.ticket, self.now):
            rec = self.records.get(called.ticket)
            if rec is not None:
                rec.state = "waiting"
            self.wake(called.series)

    def start(self, n: int, called: Called) -> None:
        self.port.start(n, self.now)
        rec = self.records.get(called.ticket)
        if rec is not None:
            rec.serving_at = self.now
            rec.state = "serving"
        minutes = self.handle_minutes(called.matter, self.clerks[n])
        self.after(minutes * 60, functools.partial(self.finish, n, called))

    def finish(self, n: int, called: Called) -> None:
        rec = self.records.get(called.ticket)
        others = [
            s.prefix for s in self.cfg.series if s.prefix != called.series and self.idle_or_open(s.prefix)
        ]
        if others and self.rng.random() < self.p.transfer_rate:
            to = self.rng.choice(others)
            if self.port.transfer(n, to, self.now):
                if rec is not None:
                    rec.transfers += 1
                    rec.state = "waiting"
                self.wake(to)
                self.free(n)
                return
        if self.port.finish(n, self.now) and rec is not None:
            rec.ended_at = self.now
            rec.state = "done"
            if self.rng.random() < self.p.rating_rate:
                score = self.rng.choices([5, 4, 3, 2, 1], [72, 18, 6, 3, 1])[0]
                if self.port.rate(called.ticket, score, self.now):
                    rec.rating = score
        self.free(n)

    def idle_or_open(self, series: str) -> bool:
        return any(not self.clerks[n].away for n in self.clerks if series in self.serves[n])

    # ---- the run ------------------------------------------------------------------------------------------

    def run(self, until: dt.datetime) -> SimResult:
        started = time.perf_counter()
        self.staff_windows()
        self.schedule_arrivals()
        tick_every = dt.timedelta(minutes=1)
        next_tick = self.now + tick_every
        while self.queue and self.queue[0][0] <= until:
            when, _n, action = heapq.heappop(self.queue)
            self.pacer.wait_until(when)
            self.now = max(self.now, when)
            if self.now >= next_tick:
                self.port.tick(self.now)
                next_tick = self.now + tick_every
            action()
        self.now = max(self.now, until)
        self.port.tick(self.now)
        self._final_states()
        self.result.commands = getattr(self.port, "commands", 0)
        self.result.wall_s = time.perf_counter() - started
        return self.result

    def _final_states(self) -> None:
        engine = self.result.engine
        for rec in self.records.values():
            if engine is not None:
                t = engine.tickets.get(rec.id)
                if t is not None:
                    rec.state = t.state.value
            elif rec.state == "waiting":
                rec.state = "expired" if rec.printed else "voided"


def simulate(
    config: HallConfig,
    params: SimParams,
    *,
    on_call: Callable[[str], None] | None = None,
    port: HallPort | None = None,
    pacer: Pacer | None = None,
    start_at: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> SimResult:
    """Run one simulated day (or part of one) and return what happened.

    By default against a fresh in-process engine as fast as it can run; pass `port` (e.g. an `HttpPort`) and
    a `pacer` to drive a running server in real time.
    """
    sim = _Sim(config, params, port or EnginePort(config), pacer=pacer, on_call=on_call, start_at=start_at)
    end = until or dt.datetime.combine(params.day, params.end, sim.tz) + dt.timedelta(hours=1)
    return sim.run(end)


def summary(result: SimResult) -> str:
    p = result.params
    title = f"{result.config.hall.name} — {p.day} {p.start:%H:%M}–{p.end:%H:%M} (seed {p.seed})"
    text = render(result.stats(), title)
    rate = result.commands / max(result.wall_s, 1e-9)
    return text + f"\n  {result.commands} hall commands in {result.wall_s:.2f} s ({rate:,.0f}/s)"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="hallq sim", description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--config", type=Path, required=True, help="the hall's TOML file")
    ap.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23), help="YYYY-MM-DD")
    ap.add_argument("--start", type=dt.time.fromisoformat, default=None, help="HH:MM (default: opening)")
    ap.add_argument("--end", type=dt.time.fromisoformat, default=None, help="HH:MM (default: closing)")
    ap.add_argument(
        "--arrivals", type=int, default=None, help="whole-day walk-ins (default: sized to the hall)"
    )
    ap.add_argument("--load", type=float, default=SimParams.load, help="mean window utilisation to size for")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--calls", action="store_true", help="print every call")
    ap.add_argument("--chart", type=Path, help="write the wait-time chart (SVG) here")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--speed", type=float, help="run N times real time against the engine")
    mode.add_argument("--against", metavar="URL", help="drive a running hall server in real time")
    ap.add_argument("--manager", help="manager login for --against (approves the simulated stations)")
    ap.add_argument("--password", help="the manager's password for --against")
    ap.add_argument("--clerk-prefix", default="c", help="clerk staff codes are PREFIX + window number")
    ap.add_argument("--clerk-pin", default="", help="the simulated clerks' PIN for --against")
    ap.add_argument(
        "--windows", type=_window_list, help="staff only these windows, e.g. 1-8,12 (default: all)"
    )
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    if args.speed is not None and args.speed <= 0:
        print("hallq sim: --speed must be > 0", file=sys.stderr)
        return 2
    if args.against and not (args.manager and args.password is not None):
        print("hallq sim: --against needs --manager USER --password PW", file=sys.stderr)
        return 2
    try:
        config = read_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hallq sim: cannot read {args.config}: {exc}", file=sys.stderr)
        return 2
    hours = HallCalendar(config.hall).hours_on(args.day)
    start = args.start or (hours.open if hours else dt.time(8, 30))
    end = args.end or (hours.close if hours else dt.time(17, 0))
    params = SimParams(
        args.day, start, end, args.arrivals, load=args.load, seed=args.seed, windows=args.windows
    )
    on_call = print if args.calls else None
    if args.against:
        result = _against(args, config, params, on_call)
        if result is None:
            return 2
    else:
        pacer = Pacer(args.speed) if args.speed else None
        result = simulate(config, params, on_call=on_call, pacer=pacer)
    print(summary(result))
    if args.chart:
        from hallq.simchart import wait_chart

        args.chart.write_text(wait_chart(result), encoding="utf-8")
        print(f"  chart: {args.chart}")
    return 0


def _window_list(text: str) -> tuple[int, ...]:
    """Window numbers from a list like `1-8,12`."""
    out: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            out.extend(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a window list: {text!r} (e.g. 1-8,12)") from None
    return tuple(out)


def _against(
    args: argparse.Namespace, config: HallConfig, params: SimParams, on_call: Callable[[str], None] | None
) -> SimResult | None:
    from hallclient.errors import HallClientError
    from hallq.simports import HttpPort, HttpPortError

    try:
        port = HttpPort(
            args.against,
            config,
            manager=args.manager,
            password=args.password,
            clerk_prefix=args.clerk_prefix,
            clerk_pin=args.clerk_pin,
            windows=list(params.windows) if params.windows is not None else None,
        )
    except (HttpPortError, HallClientError) as exc:
        print(f"hallq sim: {exc}", file=sys.stderr)
        return None
    try:
        now = port.server_now().astimezone(HallCalendar(config.hall).tz)
        params.day = now.date()
        return simulate(config, params, on_call=on_call, port=port, pacer=Pacer(1.0), start_at=now)
    finally:
        port.close()
