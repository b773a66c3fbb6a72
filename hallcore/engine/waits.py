"""The wait model over the engine's state: handle times, the capacity of the open windows per series, and
who is expected to pass a ticket (`hallcore.estimates` has the arithmetic; `hallcore.handletimes`,
`hallcore.estimatebands` and `hallcore.passers` its inputs; this module feeds them)."""

from __future__ import annotations

import datetime as dt
import itertools
import math

from hallcore.engine import forecasts
from hallcore.engine.pace import paced, ref_at
from hallcore.engine.state import OPEN, PAUSED, EngineState
from hallcore.estimates import Profile, WaitEstimate, capacity_profile, estimate_planned
from hallcore.history import HISTORY_PRIOR_WEIGHT, HandleHistory, case_minutes
from hallcore.model import Ticket, TicketState
from hallcore.passers import expected_passers

#: An unplanned pause (a break, stepping away) is expected to last this long from when it began; past that,
#: a few minutes more. The plan's closures say when planned ones end.
PAUSE_EXPECT_MIN = 12.0
PAUSE_OVERDUE_MIN = 3.0
#: A rostered window still closed this long after the hall opens, or after its planned closure ended, is
#: expected back (PAUSE_OVERDUE_MIN from now); later than that it is not counted on.
OVERDUE_MIN = 30.0


def estimate_for(s: EngineState, series: str, ahead: int, now: dt.datetime | None = None) -> WaitEstimate:
    """The wait for `ahead` people before a ticket of `series`, by the current order alone; with `now`, over
    the staffing plan from now on (`capacity_profile_of`), else at today's capacity. A fresh result of the
    forward model (`forecasts`) answers first."""
    if now is not None:
        modelled = forecasts.estimate_from(s, series, ahead, now)
        if modelled is not None:
            return modelled
    mean, cv = handle_stats(s, series)
    mean = line_mean(s, series, mean)
    spread, scale = s.rate_spread.value(), s.band_scale.value
    if now is None:
        profile: Profile = ((0.0, series_capacity(s, series)),)
    else:
        profile = paced_profile_of(s, series, now)
    idle = idle_windows(s, series)
    est = estimate_planned(ahead, mean, profile, cv=cv, rate_spread=spread, band_scale=scale, idle=idle)
    return est.widened(s.config.estimates.wide_band_min)


def estimate_new(s: EngineState, t: Ticket, ahead: int, now: dt.datetime) -> WaitEstimate:
    """The wait of a ticket joining its line now, counting who is expected to pass it: arrivals of classes
    with a longer head start than its own, soon enough to get a smaller key (`hallcore.passers`), over the
    staffing plan from now on. A fresh result of the forward model (`forecasts`) for its position answers
    first."""
    modelled = forecasts.estimate_from(s, t.series, ahead, now)
    if modelled is not None:
        return modelled
    mean, cv = handle_stats(s, t.series)
    mean = line_mean(s, t.series, mean)  # the people ahead: the matters they came for
    cap = series_capacity(s, t.series)
    extra = expected_passers(ahead, mean, cap, passer_streams(s, t, now))
    if t.priority in s.absolute and t.slot_at is None:
        # Absolute tickets let one other in after every N of them.
        extra += ahead // s.config.priority.absolute_in_row
    # The people ahead are handled over the coming hours, each at its own pace (`hallcore.engine.pace`).
    profile = paced_profile_of(s, t.series, now)
    est = estimate_planned(
        ahead,
        mean,
        profile,
        cv=cv,
        extra=extra,
        rate_spread=s.rate_spread.value(),
        idle=idle_windows(s, t.series),
        band_scale=s.band_scale.value,
    )
    return est.widened(s.config.estimates.wide_band_min)


