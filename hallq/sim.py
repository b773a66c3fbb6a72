"""`hallq sim`: a hall day simulated on a virtual clock against the real engine, as fast as it can run.

Citizens arrive per matter with an hourly profile (morning peak), answer the pre-check (most pass, some 容缺,
some fail and go home with the 一次性告知单), take kiosk tickets; clerks open windows, call, serve, mark
no-shows, take a break, rate. Handle times are drawn from distributions that differ from the config's priors
on purpose, as in a real hall, so the estimates' error (MAE) and range coverage are measured, not assumed.
"""

from __future__ import annotations

import argparse
import functools
import datetime as dt
import heapq
import math
import random
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hallcore import commands as c
from hallcore.config import HallConfig
from hallcore.configload import ConfigError, load_config
from hallcore.engine import Accepted, Engine
from hallcore.estimates import window_capacity
from hallcore.model import Source, Ticket, TicketState

#: Share of the day's arrivals in each hour of the morning and afternoon (a county hall's Monday).
HOURLY_PROFILE = {8: 0.10, 9: 0.20, 10: 0.18, 11: 0.10, 12: 0.02, 13: 0.08, 14: 0.14, 15: 0.12, 16: 0.06}


@dataclass
class SimParams:
    day: dt.date
    start: dt.time = dt.time(8, 30)
    end: dt.time = dt.time(17, 0)
    arrivals: int | None = None  # whole-day arrivals; None = sized from the windows open
    open_share: float = 0.8  # share of windows staffed
    no_show_rate: float = 0.05
    precheck_fail_rate: float = 0.07
    precheck_tolerated_rate: float = 0.08
    priority_rate: float = 0.08
    rating_rate: float = 0.75
    handle_bias: float = 1.25  # real handle times run this much longer than the priors…
    handle_sigma: float = 0.55  # …with this lognormal spread
    seed: int = 1


@dataclass
class SimResult:
    config: HallConfig
    params: SimParams
    engine: Engine
    calls: list[tuple[dt.datetime, str, int, str]] = field(default_factory=list)
    prechecks: Counter[str] = field(default_factory=Counter)
    commands: int = 0
    wall_s: float = 0.0

    def served(self) -> list[Ticket]:
        return [t for t in self.engine.tickets.values() if t.state is TicketState.DONE]

    def waits_min(self) -> list[float]:
        return [
            (t.first_called_at - t.issued_at).total_seconds() / 60
            for t in self.engine.tickets.values()
            if t.first_called_at is not None
        ]

    def estimate_errors(self) -> tuple[float | None, float | None, int]:
        """(MAE of the point estimate in minutes, share of real waits inside the shown range, n)."""
        errs: list[float] = []
        inside = 0
        for t in self.engine.tickets.values():
            if t.first_called_at is None or t.estimate_low is None or t.estimate_high is None:
                continue
            wait = (t.first_called_at - t.issued_at).total_seconds() / 60
            point = (t.estimate_low + t.estimate_high) / 2 if t.estimate_point is None else t.estimate_point
            errs.append(abs(wait - point))
            inside += t.estimate_low <= wait <= t.estimate_high
        if not errs:
            return None, None, 0
        return statistics.fmean(errs), inside / len(errs), len(errs)


