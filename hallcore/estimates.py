"""Wait estimates: rolling handle times per series, window capacity, and a wait range (DESIGN.md §4).

The range is meant to hold the real wait about 80 % of the time; each estimate is logged with the real wait
elsewhere so its error (MAE) and the range's coverage are measured, and these constants can be tuned.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hallcore.config import Matter

DEFAULT_PRIOR_MIN = 10.0  # the schema's default Matter.prior_handle_min
DEFAULT_PRIOR_WEIGHT = 5.0
DEFAULT_WINDOW = 50
# Handle times are skewed (many short cases, a few long ones); a coefficient of variation of 1 (as for an
# exponential distribution) is the prior spread until real observations say otherwise.
DEFAULT_PRIOR_CV = 1.0
# Mean absolute deviation -> standard deviation: sqrt(pi/2) for a normal distribution.
_MAD_TO_SD = math.sqrt(math.pi / 2)

# The band of estimate_wait. The sum of k handle times has a relative spread of about cv/sqrt(k), so the band
# narrows as more people are ahead: low = point × max(LOW_FLOOR, 1 − LOW_Z·r), high = point × (1 + HIGH_Z·r)
# + HIGH_PAD_MIN, with r = cv/√(ahead+1). The upper side is wider because waits are sums of right-skewed
# times. The constants were fitted by simulation (gamma handle times with cv 0.5–1, one window, the case in
# progress length-biased as in renewal theory): the band holds 78–82 % of waits for 1–40 people ahead and
# 67–80 % for the next in line, whose wait is the most spread. The textbook z = 1.28 above with a 0.5 floor
# below held only about 75 % (57–64 % for the next in line). No floor: "0–16 min" is the honest answer for
# the next in line when cases take 10 ± 10 min. HIGH_PAD covers walking to the window and the call delay.
# Real coverage is measured from logged estimates; retune here.
LOW_Z = 1.0
LOW_FLOOR = 0.0
HIGH_Z = 1.7
HIGH_PAD_MIN = 2.0


class _Rolling:
    """The last `size` values with their sum, O(1) per update; the sum is recomputed every `size` pushes
    so floating-point drift from adding and subtracting never accumulates."""

    __slots__ = ("_pushes", "_size", "_sum", "_values")

    def __init__(self, size: int) -> None:
        self._values: deque[float] = deque(maxlen=size)
        self._size = size
        self._sum = 0.0
        self._pushes = 0

    def push(self, value: float) -> None:
        if len(self._values) == self._size:
            self._sum -= self._values[0]
        self._values.append(value)
        self._sum += value
        self._pushes += 1
        if self._pushes % self._size == 0:
            self._sum = math.fsum(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def total(self) -> float:
        return self._sum


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    """A wait in whole minutes: low <= point <= high, low >= 0.

    With `no_window_open` no window serves the series now, and all three are None: the kiosk says so instead
    of guessing. With `wide` the range is wider than the hall's `estimates.wide_band_min`: too wide to plan
    a morning by, so the ticket and the phone page say "人多，预计较长" instead (`widened`).
    """

    low_min: int | None
    high_min: int | None
    point_min: int | None
    no_window_open: bool = False
    wide: bool = False

    def widened(self, max_band_min: int) -> WaitEstimate:
        """This estimate, marked `wide` when its range is wider than `max_band_min` minutes."""
        if self.low_min is None or self.high_min is None or self.high_min - self.low_min <= max_band_min:
            return self
        return WaitEstimate(self.low_min, self.high_min, self.point_min, self.no_window_open, wide=True)


NO_WINDOW_OPEN = WaitEstimate(low_min=None, high_min=None, point_min=None, no_window_open=True)


class HandleTimes:
    """Rolling mean handle time per series, shrunk towards a prior.

    mean = (prior × prior_weight + sum of the last `window` observations) / (prior_weight + their count): the
    prior counts as `prior_weight` observations, so a few early cases don't swing the estimate, and it keeps
    a share of prior_weight / (prior_weight + window) (≈ 9 % with the defaults) once the window is full.
    The spread is the rolling mean absolute deviation of each observation from the mean just before it (how
    far a case falls from what we would have predicted), shrunk towards `prior_cv` × prior the same way.
    """

    def __init__(
        self,
        priors: Mapping[str, float],
        *,
        default_prior: float = DEFAULT_PRIOR_MIN,
        prior_weight: float = DEFAULT_PRIOR_WEIGHT,
        window: int = DEFAULT_WINDOW,
        prior_cv: float = DEFAULT_PRIOR_CV,
    ) -> None:
        for name, value in (("default_prior", default_prior), ("prior_cv", prior_cv), *priors.items()):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"prior {name!r} must be a finite number >= 0, got {value!r}")
        if not (math.isfinite(prior_weight) and prior_weight > 0):
            raise ValueError(f"prior_weight must be > 0, got {prior_weight!r}")
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window!r}")
        self._priors = dict(priors)
        self._default_prior = default_prior
        self._prior_weight = prior_weight
        self._window = window
        self._prior_cv = prior_cv
        self._times: dict[str, _Rolling] = {}
        self._deviations: dict[str, _Rolling] = {}

    @classmethod
    def from_matters(
        cls,
        matters: Iterable[Matter],
        *,
        prior_weight: float = DEFAULT_PRIOR_WEIGHT,
        window: int = DEFAULT_WINDOW,
        prior_cv: float = DEFAULT_PRIOR_CV,
    ) -> HandleTimes:
        """Priors per series from the matters' `prior_handle_min`: the plain mean over a series' matters."""
        by_series: dict[str, list[float]] = {}
        for matter in matters:
            by_series.setdefault(matter.series, []).append(matter.prior_handle_min)
        priors = {series: math.fsum(values) / len(values) for series, values in by_series.items()}
        return cls(priors, prior_weight=prior_weight, window=window, prior_cv=prior_cv)

    def prior(self, series: str) -> float:
        """The configured prior mean handle time of `series` in minutes."""
        return self._priors.get(series, self._default_prior)

    def count(self, series: str) -> int:
        """Real observations held for `series` (at most `window`)."""
        times = self._times.get(series)
        return 0 if times is None else len(times)

    def observe(self, series: str, minutes: float) -> None:
        """Record one finished case of `series` that took `minutes` (finish − serving start)."""
        if not (math.isfinite(minutes) and minutes >= 0):
            raise ValueError(f"handle time must be a finite number of minutes >= 0, got {minutes!r}")
        deviation = abs(minutes - self.mean(series))
        self._times.setdefault(series, _Rolling(self._window)).push(minutes)
        self._deviations.setdefault(series, _Rolling(self._window)).push(deviation)

    def mean(self, series: str) -> float:
        """The mean handle time of `series` in minutes."""
        prior_part = self.prior(series) * self._prior_weight
        times = self._times.get(series)
        if times is None:
            return self.prior(series)
        return (prior_part + times.total) / (self._prior_weight + len(times))

    def spread(self, series: str) -> float:
        """The standard deviation of one handle time of `series` in minutes, from the rolling MAD."""
        prior_mad = self._prior_cv * self.prior(series) / _MAD_TO_SD
        deviations = self._deviations.get(series)
        if deviations is None:
            mad = prior_mad
        else:
            mad = (prior_mad * self._prior_weight + deviations.total) / (self._prior_weight + len(deviations))
        return mad * _MAD_TO_SD

    def cv(self, series: str) -> float:
        """spread / mean: the relative spread of one handle time (0 when the mean is 0)."""
        mean = self.mean(series)
        return 0.0 if mean <= 0 else self.spread(series) / mean

    def estimate(self, series: str, ahead: int, capacity: float) -> WaitEstimate:
        """estimate_wait with this series' mean and relative spread."""
        return estimate_wait(ahead, self.mean(series), capacity, cv=self.cv(series))


