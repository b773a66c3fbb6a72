"""How wide the printed range is: the spread of the service rate beyond the handle-time spread (`RateSpread`)
and the scale that keeps the ranges holding about 80 % of real waits (`BandScale`), both learned from the
hall's own checked estimates."""

from __future__ import annotations

import math

from hallcore.handletimes import Rolling

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
        self._excess = Rolling(window)

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