class _Sim:
    def __init__(self, config: HallConfig, params: SimParams, on_call: Callable[[str], None] | None) -> None:
        self.cfg = config
        self.p = params
        self.rng = random.Random(params.seed)
        self.engine = Engine(config)
        self.tz = self.engine.calendar.tz
        self.queue: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self.n = 0
        self.now = dt.datetime.combine(params.day, params.start, self.tz)
        self.result = SimResult(config, params, self.engine)
        self.on_call = on_call
        self.tokens = 0

    def at(self, when: dt.datetime, action: Callable[[], None]) -> None:
        self.n += 1
        heapq.heappush(self.queue, (when, self.n, action))

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        self.at(self.now + dt.timedelta(seconds=seconds), action)

    def do(self, cmd: c.Command) -> Accepted | None:
        self.result.commands += 1
        out = self.engine.handle(cmd, self.now)
        return out if isinstance(out, Accepted) else None

    # ---- citizens ----

    def schedule_arrivals(self) -> None:
        open_windows = max(1, round(len(self.cfg.windows) * self.p.open_share))
        mean_prior = statistics.fmean(m.prior_handle_min for m in self.cfg.matters)
        # Sized for the whole day (the profile spreads it over the hours) so the windows run at ~85 % load
        # with real handle times: queues build up at the morning peak and clear by noon.
        hours = len(HOURLY_PROFILE)
        total = self.p.arrivals or int(0.85 * open_windows * hours * 60 / (mean_prior * self.p.handle_bias))
        # Each series gets demand in proportion to the windows that serve it (a hall is staffed for its
        # demand), split over its matters, with some matters more popular than others.
        capacity = {
            s.prefix: window_capacity((w.series for w in self.cfg.windows), s.prefix) for s in self.cfg.series
        }
        per_series = Counter(m.series for m in self.cfg.matters)
        weights = [
            capacity[m.series] / per_series[m.series] * (1.5 if i % 3 == 0 else 1.0)
            for i, m in enumerate(self.cfg.matters)
        ]
        for hour, share in HOURLY_PROFILE.items():
            n = self._poisson(total * share)
            for _ in range(n):
                when = dt.datetime.combine(self.p.day, dt.time(hour), self.tz) + dt.timedelta(
                    seconds=self.rng.uniform(0, 3600)
                )
                if when < self.now or when.time() >= self.p.end:
                    continue
                matter = self.rng.choices(self.cfg.matters, weights)[0].code
                self.at(when, functools.partial(self.arrive, matter))

    def _poisson(self, lam: float) -> int:
        # Knuth for small means, normal approximation for large ones: good enough for arrivals.
        if lam > 50:
            return max(0, round(self.rng.gauss(lam, math.sqrt(lam))))
        k, prod, limit = 0, self.rng.random(), math.exp(-lam)
        while prod > limit:
            k += 1
            prod *= self.rng.random()
        return k

    def arrive(self, matter_code: str) -> None:
        m = self.cfg.matter_by_code[matter_code]
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
        classes = [pc.id for pc in self.cfg.priority_classes if pc.kiosk_selectable]
        prio = self.rng.choice(classes) if classes and self.rng.random() < self.p.priority_rate else ""
        self.tokens += 1
        out = self.do(
            c.IssueTicket(m.code, Source.KIOSK, f"sim{self.tokens}", prio, answers, frozenset(present))
        )
        if out is None:
            return
        if out.precheck is not None:
            self.result.prechecks[out.precheck.outcome.value] += 1
        if out.ticket is not None:
            tid = out.ticket.id
            self.after(self.rng.uniform(3, 8), functools.partial(self.printed, tid))

    def printed(self, ticket_id: str) -> None:
        if self.do(c.ConfirmPrint(ticket_id)) is not None:
            self.wake_all()

    # ---- clerks ----

    def open_windows(self) -> None:
        numbers = [w.number for w in self.cfg.windows]
        self.rng.shuffle(numbers)
        staffed = numbers[: max(1, round(len(numbers) * self.p.open_share))]
        self.idle: set[int] = set()
        for n in staffed:
            self.do(c.OpenWindow(n, f"clerk{n}"))
            self.idle.add(n)
            # One break of 10-20 minutes per window, mid-morning or mid-afternoon.
            brk = dt.datetime.combine(self.p.day, self.rng.choice([dt.time(10, 15), dt.time(15, 0)]), self.tz)
            self.at(
                brk + dt.timedelta(minutes=self.rng.uniform(0, 60)), functools.partial(self.take_break, n)
            )
        self.after(1, self.wake_all)

    def wake_all(self) -> None:
        for n in sorted(self.idle):
            self.try_call(n)

    def try_call(self, n: int) -> None:
        if n not in self.idle:
            return
        out = self.do(c.CallNext(n))
        if out is None or out.ticket is None:
            return
        self.idle.discard(n)
        t = out.ticket
        w = self.cfg.window_by_number[n]
        self.result.calls.append((self.now, t.label, n, t.call_reason.text if t.call_reason else ""))
        if self.on_call:
            local = self.now.astimezone(self.tz)
            reason = t.call_reason.text if t.call_reason else ""
            self.on_call(f"{local:%H:%M:%S}  请 {t.label} 号到 {n} 号窗口（{w.name}）  {reason}")
        if self.rng.random() < self.p.no_show_rate:
            self.after(60, lambda: self.recall_or_skip(n, 1))
        else:
            self.after(self.rng.uniform(20, 90), lambda: self.start(n, t))

    def recall_or_skip(self, n: int, tries: int) -> None:
        if tries <= self.cfg.no_show.max_recalls:
            self.do(c.Recall(n))
            self.after(60, lambda: self.recall_or_skip(n, tries + 1))
            return
        self.do(c.MarkNoShow(n))
        self.free(n)

    def start(self, n: int, t: Ticket) -> None:
        self.do(c.StartServing(n))
        prior = self.cfg.matter_by_code[t.matter].prior_handle_min
        minutes = prior * self.p.handle_bias * self.rng.lognormvariate(0, self.p.handle_sigma)
        self.after(minutes * 60, lambda: self.finish(n, t))

    def finish(self, n: int, t: Ticket) -> None:
        self.do(c.Finish(n))
        if self.rng.random() < self.p.rating_rate:
            score = self.rng.choices([5, 4, 3, 2, 1], [70, 20, 6, 3, 1])[0]
            self.do(c.Rate(t.id, score))
        self.free(n)

    def free(self, n: int) -> None:
        self.idle.add(n)
        self.after(self.rng.uniform(5, 20), lambda: self.try_call(n))

    def take_break(self, n: int) -> None:
        if n not in self.idle:
            self.after(120, lambda: self.take_break(n))
            return
        reason = self.cfg.server.pause_reasons[0] if self.cfg.server.pause_reasons else "休息"
        if self.do(c.PauseWindow(n, reason)) is None:
            return
        self.idle.discard(n)

        def back() -> None:
            self.do(c.ResumeWindow(n))
            self.free(n)

        self.after(self.rng.uniform(600, 1200), back)

    def run(self, until: dt.datetime) -> SimResult:
        self.open_windows()
        self.schedule_arrivals()
        tick_every = dt.timedelta(minutes=1)
        next_tick = self.now + tick_every
        while self.queue and self.queue[0][0] <= until:
            when, _n, action = heapq.heappop(self.queue)
            self.now = max(self.now, when)
            if self.now >= next_tick:
                self.do(c.Tick())
                next_tick = self.now + tick_every
            action()
        return self.result