def idle_windows(s: EngineState, series: str) -> int:
    """Open windows configured for `series` with no ticket in hand: they call the next one at once (a window
    covering its A/B partner is not counted: fewer idle windows only lengthens the estimate a little)."""
    numbers = s.series_windows.get(series)
    if numbers is None:
        numbers = s.series_windows[series] = tuple(w.number for w in s.config.windows if series in w.series)
    idle = 0
    for n in numbers:
        rt = s.windows[n]
        if rt.state is OPEN and rt.current is None:
            idle += 1
    return idle


def capacity_profile_of(s: EngineState, series: str, now: dt.datetime) -> list[tuple[float, float]]:
    """The windows' worth of service for `series` from `now` on (`hallcore.estimates.capacity_profile`): each
    window that serves it with its share (`series_capacity`'s), less its planned closures still ahead today
    (the lunch rotation, scheduled breaks: `windows[].closures`) and the breaks between the day's sessions;
    a window closed or paused for a planned closure counts from the closure's end, one paused otherwise
    after PAUSE_EXPECT_MIN. Cached per series and minute; any window change drops it."""
    minute, profile = _minute_profile(s, series, now)
    return _shifted(profile, now.timestamp() / 60 - minute)


def paced_profile_of(s: EngineState, series: str, now: dt.datetime) -> list[tuple[float, float]]:
    """`capacity_profile_of` with each coming hour's capacity divided by its pace (`pace.paced`): what the
    estimates wait through. Made once per minute profile (the hours' boundaries do not move within it)."""
    minute, profile = _minute_profile(s, series, now)
    held = s.paced_profiles.get(series)
    # The minute's profile is a new list whenever it is rebuilt; `held` keeps the old one alive: `is` is safe.
    if held is None or held[0] is not profile:
        held = (profile, paced(s, series, dt.datetime.fromtimestamp(minute * 60, dt.UTC), profile))
        s.paced_profiles[series] = held
    return _shifted(held[1], now.timestamp() / 60 - minute)


