"""Wait estimates: rolling handle times per series, window capacity, and a wait range (DESIGN.md §4).

The range is meant to hold the real wait about 80 % of the time; each estimate is logged with the real wait
elsewhere so its error (MAE) and the range's coverage are measured, and these constants can be tuned.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
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
    of guessing.
    """

    low_min: int | None
    high_min: int | None
    point_min: int | None
    no_window_open: bool = False


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


def estimate_wait(ahead: int, mean_handle_min: float, capacity: float, *, cv: float = 1.0) -> WaitEstimate:
    """The wait of a ticket with `ahead` people before it, in whole minutes.

    point = (ahead + 0.5) × mean / capacity: the +0.5 is the ticket being served now, half done on average.
    low = point × max(0, 1 − 1.0·r) rounded down, high = point × (1 + 1.7·r) + 2 rounded up, with
    r = cv/√(ahead+1) and `cv` the relative spread of one handle time (1 unless measured). Capacity 0 (no
    open window serves the series) gives NO_WINDOW_OPEN. Every bound grows with `ahead`.
    """
    # Why +0.5 and not the renewal-theory mean residual (1 + cv²)/2: waits are skewed, the error we report is
    # the mean *absolute* error, which the median minimises, and the median lies below the mean; for an
    # exponential residual E|X − 0.5m| < E|X − m|. The band, not the point, carries the long tail.
    if ahead < 0:
        raise ValueError(f"ahead must be >= 0, got {ahead}")
    for name, value in (("mean_handle_min", mean_handle_min), ("capacity", capacity), ("cv", cv)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if capacity == 0:
        return NO_WINDOW_OPEN
    point = (ahead + 0.5) * mean_handle_min / capacity
    relative = cv / math.sqrt(ahead + 1)
    low = point * max(LOW_FLOOR, 1.0 - LOW_Z * relative)
    high = point * (1.0 + HIGH_Z * relative) + HIGH_PAD_MIN
    # floor(low) <= round(point) <= ceil(high) because low <= point <= high.
    return WaitEstimate(
        low_min=max(0, math.floor(low)),
        high_min=math.ceil(high),
        point_min=math.floor(point + 0.5),
    )
