"""The forward model's results in the engine (issue 29): which one is fresh enough to print, and the
`WaitEstimate` it gives a position. The model itself is `hallcore.forecast`; its input is read from the
engine by `hallcore.engine.forecastinput`. A result is made elsewhere (a worker process on the hall server,
directly in `hallq sim`) and installed with `install`; until one is fresh the inline estimate answers."""

from __future__ import annotations

import datetime as dt
import math

from hallcore.engine.state import EngineState
from hallcore.estimates import HIGH_PAD_MIN, WaitEstimate
from hallcore.forecast import Forecast

#: A result made from an older state of its series is still used this long after it was made: the next
#: refresh (at most one a second) is on its way. A result of the series' current state is used up to
#: MAX_AGE_S: nothing it was made from has changed but the time, which `estimate_from` subtracts.
FRESH_S = 3.0
MAX_AGE_S = 120.0


def install(s: EngineState, result: Forecast) -> bool:
    """Keep `result` as its series' latest, unless a later one is already installed or the series is
    unknown (a config reload dropped it). True when kept."""
    if result.series not in s.lines:
        return False
    held = s.forecasts.get(result.series)
    if held is not None and (held.made_at, held.version) > (result.made_at, result.version):
        return False
    s.forecasts[result.series] = result
    return True


def fresh(s: EngineState, series: str, now: dt.datetime) -> Forecast | None:
    """The series' latest result if it may be printed at `now` (FRESH_S, MAX_AGE_S), else None."""
    result = s.forecasts.get(series)
    if result is None:
        return None
    age = now.timestamp() - result.made_at
    if age < -1.0 or age > MAX_AGE_S:  # a clock set back, or an old result
        return None
    if age > FRESH_S and result.version != s.version(series):
        return None
    return result


def estimate_from(s: EngineState, series: str, ahead: int, now: dt.datetime) -> WaitEstimate | None:
    """The wait of a ticket with `ahead` people before it from the series' fresh result: its position's
    call time less the time since the result was made; the band scaled by what the hall's checked
    estimates say (`BandScale`), its top padded as the inline estimate's (HIGH_PAD_MIN), and marked wide
    past `estimates.wide_band_min`. None: no fresh result reaches it."""
    result = fresh(s, series, now)
    if result is None:
        return None
    found = result.at(ahead)
    if found is None:
        return None
    since = max(0.0, now.timestamp() - result.made_at) / 60
    low, mid, high = (max(0.0, x - since) for x in found)
    scale = s.band_scale.value
    low = max(0.0, mid - (mid - low) * scale)
    # The model's call times start when a window is free; the printing, the call and the walk come on top
    # (as on the inline estimate's upper bound).
    high = mid + (high - mid) * scale + HIGH_PAD_MIN
    est = WaitEstimate(low_min=math.floor(low), high_min=math.ceil(high), point_min=math.floor(mid + 0.5))
    return est.widened(s.config.estimates.wide_band_min)


#: A series' result is made again at most this often, and only when the series changed.
REFRESH_S = 1.0


def refresh_due(s: EngineState, series: str, now: dt.datetime) -> bool:
    """Whether `series` wants a new result at `now`: none yet, or its state changed since the last and that
    one is REFRESH_S old."""
    result = s.forecasts.get(series)
    if result is None:
        return True
    if result.version == s.version(series) and now.timestamp() - result.made_at <= MAX_AGE_S / 2:
        return False
    return now.timestamp() - result.made_at >= REFRESH_S
