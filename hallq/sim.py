"""`hallq sim`: a hall day simulated against the real engine on a virtual clock, as fast as it can run, in
scaled real time (`--speed N`), or against a running server through its API (`--against URL`, real time).

Citizens arrive per matter with an hourly profile (morning peak), answer the pre-check (most pass, some 容缺,
some fail and go home with the 一次性告知单), take kiosk tickets or check in a booking (on time, late, or not
at all), sometimes with a priority class; clerks open the windows the config's staffing plan rosters (a
few absent, a few late), take their planned lunch turns and breaks roughly as planned unless the hall
closes between sessions (then every window closes for the break), take unplanned breaks and short pauses,
call, serve, recall and mark no-shows (some come back and are re-queued), transfer a few cases, and ask for a
rating. Citizens come in the sessions that take walk-ins for their matter (none over a lunch break, only the
series on duty on a 5+1 Saturday; bookings in the sessions that take them). Handle times per matter are
lognormal around means that differ from the config's priors on purpose, as in a real hall, so the estimates'
error (MAE) and range coverage are measured, not assumed.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import random
import time
from collections.abc import Callable

from hallcore.calendar import HallCalendar
from hallcore.caseoutcome import CaseOutcome
from hallcore.config import HallConfig, Matter, MatterKind
from hallcore.engine import APPOINTMENT
from hallq.simcrowd import HOURLY_PROFILE, answers_for, poisson
from hallq.simparams import Pacer, SimParams, SimResult, summary
from hallq.simports import Called, EnginePort, HallPort, Issue, new_person
from hallq.simstaff import Staffing
from hallq.simstats import TicketRecord

__all__ = ["Pacer", "SimParams", "SimResult", "simulate", "summary"]


#: How cases end at the window, per matter kind (the simulator's priors: most 即办件 are concluded on the
#: spot, near the Jilin target of 90 % 现场办结率; most 承诺件 are accepted with a promised date).
OUTCOME_PRIORS: dict[MatterKind, tuple[tuple[CaseOutcome, int], ...]] = {
    MatterKind.ON_THE_SPOT: (
        (CaseOutcome.DONE, 86),
        (CaseOutcome.ACCEPTED, 6),
        (CaseOutcome.CORRECTION, 5),
        (CaseOutcome.REFUSED, 1),
        (CaseOutcome.ADVICE, 2),
    ),
    MatterKind.PROMISED: (
        (CaseOutcome.ACCEPTED, 72),
        (CaseOutcome.DONE, 12),
        (CaseOutcome.CORRECTION, 10),
        (CaseOutcome.REFUSED, 2),
        (CaseOutcome.ADVICE, 4),
    ),
}


def draw_outcome(cfg: HallConfig, matter: str, rng: random.Random) -> CaseOutcome:
    """An outcome for a case of `matter`, drawn from its kind's priors (its own generator per ticket, so the
    other draws of a seeded day stay as they were before outcomes)."""
    m = cfg.matter_by_code.get(matter)
    priors = OUTCOME_PRIORS[m.kind if m else MatterKind.ON_THE_SPOT]
    return rng.choices([o for o, _w in priors], [w for _o, w in priors])[0]


class _Sim(Staffing):
    """The day: citizens arrive and take tickets, clerks call and serve them (staffing: `Staffing`)."""

    # ---- citizens -----------------------------------------------------------------------------------------

    def schedule_arrivals(self) -> None:
        total = self.demand.walk_ins(self.cfg, self.p, self.result.capacity, self.tz)
        matters, weights = self.demand.matter_weights(self.cfg, self.result.capacity)
        first = self.clock(self.p.start.hour, self.p.start.minute)
        last = self.clock(self.p.end.hour, self.p.end.minute)
        cal = HallCalendar(self.cfg.hall)
        closes = cal.closes_at(self.p.day)
        if closes is not None:
            last = min(last, closes - dt.timedelta(minutes=self.cfg.hall.cutoff_min))
        jitter = self.p.arrival_jitter
        for hour, share in HOURLY_PROFILE.items():
            factor = self.p.arrival_scale * self.rng.uniform(1 - jitter, 1 + jitter)
            for _ in range(poisson(self.rng, total * share * factor)):
                when = self.clock(hour) + dt.timedelta(seconds=self.rng.uniform(0, 3600))
                if when < max(first, self.now) or when >= last:
                    continue
                chosen = self.rng.choices(matters, weights)[0]
                session = cal.session_at(when)
                if session is None or not cal.takes(session, self.cfg.series_by_prefix[chosen.series]):
                    # Citizens come in the sessions that take them: not over lunch, and on a 5+1 Saturday
                    # only for the series on duty (the rest book). A late one is still refused at the cut-off.
                    continue
                matter = chosen.code
                prio = self._priority()
                citizen = random.Random(self.rng.getrandbits(64))
                self.at(when, functools.partial(self.arrive, matter, prio, citizen))
        self.schedule_bookings(total, matters, weights)

    def _priority(self) -> str:
        """The class a walk-in claims (kiosk or desk), by the configured shares: one draw per citizen."""
        roll = self.rng.random()
        for cid, share in self.class_shares:
            if roll < share:
                return cid
            roll -= share
        return ""

    def schedule_bookings(self, walk_ins: int, matters: list[Matter], weights: list[float]) -> None:
        """Citizens who booked ahead (the evening before), with their fate today: on time, late, or absent."""
        bookable = [(m, w) for m, w in zip(matters, weights, strict=True) if m.bookable]
        if not bookable or self.p.booking_share <= 0:
            return
        booked_at = self.now - dt.timedelta(hours=14) if self.result.engine is not None else self.now
        grace = dt.timedelta(minutes=self.cfg.booking.late_grace_min)
        ms, ws = [m for m, _ in bookable], [w for _, w in bookable]
        slots_cache: dict[str, list[tuple[dt.time, dt.time, int]]] = {}
        for _ in range(poisson(self.rng, walk_ins * self.p.booking_share)):
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
            citizen = random.Random(self.rng.getrandbits(64))
            self.at(max(when, self.now), functools.partial(self.check_in, code, m.code, kind, citizen))

    def arrive(self, matter: str, priority: str, citizen: random.Random) -> None:
        answers, present = answers_for(citizen, self.p, self.cfg.matter_by_code[matter])
        out = self.port.issue(matter, priority, answers, present, self.now)
        self._issued(out, matter, "kiosk", priority, citizen)
        if out.ticket is not None:
            self.after(citizen.uniform(3, 8), functools.partial(self.printed, out.ticket))

    def check_in(self, code: str, matter: str, kind: str, citizen: random.Random) -> None:
        answers, present = answers_for(citizen, self.p, self.cfg.matter_by_code[matter])
        out = self.port.check_in(code, answers, present, self.now)
        if out.ticket is not None:
            self.result.bookings[f"checked in {kind}"] += 1
        self._issued(out, matter, "booking", APPOINTMENT if kind == "on time" else "", citizen)
        if out.ticket is not None:
            self.records[out.ticket].printed = True
            self.wake(out.series)

    def _issued(self, out: Issue, matter: str, source: str, priority: str, citizen: random.Random) -> None:
        if out.refused:
            self.result.refusals[out.refused] += 1
            return
        if out.precheck:
            self.result.prechecks[out.precheck] += 1
        if out.ticket is None:
            return
        self.citizens[out.ticket] = citizen
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
        self.after(clerk.rng.uniform(5, 20), functools.partial(self.try_call, n))

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
        citizen = self.citizens[called.ticket]
        if citizen.random() < self.p.no_show_rate:
            self.after(60, functools.partial(self.recall_or_skip, n, called, 1))
        else:
            self.after(citizen.uniform(20, 90), functools.partial(self.start, n, called))

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
            citizen = self.citizens[called.ticket]
            if citizen.random() < self.p.no_show_return_rate:
                self.after(citizen.uniform(300, 1800), functools.partial(self.come_back, called))
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
        minutes = self.handle_minutes(called.matter, self.clerks[n], self.citizens[called.ticket])
        self.after(minutes * 60, functools.partial(self.finish, n, called))

    def finish(self, n: int, called: Called) -> None:
        rec = self.records.get(called.ticket)
        others = [
            s.prefix for s in self.cfg.series if s.prefix != called.series and self.idle_or_open(s.prefix)
        ]
        citizen = self.citizens[called.ticket]
        if others and citizen.random() < self.p.transfer_rate:
            to = citizen.choice(others)
            if self.port.transfer(n, to, self.now):
                if rec is not None:
                    rec.transfers += 1
                    rec.state = "waiting"
                self.wake(to)
                self.free(n)
                return
        outcome = draw_outcome(self.cfg, called.matter, random.Random(f"{self.p.seed}/{called.ticket}"))
        reason = self.cfg.outcomes.refusal_reasons[0] if outcome is CaseOutcome.REFUSED else ""
        if self.port.finish(n, self.now, outcome.value, reason) and rec is not None:
            rec.ended_at = self.now
            rec.state = "done"
            rec.outcome = outcome.value
            if citizen.random() < self.p.rating_rate:
                score = citizen.choices([5, 4, 3, 2, 1], [72, 18, 6, 3, 1])[0]
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
    port = port or EnginePort(config, forecast=params.estimator == "forecast")
    sim = _Sim(config, params, port, pacer=pacer, on_call=on_call, start_at=start_at)
    end = until or dt.datetime.combine(params.day, params.end, sim.tz) + dt.timedelta(hours=1)
    return sim.run(end)
