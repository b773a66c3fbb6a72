"""What the hall's past days say about handle times (issue 29): each matter's mean time at the window, from
the call to the finish, over the finished cases of earlier days in the store.

The config's `prior_handle_min` is a guess made when the hall was set up; the store knows better after a
few days. `HandleHistory.series_priors` turns the matters' means into a prior per series (weighted by how
often each matter came), which `HandleTimes` then shrinks today's own cases towards, as it did the config's
priors; a matter with no history keeps its config prior. Built by the server from its store at start and on
each reload (`hallserver.loader`), by `hallq sim` from the simulated days before the one it scores. Pure: it
is given the cases, it reads nothing.

Per matter × weekday × hour (`HandleHistory.dist`): the cases of each hour of each weekday keep a small
distribution (count, mean, the mean and spread of the log of the time, median and 90th percentile), because
a clerk's 9:00 on a Monday (the weekend's backlog, the complicated cases brought first) is not their 15:00 on
a Wednesday. A county hall has a handful of cases per cell, so a cell's mean is shrunk towards its matter ×
weekday, that towards the matter's mean, and that (under MIN_CASES cases) is the config's prior: each level
counts as CELL_PRIOR_CASES cases of the one below it.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hallcore.config import Matter
from hallcore.model import Ticket, TicketState

#: Past cases count as this many of today's cases in the series' mean (`HandleTimes` prior weight): the
#: history holds hundreds of cases, but today's clerks may be faster or slower than its days, so today's
#: own cases take over within the first hour.
HISTORY_PRIOR_WEIGHT = 10.0
#: A matter needs this many past cases before its mean replaces the config's prior.
MIN_CASES = 5
#: Cases longer than this (a window left holding a ticket over lunch, a clerk who forgot to finish) are not
#: handle times: left out.
MAX_CASE_MIN = 240.0


#: A matter × weekday × hour cell's mean counts as this many of its matter × weekday's cases and that as this
#: many of its matter's (the shrinkage of `HandleHistory.dist`). Handle times spread with a coefficient of
#: variation near 1, so a cell of n cases knows its mean to about ±1/√n: with 30, a cell needs about as many
#: cases of its own before half its mean is its own, and an hour 30 % slower than the day in a county hall's
#: month (a dozen cases) moves the estimate by about a tenth, not by its noise.
CELL_PRIOR_CASES = 30.0
#: Times under this many minutes count as this in the log (a zero-minute case has no logarithm).
MIN_LOG_MIN = 0.1
#: The spread of the log of a handle time assumed where the history has too few cases to say (a lognormal
#: with σ 0.8 has a coefficient of variation of about 0.95: the estimator's prior of about 1).
DEFAULT_LOG_SD = 0.8


#: How many days back the server reads the history (`hallserver.loader`): a month of the hall's own days.
HISTORY_DAYS = 28


def case_minutes(
    called_at: dt.datetime | None, serving_at: dt.datetime | None, ended_at: dt.datetime | None
) -> float | None:
    """The window's time on a finished case, from its last call (else its serving start) to its finish, the
    walk to the window included, as `hallcore.engine.waits.observe_case` measures today's (None: unknown)."""
    began = called_at or serving_at
    if began is None or ended_at is None:
        return None
    return (ended_at - began).total_seconds() / 60


@dataclass(frozen=True, slots=True)
class CellStats:
    """The past cases of one cell (a matter, a matter × weekday, or a matter × weekday × hour): their number,
    mean time in minutes, the mean and standard deviation of the log of their times (a lognormal fit, what
    a forward model draws from), and their median and 90th percentile in minutes."""

    cases: int
    mean_min: float
    log_mean: float
    log_sd: float
    p50_min: float
    p90_min: float

    @classmethod
    def of(cls, minutes: list[float]) -> CellStats:
        """From the times of the cell's cases (at least one)."""
        values = sorted(minutes)
        n = len(values)
        logs = [math.log(max(v, MIN_LOG_MIN)) for v in values]
        log_mean = math.fsum(logs) / n
        log_sd = math.sqrt(math.fsum((x - log_mean) ** 2 for x in logs) / (n - 1)) if n > 1 else 0.0
        return cls(n, math.fsum(values) / n, log_mean, log_sd, _quantile(values, 0.5), _quantile(values, 0.9))