def simulate(
    config: HallConfig, params: SimParams, *, on_call: Callable[[str], None] | None = None
) -> SimResult:
    """Run one simulated day (or part of one) and return what happened."""
    import time

    started = time.perf_counter()
    sim = _Sim(config, params, on_call)
    result = sim.run(dt.datetime.combine(params.day, params.end, sim.tz) + dt.timedelta(hours=2))
    result.wall_s = time.perf_counter() - started
    return result


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def summary(result: SimResult) -> str:
    e = result.engine
    states = Counter(t.state.value for t in e.tickets.values())
    waits = result.waits_min()
    mae, coverage, n_est = result.estimate_errors()
    ratings = Counter(r.score for r in e.ratings.values())
    rated = sum(ratings.values())
    satisfied = sum(ratings[s] for s in (5, 4, 3))
    by_series: dict[str, list[float]] = defaultdict(list)
    for t in e.tickets.values():
        if t.first_called_at is not None:
            by_series[t.series].append((t.first_called_at - t.issued_at).total_seconds() / 60)
    p = result.params
    mean_wait = statistics.fmean(waits) if waits else 0.0
    lines = [
        f"{result.config.hall.name} — {p.day} {p.start:%H:%M}–{p.end:%H:%M}",
        f"  tickets issued {len(e.tickets)}: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())),
        "  pre-check: " + ", ".join(f"{k} {v}" for k, v in sorted(result.prechecks.items())),
        (
            f"  calls {len(result.calls)}; wait mean {mean_wait:.1f} min, P50 {_pct(waits, 0.5):.1f}, "
            f"P90 {_pct(waits, 0.9):.1f}, max {max(waits, default=0):.1f}"
        ),
    ]
    for s in sorted(by_series):
        w = by_series[s]
        lines.append(
            f"    series {s}: {len(w)} called, mean {statistics.fmean(w):.1f}, P90 {_pct(w, 0.9):.1f} min"
        )
    participation = rated / max(1, states["done"])
    lines.append(
        f"  ratings {rated} (参评率 {participation:.0%}), 满意率 {satisfied / max(1, rated):.1%}, "
        f"差评 cases {len(e.cases)}"
    )
    if mae is not None and coverage is not None:
        lines.append(f"  estimates: MAE {mae:.1f} min, range coverage {coverage:.0%} over {n_est} tickets")
    else:
        lines.append("  estimates: none checked")
    rate = result.commands / max(result.wall_s, 1e-9)
    lines.append(f"  {result.commands} engine commands in {result.wall_s:.2f} s ({rate:,.0f}/s)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="hallq sim", description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23))
    ap.add_argument("--start", type=dt.time.fromisoformat, default=dt.time(8, 30))
    ap.add_argument("--end", type=dt.time.fromisoformat, default=dt.time(17, 0))
    ap.add_argument(
        "--arrivals", type=int, default=None, help="whole-day arrivals (default: sized to the hall)"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--calls", action="store_true", help="print every call")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    params = SimParams(args.day, args.start, args.end, args.arrivals, seed=args.seed)
    result = simulate(config, params, on_call=print if args.calls else None)
    print(summary(result))
    return 0