def window_capacity(windows_open: Iterable[tuple[str, ...]], series: str) -> float:
    """Windows' worth of service for `series`: a window serving k series counts 1/k.

    Pass only windows that are open and not paused, each as the series it serves now.
    """
    capacity = 0.0
    for served in windows_open:
        distinct = set(served)
        if series in distinct:
            capacity += 1.0 / len(distinct)
    return capacity


#: A shared window's split starts at 1/k and counts as this many calls against what it has really done.
SHARE_PRIOR_CALLS = 2.0
#: Each call at a shared window weighs this much; older calls fade by (1 − α) per call (≈ the last 10).
SHARE_ALPHA = 0.1


class ServiceShares:
    """How each window serving several series (综合窗口) splits its time among them.

    The 1/k rule assumes an even split, but a shared window calls its series in configured order, so its
    first series gets most of it while that queue is long and the later ones what is left. The share of a
    series is the share of the window's recent service time it got (its recent calls, fading by (1 − α)
    per call, weighted by each series' mean handle time), shrunk towards 1/k with the weight of
    SHARE_PRIOR_CALLS calls. On the simulated provincial day the 1/k rule left the later series of the
    综合窗口 (F, L, P) 3–6 minutes short on average.
    """

    def __init__(self, alpha: float = SHARE_ALPHA, prior_calls: float = SHARE_PRIOR_CALLS) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        if not (math.isfinite(prior_calls) and prior_calls > 0):
            raise ValueError(f"prior_calls must be > 0, got {prior_calls!r}")
        self._keep = 1.0 - alpha
        self._prior = prior_calls
        self._calls: dict[int, dict[str, float]] = {}

    def observe(self, window: int, series: str) -> None:
        """The shared `window` called a ticket of `series`."""
        calls = self._calls.setdefault(window, {})
        for key in calls:
            calls[key] *= self._keep
        calls[series] = calls.get(series, 0.0) + 1.0

    def share(
        self, window: int, served: Iterable[str], series: str, mean_handle_min: Mapping[str, float]
    ) -> float:
        """The share of `window`'s service that goes to `series` among the series it serves now."""
        distinct = list(dict.fromkeys(served))
        if series not in distinct:
            return 0.0
        prior = 1.0 / len(distinct)
        calls = self._calls.get(window)
        if not calls:
            return prior
        times = {s: calls.get(s, 0.0) * mean_handle_min.get(s, 0.0) for s in distinct}
        weight = sum(calls.get(s, 0.0) for s in distinct)
        busy = sum(times.values())
        if busy <= 0:
            return prior
        return (self._prior * prior + weight * times[series] / busy) / (self._prior + weight)