def _quantile(values: list[float], q: float) -> float:
    """The q-quantile of sorted `values`, interpolated between neighbours."""
    at = q * (len(values) - 1)
    lo = math.floor(at)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (at - lo)


@dataclass(frozen=True, slots=True)
class HandleDist:
    """What one case of a matter is expected to take at a weekday and hour (`HandleHistory.dist`): a
    lognormal with mean `mean_min` and log-spread `log_sd`, both shrunk from the cell towards its matter
    (see the module docstring); `cases` is how many past cases the cell itself had."""

    mean_min: float
    log_sd: float
    cases: int

    @property
    def cv(self) -> float:
        """The coefficient of variation of one case's time (of the lognormal)."""
        return math.sqrt(math.expm1(self.log_sd * self.log_sd))

    def quantile(self, q: float) -> float:
        """The q-quantile (0 < q < 1) in minutes."""
        if not 0 < q < 1:
            raise ValueError(f"q must be in (0, 1), got {q!r}")
        if self.mean_min <= 0:
            return 0.0
        mu = math.log(self.mean_min) - self.log_sd * self.log_sd / 2  # a lognormal's mean is exp(μ + σ²/2)
        return math.exp(mu + self.log_sd * statistics.NormalDist().inv_cdf(q))


#: When a case began in the hall's local time: (weekday, 0 = Monday; hour).
Slot = tuple[int, int]
#: A past case: its matter, its minutes at the window, and its `Slot` (None: unknown, counted for its
#: matter only).
TimedCase = tuple[str, float, Slot | None]


def slot_of(at: dt.datetime, tz: dt.tzinfo) -> Slot:
    """The `Slot` of `at` in the time zone `tz`."""
    local = at.astimezone(tz)
    return local.weekday(), local.hour


