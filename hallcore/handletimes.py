"""What a case takes and who gets a window's time: rolling handle times per series shrunk towards the config's
priors (`HandleTimes`), and how a window serving several series splits its time (`ServiceShares`,
`window_capacity`). The wait arithmetic over them is `hallcore.estimates`."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping

from hallcore.config import Matter
from hallcore.estimates import WaitEstimate, estimate_wait

DEFAULT_PRIOR_MIN = 10.0  # the schema's default Matter.prior_handle_min
DEFAULT_PRIOR_WEIGHT = 5.0
DEFAULT_WINDOW = 50
# Handle times are skewed (many short cases, a few long ones); a coefficient of variation of 1 (as for an
# exponential distribution) is the prior spread until real observations say otherwise.
DEFAULT_PRIOR_CV = 1.0
# Mean absolute deviation -> standard deviation: sqrt(pi/2) for a normal distribution.
_MAD_TO_SD = math.sqrt(math.pi / 2)


class Rolling:
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
        self._times: dict[str, Rolling] = {}
        self._deviations: dict[str, Rolling] = {}
        # Per matter, what a case of it is expected to take relative to the others (`ref`), and per series
        # the references of the cases observed: the people ahead are a mix of matters (`mix_mean`).
        self._matter_ref: dict[str, float] = {}
        self._refs: dict[str, Rolling] = {}

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
        times = cls(priors, prior_weight=prior_weight, window=window, prior_cv=prior_cv)
        times.set_refs({m.code: m.prior_handle_min for m in matters})
        return times

    def set_refs(self, refs: Mapping[str, float]) -> None:
        """Each matter's reference time in minutes (its config prior, or its mean in the hall's history):
        what a case of it takes relative to the others of its series. Matters not named keep theirs."""
        for name, value in refs.items():
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"reference time {name!r} must be a finite number >= 0, got {value!r}")
        self._matter_ref.update(refs)

    def ref(self, matter: str) -> float | None:
        """The reference time of `matter` (None: none known)."""
        return self._matter_ref.get(matter)

    def set_priors(self, priors: Mapping[str, float], prior_weight: float) -> None:
        """New priors per series (the hall's history, `hallcore.history`) with the weight of `prior_weight`
        observations; the observations held are kept. A series not named keeps its prior; the matters'
        reference times are `set_refs`."""
        for name, value in priors.items():
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"prior {name!r} must be a finite number >= 0, got {value!r}")
        if not (math.isfinite(prior_weight) and prior_weight > 0):
            raise ValueError(f"prior_weight must be > 0, got {prior_weight!r}")
        self._priors.update(priors)
        self._prior_weight = prior_weight

    def prior(self, series: str) -> float:
        """The configured prior mean handle time of `series` in minutes."""
        return self._priors.get(series, self._default_prior)

    def count(self, series: str) -> int:
        """Real observations held for `series` (at most `window`)."""
        times = self._times.get(series)
        return 0 if times is None else len(times)

    def observe(
        self, series: str, minutes: float, matter: str | None = None, *, ref: float | None = None
    ) -> None:
        """Record one finished case of `series` that took `minutes` (finish − serving start), of `matter`
        when known (its reference time, else the series' prior, goes into `recent_ref`); `ref`, when given,
        is the reference time to use instead (the matter's at the hour the case was handled,
        `hallcore.engine.pace.ref_at`)."""
        if not (math.isfinite(minutes) and minutes >= 0):
            raise ValueError(f"handle time must be a finite number of minutes >= 0, got {minutes!r}")
        if ref is not None and not (math.isfinite(ref) and ref >= 0):
            raise ValueError(f"reference time must be a finite number >= 0, got {ref!r}")
        deviation = abs(minutes - self.mean(series))
        self._times.setdefault(series, Rolling(self._window)).push(minutes)
        self._deviations.setdefault(series, Rolling(self._window)).push(deviation)
        if ref is None and matter is not None:
            ref = self._matter_ref.get(matter)
        self._refs.setdefault(series, Rolling(self._window)).push(self.prior(series) if ref is None else ref)

    def recent_ref(self, series: str) -> float:
        """The mean reference time of the cases behind `mean` (the prior counted as `mean` counts it): what
        the recent mix of matters was expected to take."""
        refs = self._refs.get(series)
        if refs is None:
            return self.prior(series)
        return (self.prior(series) * self._prior_weight + refs.total) / (self._prior_weight + len(refs))

    def mix_mean(self, series: str, mean: float, ref_avg: float) -> float:
        """The mean handle time of people of `series` whose matters' mean reference time is `ref_avg`, when
        the recent cases' is `recent_ref` and took `mean` on average: `mean` scaled by today's mix. With no
        case observed yet it is `ref_avg` itself (the matters' own priors)."""
        recent = self.recent_ref(series)
        if recent <= 0 or ref_avg <= 0:
            return mean
        return mean * ref_avg / recent

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