def estimate_wait(
    ahead: int,
    mean_handle_min: float,
    capacity: float,
    *,
    cv: float = 1.0,
    extra: float = 0.0,
    rate_spread: float = 0.0,
) -> WaitEstimate:
    """The wait of a ticket with `ahead` people before it, in whole minutes, at a steady `capacity`.

    point = (ahead + extra + 0.5) × mean / capacity: the +0.5 is the ticket being served now, half done on
    average; `extra` is the people expected to go ahead later (priority arrivals, see `expected_passers`).
    low = point × max(0, 1 − 1.0·r) rounded down, high = point × (1 + 1.7·r) + 2 rounded up, with
    r = cv/√(ahead+extra+1) and `cv` the relative spread of one handle time (1 unless measured). Capacity 0
    (no open window serves the series) gives NO_WINDOW_OPEN. Every bound grows with `ahead` and `extra`.
    """
    if not (math.isfinite(capacity) and capacity >= 0):
        raise ValueError(f"capacity must be a finite number >= 0, got {capacity!r}")
    return estimate_planned(
        ahead, mean_handle_min, ((0.0, capacity),), cv=cv, extra=extra, rate_spread=rate_spread
    )


#: A ticket an idle window will call at once: the printing and the walk to the window.
IDLE_ESTIMATE = WaitEstimate(low_min=0, high_min=2, point_min=0)

