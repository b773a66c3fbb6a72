"""The forward model of one series' line (issue 29): when will each waiting position be called?

`forecast(ForecastInput) -> Forecast` plays the line forward `runs` times from its present state: the people
waiting in call order, each with the mean time of their matter; the windows that serve the series with their
share of it, the case in hand, when they serve and their planned closures (lunch turns, the sessions' break);
the priority arrivals that will pass a ticket (a class with head start h passes a ticket of key k if it
arrives at x with x − h < k, as `hallcore.ordering` orders the line). Each run draws every case's time
(lognormal with the series' spread, scaled by a per-run speed of the day drawn from the hall's learned rate
spread, `hallcore.estimatebands.RateSpread`) and the passers' arrivals (Poisson), and records when each
position is called; the point estimate of a position is the median of its runs, the range the central band.

Pure and deterministic: no clock (the input carries when its state was read), its own seeded RNG, frozen plain
data in and out, so it can run in another process (`hallserver.forecasts`) and cross it by pickle. The engine
builds the input (`hallcore.engine.forecasts`) and turns a result into the `WaitEstimate` it prints.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from hallcore.estimatebands import BAND_TARGET

#: The central band of the call-time distribution printed as the range: the share of real waits the ranges
#: are meant to hold, as `BandScale` keeps them.
DEFAULT_BAND = BAND_TARGET
#: Runs per refresh, and the bound on cases drawn in one refresh (runs × positions): at 500 waiting the runs
#: drop to keep one refresh near a tenth of a second of one core (a median of 100 runs is within an eighth
#: of a case's spread).
DEFAULT_RUNS = 100
MIN_RUNS = 30
MAX_DRAWS = 30_000
#: Newcomers appended behind the line (key: now): the positions a ticket issued before the next refresh gets.
DEFAULT_EXTRA = 20
#: A position not called within this many minutes in most runs has no forecast (the inline estimate answers).
HORIZON_MIN = 600.0
#: Tries to draw the case in hand's length longer than it has already taken, before falling back.
_RESIDUAL_TRIES = 8


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """A window serving the series: the `share` of its time the series gets (1 for its own window), when it
    serves (`available_min` from now; 0 open now), how long the case in hand has taken so far (None: no case
    in hand) and its mean, and its planned closures still ahead as (start, end) minutes from now."""

    share: float
    available_min: float = 0.0
    busy_min: float | None = None
    busy_mean_min: float = 0.0
    closures: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class ForecastInput:
    """One series' state as the engine saw it at `made_at` (POSIX seconds).

    `waiting`: per waiting ticket in call order, (its order key in minutes from now: effective time − head
    start, ≤ 0 for who already waits; the mean time of its matter). `passers`: per priority class, (expected
    arrivals per minute, its head start in minutes). `new_mean_min`: a newcomer's mean case (the passers', and
    the `extra` newcomers' appended with key 0). `cv`: the spread of one case relative to its mean;
    `rate_spread`: the spread of the day's speed (a share of the wait)."""

    series: str
    made_at: float
    version: int
    waiting: tuple[tuple[float, float], ...]
    windows: tuple[WindowPlan, ...]
    passers: tuple[tuple[float, float], ...] = ()
    new_mean_min: float = 10.0
    cv: float = 1.0
    rate_spread: float = 0.0
    band: float = DEFAULT_BAND
    runs: int = DEFAULT_RUNS
    extra: int = DEFAULT_EXTRA
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Forecast:
    """Per position (0: next in line; the last `extra` are newcomers behind the line), the call time in
    minutes after `made_at` as (low, median, high), or None when most runs did not reach it."""

    series: str
    made_at: float
    version: int
    waiting: int
    positions: tuple[tuple[float, float, float] | None, ...]
    runs: int

    def at(self, position: int) -> tuple[float, float, float] | None:
        if 0 <= position < len(self.positions):
            return self.positions[position]
        return None


def check(inp: ForecastInput) -> None:
    """Raise ValueError for an input no line could have."""
    numbers = [inp.new_mean_min, inp.cv, inp.rate_spread]
    numbers += [m for _k, m in inp.waiting] + [r for r, _h in inp.passers]
    for w in inp.windows:
        numbers += [w.share, w.busy_mean_min, max(0.0, w.available_min)]
    for value in numbers:
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"forecast inputs must be finite numbers >= 0, got {value!r}")
    if not 0 < inp.band < 1:
        raise ValueError(f"band must be in (0, 1), got {inp.band!r}")
    if inp.runs < 1 or inp.extra < 0:
        raise ValueError("runs must be >= 1 and extra >= 0")