def _minute_profile(s: EngineState, series: str, now: dt.datetime) -> tuple[int, list[tuple[float, float]]]:
    """The profile made at the start of `now`'s minute (cached per series and minute)."""
    minute = int(now.timestamp() // 60)
    cached = s.profiles.get(series)
    if cached is None or cached[0] != minute:
        cached = (minute, _profile_at(s, series, dt.datetime.fromtimestamp(minute * 60, dt.UTC)))
        s.profiles[series] = cached
    return cached


def _shifted(profile: list[tuple[float, float]], into: float) -> list[tuple[float, float]]:
    """`profile` made `into` minutes ago, from now on."""
    if into <= 0:
        return profile
    out: list[tuple[float, float]] = []
    for at, capacity in profile:
        if at <= into and out:
            out[-1] = (0.0, capacity)
        else:
            out.append((max(0.0, at - into), capacity))
    return out


def _profile_at(s: EngineState, series: str, now: dt.datetime) -> list[tuple[float, float]]:
    return capacity_profile(
        [(share, available, planned) for _n, share, available, planned in window_rows(s, series, now)]
    )


def window_rows(
    s: EngineState, series: str, now: dt.datetime
) -> list[tuple[int, float, float, list[tuple[float, float]]]]:
    """Per window counted on for `series` from `now` (`capacity_profile_of`): (its number, the share of it
    the series gets, minutes until it serves, its planned closures still ahead as (start, end) minutes from
    now)."""
    local = now.astimezone(s.calendar.tz)
    day = local.date()

    def offset(at: dt.time) -> float:
        return (dt.datetime.combine(day, at, local.tzinfo) - local).total_seconds() / 60

    gaps = [(offset(a.close), offset(b.open)) for a, b in itertools.pairwise(s.calendar.sessions_on(day))]
    sessions = s.calendar.sessions_on(day)
    first_open = offset(sessions[0].open) if sessions else math.inf
    ends: dict[int, list[float]] = {}
    late_at_opening = -OVERDUE_MIN < first_open <= 0

    def opened_today(at: dt.datetime | None) -> bool:
        return at is not None and (at - now).total_seconds() / 60 >= first_open

    means: dict[str, float] = {}
    rows: list[tuple[int, float, float, list[tuple[float, float]]]] = []
    for n, rt in s.windows.items():
        served = s.series_of_window(n)
        if series not in served:
            continue
        distinct = list(dict.fromkeys(served))
        if len(distinct) == 1:
            share = 1.0
        else:
            for x in distinct:
                if x not in means:
                    means[x] = handle_stats(s, x)[0]
            share = s.shares.share(n, served, series, means)
        every = [(offset(c.start), offset(c.end)) for c in s.config.window_by_number[n].closures] + gaps
        ends[n] = [b for _a, b in every]
        planned = [(a, b) for a, b in every if b > 0]
        if rt.state is OPEN:
            available = 0.0
        else:
            inside = [b for a, b in planned if a <= 0]
            if inside:
                available = max(inside)
            elif rt.state is PAUSED and rt.paused_at is not None:
                since = (now - rt.paused_at).total_seconds() / 60
                available = max(PAUSE_EXPECT_MIN - since, PAUSE_OVERDUE_MIN)
            elif any(-OVERDUE_MIN < b <= 0 for b in ends[n]):
                available = PAUSE_OVERDUE_MIN  # back late from a planned closure: any minute now
            elif late_at_opening and s.config.window_by_number[n].staffed and not opened_today(rt.opened_at):
                available = PAUSE_OVERDUE_MIN  # rostered, not here yet at opening: late, on the way
            else:
                continue  # closed with nothing planned: not counted on
        rows.append((n, share, available, planned))
    return rows


def passer_streams(s: EngineState, t: Ticket, now: dt.datetime) -> list[tuple[float, float]]:
    """(arrivals per minute, minutes within which an arrival passes `t`) for each class of its series."""
    # A booking checked in before its slot has no head start yet: counted as a walk-in (it may do better).
    own = 0.0 if t.slot_at is not None else s.head_start(t) / 60
    own_absolute = t.slot_at is None and t.priority in s.absolute
    out = []
    for pc in s.config.priority_classes:
        rate = s.priority_arrivals.rate(arrival_key(t.series, pc.id), now.timestamp())
        if rate <= 0:
            continue
        # An absolute class passes within the longest head start; another, by the difference of head starts.
        window = s.bound_s / 60 if pc.absolute and not own_absolute else pc.head_start_min - own
        out.append((rate, window))
    return out


def arrival_key(series: str, priority: str) -> str:
    return f"{series}/{priority}"


def note_arrival(s: EngineState, t: Ticket) -> None:
    if t.priority and (s.head_start(t) > 0 or t.priority in s.absolute):
        s.priority_arrivals.record(arrival_key(t.series, t.priority), t.issued_at.timestamp())


def handle_stats(s: EngineState, series: str) -> tuple[float, float]:
    """Mean handle time and its coefficient of variation for `series`."""
    stats = s.handle_stats.get(series)
    if stats is None:
        # Mean and spread change only when a ticket is finished; recomputing them at every issue cost more
        # than the rest of the estimate.
        stats = (s.handle_times.mean(series), s.handle_times.cv(series))
        s.handle_stats[series] = stats
    return stats


def series_capacity(s: EngineState, series: str) -> float:
    """Windows' worth of service for `series`: each open window serving only it counts 1, a shared window
    (综合窗口) the share of its recent service time the series got (`ServiceShares`, 1/k at first)."""
    # Cached per series: recomputing over every open window at each issue made issuing O(windows). Any window
    # change (open, close, pause, resume, A/B takeover) clears the cache; the shares of the few shared
    # windows are read fresh.
    value = s.capacity_value.get(series)
    if value is not None:
        return value
    cached = s.capacity.get(series)
    if cached is None:
        dedicated = 0.0
        shared: list[tuple[int, tuple[str, ...]]] = []
        for n, rt in s.windows.items():
            if rt.state is not OPEN:
                continue
            served = s.series_of_window(n)
            distinct = set(served)
            if series not in distinct:
                continue
            if len(distinct) == 1:
                dedicated += 1.0
            else:
                shared.append((n, served))
        cached = (dedicated, tuple(shared))
        s.capacity[series] = cached
    dedicated, shared_windows = cached
    if shared_windows:
        means = {x: handle_stats(s, x)[0] for _n, served in shared_windows for x in served}
        value = dedicated + sum(s.shares.share(n, served, series, means) for n, served in shared_windows)
    else:
        value = dedicated
    s.capacity_value[series] = value
    return value


def capacity_changed(s: EngineState, *, windows: bool = False) -> None:
    s.line_changed()
    if windows:
        s.capacity.clear()
    s.capacity_value.clear()
    s.profiles.clear()


def observe_case(s: EngineState, t: Ticket, ended_at: dt.datetime) -> None:
    """A finished case: the window's time on it, from the (last) call to the finish, walking to the window
    included. What a window gives each ticket is that, not the handle time from the serving start: on the
    simulated days the walk alone added 5–20 % to the time per ticket, all of it missing from the estimate."""
    minutes = case_minutes(t.called_at, t.serving_at, ended_at)
    began = t.called_at or t.serving_at
    if minutes is not None and began is not None:
        # Measured against what its matter takes at that hour, so today's speed is not the hour's.
        ref = ref_at(s, t.matter, began)
        observe_handle_time(s, t.series, max(0.0, minutes), t.matter, ref)


def use_history(s: EngineState, history: HandleHistory) -> None:
    """Take each series' prior mean handle time, and each matter's reference time, from the hall's past days
    (`hallcore.history`) instead of the config's guesses, with the weight of HISTORY_PRIOR_WEIGHT cases;
    today's cases still move them. With the cases' times, the weekday and hour of each case count too
    (`hallcore.engine.pace`). The history is immutable: the server swaps in a new one each night."""
    s.history = history
    s.paces.clear()
    s.handle_times.set_priors(history.series_priors(s.config.matters), HISTORY_PRIOR_WEIGHT)
    s.handle_times.set_refs(history.matter_means())
    s.handle_stats.clear()
    capacity_changed(s)
    s.line_ref.clear()
    for t in s.tickets.values():
        if t.state is TicketState.WAITING and t.target_window is None:
            s.line_ref[t.series] = s.line_ref.get(t.series, 0.0) + s.ticket_ref(t)


def line_mean(s: EngineState, series: str, mean: float) -> float:
    """The mean handle time of the people waiting in `series`' line: `mean` (the recent cases') scaled by
    their matters' reference times against the recent cases' (`HandleTimes.mix_mean`)."""
    n = s.lines[series].count if series in s.lines else 0
    total = s.line_ref.get(series, 0.0)
    if n <= 0 or total <= 0:
        return mean
    return s.handle_times.mix_mean(series, mean, total / n)


def observe_handle_time(
    s: EngineState, series: str, minutes: float, matter: str | None = None, ref: float | None = None
) -> None:
    s.handle_times.observe(series, minutes, matter, ref=ref)
    s.handle_stats.pop(series, None)
    s.line_changed(series)
    # Shared windows weigh their series by mean handle time, so every capacity may move.
    s.capacity_value.clear()
    s.profiles.clear()


def note_call(s: EngineState, number: int, t: Ticket) -> None:
    if t.first_called_at == t.called_at and t.estimate_point is not None:
        # The first call checks the estimate printed on the ticket (`RateSpread`).
        assert t.called_at is not None
        real = (t.called_at - t.issued_at).total_seconds() / 60
        s.rate_spread.observe(real, t.estimate_point, handle_stats(s, t.series)[1], t.ahead_at_issue)
        if t.estimate_low is not None and t.estimate_high is not None:
            s.band_scale.observe(real, t.estimate_low, t.estimate_high)
    served = s.series_of_window(number)
    if len(served) > 1 and t.series in served:
        s.shares.observe(number, t.series)
        s.capacity_value.clear()
        s.profiles.clear()