#: The spread of the service rate itself, as a share of the wait, before the hall's own errors say more
#: (`RateSpread`), and how many checked estimates that prior counts as.
PRIOR_RATE_SPREAD = 0.1
PRIOR_RATE_WEIGHT = 20.0
#: Estimates of a wait shorter than this, or with fewer people ahead, do not teach the rate spread: their
#: error is the case in hand, which the handle-time spread covers.
RATE_SPREAD_MIN_POINT = 5.0
RATE_SPREAD_MIN_AHEAD = 3


class RateSpread:
    """What the handle-time spread does not explain: breaks and faults off the plan, a slow day, a share that
    moves. The band's relative spread is √(cv²/(k+1) + g²); g² is learned from the hall's own checked
    estimates as the mean of ln(real wait / point)² − cv²/(k+1) over the last `window` tickets called, shrunk
    towards PRIOR_RATE_SPREAD² with the weight of PRIOR_RATE_WEIGHT tickets. The error of each estimate is
    known only when its ticket is called, so g lags by a wait; it is a width, not a bias, and widths change
    slowly."""

    def __init__(self, window: int = 200) -> None:
        self._excess = _Rolling(window)

    def observe(self, real_min: float, point_min: float, cv: float, people: float) -> None:
        """A ticket estimated at `point_min` with `people` ahead was called after `real_min`."""
        if real_min <= 0 or point_min < RATE_SPREAD_MIN_POINT or people < RATE_SPREAD_MIN_AHEAD:
            return
        self._excess.push(math.log(real_min / point_min) ** 2 - cv * cv / (people + 1))

    def value(self) -> float:
        prior = PRIOR_RATE_SPREAD**2 * PRIOR_RATE_WEIGHT
        return math.sqrt(max(0.0, (prior + self._excess.total) / (PRIOR_RATE_WEIGHT + len(self._excess))))


#: The share of real waits the printed range is meant to hold, and how fast `BandScale` moves towards it.
BAND_TARGET = 0.8
BAND_STEP = 0.02
BAND_SCALE_LIMITS = (0.5, 2.0)


class BandScale:
    """Keeps the printed ranges holding BAND_TARGET of the real waits: each checked ticket whose wait fell
    outside its range widens the next ranges by a step, each inside narrows them by a quarter of that (so
    they balance at 80 % inside). The spread model says how the width grows with the people ahead; this
    says how wide the hall's days really are. Every checked ticket counts, those an idle window called at
    once (IDLE_ESTIMATE, not scaled) too: the 80 % is of the waits printed, as `hallq sim` measures it."""

    def __init__(self) -> None:
        self.value = 1.0

    def observe(self, real_min: float, low_min: int, high_min: int) -> None:
        outside = not low_min <= real_min <= high_min
        step = BAND_STEP if outside else -BAND_STEP * (1 - BAND_TARGET) / BAND_TARGET
        self.value = min(max(self.value * math.exp(step), BAND_SCALE_LIMITS[0]), BAND_SCALE_LIMITS[1])


#: A capacity profile: (minutes from now, windows' worth of service from then on), in time order, from 0.
Profile = Sequence[tuple[float, float]]


