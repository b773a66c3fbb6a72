"""The hour and weekday in the wait model (issue 29): what a case takes depends on when it is handled, as the
hall's history says per matter × weekday × hour (`hallcore.history.HandleHistory.dist`).

Two places use it. A finished case is compared with what its matter takes *at the hour it was handled*
(`ref_at`), so today's speed (`HandleTimes.recent_ref`) is measured against the right hour: a clerk as slow
as every Monday 9:00 is not a slow clerk. And the people ahead of a ticket are handled over the coming hours:
each hour's cases of the series take `pace` times what they take over the whole day, so the capacity profile
is divided by the pace of each hour it spans (`paced`), and the wait is the time that profile takes to give
the line's hour-neutral work. With no history, or a history without times, the pace is 1 everywhere and
nothing changes. Pure: the time is passed in.
"""

from __future__ import annotations

import datetime as dt
import math

from hallcore.engine.state import EngineState
from hallcore.history import DEFAULT_LOG_SD, HandleDist

#: Hours of pace the profile is split into from now; beyond them the last hour's pace holds (a wait of more
#: than half a day is not planned by the hour).
PACED_HOURS = 14


def handle_dist(s: EngineState, matter: str, at: dt.datetime) -> HandleDist:
    """What one case of `matter` is expected to take when handled at `at`: the history's cell shrunk
    towards the matter (`HandleHistory.dist`), or with no history the config's prior with the default
    log-spread. For the forward model and the estimator alike; KeyError for a matter not in the config."""
    prior = s.config.matter_by_code[matter].prior_handle_min
    if s.history is None:
        return HandleDist(prior, DEFAULT_LOG_SD, 0)
    local = at.astimezone(s.calendar.tz)
    return s.history.dist(matter, local.weekday(), local.hour, prior)


def ref_at(s: EngineState, matter: str, at: dt.datetime) -> float | None:
    """The reference time of a case of `matter` handled at `at` (`HandleTimes.ref` at that weekday and
    hour); None when the matter has none."""
    ref = s.handle_times.ref(matter)
    if ref is None or s.history is None or not s.history.has_hours or matter not in s.config.matter_by_code:
        return ref
    return handle_dist(s, matter, at).mean_min


def pace(s: EngineState, series: str, weekday: int, hour: int) -> float:
    """How much longer (> 1) or shorter the series' cases take at `hour` on `weekday` than over the whole
    day: its matters' cell means over their whole-day reference times, each matter weighted by its past
    cases. 1 with no history."""
    key = (series, weekday, hour)
    value = s.paces.get(key)
    if value is not None:
        return value
    value = 1.0
    history = s.history
    if history is not None and history.has_hours:
        at_hour = whole = 0.0
        for m in s.config.matters:
            n = history.cases.get(m.code, 0)
            ref = s.handle_times.ref(m.code)
            if m.series != series or n <= 0 or ref is None or ref <= 0:
                continue
            at_hour += n * history.dist(m.code, weekday, hour, m.prior_handle_min).mean_min
            whole += n * ref
        if whole > 0 and at_hour > 0:
            value = at_hour / whole
    s.paces[key] = value
    return value


def paced(
    s: EngineState, series: str, now: dt.datetime, profile: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """`profile` (windows' worth of service from `now`) with each hour's capacity divided by that hour's
    `pace`: service in hour-neutral window-minutes, as the line's work is counted. Unchanged with no hours
    in the history."""
    if s.history is None or not s.history.has_hours or not profile:
        return profile
    local = now.astimezone(s.calendar.tz)
    first = 60.0 - local.minute - (local.second + local.microsecond / 1e6) / 60
    day, hour = local.weekday(), local.hour
    # (minutes from now, pace from then on): the hours' starts.
    hours = [(0.0, pace(s, series, day, hour))]
    for k in range(PACED_HOURS):
        hour += 1
        if hour == 24:
            hour, day = 0, (day + 1) % 7
        hours.append((first + 60.0 * k, pace(s, series, day, hour)))
    cuts = sorted({at for at, _c in profile} | {at for at, _p in hours})
    out: list[tuple[float, float]] = []
    i = j = 0
    for at in cuts:
        while i + 1 < len(profile) and profile[i + 1][0] <= at:
            i += 1
        while j + 1 < len(hours) and hours[j + 1][0] <= at:
            j += 1
        capacity = profile[i][1] / hours[j][1]
        if out and math.isclose(out[-1][1], capacity, rel_tol=1e-12, abs_tol=1e-12):
            continue
        out.append((at, capacity))
    return out