def runs_for(inp: ForecastInput) -> int:
    """The runs a refresh makes: `inp.runs`, fewer for a long line (MAX_DRAWS), never below MIN_RUNS."""
    positions = len(inp.waiting) + inp.extra
    return max(min(inp.runs, MIN_RUNS), min(inp.runs, MAX_DRAWS // max(1, positions)))


def forecast(inp: ForecastInput) -> Forecast:
    """Play the line forward (see the module docstring)."""
    check(inp)
    n = len(inp.waiting) + inp.extra
    runs = runs_for(inp)
    windows = [w for w in inp.windows if w.share > 0]
    if not windows or n == 0:
        return Forecast(inp.series, inp.made_at, inp.version, len(inp.waiting), (None,) * n, runs)
    keys = [k for k, _m in inp.waiting] + [0.0] * inp.extra
    # Suffix minimum: a passer goes before a position only if it goes before everyone behind it too (an
    # absolute ticket at the head of the call order with a later key is not passed by what it precedes).
    for i in range(len(keys) - 2, -1, -1):
        keys[i] = min(keys[i], keys[i + 1])
    means = [m for _k, m in inp.waiting] + [inp.new_mean_min] * inp.extra
    sigma = math.sqrt(math.log1p(inp.cv * inp.cv))
    mu_shift = -sigma * sigma / 2  # a lognormal with mean 1
    rng = random.Random(inp.seed)
    times: list[list[float]] = [[] for _ in range(n)]
    for _ in range(runs):
        _one_run(inp, windows, keys, means, sigma, mu_shift, rng, times)
    band = inp.band
    out: list[tuple[float, float, float] | None] = []
    for called in times:
        if len(called) * 2 <= runs:
            out.append(None)
            continue
        called.sort()
        low, mid, high = (_quantile(called, runs, q) for q in ((1 - band) / 2, 0.5, (1 + band) / 2))
        out.append((low, mid, high))
    return Forecast(inp.series, inp.made_at, inp.version, len(inp.waiting), tuple(out), runs)


def _quantile(values: list[float], total: int, q: float) -> float:
    """The q-quantile of `total` runs of which `values` (sorted) reached the position, the others later
    (counted at HORIZON_MIN)."""
    pos = q * (total - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, total - 1)

    def value(k: int) -> float:
        return values[k] if k < len(values) else HORIZON_MIN

    return value(lo) + (value(hi) - value(lo)) * (pos - lo)


def _open_at(t: float, closures: tuple[tuple[float, float], ...]) -> float:
    """The first time at or after `t` outside the window's planned closures."""
    for start, end in closures:
        if start <= t < end:
            t = end
    return t


def _one_run(
    inp: ForecastInput,
    windows: list[WindowPlan],
    keys: list[float],
    means: list[float],
    sigma: float,
    mu_shift: float,
    rng: random.Random,
    times: list[list[float]],
) -> None:
    lognorm = rng.lognormvariate
    day = rng.lognormvariate(0.0, inp.rate_spread) if inp.rate_spread > 0 else 1.0
    free: list[tuple[float, int]] = []
    for i, w in enumerate(windows):
        at = max(0.0, w.available_min)
        if w.busy_min is not None:
            at += _residual(w, sigma, mu_shift, lognorm) * day / w.share
        free.append((_open_at(at, w.closures), i))
    heapq.heapify(free)
    # The passers: per class the next arrival (minutes from now); those arrived wait by key in `pending`.
    streams = [(rate, head) for rate, head in inp.passers if rate > 0]
    next_arrival = [rng.expovariate(rate) for rate, _h in streams]
    pending: list[float] = []
    n = len(keys)
    j = 0
    new_mean = inp.new_mean_min
    while j < n:
        t, i = heapq.heappop(free)
        if t > HORIZON_MIN:
            break
        for s, (rate, head) in enumerate(streams):
            while next_arrival[s] <= t:
                heapq.heappush(pending, next_arrival[s] - head)
                next_arrival[s] += rng.expovariate(rate)
        w = windows[i]
        if pending and pending[0] < keys[j]:
            heapq.heappop(pending)
            mean = new_mean
        else:
            times[j].append(t)
            mean = means[j]
            j += 1
        took = mean * lognorm(mu_shift, sigma) * day / w.share
        heapq.heappush(free, (_open_at(t + took, w.closures), i))


def _residual(w: WindowPlan, sigma: float, mu_shift: float, draw: Callable[[float, float], float]) -> float:
    """What is left of the case in hand: a case length drawn longer than it has taken so far, less that."""
    elapsed = w.busy_min or 0.0
    for _ in range(_RESIDUAL_TRIES):
        length = float(w.busy_mean_min * draw(mu_shift, sigma))
        if length > elapsed:
            return length - elapsed
    # A case already much longer than usual: it ends some time within half a mean case.
    return float(w.busy_mean_min * 0.5 * draw(mu_shift, sigma))