@dataclass(frozen=True, slots=True)
class HandleHistory:
    """Per matter: the number of past cases and their mean time at the window in minutes; per matter ×
    weekday (0 = Monday) and matter × weekday × hour (local): their `CellStats` (empty when the cases came
    without times)."""

    cases: Mapping[str, int]
    mean_min: Mapping[str, float]
    matters: Mapping[str, CellStats] = field(default_factory=dict)
    weekdays: Mapping[tuple[str, int], CellStats] = field(default_factory=dict)
    hours: Mapping[tuple[str, int, int], CellStats] = field(default_factory=dict)

    @classmethod
    def from_cases(cls, cases: Iterable[tuple[str, float]]) -> HandleHistory:
        """From (matter, minutes from the call to the finish) per finished case; times that are not finite,
        negative or over MAX_CASE_MIN are left out. No weekday or hour cells: see `from_timed`."""
        return cls.from_timed((matter, minutes, None) for matter, minutes in cases)

    @classmethod
    def from_timed(cls, cases: Iterable[TimedCase]) -> HandleHistory:
        """From (matter, minutes, `Slot` or None) per finished case, as `from_cases`, with the cells of the
        cases whose slot is known."""
        # One dictionary step per case (a provincial month is 112,000 of them); the coarser cells are the
        # finer ones put together (the statistics do not depend on the order of the values).
        untimed: dict[str, list[float]] = {}
        by_slot: dict[tuple[str, Slot], list[float]] = {}
        for matter, minutes, slot in cases:
            if not (math.isfinite(minutes) and 0 <= minutes <= MAX_CASE_MIN):
                continue
            (
                untimed.setdefault(matter, []) if slot is None else by_slot.setdefault((matter, slot), [])
            ).append(minutes)
        by_hour = {(matter, day, hour): v for (matter, (day, hour)), v in by_slot.items()}
        by_weekday: dict[tuple[str, int], list[float]] = {}
        for (matter, day, _hour), v in by_hour.items():
            by_weekday.setdefault((matter, day), []).extend(v)
        by_matter = {m: list(v) for m, v in untimed.items()}
        for (matter, _day), v in by_weekday.items():
            by_matter.setdefault(matter, []).extend(v)
        return cls(
            {m: len(v) for m, v in by_matter.items()},
            {m: math.fsum(v) / len(v) for m, v in by_matter.items()},
            {m: CellStats.of(v) for m, v in by_matter.items()},
            {k: CellStats.of(v) for k, v in by_weekday.items()},
            {k: CellStats.of(v) for k, v in by_hour.items()},
        )

    @classmethod
    def from_tickets(
        cls, tickets: Iterable[Ticket], before: dt.datetime | None = None, tz: dt.tzinfo | None = None
    ) -> HandleHistory:
        """From finished tickets (issued before `before`, when given): the window's time on each
        (`case_minutes`); with `tz` (the hall's), the weekday and hour cells by when each case began."""

        def cases() -> Iterable[TimedCase]:
            for t in tickets:
                if t.state is not TicketState.DONE or (before is not None and t.issued_at >= before):
                    continue
                minutes = case_minutes(t.called_at, t.serving_at, t.ended_at)
                began = t.called_at or t.serving_at
                if minutes is not None:
                    yield t.matter, minutes, slot_of(began, tz) if tz is not None and began else None

        return cls.from_timed(cases())

    @property
    def has_hours(self) -> bool:
        """Whether the history knows when its cases were (its cells are not empty)."""
        return bool(self.hours)

    def dist(self, matter: str, weekday: int, hour: int, prior_min: float) -> HandleDist:
        """What a case of `matter` is expected to take at `hour` (local) on `weekday` (0 = Monday): the
        cell's mean shrunk towards the matter × weekday's, that towards the matter's (its past mean with
        MIN_CASES cases or more, else `prior_min`, the config's), each level counting CELL_PRIOR_CASES
        cases of the next; the log-spread shrunk the same way towards DEFAULT_LOG_SD."""
        whole = self.matters.get(matter)
        if whole is not None and whole.cases >= MIN_CASES:
            mean, log_sd = whole.mean_min, _shrink(DEFAULT_LOG_SD, whole.log_sd, whole.cases)
        else:
            mean, log_sd = prior_min, DEFAULT_LOG_SD
        hour_cell = self.hours.get((matter, weekday, hour))
        for cell in (self.weekdays.get((matter, weekday)), hour_cell):
            if cell is not None:
                mean = _shrink(mean, cell.mean_min, cell.cases)
                log_sd = _shrink(log_sd, cell.log_sd, cell.cases)
        return HandleDist(mean, log_sd, 0 if hour_cell is None else hour_cell.cases)

    def matter_means(self) -> dict[str, float]:
        """The past mean of each matter with MIN_CASES past cases or more."""
        return {m: mean for m, mean in self.mean_min.items() if self.cases.get(m, 0) >= MIN_CASES}

    def series_priors(self, matters: Iterable[Matter]) -> dict[str, float]:
        """A prior mean handle time per series: its matters' past means weighted by their past cases; a
        series none of whose matters has MIN_CASES past cases keeps the plain mean of its config priors
        (as `HandleTimes.from_matters`)."""
        weighted: dict[str, float] = {}
        weights: dict[str, int] = {}
        configured: dict[str, list[float]] = {}
        for m in matters:
            configured.setdefault(m.series, []).append(m.prior_handle_min)
            n = self.cases.get(m.code, 0)
            if n >= MIN_CASES:
                weighted[m.series] = weighted.get(m.series, 0.0) + n * self.mean_min[m.code]
                weights[m.series] = weights.get(m.series, 0) + n
        return {
            series: weighted[series] / weights[series] if series in weights else math.fsum(v) / len(v)
            for series, v in configured.items()
        }


def _shrink(prior: float, value: float, cases: int) -> float:
    """A cell's `value` over `cases` cases shrunk towards `prior`, which counts as CELL_PRIOR_CASES cases."""
    return (prior * CELL_PRIOR_CASES + value * cases) / (CELL_PRIOR_CASES + cases)
