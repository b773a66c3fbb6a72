"""What a simulated day is run with (`SimParams`), what it gives (`SimResult`, reported by `summary`), and how
its virtual time maps to the wall clock (`Pacer`)."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from hallcore.config import HallConfig
from hallcore.engine import Engine
from hallq.simstats import DayStats, TicketRecord, day_stats, render


@dataclass
class SimParams:
    day: dt.date
    start: dt.time = dt.time(8, 30)
    end: dt.time = dt.time(17, 0)
    arrivals: int | None = None  # whole-day walk-ins; None = sized to the staffed windows and `load`
    # The staffing plan is the config's (`windows[].staffed`, `windows[].closures`); the day deviates from it:
    load: float = 0.72  # mean utilisation of the staffed windows over the day the arrivals are sized for
    absent_rate: float = 0.03  # rostered clerks who do not come at all
    late_open_rate: float = 0.08  # windows whose clerk arrives 10–40 min late
    lunch: bool = True  # the planned lunch turns (closures of reason 午休) are taken, 0–10 min late back
    planned_break_skip: float = 0.1  # planned breaks not taken; the others start −10…+15 min off the plan
    break_rate: float = 0.25  # clerks taking one unplanned 10–20 min break
    # The day's own arrival curve: each hour's share of the walk-ins times a factor drawn in 1 ± this, and a
    # whole-day factor (`arrival_scale`) on top (the held-out check runs days of one curve against another).
    arrival_jitter: float = 0.3
    arrival_scale: float = 1.0
    day_speed_sigma: float = 0.1  # the whole day's clerks faster or slower than the history, lognormal
    short_pause_rate: float = 0.2  # clerks stepping away 3–8 min once
    fault_rate: float = 0.02  # windows with a 15–30 min system fault
    no_show_rate: float = 0.04
    no_show_return_rate: float = 0.3  # no-shows who come back and are re-queued
    transfer_rate: float = 0.015
    precheck_fail_rate: float = 0.07
    precheck_tolerated_rate: float = 0.08
    # Walk-ins of each priority class (a configured class not named here gets `other_class_share`); bookings
    # checked in on time are the `appointment` class. Together about the 7 % the first build drew at random.
    class_shares: tuple[tuple[str, float], ...] = (
        ("elderly", 0.05),
        ("disabled", 0.01),
        ("military", 0.005),
        ("key_project", 0.005),
    )
    other_class_share: float = 0.005
    booking_share: float = 0.12  # bookings as a share of walk-ins, for bookable matters
    booking_late_rate: float = 0.08
    booking_no_show_rate: float = 0.12
    rating_rate: float = 0.8
    handle_bias: float = 1.15  # real handle times run this much longer than the priors on the whole…
    matter_sigma: float = 0.25  # …each matter's mean off by a lognormal factor with this spread…
    handle_sigma: tuple[float, float] = (0.35, 0.7)  # …and each case lognormal with a sigma in this range
    clerk_sigma: float = 0.1  # some clerks are faster than others
    # Each hour of the hall's day its cases take a factor lognormal(0, hour_sigma), the hall's own (drawn
    # from its seed, the same on all its days). Real halls are slower at some hours than others (the first
    # hour's backlog of complicated cases queued since the door opened, the afternoon's tired clerks, the
    # rush before closing); how much is not known from our sources, so it is off by default (0: every hour
    # alike, the figures of issue 29 before its hours) and bench/sim.py reports a second set with 0.2 (an
    # hour ±20 %): the estimator must learn it from the history's cases, never from this parameter.
    hour_sigma: float = 0.0
    seed: int = 1
    # The hall's own draws (each matter's real mean handle time and spread, its popularity): days of one hall
    # share them, so its history means something (`hallq.simhistory`). None: drawn from `seed`.
    hall_seed: int | None = None
    windows: tuple[int, ...] | None = None  # staff only these windows (None: the plan above)
    # The hall's estimator, not the day: "inline" (hallcore.engine.waits at each issue) or "forecast" (the
    # forward model, hallcore.forecast, made at most once a second of sim time per series that changed).
    estimator: str = "inline"


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


def summary(result: SimResult) -> str:
    """The day's report as `hallq sim` prints it: the statistics, then how fast the hall commands ran."""
    p = result.params
    title = f"{result.config.hall.name} — {p.day} {p.start:%H:%M}–{p.end:%H:%M} (seed {p.seed})"
    text = render(result.stats(), title)
    rate = result.commands / max(result.wall_s, 1e-9)
    return text + f"\n  {result.commands} hall commands in {result.wall_s:.2f} s ({rate:,.0f}/s)"