def estimate_planned(
    ahead: int,
    mean_handle_min: float,
    profile: Profile,
    *,
    cv: float = 1.0,
    extra: float = 0.0,
    rate_spread: float = 0.0,
    idle: int = 0,
    band_scale: float = 1.0,
) -> WaitEstimate:
    """`estimate_wait` over a capacity that changes as planned (`capacity_profile`): the people ahead need
    (ahead + extra + 0.5) × mean window-minutes of service, and the wait is when the profile has given that
    much (`wait_through`); the band's bounds are the times it has given the band's share of it. So a ticket
    behind a lunch turn waits through the turn, and one issued during it counts on the windows coming back.
    No capacity now and none planned gives NO_WINDOW_OPEN. `rate_spread` (`RateSpread`) widens the band by
    what the handle-time spread does not explain: r = √(cv²/(ahead+extra+1) + rate_spread²). `idle` open
    windows with nobody at them take the first `idle` people at once: a ticket among those is called now
    (IDLE_ESTIMATE), and the people ahead of a later one are counted less those windows' first calls.
    `band_scale` (`BandScale`) scales the band's relative spread.
    """
    # Why +0.5 and not the renewal-theory mean residual (1 + cv²)/2: waits are skewed, the error we report is
    # the mean *absolute* error, which the median minimises, and the median lies below the mean; for an
    # exponential residual E|X − 0.5m| < E|X − m|. The band, not the point, carries the long tail.
    if ahead < 0:
        raise ValueError(f"ahead must be >= 0, got {ahead}")
    for name, value in (("mean_handle_min", mean_handle_min), ("cv", cv), ("extra", extra)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    for _at, capacity in profile:
        if not (math.isfinite(capacity) and capacity >= 0):
            raise ValueError(f"capacity must be a finite number >= 0, got {capacity!r}")
    if idle < 0:
        raise ValueError(f"idle must be >= 0, got {idle}")
    # Idle windows call at once only if they serve this line now. One counted idle while the profile starts
    # at 0 (a closure starting now, a window that serves later) takes nobody at once: subtracting it made the
    # people ahead -1 and divided by zero below (f811e85), and fewer than the real queue otherwise.
    serving_now = bool(profile) and profile[0][1] > 0
    if serving_now and ahead + extra < idle:
        return IDLE_ESTIMATE
    people = ahead + extra - (idle if serving_now else 0)
    work = (people + 0.5) * mean_handle_min
    point = wait_through(work, profile)
    if point is None:
        return NO_WINDOW_OPEN
    relative = band_scale * math.sqrt(cv * cv / (people + 1) + rate_spread * rate_spread)
    low = wait_through(work * max(LOW_FLOOR, 1.0 - LOW_Z * relative), profile) or 0.0
    high = (wait_through(work * (1.0 + HIGH_Z * relative), profile) or point) + HIGH_PAD_MIN
    # floor(low) <= round(point) <= ceil(high) because low <= point <= high.
    return WaitEstimate(
        low_min=max(0, math.floor(low)),
        high_min=math.ceil(high),
        point_min=math.floor(point + 0.5),
    )


def wait_through(work: float, profile: Profile) -> float | None:
    """Minutes from now until `work` window-minutes of service have been given by `profile` (None: never,
    the last capacity being 0)."""
    done = 0.0
    for i, (at, capacity) in enumerate(profile):
        until = profile[i + 1][0] if i + 1 < len(profile) else math.inf
        if capacity > 0:
            if done + capacity * (until - at) >= work:
                return at + (work - done) / capacity
            done += capacity * (until - at)
        elif until == math.inf:
            return None if work > done else at
    return None


def capacity_profile(
    windows: Iterable[tuple[float, float, Iterable[tuple[float, float]]]],
) -> list[tuple[float, float]]:
    """The windows' worth of service from now on, from each window's (share, minutes until it serves,
    planned closures as (start, end) minutes from now): a step function, as `estimate_planned` takes it."""
    steps: dict[float, float] = {0.0: 0.0}
    for share, available, closures in windows:
        if share <= 0:
            continue
        start = max(0.0, available)
        steps[start] = steps.get(start, 0.0) + share
        for begin, end in sorted(closures):
            a, b = max(begin, start), max(end, start)
            if b > a:
                steps[a] = steps.get(a, 0.0) - share
                steps[b] = steps.get(b, 0.0) + share
                start = b
    out: list[tuple[float, float]] = []
    level = 0.0
    for at in sorted(steps):
        level = max(0.0, level + steps[at])
        if out and abs(out[-1][1] - level) < 1e-12:
            continue
        out.append((at, level))
    return out


# ---- what the people ahead do not show --------------------------------------------------------------------
#
# `ahead` counts who would be called first *if nobody else arrived*. Arrivals with a longer head start than a
# ticket's own do arrive, and pass it if they come soon enough (DESIGN.md §4: the line is ordered by effective
# time − head start): a class with head start h passes a normal ticket if it arrives within h minutes of it, a
# ticket with head start h0 < h if it arrives within h − h0; an absolute class passes within the longest head
# start. Leaving the passers out made the simulated provincial day's estimates minutes short for normal
# tickets.

#: Time constant of the priority arrival rate: long enough to be steady, short enough to follow the day.
ARRIVAL_TAU_MIN = 60.0
#: Passers never count as taking more than this share of the windows' service (keeps the estimate finite when
#: a burst of bookings checks in at once).
MAX_JUMP_SHARE = 0.5


class ArrivalRate:
    """Events per minute per key, exponentially weighted with time constant `tau_min`.

    After each event the count decays as exp(−Δt/τ); the rate is count/τ, divided by 1 − exp(−(t − t0)/τ)
    where t0 is when observation began, so the first hour of a day is not read as a slow one. A gap of more
    than four time constants (the night) starts the observation again. Times are POSIX seconds.
    """

    def __init__(self, tau_min: float = ARRIVAL_TAU_MIN) -> None:
        if not (math.isfinite(tau_min) and tau_min > 0):
            raise ValueError(f"tau_min must be > 0, got {tau_min!r}")
        self._tau_s = tau_min * 60.0
        self._counts: dict[str, tuple[float, float]] = {}  # key -> (weighted count, at)
        self._t0: float | None = None
        self._last: float | None = None

    def _see(self, at: float) -> None:
        if self._last is None or at - self._last > 4 * self._tau_s:
            self._t0 = at
            self._counts.clear()
        self._last = at if self._last is None else max(self._last, at)

    def record(self, key: str, at: float) -> None:
        """One event of `key` at `at`."""
        self._see(at)
        count, then = self._counts.get(key, (0.0, at))
        self._counts[key] = (count * math.exp(-max(0.0, at - then) / self._tau_s) + 1.0, at)

    def rate(self, key: str, at: float) -> float:
        """The rate of `key` per minute as of `at` (0 before any event)."""
        self._see(at)
        found = self._counts.get(key)
        if found is None or self._t0 is None:
            return 0.0
        count, then = found
        decayed = count * math.exp(-max(0.0, at - then) / self._tau_s)
        observed = max(at - self._t0, 60.0)  # at least a minute, so one early event is not a flood
        return decayed / (self._tau_s / 60.0) / (1.0 - math.exp(-observed / self._tau_s))


def expected_passers(
    ahead: int, mean_handle_min: float, capacity: float, streams: Iterable[tuple[float, float]]
) -> float:
    """People expected to go ahead of a new ticket while it waits. Each stream is (rate per minute, window in
    minutes): arrivals that pass the ticket if they come within `window` minutes of it.

    Each passer takes one case of service: with k = mean/capacity the wait W solves
    W = (ahead + 0.5)·k + k·Σ rate·min(W, window) (piecewise linear, solved exactly), and the passers are
    Σ rate·min(W, window). The passers' share k·Σ rate is capped at MAX_JUMP_SHARE by scaling the rates.
    """
    if capacity <= 0 or mean_handle_min <= 0:
        return 0.0
    live = sorted((w, r) for r, w in streams if r > 0 and w > 0)
    if not live:
        return 0.0
    k = mean_handle_min / capacity
    share = k * sum(r for _w, r in live)
    if share > MAX_JUMP_SHARE:
        live = [(w, r * MAX_JUMP_SHARE / share) for w, r in live]
    base = (ahead + 0.5) * k
    # On the piece where the first j windows are already full: W = (base + k·Σ_{<j} r·w) / (1 − k·Σ_{>=j} r).
    full = 0.0
    open_rate = sum(r for _w, r in live)
    low = 0.0
    wait = base
    for w, r in live:
        wait = (base + k * full) / (1.0 - k * open_rate)
        if wait <= w:
            break
        full += r * w
        open_rate -= r
        low = w
    else:
        wait = base + k * full
    wait = max(wait, low)
    return sum(r * min(wait, w) for w, r in live)
